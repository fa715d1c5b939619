import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../../domain/audit.js';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/json.js';
import type { Run, RunUsage, StepExecution } from '../../domain/run.js';
import { TENANT_ID_PATTERN, type Tenant, type TenantPlacement, type TenantStatus } from '../../domain/tenant.js';
import type { Workflow, WorkflowVersion } from '../../domain/workflow.js';
import type { RunAdmission } from '../../ports/runAdmission.js';
import type { ScheduleDueIndex } from '../../ports/scheduleDueIndex.js';
import { ScheduleErrorCodes, type Schedule, type ScheduleError } from '../../domain/schedule.js';
import type {
  EventSubscriptionRepository,
  AppStore,
  AuditRepository,
  HookIndex,
  HookRepository,
  Page,
  PageOptions,
  Precondition,
  RunQuery,
  RunRepository,
  NewSchedule,
  ScheduleChanges,
  ScheduleRepository,
  TenantDataStore,
  TenantRepository,
  WorkflowRepository,
  TenantChanges,
} from '../../ports/appStore.js';
import {
  CREATE_MIGRATION_LEDGER_SQL,
  MIGRATION_LOCK_SQL,
  type MssqlMigrationTrack,
  MSSQL_TENANT_TABLES,
  mssqlMigrations,
  MSSQL_CONTROL_PLANE_TENANT_TABLES,
} from './mssqlMigrations.js';
import {
  int,
  ntext,
  nvarchar,
  READ_ONLY_CONTEXT_KEY,
  RLS_BLOCKED,
  type SqlConnectionPool,
  sqlErrorNumber,
  type SqlParam,
  type SqlParams,
  type SqlRow,
  type SqlSession,
  SqlSessions,
  type TenantSqlSession,
  timestamp,
} from './mssqlSession.js';
import {
  decodePageToken,
  invalidRequest,
  isoTimestamp,
  isoTimestampOrNull,
  pageLimit,
  pageScope,
  scheduleErrorText,
} from '../storeSupport/storeSupport.js';
import {
  NO_ITERATION,
  RUN_COLUMNS,
  SCHEDULE_COLUMNS,
  scheduleFromRow,
  type ScheduleRow as SharedScheduleRow,
  TENANT_COLUMNS,
  changedTenant,
  egressText,
  tenantFromRow,
  runFromRow,
  STEP_COLUMNS,
  stepFromRow,
  VERSION_COLUMNS,
  versionFromRow,
  WORKFLOW_COLUMNS,
  workflowFromRow,
  type RunRow as SharedRunRow,
  type TenantRow as SharedTenantRow,
  type StepRow as SharedStepRow,
  type VersionRow as SharedVersionRow,
  type WorkflowRow as SharedWorkflowRow,
  AUDIT_COLUMNS,
  auditEntryFromRow,
  USAGE_COLUMNS,
  usageFromRow,
  type AuditRow as SharedAuditRow,
  type UsageRow as SharedUsageRow,
} from '../storeSupport/storeRows.js';
import { deleteTenantAdmission, MssqlRunAdmission } from './mssqlRunAdmission.js';
import { checkPrecondition, DUPLICATE_KEY, id, TenantSessions, toPage } from './mssqlTenantSessions.js';
import { deleteTenantHookIndex, MssqlHookIndex, MssqlHookRepository } from './mssqlHooks.js';
import { deleteTenantScheduleDue, MssqlScheduleDueIndex } from './mssqlScheduleDue.js';
import { MssqlEventSubscriptionRepository, writeEventSourceIndex } from './mssqlEventSubscriptions.js';
import { EVENT_LIMITS, eventSourceKey } from '../../domain/events.js';
import { connectTediousPool } from './tediousConnectionPool.js';

/** Options of {@link createMssqlAppStore}. */
export interface MssqlAppStoreOptions {
  /** The control database: the tenant registry and the data of every shared tenant. */
  connectionString: string;
  /**
   * The database of a dedicated tenant. A dedicated tenant with no database here cannot be onboarded or used
   * (its data never falls back to the shared database).
   */
  dedicatedConnectionStrings?: (tenantId: string) => Promise<string | undefined>;
  /** Connections per database pool (default 10). */
  maxPoolSize?: number;
  /**
   * Apply pending migrations when a database is first used (default true). Turn it off where the app's
   * identity may not run DDL, and migrate from a deployment step with an owner identity instead.
   */
  migrate?: boolean;
}

/** The Azure SQL app store, with Microsoft's recommended row-level security test. */
export interface MssqlAppStore extends AppStore {
  /** Runs the RLS self-test on the shared database (see {@link RlsSelfTestReport}). Run it as the app's identity. */
  rlsSelfTest(): Promise<RlsSelfTestReport>;
}

/**
 * The outcome of Microsoft's recommended row-level security test (sql-docs row-level-security.md; the
 * rls-multi-tenant skill): counts per context, cross-tenant writes refused, and a catalog sweep, plus the
 * pooled-connection check that found 103/200 leaks in Microsoft's bad configuration.
 */
export interface RlsSelfTestReport {
  ok: boolean;
  /** Rows of each probe tenant visible under its own context, without any WHERE (expected 2 each). */
  countsPerContext: Record<string, number>;
  /** Rows of every tenant table visible with no session context (expected 0: the predicate fails closed). */
  noContextCounts: Record<string, number>;
  /** INSERT of another tenant's row under a tenant's context (expected to fail with Msg 33504). */
  crossTenantInsert: { blocked: boolean; errorNumber?: number };
  /** UPDATE moving a row to another tenant (expected Msg 33504, or 230 where DENY UPDATE on tenant_id applies). */
  tenantMoveUpdate: { blocked: boolean; errorNumber?: number };
  /** Setting the context again on the same connection (expected Msg 15664: the context is read-only). */
  contextReadOnly: { enforced: boolean; errorNumber?: number };
  /** Tables with a tenant_id column lacking an enabled FILTER predicate or the AFTER INSERT/AFTER UPDATE BLOCK predicates. */
  unprotectedTables: string[];
  /** Interleaved requests of two tenants over the pool: rows of another tenant seen, and wrong contexts met. */
  pooledRequests: { requests: number; crossTenantRows: number; wrongContexts: number };
  /** Human-readable reasons when `ok` is false. */
  problems: string[];
}

/**
 * Creates the Azure SQL app store (mssql/tedious) and connects to the control database, migrating it unless
 * `migrate` is false.
 *
 * Operator notes:
 * - Isolation is enforced twice: every statement binds `tenant_id = @tenant_id`, and the database enforces
 *   row-level security on `SESSION_CONTEXT(N'tenant_id')`, which each request sets read-only on the one connection
 *   its statements use, after resetting that connection (mssqlSession.ts explains why pooled connections cannot
 *   leak a tenant). The app's identity must not be db_owner for DENY UPDATE on tenant_id to apply, and must not
 *   be able to ALTER the security policy.
 * - Run `rlsSelfTest()` as the app's identity after each deployment (it needs VIEW DEFINITION for its catalog
 *   sweep; without it every table is reported unprotected, i.e. the test fails closed).
 * - Dedicated tenants: `dedicatedConnectionStrings(tenantId)` names the database; it gets the same tenant schema
 *   and policy. Deleting a tenant deletes its rows there; dropping the database is an operator's decision.
 * - Side channels the policy does not close (sql-docs): statistics (DBCC SHOW_STATISTICS), CDC, and error-based
 *   probing by an identity that can run arbitrary SQL; keep this identity's permissions to DML on dbo.
 */
export async function createMssqlAppStore(options: MssqlAppStoreOptions): Promise<MssqlAppStore> {
  const open = async (connectionString: string, tracks: readonly MssqlMigrationTrack[]): Promise<SqlSessions> => {
    const pool = await connectTediousPool(connectionString, options.maxPoolSize === undefined ? {} : { maxSize: options.maxPoolSize });
    const sessions = new SqlSessions(pool);
    if (options.migrate !== false) {
      try {
        await migrateMssql(sessions, tracks);
      } catch (error) {
        await sessions.close().catch(() => undefined);
        throw error;
      }
    }
    return sessions;
  };
  const shared = await open(options.connectionString, ['control', 'tenant-data']);
  const resolve = options.dedicatedConnectionStrings;
  const byConnectionString = new Map<string, Promise<SqlSessions>>();
  return new MssqlAppStoreImpl(shared, async (tenantId) => {
    const connectionString = resolve === undefined ? undefined : await resolve(tenantId);
    if (connectionString === undefined) return undefined;
    if (connectionString === options.connectionString) return shared;
    let sessions = byConnectionString.get(connectionString);
    if (sessions === undefined) {
      sessions = open(connectionString, ['tenant-data']);
      byConnectionString.set(connectionString, sessions);
      // A failed open (unreachable, migration error) is not remembered: the next request tries again.
      sessions.catch(() => byConnectionString.delete(connectionString));
    }
    return sessions;
  });
}

/**
 * The store over pools that are already open, without migrations: the seam the adapter's unit tests use.
 * `dedicated` gives a dedicated tenant's pool (undefined: none configured).
 */
export function createMssqlAppStoreOnPool(pool: SqlConnectionPool, dedicated?: (tenantId: string) => Promise<SqlConnectionPool | undefined>): MssqlAppStore {
  const byPool = new Map<SqlConnectionPool, SqlSessions>();
  const shared = new SqlSessions(pool);
  byPool.set(pool, shared);
  return new MssqlAppStoreImpl(shared, async (tenantId) => {
    const dedicatedPool = dedicated === undefined ? undefined : await dedicated(tenantId);
    if (dedicatedPool === undefined) return undefined;
    const sessions = byPool.get(dedicatedPool) ?? new SqlSessions(dedicatedPool);
    byPool.set(dedicatedPool, sessions);
    return sessions;
  });
}

/**
 * Applies pending migrations of the given tracks in one transaction, under an exclusive application lock, so
 * that instances starting together apply each migration once.
 */
export async function migrateMssql(sessions: SqlSessions, tracks: readonly MssqlMigrationTrack[]): Promise<void> {
  await sessions.control((session) =>
    session.transaction(async () => {
      await session.query(MIGRATION_LOCK_SQL);
      await session.query(CREATE_MIGRATION_LEDGER_SQL);
      const applied = await session.query<{ track: string; version: number }>('SELECT track, version FROM dbo.schema_migrations');
      for (const track of tracks) {
        const known = mssqlMigrations(track);
        const done = new Set(applied.filter((row) => row.track === track).map((row) => row.version));
        const newest = Math.max(0, ...done);
        // Compare with the newest known version (not the count), so a database from a newer release is refused.
        const newestKnown = Math.max(0, ...known.map((migration) => migration.version));
        if (newest > newestKnown) throw new Error(`schema track ${track} is at version ${newest}, newer than this release knows (${newestKnown})`);
        for (const migration of known) {
          if (done.has(migration.version)) continue;
          for (const batch of migration.batches) await session.query(batch);
          await session.query('INSERT INTO dbo.schema_migrations (track, version, name) VALUES (@track, @version, @name)', {
            track: nvarchar(track, 32),
            version: int(migration.version),
            name: nvarchar(migration.name, 200),
          });
        }
      }
    }),
  );
}

function now(): string {
  return new Date().toISOString();
}

// ---------------------------------------------------------------------------------------------- tenants

interface TenantRow extends SharedTenantRow, SqlRow {}

class MssqlAppStoreImpl implements MssqlAppStore {
  readonly tenants: TenantRepository;
  readonly admission: RunAdmission;
  readonly hookIndex: HookIndex;
  readonly scheduleDue: ScheduleDueIndex;
  private readonly opened = new Set<SqlSessions>();

  constructor(
    /** @internal */ readonly shared: SqlSessions,
    private readonly dedicated: (tenantId: string) => Promise<SqlSessions | undefined>,
  ) {
    this.tenants = new MssqlTenantRepository(this);
    this.admission = new MssqlRunAdmission(shared);
    this.hookIndex = new MssqlHookIndex(shared);
    this.scheduleDue = new MssqlScheduleDueIndex(shared);
    this.opened.add(shared);
  }

  /** @internal The sessions of the database a tenant's placement names; never the shared one by default. */
  async sessionsFor(tenantId: string, placement: TenantPlacement): Promise<SqlSessions> {
    if (placement === 'shared') return this.shared;
    const sessions = await this.dedicated(tenantId);
    if (sessions === undefined) throw new AppError(ErrorCodes.internal, `no database is configured for dedicated tenant ${tenantId}`);
    this.opened.add(sessions);
    return sessions;
  }

  async forTenant(tenantId: string): Promise<TenantDataStore> {
    const placement = TENANT_ID_PATTERN.test(tenantId)
      ? (await this.shared.control((s) => s.query<{ placement: TenantPlacement }>('SELECT placement FROM dbo.tenants WHERE id = @id', { id: nvarchar(tenantId, 63) })))[0]?.placement
      : undefined;
    if (placement === undefined) throw new AppError(ErrorCodes.tenantNotFound, `tenant ${tenantId} does not exist`);
    return new MssqlTenantDataStore(tenantId, await this.sessionsFor(tenantId, placement));
  }

  async ping(): Promise<void> {
    await this.shared.control((s) => s.query('SELECT 1 AS ok'));
  }

  async close(): Promise<void> {
    const all = [...this.opened];
    this.opened.clear();
    await Promise.all(all.map((sessions) => sessions.close()));
  }

  rlsSelfTest(): Promise<RlsSelfTestReport> {
    return runRlsSelfTest(this.shared);
  }
}

class MssqlTenantRepository implements TenantRepository {
  constructor(private readonly store: MssqlAppStoreImpl) {}

  private control<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.store.shared.control(work);
  }

  private async row(session: SqlSession, tenantId: string, lock = false): Promise<TenantRow | undefined> {
    const rows = await session.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM dbo.tenants ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE id = @id`, {
      id: nvarchar(tenantId, 63),
    });
    return rows[0];
  }

  async create(input: Omit<Tenant, 'createdAt' | 'updatedAt' | 'revision'>): Promise<Tenant> {
    if (typeof input.id !== 'string' || !TENANT_ID_PATTERN.test(input.id)) {
      throw invalidRequest(`tenant id ${JSON.stringify(input.id)} is not a slug (${TENANT_ID_PATTERN.source})`);
    }
    const at = now();
    const tenant: Tenant = { ...input, quotas: { ...input.quotas }, createdAt: at, updatedAt: at, revision: 1 };
    await this.control(async (s) => {
      try {
        await s.query(`INSERT INTO dbo.tenants (${TENANT_COLUMNS}) VALUES (@id, @name, @tier, @status, @quotas, @entra, @placement, @egress, @event_sources, @at, @at, 1)`, {
          id: nvarchar(tenant.id, 63),
          name: nvarchar(tenant.name, 400, 'name'),
          tier: nvarchar(tenant.tier, 16),
          status: nvarchar(tenant.status, 16),
          quotas: ntext(JSON.stringify(tenant.quotas)),
          entra: nvarchar(tenant.entraTenantId, 128, 'entraTenantId'),
          placement: nvarchar(tenant.placement, 16),
          egress: ntext(egressText(tenant.egress)),
          event_sources: ntext(JSON.stringify(tenant.eventSources)),
          at: timestamp(at),
        });
        if (tenant.eventSources.length > 0) await writeEventSourceIndex(s, tenant.id, tenant.eventSources);
      } catch (error) {
        if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) {
          throw new AppError(ErrorCodes.tenantExists, `tenant ${tenant.id} or its Entra tenant is already registered`);
        }
        throw error;
      }
    });
    // Once the id is known to be ours: clear rows a data store that outlived an earlier tenant of this id may
    // have written. If the tenant's database cannot be reached, the registration is undone.
    try {
      const sessions = await this.store.sessionsFor(tenant.id, tenant.placement);
      await sessions.tenant(tenant.id, (s) => deleteTenantRows(s));
    } catch (error) {
      await this.control((s) => s.query('DELETE FROM dbo.tenants WHERE id = @id', { id: nvarchar(tenant.id, 63) })).catch(() => undefined);
      throw error;
    }
    return tenant;
  }

  async get(tenantId: string): Promise<Tenant | undefined> {
    if (tenantId.length > 63) return undefined;
    const row = await this.control((s) => this.row(s, tenantId));
    return row === undefined ? undefined : tenantFromRow(row);
  }

  async getByEntraTenantId(entraTenantId: string): Promise<Tenant | undefined> {
    if (entraTenantId.length > 128) return undefined;
    const rows = await this.control((s) =>
      s.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM dbo.tenants WHERE entra_tenant_id = @entra`, { entra: nvarchar(entraTenantId, 128) }),
    );
    return rows[0] === undefined ? undefined : tenantFromRow(rows[0]);
  }

  async getByEventSource(source: string): Promise<Tenant | undefined> {
    const key = eventSourceKey(source);
    if (key.length === 0 || key.length > EVENT_LIMITS.eventSourceLength) return undefined;
    const rows = await this.control((s) =>
      s.query<TenantRow>(
        `SELECT ${TENANT_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ')} FROM dbo.event_source_index i JOIN dbo.tenants t ON t.id = i.owner_tenant_id WHERE i.source = @source`,
        { source: nvarchar(key, EVENT_LIMITS.eventSourceLength) },
      ),
    );
    return rows[0] === undefined ? undefined : tenantFromRow(rows[0]);
  }

  async list(options: PageOptions & { status?: TenantStatus }): Promise<Page<Tenant>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('tenants', null, { status: options.status });
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const where: string[] = [];
    const params: Record<string, SqlParam> = {};
    if (options.status !== undefined) {
      where.push('status = @status');
      params['status'] = nvarchar(options.status, 16);
    }
    if (after !== undefined) {
      where.push('id > @after_id');
      params['after_id'] = nvarchar(String(after[0]), 63);
    }
    const rows = await this.control((s) =>
      s.query<TenantRow>(`SELECT TOP (@take) ${TENANT_COLUMNS} FROM dbo.tenants ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, {
        ...params,
        take: int(limit + 1),
      }),
    );
    return toPage(rows, limit, tenantFromRow, (row) => [row.id], scope);
  }

  async update(
    tenantId: string,
    changes: TenantChanges,
    precondition?: Precondition,
  ): Promise<Tenant> {
    if (tenantId.length > 63) throw new AppError(ErrorCodes.tenantNotFound, `tenant ${tenantId} does not exist`);
    return this.control((s) =>
      s.transaction(async () => {
        const row = await this.row(s, tenantId, true);
        if (row === undefined) throw new AppError(ErrorCodes.tenantNotFound, `tenant ${tenantId} does not exist`);
        checkPrecondition(precondition, row.revision, `tenant ${tenantId}`);
        const current = tenantFromRow(row);
        const next = changedTenant(current, changes, now());
        try {
          await s.query(
            'UPDATE dbo.tenants SET name = @name, tier = @tier, status = @status, quotas = @quotas, entra_tenant_id = @entra, egress = @egress, event_sources = @event_sources, updated_at = @at, revision = @revision WHERE id = @id',
            {
              id: nvarchar(tenantId, 63),
              name: nvarchar(next.name, 400, 'name'),
              tier: nvarchar(next.tier, 16),
              status: nvarchar(next.status, 16),
              quotas: ntext(JSON.stringify(next.quotas)),
              entra: nvarchar(next.entraTenantId, 128, 'entraTenantId'),
              egress: ntext(egressText(next.egress)),
              event_sources: ntext(JSON.stringify(next.eventSources)),
              at: timestamp(next.updatedAt),
              revision: int(next.revision),
            },
          );
          if (changes.eventSources !== undefined) await writeEventSourceIndex(s, tenantId, next.eventSources);
        } catch (error) {
          if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw new AppError(ErrorCodes.tenantExists, 'the Entra tenant is already mapped to a tenant');
          throw error;
        }
        return next;
      }),
    );
  }

  async delete(tenantId: string, precondition?: Precondition): Promise<boolean> {
    if (!TENANT_ID_PATTERN.test(tenantId)) return false;
    const row = await this.control((s) => this.row(s, tenantId));
    if (row === undefined) return false;
    checkPrecondition(precondition, row.revision, `tenant ${tenantId}`);
    // The data goes first: if that fails, the tenant stays registered (and deletable again) instead of leaving
    // rows nobody can reach. The registry row and a dedicated tenant's rows live in different databases, so
    // this cannot be one transaction.
    const sessions = await this.store.sessionsFor(tenantId, row.placement as TenantPlacement);
    await sessions.tenant(tenantId, (s) => deleteTenantRows(s));
    await this.control(async (s) => {
      await deleteTenantAdmission(s, tenantId);
      await deleteTenantHookIndex(s, tenantId);
      await deleteTenantScheduleDue(s, tenantId);
      await writeEventSourceIndex(s, tenantId, []);
      await s.query('DELETE FROM dbo.tenants WHERE id = @id', { id: nvarchar(tenantId, 63) });
    });
    return true;
  }
}

async function deleteTenantRows(session: TenantSqlSession): Promise<void> {
  await session.transaction(async () => {
    for (const table of MSSQL_TENANT_TABLES) await session.query(`DELETE FROM dbo.${table} WHERE tenant_id = @tenant_id`);
  });
}

// -------------------------------------------------------------------------------------------- tenant data

class MssqlTenantDataStore implements TenantDataStore {
  readonly workflows: WorkflowRepository;
  readonly runs: RunRepository;
  readonly audit: AuditRepository;
  readonly hooks: HookRepository;
  readonly schedules: ScheduleRepository;
  readonly eventSubscriptions: EventSubscriptionRepository;

  constructor(
    readonly tenantId: string,
    sessions: SqlSessions,
  ) {
    const scoped = new TenantSessions(tenantId, sessions);
    this.workflows = new MssqlWorkflowRepository(scoped);
    this.runs = new MssqlRunRepository(scoped);
    this.audit = new MssqlAuditRepository(scoped);
    this.hooks = new MssqlHookRepository(scoped);
    this.schedules = new MssqlScheduleRepository(scoped);
    this.eventSubscriptions = new MssqlEventSubscriptionRepository(scoped);
  }
}

interface WorkflowRow extends SharedWorkflowRow, SqlRow {}

interface VersionRow extends SharedVersionRow, SqlRow {}

class MssqlWorkflowRepository implements WorkflowRepository {
  constructor(private readonly scope: TenantSessions) {}

  private toWorkflow = (row: WorkflowRow): Workflow => workflowFromRow(this.scope.tenantId, row);

  private toVersion = (row: VersionRow): WorkflowVersion => versionFromRow(this.scope.tenantId, row);

  /** The row, locked for update until the transaction ends when `lock` is set. */
  private async row(s: TenantSqlSession, workflowId: string, lock = false): Promise<WorkflowRow | undefined> {
    const rows = await s.query<WorkflowRow>(
      `SELECT ${WORKFLOW_COLUMNS} FROM dbo.workflows ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE tenant_id = @tenant_id AND id = @id`,
      { id: id(workflowId) },
    );
    return rows[0];
  }

  private async existing(s: TenantSqlSession, workflowId: string, precondition: Precondition | undefined): Promise<WorkflowRow> {
    const row = await this.row(s, workflowId, true);
    if (row === undefined) throw new AppError(ErrorCodes.workflowNotFound, `workflow ${workflowId} does not exist`);
    checkPrecondition(precondition, row.revision, `workflow ${workflowId}`);
    return row;
  }

  async create(input: Omit<Workflow, 'tenantId' | 'createdAt' | 'updatedAt' | 'revision' | 'latestVersion'>): Promise<Workflow> {
    const at = now();
    const workflow: Workflow = { ...input, tenantId: this.scope.tenantId, latestVersion: null, createdAt: at, updatedAt: at, revision: 1 };
    await this.scope.run(async (s) => {
      try {
        await s.query(
          `INSERT INTO dbo.workflows (tenant_id, ${WORKFLOW_COLUMNS}) VALUES (@tenant_id, @id, @name, @description, @draft, NULL, @at, @at, @created_by, 1)`,
          {
            id: id(input.id, 'workflow id'),
            name: nvarchar(input.name, 400, 'name'),
            description: ntext(input.description),
            draft: ntext(JSON.stringify(input.draft)),
            at: timestamp(at),
            created_by: nvarchar(input.createdBy, 256, 'createdBy'),
          },
        );
      } catch (error) {
        if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw new AppError(ErrorCodes.workflowExists, `workflow ${input.id} already exists`);
        throw error;
      }
    });
    return JSON.parse(JSON.stringify(workflow)) as Workflow;
  }

  async get(workflowId: string): Promise<Workflow | undefined> {
    if (workflowId.length > 128) return undefined;
    const row = await this.scope.run((s) => this.row(s, workflowId));
    return row === undefined ? undefined : this.toWorkflow(row);
  }

  async list(options: PageOptions): Promise<Page<Workflow>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('workflows', this.scope.tenantId);
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const rows = await this.scope.run((s) =>
      s.query<WorkflowRow>(
        `SELECT TOP (@take) ${WORKFLOW_COLUMNS} FROM dbo.workflows WHERE tenant_id = @tenant_id ${after === undefined ? '' : 'AND id > @after_id'} ORDER BY id`,
        { take: int(limit + 1), ...(after === undefined ? {} : { after_id: id(String(after[0])) }) },
      ),
    );
    return toPage(rows, limit, this.toWorkflow, (row) => [row.id], scope);
  }

  async count(): Promise<number> {
    const rows = await this.scope.run((s) => s.query<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.workflows WHERE tenant_id = @tenant_id'));
    return rows[0]?.n ?? 0;
  }

  async updateDraft(workflowId: string, changes: { name?: string; description?: string; draft?: JsonObject }, precondition?: Precondition): Promise<Workflow> {
    if (workflowId.length > 128) throw new AppError(ErrorCodes.workflowNotFound, `workflow ${workflowId} does not exist`);
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.existing(s, workflowId, precondition);
        const next: WorkflowRow = {
          ...row,
          name: changes.name ?? row.name,
          description: changes.description ?? row.description,
          draft: changes.draft === undefined ? row.draft : JSON.stringify(changes.draft),
          updated_at: now(),
          revision: row.revision + 1,
        };
        await s.query(
          'UPDATE dbo.workflows SET name = @name, description = @description, draft = @draft, updated_at = @at, revision = @revision WHERE tenant_id = @tenant_id AND id = @id',
          {
            id: id(workflowId),
            name: nvarchar(next.name, 400, 'name'),
            description: ntext(next.description),
            draft: ntext(next.draft),
            at: timestamp(next.updated_at),
            revision: int(next.revision),
          },
        );
        return this.toWorkflow(next);
      }),
    );
  }

  async delete(workflowId: string, precondition?: Precondition): Promise<boolean> {
    if (workflowId.length > 128) return false;
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, workflowId, true);
        if (row === undefined) return false;
        checkPrecondition(precondition, row.revision, `workflow ${workflowId}`);
        await s.query(
          `DELETE FROM dbo.schedules WHERE tenant_id = @tenant_id AND workflow_id = @id;
           DELETE FROM dbo.workflow_versions WHERE tenant_id = @tenant_id AND workflow_id = @id;
           DELETE FROM dbo.workflows WHERE tenant_id = @tenant_id AND id = @id;`,
          { id: id(workflowId) },
        );
        return true;
      }),
    );
  }

  async publish(workflowId: string, publishedBy: string, precondition?: Precondition): Promise<WorkflowVersion> {
    if (workflowId.length > 128) throw new AppError(ErrorCodes.workflowNotFound, `workflow ${workflowId} does not exist`);
    return this.scope.run((s) =>
      s.transaction(async () => {
        // UPDLOCK serializes concurrent publishes of one workflow: each reads the latest version only after the
        // previous publish committed, so versions are 1..n without gaps or duplicates.
        const row = await this.existing(s, workflowId, precondition);
        const version = (row.latest_version ?? 0) + 1;
        const at = now();
        await s.query(
          `INSERT INTO dbo.workflow_versions (tenant_id, ${VERSION_COLUMNS}) VALUES (@tenant_id, @id, @version, @definition, @at, @published_by);
           UPDATE dbo.workflows SET latest_version = @version, updated_at = @at, revision = revision + 1 WHERE tenant_id = @tenant_id AND id = @id;`,
          { id: id(workflowId), version: int(version), definition: ntext(row.draft), at: timestamp(at), published_by: nvarchar(publishedBy, 256, 'publishedBy') },
        );
        return this.toVersion({ workflow_id: workflowId, version, definition: row.draft, published_at: at, published_by: publishedBy });
      }),
    );
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    if (workflowId.length > 128 || !Number.isSafeInteger(version) || version < 1 || version > 2 ** 31 - 1) return undefined;
    const rows = await this.scope.run((s) =>
      s.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM dbo.workflow_versions WHERE tenant_id = @tenant_id AND workflow_id = @id AND version = @version`, {
        id: id(workflowId),
        version: int(version),
      }),
    );
    return rows[0] === undefined ? undefined : this.toVersion(rows[0]);
  }

  async listVersions(workflowId: string, options: PageOptions): Promise<Page<WorkflowVersion>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('workflow_versions', this.scope.tenantId, { workflowId });
    const after = decodePageToken(options.continuationToken, scope, ['number']);
    if (workflowId.length > 128) return { items: [] };
    const rows = await this.scope.run((s) =>
      s.query<VersionRow>(
        `SELECT TOP (@take) ${VERSION_COLUMNS} FROM dbo.workflow_versions WHERE tenant_id = @tenant_id AND workflow_id = @id ${after === undefined ? '' : 'AND version < @after_version'} ORDER BY version DESC`,
        { id: id(workflowId), take: int(limit + 1), ...(after === undefined ? {} : { after_version: int(Number(after[0])) }) },
      ),
    );
    return toPage(rows, limit, this.toVersion, (row) => [row.version], scope);
  }
}

interface RunRow extends SharedRunRow, SqlRow {}

interface StepRow extends SharedStepRow, SqlRow {}

interface UsageRow extends SharedUsageRow, SqlRow {}

interface AuditRow extends SharedAuditRow, SqlRow {}

/** A usage counter: a non-negative safe integer, at most `max`. */
function usageCount(value: number, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw invalidRequest(`${field} must be an integer from 0 to ${max}`);
  return value;
}

class MssqlRunRepository implements RunRepository {
  constructor(private readonly scope: TenantSessions) {}

  private toRun = (row: RunRow): Run => runFromRow(this.scope.tenantId, row);

  private toStep = (row: StepRow): StepExecution => stepFromRow(this.scope.tenantId, row);

  private async row(s: TenantSqlSession, runId: string): Promise<RunRow | undefined> {
    return (await s.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dbo.runs WHERE tenant_id = @tenant_id AND id = @id`, { id: id(runId) }))[0];
  }

  async create(input: Omit<Run, 'tenantId'>): Promise<{ run: Run; created: boolean }> {
    const params: SqlParams = {
      id: id(input.id, 'run id'),
      workflow_id: id(input.workflowId, 'workflowId'),
      workflow_version: int(input.workflowVersion),
      trigger_kind: nvarchar(input.trigger.kind, 16),
      trigger_source: nvarchar(input.trigger.source, 256, 'trigger.source'),
      input: ntext(JSON.stringify(input.input)),
      status: nvarchar(input.status, 16),
      output: ntext(input.output === null ? null : JSON.stringify(input.output)),
      error: ntext(input.error === null ? null : JSON.stringify(input.error)),
      idempotency_key: nvarchar(input.idempotencyKey, 256, 'idempotencyKey'),
      correlation_id: id(input.correlationId, 'correlationId'),
      created_at: timestamp(isoTimestamp(input.createdAt, 'createdAt')),
      started_at: timestamp(isoTimestampOrNull(input.startedAt, 'startedAt')),
      completed_at: timestamp(isoTimestampOrNull(input.completedAt, 'completedAt')),
    };
    const byKey = async (s: TenantSqlSession, lock: boolean): Promise<RunRow | undefined> =>
      (
        await s.query<RunRow>(
          `SELECT ${RUN_COLUMNS} FROM dbo.runs ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE tenant_id = @tenant_id AND workflow_id = @workflow_id AND idempotency_key = @idempotency_key`,
          { workflow_id: params['workflow_id']!, idempotency_key: params['idempotency_key']! },
        )
      )[0];
    return this.scope.run((s) =>
      s.transaction(async () => {
        // The key's range stays locked until commit, so a concurrent create with the same key waits, then finds
        // this run instead of inserting a second one.
        if (input.idempotencyKey !== null) {
          const first = await byKey(s, true);
          if (first !== undefined) return { run: this.toRun(first), created: false };
        }
        try {
          await s.query(
            `INSERT INTO dbo.runs (tenant_id, ${RUN_COLUMNS}) VALUES (@tenant_id, @id, @workflow_id, @workflow_version, @trigger_kind, @trigger_source, @input, @status, @output, @error, @idempotency_key, @correlation_id, @created_at, @started_at, @completed_at)`,
            params,
          );
        } catch (error) {
          const number = sqlErrorNumber(error);
          if (number === 2601 && input.idempotencyKey !== null) {
            const first = await byKey(s, false);
            if (first !== undefined) return { run: this.toRun(first), created: false };
          }
          if (number !== undefined && DUPLICATE_KEY.has(number)) throw new AppError(ErrorCodes.conflict, `run ${input.id} already exists`);
          throw error;
        }
        return { run: this.toRun((await this.row(s, input.id))!), created: true };
      }),
    );
  }

  async get(runId: string): Promise<Run | undefined> {
    if (runId.length > 128) return undefined;
    const row = await this.scope.run((s) => this.row(s, runId));
    return row === undefined ? undefined : this.toRun(row);
  }

  async list(query: RunQuery): Promise<Page<Run>> {
    const limit = pageLimit(query.limit);
    const createdFrom = query.createdFrom === undefined ? undefined : isoTimestamp(query.createdFrom, 'createdFrom');
    const createdTo = query.createdTo === undefined ? undefined : isoTimestamp(query.createdTo, 'createdTo');
    const scope = pageScope('runs', this.scope.tenantId, { workflowId: query.workflowId, status: query.status, createdFrom, createdTo });
    const after = decodePageToken(query.continuationToken, scope, ['string', 'string']);
    const where = ['tenant_id = @tenant_id'];
    const params: Record<string, SqlParam> = { take: int(limit + 1) };
    if (query.workflowId !== undefined) {
      where.push('workflow_id = @workflow_id');
      params['workflow_id'] = id(query.workflowId, 'workflowId');
    }
    if (query.status !== undefined) {
      where.push('status = @status');
      params['status'] = nvarchar(query.status, 16);
    }
    if (createdFrom !== undefined) {
      where.push('created_at >= @created_from');
      params['created_from'] = timestamp(createdFrom);
    }
    if (createdTo !== undefined) {
      where.push('created_at <= @created_to');
      params['created_to'] = timestamp(createdTo);
    }
    if (after !== undefined) {
      where.push('(created_at < @after_at OR (created_at = @after_at AND id < @after_id))');
      params['after_at'] = timestamp(isoTimestamp(String(after[0]), 'continuationToken'));
      params['after_id'] = id(String(after[1]));
    }
    const rows = await this.scope.run((s) =>
      s.query<RunRow>(`SELECT TOP (@take) ${RUN_COLUMNS} FROM dbo.runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC`, params),
    );
    return toPage(rows, limit, this.toRun, (row) => [row.created_at, row.id], scope);
  }

  async countCreatedSince(since: string): Promise<number> {
    const rows = await this.scope.run((s) =>
      s.query<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.runs WHERE tenant_id = @tenant_id AND created_at >= @since', {
        since: timestamp(isoTimestamp(since, 'since')),
      }),
    );
    return rows[0]?.n ?? 0;
  }

  async claimStart(runId: string, maxRunning: number, at: string): Promise<'started' | 'atLimit' | 'notQueued'> {
    if (runId.length > 128) return 'notQueued';
    // UPDLOCK + HOLDLOCK on the count serializes concurrent claims of one tenant: the limit cannot be exceeded.
    const rows = await this.scope.run((s) =>
      s.query<{ outcome: string }>(
        `UPDATE dbo.runs SET status = N'running', started_at = @at
         WHERE tenant_id = @tenant_id AND id = @id AND status = N'queued'
           AND (SELECT COUNT(*) FROM dbo.runs WITH (UPDLOCK, HOLDLOCK) WHERE tenant_id = @tenant_id AND status = N'running') < @max;
         SELECT CASE WHEN @@ROWCOUNT = 1 THEN N'started'
                     WHEN EXISTS (SELECT 1 FROM dbo.runs WHERE tenant_id = @tenant_id AND id = @id AND status = N'queued') THEN N'atLimit'
                     ELSE N'notQueued' END AS outcome`,
        { id: id(runId), at: timestamp(isoTimestamp(at, 'at')), max: int(maxRunning) },
      ),
    );
    return (rows[0]?.outcome ?? 'notQueued') as 'started' | 'atLimit' | 'notQueued';
  }

  async update(runId: string, changes: Partial<Pick<Run, 'status' | 'output' | 'error' | 'startedAt' | 'completedAt'>>): Promise<Run> {
    if (runId.length > 128) throw new AppError(ErrorCodes.runNotFound, `run ${runId} does not exist`);
    // Only the fields present in `changes` are written; an explicit null clears a field.
    const sets: string[] = [];
    const params: Record<string, SqlParam> = { id: id(runId) };
    if (changes.status !== undefined) {
      sets.push('status = @status');
      params['status'] = nvarchar(changes.status, 16);
    }
    if (changes.output !== undefined) {
      sets.push('output = @output');
      params['output'] = ntext(changes.output === null ? null : JSON.stringify(changes.output));
    }
    if (changes.error !== undefined) {
      sets.push('error = @error');
      params['error'] = ntext(changes.error === null ? null : JSON.stringify(changes.error));
    }
    if (changes.startedAt !== undefined) {
      sets.push('started_at = @started_at');
      params['started_at'] = timestamp(isoTimestampOrNull(changes.startedAt, 'startedAt'));
    }
    if (changes.completedAt !== undefined) {
      sets.push('completed_at = @completed_at');
      params['completed_at'] = timestamp(isoTimestampOrNull(changes.completedAt, 'completedAt'));
    }
    const row = await this.scope.run(async (s) => {
      if (sets.length > 0) await s.query(`UPDATE dbo.runs SET ${sets.join(', ')} WHERE tenant_id = @tenant_id AND id = @id`, params);
      return this.row(s, runId);
    });
    if (row === undefined) throw new AppError(ErrorCodes.runNotFound, `run ${runId} does not exist`);
    return this.toRun(row);
  }

  async putStep(step: Omit<StepExecution, 'tenantId'>): Promise<void> {
    if (step.iteration !== null && (!Number.isSafeInteger(step.iteration) || step.iteration < 0 || step.iteration > 2 ** 31 - 1)) {
      throw invalidRequest('iteration must be null or an integer >= 0');
    }
    const params: SqlParams = {
      run_id: id(step.runId, 'runId'),
      step_id: id(step.stepId, 'stepId'),
      iteration: int(step.iteration ?? NO_ITERATION),
      status: nvarchar(step.status, 16),
      attempts: int(step.attempts),
      started_at: timestamp(isoTimestampOrNull(step.startedAt, 'startedAt')),
      completed_at: timestamp(isoTimestampOrNull(step.completedAt, 'completedAt')),
      error: ntext(step.error === null ? null : JSON.stringify(step.error)),
      output: ntext(step.output === null ? null : JSON.stringify(step.output)),
      output_ref: nvarchar(step.outputRef, 1024, 'outputRef'),
    };
    // Update, or insert when there was nothing to update, in one transaction; SERIALIZABLE on the update holds
    // the key range, so two writers of the same step cannot both insert.
    const found = await this.scope.run((s) =>
      s.transaction(async () => {
        const run = await s.query('SELECT 1 AS found FROM dbo.runs WHERE tenant_id = @tenant_id AND id = @run_id', params);
        if (run.length === 0) return false;
        await s.query(
          `UPDATE dbo.step_executions WITH (UPDLOCK, SERIALIZABLE)
             SET status = @status, attempts = @attempts, started_at = @started_at, completed_at = @completed_at, error = @error, output = @output, output_ref = @output_ref
             WHERE tenant_id = @tenant_id AND run_id = @run_id AND step_id = @step_id AND iteration = @iteration;
           IF @@ROWCOUNT = 0
             INSERT INTO dbo.step_executions (tenant_id, ${STEP_COLUMNS})
             VALUES (@tenant_id, @run_id, @step_id, @iteration, @status, @attempts, @started_at, @completed_at, @error, @output, @output_ref);`,
          params,
        );
        return true;
      }),
    );
    if (!found) throw new AppError(ErrorCodes.runNotFound, `run ${step.runId} does not exist`);
  }

  async listSteps(runId: string): Promise<StepExecution[]> {
    if (runId.length > 128) return [];
    const rows = await this.scope.run((s) =>
      s.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM dbo.step_executions WHERE tenant_id = @tenant_id AND run_id = @run_id ORDER BY step_id, iteration`, {
        run_id: id(runId),
      }),
    );
    return rows.map(this.toStep);
  }

  async putUsage(usage: Omit<RunUsage, 'tenantId'>): Promise<void> {
    const params: SqlParams = {
      run_id: id(usage.runId, 'runId'),
      steps_executed: int(usageCount(usage.stepsExecuted, 'stepsExecuted', 2 ** 31 - 1)),
      // bigint columns: bound as decimal text and CAST (the session binds nvarchar, int and datetime2 only).
      duration_ms: nvarchar(String(usageCount(usage.durationMs, 'durationMs')), 20),
      bytes: nvarchar(String(usageCount(usage.bytes, 'bytes')), 20),
      connector_calls: int(usageCount(usage.connectorCalls, 'connectorCalls', 2 ** 31 - 1)),
      recorded_at: timestamp(isoTimestamp(usage.recordedAt, 'recordedAt')),
    };
    const found = await this.scope.run((s) =>
      s.transaction(async () => {
        const run = await s.query('SELECT 1 AS found FROM dbo.runs WHERE tenant_id = @tenant_id AND id = @run_id', params);
        if (run.length === 0) return false;
        await s.query(
          `UPDATE dbo.run_usage WITH (UPDLOCK, SERIALIZABLE)
             SET steps_executed = @steps_executed, duration_ms = CAST(@duration_ms AS bigint), bytes = CAST(@bytes AS bigint),
                 connector_calls = @connector_calls, recorded_at = @recorded_at
             WHERE tenant_id = @tenant_id AND run_id = @run_id;
           IF @@ROWCOUNT = 0
             INSERT INTO dbo.run_usage (tenant_id, ${USAGE_COLUMNS})
             VALUES (@tenant_id, @run_id, @steps_executed, CAST(@duration_ms AS bigint), CAST(@bytes AS bigint), @connector_calls, @recorded_at);`,
          params,
        );
        return true;
      }),
    );
    if (!found) throw new AppError(ErrorCodes.runNotFound, `run ${usage.runId} does not exist`);
  }

  async getUsage(runId: string): Promise<RunUsage | undefined> {
    if (runId.length > 128) return undefined;
    const rows = await this.scope.run((s) =>
      s.query<UsageRow>(`SELECT ${USAGE_COLUMNS} FROM dbo.run_usage WHERE tenant_id = @tenant_id AND run_id = @run_id`, { run_id: id(runId) }),
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return usageFromRow(this.scope.tenantId, row);
  }
}

class MssqlAuditRepository implements AuditRepository {
  constructor(private readonly scope: TenantSessions) {}

  private toEntry = (row: AuditRow): AuditEntry => auditEntryFromRow(this.scope.tenantId, row);

  /** Idempotent by entry id: a retried append (e.g. a replayed activity) records the entry once. */
  async append(entry: Omit<AuditEntry, 'tenantId'>): Promise<void> {
    const params: SqlParams = {
      id: id(entry.id, 'audit entry id'),
      at: timestamp(isoTimestamp(entry.at, 'at')),
      actor: ntext(JSON.stringify(entry.actor)),
      action: id(entry.action, 'action'),
      target_type: nvarchar(entry.target.type, 64, 'target.type'),
      target_id: nvarchar(entry.target.id, 256, 'target.id'),
      outcome: nvarchar(entry.outcome, 16),
      error_code: nvarchar(entry.errorCode, 128, 'errorCode'),
      correlation_id: id(entry.correlationId, 'correlationId'),
    };
    await this.scope.run(async (s) => {
      try {
        await s.query(
          `IF NOT EXISTS (SELECT 1 FROM dbo.audit_entries WHERE tenant_id = @tenant_id AND id = @id)
             INSERT INTO dbo.audit_entries (tenant_id, ${AUDIT_COLUMNS}) VALUES (@tenant_id, @id, @at, @actor, @action, @target_type, @target_id, @outcome, @error_code, @correlation_id);`,
          params,
        );
      } catch (error) {
        // Two appends of one entry raced past the existence check: the entry is recorded, which is the point.
        if (!DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw error;
      }
    });
  }

  async list(options: PageOptions & { action?: string; from?: string; to?: string }): Promise<Page<AuditEntry>> {
    const limit = pageLimit(options.limit);
    const from = options.from === undefined ? undefined : isoTimestamp(options.from, 'from');
    const to = options.to === undefined ? undefined : isoTimestamp(options.to, 'to');
    const scope = pageScope('audit', this.scope.tenantId, { action: options.action, from, to });
    const after = decodePageToken(options.continuationToken, scope, ['string', 'string']);
    const where = ['tenant_id = @tenant_id'];
    const params: Record<string, SqlParam> = { take: int(limit + 1) };
    if (options.action !== undefined) {
      where.push('action = @action');
      params['action'] = id(options.action, 'action');
    }
    if (from !== undefined) {
      where.push('at >= @from');
      params['from'] = timestamp(from);
    }
    if (to !== undefined) {
      where.push('at <= @to');
      params['to'] = timestamp(to);
    }
    if (after !== undefined) {
      where.push('(at < @after_at OR (at = @after_at AND id < @after_id))');
      params['after_at'] = timestamp(isoTimestamp(String(after[0]), 'continuationToken'));
      params['after_id'] = id(String(after[1]));
    }
    const rows = await this.scope.run((s) =>
      s.query<AuditRow>(`SELECT TOP (@take) ${AUDIT_COLUMNS} FROM dbo.audit_entries WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC`, params),
    );
    return toPage(rows, limit, this.toEntry, (row) => [row.at, row.id], scope);
  }
}

interface ScheduleRow extends SharedScheduleRow, SqlRow {}

class MssqlScheduleRepository implements ScheduleRepository {
  constructor(private readonly scope: TenantSessions) {}

  private toSchedule = (row: ScheduleRow): Schedule => scheduleFromRow(this.scope.tenantId, row);

  private async row(s: TenantSqlSession, scheduleId: string, lock = false): Promise<ScheduleRow | undefined> {
    const rows = await s.query<ScheduleRow>(
      `SELECT ${SCHEDULE_COLUMNS} FROM dbo.schedules ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE tenant_id = @tenant_id AND id = @id`,
      { id: id(scheduleId) },
    );
    return rows[0];
  }

  async create(input: NewSchedule): Promise<Schedule> {
    const at = now();
    return this.scope.run((s) =>
      s.transaction(async () => {
        const workflow = await s.query('SELECT 1 AS found FROM dbo.workflows WITH (UPDLOCK, HOLDLOCK) WHERE tenant_id = @tenant_id AND id = @id', { id: id(input.workflowId, 'workflowId') });
        if (workflow.length === 0) throw new AppError(ErrorCodes.workflowNotFound, `workflow ${input.workflowId} does not exist`);
        try {
          await s.query(
            `INSERT INTO dbo.schedules (tenant_id, ${SCHEDULE_COLUMNS}) VALUES (@tenant_id, @id, @workflow_id, @cron, @time_zone, @input, @version, @policy, @status, NULL, NULL, NULL, @at, @at, @created_by, 1)`,
            {
              id: id(input.id, 'schedule id'),
              workflow_id: id(input.workflowId, 'workflowId'),
              cron: nvarchar(input.cron, 200, 'cron'),
              time_zone: nvarchar(input.timeZone, 64, 'timeZone'),
              input: ntext(JSON.stringify(input.input)),
              version: int(input.version),
              policy: nvarchar(input.missedFirePolicy, 16),
              status: nvarchar(input.status, 16),
              at: timestamp(at),
              created_by: nvarchar(input.createdBy, 256, 'createdBy'),
            },
          );
        } catch (error) {
          if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw new AppError(ScheduleErrorCodes.exists, `schedule ${input.id} already exists`);
          throw error;
        }
        return this.toSchedule((await this.row(s, input.id))!);
      }),
    );
  }

  async get(scheduleId: string): Promise<Schedule | undefined> {
    if (scheduleId.length > 128) return undefined;
    const row = await this.scope.run((s) => this.row(s, scheduleId));
    return row === undefined ? undefined : this.toSchedule(row);
  }

  async list(options: PageOptions & { workflowId?: string }): Promise<Page<Schedule>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('schedules', this.scope.tenantId, { workflowId: options.workflowId });
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    if (options.workflowId !== undefined && options.workflowId.length > 128) return { items: [] };
    const where = ['tenant_id = @tenant_id'];
    const params: Record<string, SqlParam> = { take: int(limit + 1) };
    if (options.workflowId !== undefined) {
      where.push('workflow_id = @workflow_id');
      params['workflow_id'] = id(options.workflowId);
    }
    if (after !== undefined) {
      where.push('id > @after_id');
      params['after_id'] = id(String(after[0]));
    }
    const rows = await this.scope.run((s) => s.query<ScheduleRow>(`SELECT TOP (@take) ${SCHEDULE_COLUMNS} FROM dbo.schedules WHERE ${where.join(' AND ')} ORDER BY id`, params));
    return toPage(rows, limit, this.toSchedule, (row) => [row.id], scope);
  }

  async count(): Promise<number> {
    const rows = await this.scope.run((s) => s.query<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.schedules WHERE tenant_id = @tenant_id'));
    return rows[0]?.n ?? 0;
  }

  async update(scheduleId: string, changes: ScheduleChanges, precondition?: Precondition): Promise<Schedule> {
    if (scheduleId.length > 128) throw new AppError(ScheduleErrorCodes.notFound, `schedule ${scheduleId} does not exist`);
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, scheduleId, true);
        if (row === undefined) throw new AppError(ScheduleErrorCodes.notFound, `schedule ${scheduleId} does not exist`);
        checkPrecondition(precondition, row.revision, `schedule ${scheduleId}`);
        const current = this.toSchedule(row);
        await s.query(
          `UPDATE dbo.schedules SET cron = @cron, time_zone = @time_zone, input = @input, version = @version, missed_fire_policy = @policy, status = @status,
             last_error = @last_error, updated_at = @at, revision = revision + 1 WHERE tenant_id = @tenant_id AND id = @id`,
          {
            id: id(scheduleId),
            cron: nvarchar(changes.cron ?? current.cron, 200, 'cron'),
            time_zone: nvarchar(changes.timeZone ?? current.timeZone, 64, 'timeZone'),
            input: ntext(JSON.stringify(changes.input ?? current.input)),
            version: int(changes.version === undefined ? current.version : changes.version),
            policy: nvarchar(changes.missedFirePolicy ?? current.missedFirePolicy, 16),
            status: nvarchar(changes.status ?? current.status, 16),
            last_error: ntext(scheduleErrorText(changes.lastError === undefined ? current.lastError : changes.lastError)),
            at: timestamp(now()),
          },
        );
        return this.toSchedule((await this.row(s, scheduleId))!);
      }),
    );
  }

  async recordFire(scheduleId: string, fire: { scheduledTime: string; runId: string | null; error: ScheduleError | null }): Promise<boolean> {
    if (scheduleId.length > 128) return false;
    const set = fire.runId === null ? 'last_error = @last_error' : 'last_fire_time = @fire_time, last_run_id = @run_id, last_error = @last_error';
    const rows = await this.scope.run((s) =>
      s.query<{ n: number }>(`UPDATE dbo.schedules SET ${set} WHERE tenant_id = @tenant_id AND id = @id; SELECT @@ROWCOUNT AS n;`, {
        id: id(scheduleId),
        fire_time: timestamp(isoTimestamp(fire.scheduledTime, 'scheduledTime')),
        run_id: nvarchar(fire.runId, 128, 'runId'),
        last_error: ntext(scheduleErrorText(fire.error)),
      }),
    );
    return rows[0]?.n === 1;
  }

  async delete(scheduleId: string, precondition?: Precondition): Promise<boolean> {
    if (scheduleId.length > 128) return false;
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, scheduleId, true);
        if (row === undefined) return false;
        checkPrecondition(precondition, row.revision, `schedule ${scheduleId}`);
        await s.query('DELETE FROM dbo.schedules WHERE tenant_id = @tenant_id AND id = @id', { id: id(scheduleId) });
        return true;
      }),
    );
  }

  async listIdsByWorkflow(workflowId: string): Promise<string[]> {
    if (workflowId.length > 128) return [];
    const rows = await this.scope.run((s) =>
      s.query<{ id: string }>('SELECT id FROM dbo.schedules WHERE tenant_id = @tenant_id AND workflow_id = @workflow_id ORDER BY id', { workflow_id: id(workflowId) }),
    );
    return rows.map((row) => row.id);
  }
}

// -------------------------------------------------------------------------------------- RLS self-test

/**
 * The catalog sweep: tenant_id tables without an enabled FILTER predicate and both AFTER block predicates (the
 * control-plane tables that name tenants are outside the policy by design: MSSQL_CONTROL_PLANE_TENANT_TABLES).
 */
export const RLS_SWEEP_SQL = `SELECT s.name + N'.' + t.name AS table_name
FROM sys.tables AS t
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE EXISTS (SELECT 1 FROM sys.columns AS c WHERE c.object_id = t.object_id AND c.name = N'tenant_id')
  AND NOT (s.name = N'dbo' AND t.name IN (${MSSQL_CONTROL_PLANE_TENANT_TABLES.map((table) => `N'${table}'`).join(', ')}))
  AND (
    NOT EXISTS (
      SELECT 1 FROM sys.security_predicates AS p JOIN sys.security_policies AS sp ON sp.object_id = p.object_id
      WHERE p.target_object_id = t.object_id AND sp.is_enabled = 1 AND p.predicate_type_desc = N'FILTER')
    OR (
      SELECT COUNT(DISTINCT p.operation_desc) FROM sys.security_predicates AS p JOIN sys.security_policies AS sp ON sp.object_id = p.object_id
      WHERE p.target_object_id = t.object_id AND sp.is_enabled = 1 AND p.predicate_type_desc = N'BLOCK'
        AND p.operation_desc IN (N'AFTER INSERT', N'AFTER UPDATE')) < 2
  )
ORDER BY table_name;`;

async function expectSqlError(work: () => Promise<unknown>, expected: readonly number[]): Promise<{ blocked: boolean; errorNumber?: number }> {
  try {
    await work();
    return { blocked: false };
  } catch (error) {
    const errorNumber = sqlErrorNumber(error);
    return errorNumber === undefined ? { blocked: false } : { blocked: expected.includes(errorNumber), errorNumber };
  }
}

/**
 * Microsoft's recommended RLS test, on live data structures but with probe tenants that exist only for the test
 * (their rows are removed at the end): rows visible per context, nothing visible without context, cross-tenant
 * INSERT and tenant-moving UPDATE refused, the context read-only, every tenant_id table covered, and 200
 * interleaved requests of two tenants over the pool seeing no foreign row.
 */
export async function runRlsSelfTest(sessions: SqlSessions): Promise<RlsSelfTestReport> {
  const run = randomUUID().replaceAll('-', '').slice(0, 12);
  const probes = ['a', 'b', 'c'].map((suffix) => `rls-probe-${run}-${suffix}`);
  const [a, b] = probes as [string, string, string];
  const problems: string[] = [];
  const probeRow = (n: number): SqlParams => ({
    id: id(`probe-${n}`),
    at: timestamp(now()),
    actor: ntext(JSON.stringify({ subject: 'system:rls-self-test', name: null, roles: [] })),
  });
  const insertProbe = 'INSERT INTO dbo.audit_entries (tenant_id, id, at, actor, action, target_type, target_id, outcome, error_code, correlation_id) VALUES (@tenant_id, @id, @at, @actor, N\'rls.probe\', N\'probe\', N\'probe\', \'success\', NULL, N\'rls-self-test\')';
  const report: RlsSelfTestReport = {
    ok: false,
    countsPerContext: {},
    noContextCounts: {},
    crossTenantInsert: { blocked: false },
    tenantMoveUpdate: { blocked: false },
    contextReadOnly: { enforced: false },
    unprotectedTables: [],
    pooledRequests: { requests: 200, crossTenantRows: 0, wrongContexts: 0 },
    problems,
  };
  try {
    for (const tenant of probes) {
      await sessions.tenant(tenant, async (s) => {
        await s.query(insertProbe, probeRow(1));
        await s.query(insertProbe, probeRow(2));
      });
    }
    for (const tenant of probes) {
      // No WHERE: only the policy decides what is visible.
      const rows = await sessions.tenant(tenant, (s) => s.queryUnscoped<{ n: number }>("SELECT COUNT(*) AS n FROM dbo.audit_entries WHERE action = N'rls.probe'"));
      report.countsPerContext[tenant] = rows[0]?.n ?? -1;
      if (report.countsPerContext[tenant] !== 2) problems.push(`${tenant} sees ${report.countsPerContext[tenant]} probe rows, expected 2`);
    }
    await sessions.control(async (s) => {
      for (const table of MSSQL_TENANT_TABLES) {
        report.noContextCounts[table] = (await s.query<{ n: number }>(`SELECT COUNT(*) AS n FROM dbo.${table}`))[0]?.n ?? -1;
        if (report.noContextCounts[table] !== 0) problems.push(`dbo.${table} shows ${report.noContextCounts[table]} rows with no session context, expected 0`);
      }
      report.unprotectedTables = (await s.query<{ table_name: string }>(RLS_SWEEP_SQL)).map((row) => row.table_name);
      if (report.unprotectedTables.length > 0) problems.push(`tables with tenant_id lacking FILTER + AFTER INSERT/UPDATE BLOCK predicates: ${report.unprotectedTables.join(', ')}`);
    });
    await sessions.tenant(a, async (s) => {
      report.crossTenantInsert = await expectSqlError(() => s.queryUnscoped(insertProbe.replace('@tenant_id', '@other'), { ...probeRow(3), other: nvarchar(b, 63) }), [RLS_BLOCKED]);
      report.tenantMoveUpdate = await expectSqlError(
        () => s.queryUnscoped("UPDATE dbo.audit_entries SET tenant_id = @other WHERE id = N'probe-1'", { other: nvarchar(b, 63) }),
        [RLS_BLOCKED, 230],
      );
      const reset = await expectSqlError(
        () => s.queryUnscoped("EXEC sys.sp_set_session_context @key = N'tenant_id', @value = @other", { other: nvarchar(b, 63) }),
        [READ_ONLY_CONTEXT_KEY],
      );
      report.contextReadOnly = { enforced: reset.blocked, ...(reset.errorNumber === undefined ? {} : { errorNumber: reset.errorNumber }) };
    });
    if (!report.crossTenantInsert.blocked) problems.push(`cross-tenant INSERT was not refused with Msg ${RLS_BLOCKED} (got ${report.crossTenantInsert.errorNumber ?? 'success'})`);
    if (!report.tenantMoveUpdate.blocked) problems.push(`tenant-moving UPDATE was not refused (got ${report.tenantMoveUpdate.errorNumber ?? 'success'})`);
    if (!report.contextReadOnly.enforced) problems.push(`the session context could be changed (got ${report.contextReadOnly.errorNumber ?? 'success'})`);

    const seen = await Promise.all(
      Array.from({ length: report.pooledRequests.requests }, (_, i) =>
        sessions.tenant(i % 2 === 0 ? a : b, async (s) => {
          const [context] = await s.queryUnscoped<{ tenant_id: string | null }>("SELECT CAST(SESSION_CONTEXT(N'tenant_id') AS nvarchar(128)) AS tenant_id");
          const [foreign] = await s.queryUnscoped<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.audit_entries WHERE tenant_id <> @tenant_id');
          return { wrongContext: context?.tenant_id !== s.tenantId, foreign: foreign?.n ?? 0 };
        }),
      ),
    );
    report.pooledRequests.wrongContexts = seen.filter((r) => r.wrongContext).length;
    report.pooledRequests.crossTenantRows = seen.reduce((sum, r) => sum + r.foreign, 0);
    if (report.pooledRequests.wrongContexts > 0 || report.pooledRequests.crossTenantRows > 0) {
      problems.push(`pooled requests: ${report.pooledRequests.wrongContexts} wrong contexts, ${report.pooledRequests.crossTenantRows} foreign rows`);
    }
  } finally {
    for (const tenant of probes) {
      await sessions.tenant(tenant, (s) => s.query('DELETE FROM dbo.audit_entries WHERE tenant_id = @tenant_id')).catch(() => undefined);
    }
  }
  report.ok = problems.length === 0;
  return report;
}
