import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
  AppStore,
  AuditRepository,
  EventSubscriptionRepository,
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
  NO_ITERATION,
  RUN_COLUMNS,
  SCHEDULE_COLUMNS,
  scheduleFromRow,
  type ScheduleRow,
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
  type RunRow,
  type TenantRow,
  type StepRow,
  type VersionRow,
  type WorkflowRow,
  AUDIT_COLUMNS,
  auditEntryFromRow,
  USAGE_COLUMNS,
  usageFromRow,
  type AuditRow,
  type UsageRow,
} from '../storeSupport/storeRows.js';
import { openSqliteDatabase } from './openSqliteDatabase.js';
import { checkPrecondition, isConstraint, type Params, TenantScope, toPage } from './sqliteTenantScope.js';
import { eventSourceKey } from '../../domain/events.js';
import { SqliteEventSubscriptionRepository, writeEventSourceIndex } from './sqliteEventSubscriptions.js';
import { SqliteHookIndex, SqliteHookRepository, deleteTenantHookIndex } from './sqliteHooks.js';

export { assertTenantBound } from './sqliteTenantScope.js';
import { prepare } from './preparedStatement.js';
import { deleteTenantAdmission, SqliteRunAdmission } from './sqliteRunAdmission.js';
import { deleteTenantScheduleDue, SqliteScheduleDueIndex } from './sqliteScheduleDue.js';
import { migrateSqlite, TENANT_TABLES } from './sqliteAppStoreSchema.js';
import {
  decodePageToken,
  invalidRequest,
  isoTimestamp,
  isoTimestampOrNull,
  pageLimit,
  pageScope,
  scheduleErrorText,
  toJsonText,
} from '../storeSupport/storeSupport.js';

/** Where the SQLite app store keeps its files. */
export interface SqliteAppStoreOptions {
  /** The control database: the tenant registry and the data of every shared tenant. */
  file: string;
  /** The folder of dedicated tenants' databases, one `<tenantId>.db` each. */
  dedicatedDirectory: string;
}

/**
 * The embedded app store on SQLite (better-sqlite3, WAL; see openSqliteDatabase).
 *
 * Operator notes:
 * - Files: `file` holds the tenant registry and every shared tenant's data; a tenant placed `dedicated` gets
 *   `<dedicatedDirectory>/<tenantId>.db` (plus its `-wal`/`-shm`), created on first use and deleted with the
 *   tenant. Back up the control file and the folder together. Each dedicated file records its owner tenant and
 *   is refused if opened for another one (a misplaced copy is not silently served).
 * - Schema: versioned migrations in `schema_migrations` (tracks `control` and `tenant-data`), applied when the
 *   store opens a database; a database from a newer release is refused.
 * - Isolation: there is no row-level security in SQLite, so the repository layer enforces it: every statement
 *   on tenant data goes through one gate that binds `@tenant_id` and refuses SQL that does not filter on it.
 * - Concurrency: each operation is one synchronous IMMEDIATE transaction, so operations are atomic and
 *   serialized within the process, and across processes by SQLite's write lock (busy timeout 5 s).
 * - Deleting a tenant removes its rows (shared) or its file (dedicated); onboarding an id again also clears any
 *   rows or file a data store still open during the deletion may have written, so a new tenant never inherits.
 */
export function createSqliteAppStore(options: SqliteAppStoreOptions): AppStore {
  return new SqliteAppStore(options);
}

function now(): string {
  return new Date().toISOString();
}

// ---------------------------------------------------------------------------------------------- tenants

/** An open dedicated database; `db` becomes null when its tenant is deleted, so held data stores stop working. */
interface DedicatedHandle {
  db: Database.Database | null;
}

class SqliteAppStore implements AppStore {
  readonly tenants: TenantRepository;
  readonly admission: RunAdmission;
  readonly hookIndex: HookIndex;
  readonly scheduleDue: ScheduleDueIndex;
  private readonly control: Database.Database;
  private readonly dedicated = new Map<string, DedicatedHandle>();

  constructor(private readonly options: SqliteAppStoreOptions) {
    this.control = openSqliteDatabase(options.file);
    try {
      migrateSqlite(this.control, ['control', 'tenant-data']);
    } catch (error) {
      this.control.close();
      throw error;
    }
    this.tenants = new SqliteTenantRepository(this);
    this.admission = new SqliteRunAdmission(() => this.control);
    this.hookIndex = new SqliteHookIndex(() => this.control);
    this.scheduleDue = new SqliteScheduleDueIndex(() => this.control);
  }

  /** @internal */
  get controlDb(): Database.Database {
    return this.control;
  }

  async forTenant(tenantId: string): Promise<TenantDataStore> {
    const tenant = TENANT_ID_PATTERN.test(tenantId)
      ? (prepare(this.control, 'SELECT placement FROM tenants WHERE id = ?').get(tenantId) as { placement: TenantPlacement } | undefined)
      : undefined;
    if (tenant === undefined) throw new AppError(ErrorCodes.tenantNotFound, `tenant ${tenantId} does not exist`);
    if (tenant.placement === 'shared') return new SqliteTenantDataStore(new TenantScope(tenantId, () => this.control));
    const handle = this.openDedicated(tenantId);
    return new SqliteTenantDataStore(
      new TenantScope(tenantId, () => {
        if (handle.db === null) throw new AppError(ErrorCodes.tenantNotFound, `tenant ${tenantId} was deleted`);
        return handle.db;
      }),
    );
  }

  async ping(): Promise<void> {
    prepare(this.control, 'SELECT 1').get();
  }

  async close(): Promise<void> {
    for (const handle of this.dedicated.values()) {
      handle.db?.close();
      handle.db = null;
    }
    this.dedicated.clear();
    this.control.close();
  }

  /** @internal The file of a dedicated tenant (the id is a validated slug, so it cannot leave the folder). */
  dedicatedFile(tenantId: string): string {
    return path.join(this.options.dedicatedDirectory, `${tenantId}.db`);
  }

  /** @internal Closes and deletes a dedicated tenant's database (with its WAL and shared-memory files). */
  removeDedicated(tenantId: string): void {
    const handle = this.dedicated.get(tenantId);
    if (handle !== undefined) {
      handle.db?.close();
      handle.db = null;
      this.dedicated.delete(tenantId);
    }
    const file = this.dedicatedFile(tenantId);
    for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(`${file}${suffix}`, { force: true });
  }

  private openDedicated(tenantId: string): DedicatedHandle {
    const open = this.dedicated.get(tenantId);
    if (open !== undefined) return open;
    const db = openSqliteDatabase(this.dedicatedFile(tenantId));
    try {
      migrateSqlite(db, ['tenant-data']);
      claimDedicatedDatabase(db, tenantId);
    } catch (error) {
      db.close();
      throw error;
    }
    const handle: DedicatedHandle = { db };
    this.dedicated.set(tenantId, handle);
    return handle;
  }
}

/**
 * Records which tenant a dedicated database belongs to on first open, and refuses it for any other tenant: a
 * file copied or renamed by mistake must not serve one tenant's data to another.
 */
function claimDedicatedDatabase(db: Database.Database, tenantId: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS store_owner (tenant_id TEXT NOT NULL, claimed_at TEXT NOT NULL) STRICT');
  const owner = db.prepare('SELECT tenant_id FROM store_owner').get() as { tenant_id: string } | undefined;
  if (owner === undefined) {
    db.prepare('INSERT INTO store_owner (tenant_id, claimed_at) VALUES (?, ?)').run(tenantId, now());
  } else if (owner.tenant_id !== tenantId) {
    throw new AppError(ErrorCodes.internal, `${db.name} belongs to tenant ${owner.tenant_id}, not ${tenantId}`);
  }
}

class SqliteTenantRepository implements TenantRepository {
  constructor(private readonly store: SqliteAppStore) {}

  private get db(): Database.Database {
    return this.store.controlDb;
  }

  private row(tenantId: string): TenantRow | undefined {
    return prepare(this.db, `SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ?`).get(tenantId) as TenantRow | undefined;
  }

  async create(input: Omit<Tenant, 'createdAt' | 'updatedAt' | 'revision'>): Promise<Tenant> {
    if (typeof input.id !== 'string' || !TENANT_ID_PATTERN.test(input.id)) {
      throw invalidRequest(`tenant id ${JSON.stringify(input.id)} is not a slug (${TENANT_ID_PATTERN.source})`);
    }
    const at = now();
    const tenant: Tenant = { ...input, quotas: { ...input.quotas }, createdAt: at, updatedAt: at, revision: 1 };
    try {
      this.db
        .transaction(() => {
          prepare(this.db, `INSERT INTO tenants (${TENANT_COLUMNS}) VALUES (@id, @name, @tier, @status, @quotas, @entra, @placement, @egress, @event_sources, @at, @at, 1)`).run({
            id: tenant.id,
            name: tenant.name,
            tier: tenant.tier,
            status: tenant.status,
            quotas: JSON.stringify(tenant.quotas),
            entra: tenant.entraTenantId,
            placement: tenant.placement,
            egress: egressText(tenant.egress),
            event_sources: JSON.stringify(tenant.eventSources),
            at,
          });
          writeEventSourceIndex(this.db, tenant.id, tenant.eventSources);
          // Only once the id is known to be free: clear whatever a data store that outlived an earlier tenant
          // of this id may have written, so the new tenant starts empty.
          if (tenant.placement === 'dedicated') this.store.removeDedicated(tenant.id);
          else deleteTenantRows(new TenantScope(tenant.id, () => this.db));
        })
        .immediate();
    } catch (error) {
      if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new AppError(ErrorCodes.tenantExists, `tenant ${tenant.id} already exists`);
      if (isConstraint(error, 'SQLITE_CONSTRAINT_UNIQUE')) throw new AppError(ErrorCodes.tenantExists, 'the Entra tenant is already mapped to a tenant');
      throw error;
    }
    return tenant;
  }

  async get(tenantId: string): Promise<Tenant | undefined> {
    const row = this.row(tenantId);
    return row === undefined ? undefined : tenantFromRow(row);
  }

  async getByEntraTenantId(entraTenantId: string): Promise<Tenant | undefined> {
    const row = prepare(this.db, `SELECT ${TENANT_COLUMNS} FROM tenants WHERE entra_tenant_id = ?`).get(entraTenantId) as TenantRow | undefined;
    return row === undefined ? undefined : tenantFromRow(row);
  }

  async getByEventSource(source: string): Promise<Tenant | undefined> {
    const row = prepare(this.db, `SELECT ${TENANT_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ')} FROM event_source_index i JOIN tenants t ON t.id = i.tenant_id WHERE i.source = ?`).get(
      eventSourceKey(source),
    ) as TenantRow | undefined;
    return row === undefined ? undefined : tenantFromRow(row);
  }

  async list(options: PageOptions & { status?: TenantStatus }): Promise<Page<Tenant>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('tenants', null, { status: options.status });
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const where: string[] = [];
    if (options.status !== undefined) where.push('status = @status');
    if (after !== undefined) where.push('id > @after_id');
    const sql = `SELECT ${TENANT_COLUMNS} FROM tenants ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT @take`;
    const rows = prepare(this.db, sql).all({ status: options.status, after_id: after?.[0], take: limit + 1 }) as TenantRow[];
    return toPage(rows, limit, tenantFromRow, (row) => [row.id], scope);
  }

  async update(
    tenantId: string,
    changes: TenantChanges,
    precondition?: Precondition,
  ): Promise<Tenant> {
    try {
      return this.db
        .transaction(() => {
          const row = this.row(tenantId);
          if (row === undefined) throw new AppError(ErrorCodes.tenantNotFound, `tenant ${tenantId} does not exist`);
          checkPrecondition(precondition, row.revision, `tenant ${tenantId}`);
          const current = tenantFromRow(row);
          const next = changedTenant(current, changes, now());
          prepare(
            this.db,
            'UPDATE tenants SET name = @name, tier = @tier, status = @status, quotas = @quotas, entra_tenant_id = @entra, egress = @egress, event_sources = @event_sources, updated_at = @at, revision = @revision WHERE id = @id',
          ).run({
            id: tenantId,
            name: next.name,
            tier: next.tier,
            status: next.status,
            quotas: JSON.stringify(next.quotas),
            entra: next.entraTenantId,
            egress: egressText(next.egress),
            event_sources: JSON.stringify(next.eventSources),
            at: next.updatedAt,
            revision: next.revision,
          });
          if (changes.eventSources !== undefined) writeEventSourceIndex(this.db, tenantId, next.eventSources);
          return next;
        })
        .immediate();
    } catch (error) {
      if (isConstraint(error, 'SQLITE_CONSTRAINT_UNIQUE')) throw new AppError(ErrorCodes.tenantExists, 'the Entra tenant is already mapped to a tenant');
      throw error;
    }
  }

  async delete(tenantId: string, precondition?: Precondition): Promise<boolean> {
    return this.db
      .transaction(() => {
        const row = this.row(tenantId);
        if (row === undefined) return false;
        checkPrecondition(precondition, row.revision, `tenant ${tenantId}`);
        // The data goes first, inside the same transaction as the registry row: if removing it fails, the
        // tenant stays registered (and deletable again) instead of leaving unreachable data behind.
        if (row.placement === 'dedicated') this.store.removeDedicated(tenantId);
        else deleteTenantRows(new TenantScope(tenantId, () => this.db));
        deleteTenantAdmission(this.db, tenantId);
        deleteTenantHookIndex(this.db, tenantId);
        deleteTenantScheduleDue(this.db, tenantId);
        writeEventSourceIndex(this.db, tenantId, []);
        prepare(this.db, 'DELETE FROM tenants WHERE id = ?').run(tenantId);
        return true;
      })
      .immediate();
  }
}

function deleteTenantRows(scope: TenantScope): void {
  for (const table of TENANT_TABLES) scope.run(`DELETE FROM ${table} WHERE tenant_id = @tenant_id`);
}

// -------------------------------------------------------------------------------------------- tenant data

class SqliteTenantDataStore implements TenantDataStore {
  readonly tenantId: string;
  readonly workflows: WorkflowRepository;
  readonly runs: RunRepository;
  readonly audit: AuditRepository;
  readonly hooks: HookRepository;
  readonly schedules: ScheduleRepository;
  readonly eventSubscriptions: EventSubscriptionRepository;

  constructor(scope: TenantScope) {
    this.tenantId = scope.tenantId;
    this.workflows = new SqliteWorkflowRepository(scope);
    this.runs = new SqliteRunRepository(scope);
    this.audit = new SqliteAuditRepository(scope);
    this.hooks = new SqliteHookRepository(scope);
    this.schedules = new SqliteScheduleRepository(scope);
    this.eventSubscriptions = new SqliteEventSubscriptionRepository(scope);
  }
}

class SqliteWorkflowRepository implements WorkflowRepository {
  constructor(private readonly scope: TenantScope) {}

  private toWorkflow = (row: WorkflowRow): Workflow => workflowFromRow(this.scope.tenantId, row);

  private toVersion = (row: VersionRow): WorkflowVersion => versionFromRow(this.scope.tenantId, row);

  private row(workflowId: string): WorkflowRow | undefined {
    return this.scope.get<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE tenant_id = @tenant_id AND id = @id`, { id: workflowId });
  }

  /** The workflow, checked against the precondition, or WORKFLOW.NOT_FOUND. Call inside a transaction. */
  private existing(workflowId: string, precondition: Precondition | undefined): WorkflowRow {
    const row = this.row(workflowId);
    if (row === undefined) throw new AppError(ErrorCodes.workflowNotFound, `workflow ${workflowId} does not exist`);
    checkPrecondition(precondition, row.revision, `workflow ${workflowId}`);
    return row;
  }

  async create(input: Omit<Workflow, 'tenantId' | 'createdAt' | 'updatedAt' | 'revision' | 'latestVersion'>): Promise<Workflow> {
    const at = now();
    try {
      this.scope.run(
        `INSERT INTO workflows (tenant_id, ${WORKFLOW_COLUMNS}) VALUES (@tenant_id, @id, @name, @description, @draft, NULL, @at, @at, @created_by, 1)`,
        { id: input.id, name: input.name, description: input.description, draft: toJsonText(input.draft), at, created_by: input.createdBy },
      );
    } catch (error) {
      if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new AppError(ErrorCodes.workflowExists, `workflow ${input.id} already exists`);
      throw error;
    }
    return this.toWorkflow(this.row(input.id)!);
  }

  async get(workflowId: string): Promise<Workflow | undefined> {
    const row = this.row(workflowId);
    return row === undefined ? undefined : this.toWorkflow(row);
  }

  async list(options: PageOptions): Promise<Page<Workflow>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('workflows', this.scope.tenantId);
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const rows = this.scope.all<WorkflowRow>(
      `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE tenant_id = @tenant_id ${after === undefined ? '' : 'AND id > @after_id'} ORDER BY id LIMIT @take`,
      { after_id: after?.[0], take: limit + 1 },
    );
    return toPage(rows, limit, this.toWorkflow, (row) => [row.id], scope);
  }

  async count(): Promise<number> {
    return this.scope.get<{ n: number }>('SELECT COUNT(*) AS n FROM workflows WHERE tenant_id = @tenant_id')!.n;
  }

  async updateDraft(workflowId: string, changes: { name?: string; description?: string; draft?: JsonObject }, precondition?: Precondition): Promise<Workflow> {
    return this.scope.transaction(() => {
      const row = this.existing(workflowId, precondition);
      this.scope.run(
        'UPDATE workflows SET name = @name, description = @description, draft = @draft, updated_at = @at, revision = revision + 1 WHERE tenant_id = @tenant_id AND id = @id',
        {
          id: workflowId,
          name: changes.name ?? row.name,
          description: changes.description ?? row.description,
          draft: changes.draft === undefined ? row.draft : toJsonText(changes.draft),
          at: now(),
        },
      );
      return this.toWorkflow(this.row(workflowId)!);
    });
  }

  async delete(workflowId: string, precondition?: Precondition): Promise<boolean> {
    return this.scope.transaction(() => {
      const row = this.row(workflowId);
      if (row === undefined) return false;
      checkPrecondition(precondition, row.revision, `workflow ${workflowId}`);
      this.scope.run('DELETE FROM schedules WHERE tenant_id = @tenant_id AND workflow_id = @id', { id: workflowId });
      this.scope.run('DELETE FROM workflow_versions WHERE tenant_id = @tenant_id AND workflow_id = @id', { id: workflowId });
      this.scope.run('DELETE FROM workflows WHERE tenant_id = @tenant_id AND id = @id', { id: workflowId });
      return true;
    });
  }

  async publish(workflowId: string, publishedBy: string, precondition?: Precondition): Promise<WorkflowVersion> {
    return this.scope.transaction(() => {
      const row = this.existing(workflowId, precondition);
      const version = (row.latest_version ?? 0) + 1;
      const at = now();
      // The draft text is copied as stored: the version is exactly what the draft was at this moment.
      this.scope.run(
        `INSERT INTO workflow_versions (tenant_id, ${VERSION_COLUMNS}) VALUES (@tenant_id, @id, @version, @definition, @at, @published_by)`,
        { id: workflowId, version, definition: row.draft, at, published_by: publishedBy },
      );
      this.scope.run(
        'UPDATE workflows SET latest_version = @version, updated_at = @at, revision = revision + 1 WHERE tenant_id = @tenant_id AND id = @id',
        { id: workflowId, version, at },
      );
      return this.toVersion({ workflow_id: workflowId, version, definition: row.draft, published_at: at, published_by: publishedBy });
    });
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    const row = this.scope.get<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM workflow_versions WHERE tenant_id = @tenant_id AND workflow_id = @id AND version = @version`,
      { id: workflowId, version },
    );
    return row === undefined ? undefined : this.toVersion(row);
  }

  async listVersions(workflowId: string, options: PageOptions): Promise<Page<WorkflowVersion>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('workflow_versions', this.scope.tenantId, { workflowId });
    const after = decodePageToken(options.continuationToken, scope, ['number']);
    const rows = this.scope.all<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM workflow_versions WHERE tenant_id = @tenant_id AND workflow_id = @id ${after === undefined ? '' : 'AND version < @after_version'} ORDER BY version DESC LIMIT @take`,
      { id: workflowId, after_version: after?.[0], take: limit + 1 },
    );
    return toPage(rows, limit, this.toVersion, (row) => [row.version], scope);
  }
}

/** A usage counter: a non-negative safe integer. */
function usageCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidRequest(`${field} must be an integer >= 0`);
  return value;
}

class SqliteRunRepository implements RunRepository {
  constructor(private readonly scope: TenantScope) {}

  private toRun = (row: RunRow): Run => runFromRow(this.scope.tenantId, row);

  private toStep = (row: StepRow): StepExecution => stepFromRow(this.scope.tenantId, row);

  private row(runId: string): RunRow | undefined {
    return this.scope.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE tenant_id = @tenant_id AND id = @id`, { id: runId });
  }

  async create(input: Omit<Run, 'tenantId'>): Promise<{ run: Run; created: boolean }> {
    const params = {
      id: input.id,
      workflow_id: input.workflowId,
      workflow_version: input.workflowVersion,
      trigger_kind: input.trigger.kind,
      trigger_source: input.trigger.source,
      input: toJsonText(input.input),
      status: input.status,
      output: input.output === null ? null : toJsonText(input.output),
      error: input.error === null ? null : JSON.stringify(input.error),
      idempotency_key: input.idempotencyKey,
      correlation_id: input.correlationId,
      created_at: isoTimestamp(input.createdAt, 'createdAt'),
      started_at: isoTimestampOrNull(input.startedAt, 'startedAt'),
      completed_at: isoTimestampOrNull(input.completedAt, 'completedAt'),
    };
    return this.scope.transaction(() => {
      if (input.idempotencyKey !== null) {
        const first = this.scope.get<RunRow>(
          `SELECT ${RUN_COLUMNS} FROM runs WHERE tenant_id = @tenant_id AND workflow_id = @workflow_id AND idempotency_key = @key`,
          { workflow_id: input.workflowId, key: input.idempotencyKey },
        );
        if (first !== undefined) return { run: this.toRun(first), created: false };
      }
      try {
        this.scope.run(
          `INSERT INTO runs (tenant_id, ${RUN_COLUMNS}) VALUES (@tenant_id, @id, @workflow_id, @workflow_version, @trigger_kind, @trigger_source, @input, @status, @output, @error, @idempotency_key, @correlation_id, @created_at, @started_at, @completed_at)`,
          params,
        );
      } catch (error) {
        if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new AppError(ErrorCodes.conflict, `run ${input.id} already exists`);
        throw error;
      }
      return { run: this.toRun(this.row(input.id)!), created: true };
    });
  }

  async get(runId: string): Promise<Run | undefined> {
    const row = this.row(runId);
    return row === undefined ? undefined : this.toRun(row);
  }

  async list(query: RunQuery): Promise<Page<Run>> {
    const limit = pageLimit(query.limit);
    const createdFrom = query.createdFrom === undefined ? undefined : isoTimestamp(query.createdFrom, 'createdFrom');
    const createdTo = query.createdTo === undefined ? undefined : isoTimestamp(query.createdTo, 'createdTo');
    const scope = pageScope('runs', this.scope.tenantId, { workflowId: query.workflowId, status: query.status, createdFrom, createdTo });
    const after = decodePageToken(query.continuationToken, scope, ['string', 'string']);
    const where = ['tenant_id = @tenant_id'];
    if (query.workflowId !== undefined) where.push('workflow_id = @workflow_id');
    if (query.status !== undefined) where.push('status = @status');
    if (createdFrom !== undefined) where.push('created_at >= @created_from');
    if (createdTo !== undefined) where.push('created_at <= @created_to');
    if (after !== undefined) where.push('(created_at < @after_at OR (created_at = @after_at AND id < @after_id))');
    const rows = this.scope.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT @take`, {
      workflow_id: query.workflowId,
      status: query.status,
      created_from: createdFrom,
      created_to: createdTo,
      after_at: after?.[0],
      after_id: after?.[1],
      take: limit + 1,
    });
    return toPage(rows, limit, this.toRun, (row) => [row.created_at, row.id], scope);
  }

  async countCreatedSince(since: string): Promise<number> {
    return this.scope.get<{ n: number }>('SELECT COUNT(*) AS n FROM runs WHERE tenant_id = @tenant_id AND created_at >= @since', {
      since: isoTimestamp(since, 'since'),
    })!.n;
  }

  async claimStart(runId: string, maxRunning: number, at: string): Promise<'started' | 'atLimit' | 'notQueued'> {
    // One statement: SQLite runs it under the database write lock, so the count and the update cannot interleave.
    const claimed = this.scope.run(
      `UPDATE runs SET status = 'running', started_at = @at
       WHERE tenant_id = @tenant_id AND id = @id AND status = 'queued'
         AND (SELECT COUNT(*) FROM runs WHERE tenant_id = @tenant_id AND status = 'running') < @max`,
      { id: runId, at: isoTimestamp(at, 'at'), max: maxRunning },
    ).changes;
    if (claimed === 1) return 'started';
    const row = this.scope.get<{ status: string }>('SELECT status FROM runs WHERE tenant_id = @tenant_id AND id = @id', { id: runId });
    return row?.status === 'queued' ? 'atLimit' : 'notQueued';
  }

  async update(runId: string, changes: Partial<Pick<Run, 'status' | 'output' | 'error' | 'startedAt' | 'completedAt'>>): Promise<Run> {
    // Only the fields present in `changes` are written; an explicit null clears a field.
    const sets: string[] = [];
    const params: Params = { id: runId };
    if (changes.status !== undefined) {
      sets.push('status = @status');
      params['status'] = changes.status;
    }
    if (changes.output !== undefined) {
      sets.push('output = @output');
      params['output'] = changes.output === null ? null : toJsonText(changes.output);
    }
    if (changes.error !== undefined) {
      sets.push('error = @error');
      params['error'] = changes.error === null ? null : JSON.stringify(changes.error);
    }
    if (changes.startedAt !== undefined) {
      sets.push('started_at = @started_at');
      params['started_at'] = isoTimestampOrNull(changes.startedAt, 'startedAt');
    }
    if (changes.completedAt !== undefined) {
      sets.push('completed_at = @completed_at');
      params['completed_at'] = isoTimestampOrNull(changes.completedAt, 'completedAt');
    }
    return this.scope.transaction(() => {
      if (sets.length > 0) this.scope.run(`UPDATE runs SET ${sets.join(', ')} WHERE tenant_id = @tenant_id AND id = @id`, params);
      const row = this.row(runId);
      if (row === undefined) throw new AppError(ErrorCodes.runNotFound, `run ${runId} does not exist`);
      return this.toRun(row);
    });
  }

  async putStep(step: Omit<StepExecution, 'tenantId'>): Promise<void> {
    if (step.iteration !== null && (!Number.isSafeInteger(step.iteration) || step.iteration < 0)) {
      throw invalidRequest('iteration must be null or an integer >= 0');
    }
    const params = {
      run_id: step.runId,
      step_id: step.stepId,
      iteration: step.iteration ?? NO_ITERATION,
      status: step.status,
      attempts: step.attempts,
      started_at: isoTimestampOrNull(step.startedAt, 'startedAt'),
      completed_at: isoTimestampOrNull(step.completedAt, 'completedAt'),
      error: step.error === null ? null : JSON.stringify(step.error),
      output: step.output === null ? null : toJsonText(step.output),
      output_ref: step.outputRef,
    };
    this.scope.transaction(() => {
      if (this.scope.get('SELECT 1 FROM runs WHERE tenant_id = @tenant_id AND id = @run_id', { run_id: step.runId }) === undefined) {
        throw new AppError(ErrorCodes.runNotFound, `run ${step.runId} does not exist`);
      }
      this.scope.run(
        `INSERT INTO step_executions (tenant_id, ${STEP_COLUMNS}) VALUES (@tenant_id, @run_id, @step_id, @iteration, @status, @attempts, @started_at, @completed_at, @error, @output, @output_ref)
         ON CONFLICT (tenant_id, run_id, step_id, iteration) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
           started_at = excluded.started_at, completed_at = excluded.completed_at, error = excluded.error, output = excluded.output, output_ref = excluded.output_ref`,
        params,
      );
    });
  }

  async listSteps(runId: string): Promise<StepExecution[]> {
    return this.scope
      .all<StepRow>(`SELECT ${STEP_COLUMNS} FROM step_executions WHERE tenant_id = @tenant_id AND run_id = @run_id ORDER BY step_id, iteration`, { run_id: runId })
      .map(this.toStep);
  }

  async putUsage(usage: Omit<RunUsage, 'tenantId'>): Promise<void> {
    const params = {
      run_id: usage.runId,
      steps_executed: usageCount(usage.stepsExecuted, 'stepsExecuted'),
      duration_ms: usageCount(usage.durationMs, 'durationMs'),
      bytes: usageCount(usage.bytes, 'bytes'),
      connector_calls: usageCount(usage.connectorCalls, 'connectorCalls'),
      recorded_at: isoTimestamp(usage.recordedAt, 'recordedAt'),
    };
    this.scope.transaction(() => {
      if (this.scope.get('SELECT 1 FROM runs WHERE tenant_id = @tenant_id AND id = @run_id', { run_id: usage.runId }) === undefined) {
        throw new AppError(ErrorCodes.runNotFound, `run ${usage.runId} does not exist`);
      }
      this.scope.run(
        `INSERT INTO run_usage (tenant_id, ${USAGE_COLUMNS}) VALUES (@tenant_id, @run_id, @steps_executed, @duration_ms, @bytes, @connector_calls, @recorded_at)
         ON CONFLICT (tenant_id, run_id) DO UPDATE SET steps_executed = excluded.steps_executed, duration_ms = excluded.duration_ms,
           bytes = excluded.bytes, connector_calls = excluded.connector_calls, recorded_at = excluded.recorded_at`,
        params,
      );
    });
  }

  async getUsage(runId: string): Promise<RunUsage | undefined> {
    const row = this.scope.get<UsageRow>(`SELECT ${USAGE_COLUMNS} FROM run_usage WHERE tenant_id = @tenant_id AND run_id = @run_id`, { run_id: runId });
    if (row === undefined) return undefined;
    return usageFromRow(this.scope.tenantId, row);
  }
}

class SqliteAuditRepository implements AuditRepository {
  constructor(private readonly scope: TenantScope) {}

  private toEntry = (row: AuditRow): AuditEntry => auditEntryFromRow(this.scope.tenantId, row);

  /** Idempotent by entry id: a retried append (e.g. a replayed activity) records the entry once. */
  async append(entry: Omit<AuditEntry, 'tenantId'>): Promise<void> {
    this.scope.run(
      `INSERT INTO audit_entries (tenant_id, ${AUDIT_COLUMNS}) VALUES (@tenant_id, @id, @at, @actor, @action, @target_type, @target_id, @outcome, @error_code, @correlation_id)
       ON CONFLICT (tenant_id, id) DO NOTHING`,
      {
        id: entry.id,
        at: isoTimestamp(entry.at, 'at'),
        actor: JSON.stringify(entry.actor),
        action: entry.action,
        target_type: entry.target.type,
        target_id: entry.target.id,
        outcome: entry.outcome,
        error_code: entry.errorCode,
        correlation_id: entry.correlationId,
      },
    );
  }

  async list(options: PageOptions & { action?: string; from?: string; to?: string }): Promise<Page<AuditEntry>> {
    const limit = pageLimit(options.limit);
    const from = options.from === undefined ? undefined : isoTimestamp(options.from, 'from');
    const to = options.to === undefined ? undefined : isoTimestamp(options.to, 'to');
    const scope = pageScope('audit', this.scope.tenantId, { action: options.action, from, to });
    const after = decodePageToken(options.continuationToken, scope, ['string', 'string']);
    const where = ['tenant_id = @tenant_id'];
    if (options.action !== undefined) where.push('action = @action');
    if (from !== undefined) where.push('at >= @from');
    if (to !== undefined) where.push('at <= @to');
    if (after !== undefined) where.push('(at < @after_at OR (at = @after_at AND id < @after_id))');
    const rows = this.scope.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT @take`, {
      action: options.action,
      from,
      to,
      after_at: after?.[0],
      after_id: after?.[1],
      take: limit + 1,
    });
    return toPage(rows, limit, this.toEntry, (row) => [row.at, row.id], scope);
  }
}

class SqliteScheduleRepository implements ScheduleRepository {
  constructor(private readonly scope: TenantScope) {}

  private toSchedule = (row: ScheduleRow): Schedule => scheduleFromRow(this.scope.tenantId, row);

  private row(scheduleId: string): ScheduleRow | undefined {
    return this.scope.get<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = @tenant_id AND id = @id`, { id: scheduleId });
  }

  async create(input: NewSchedule): Promise<Schedule> {
    const at = now();
    return this.scope.transaction(() => {
      if (this.scope.get('SELECT 1 FROM workflows WHERE tenant_id = @tenant_id AND id = @id', { id: input.workflowId }) === undefined) {
        throw new AppError(ErrorCodes.workflowNotFound, `workflow ${input.workflowId} does not exist`);
      }
      try {
        this.scope.run(
          `INSERT INTO schedules (tenant_id, ${SCHEDULE_COLUMNS}) VALUES (@tenant_id, @id, @workflow_id, @cron, @time_zone, @input, @version, @policy, @status, NULL, NULL, NULL, @at, @at, @created_by, 1)`,
          {
            id: input.id,
            workflow_id: input.workflowId,
            cron: input.cron,
            time_zone: input.timeZone,
            input: toJsonText(input.input),
            version: input.version,
            policy: input.missedFirePolicy,
            status: input.status,
            at,
            created_by: input.createdBy,
          },
        );
      } catch (error) {
        if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new AppError(ScheduleErrorCodes.exists, `schedule ${input.id} already exists`);
        throw error;
      }
      return this.toSchedule(this.row(input.id)!);
    });
  }

  async get(scheduleId: string): Promise<Schedule | undefined> {
    const row = this.row(scheduleId);
    return row === undefined ? undefined : this.toSchedule(row);
  }

  async list(options: PageOptions & { workflowId?: string }): Promise<Page<Schedule>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('schedules', this.scope.tenantId, { workflowId: options.workflowId });
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const where = ['tenant_id = @tenant_id'];
    if (options.workflowId !== undefined) where.push('workflow_id = @workflow_id');
    if (after !== undefined) where.push('id > @after_id');
    const rows = this.scope.all<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE ${where.join(' AND ')} ORDER BY id LIMIT @take`, {
      workflow_id: options.workflowId,
      after_id: after?.[0],
      take: limit + 1,
    });
    return toPage(rows, limit, this.toSchedule, (row) => [row.id], scope);
  }

  async count(): Promise<number> {
    return this.scope.get<{ n: number }>('SELECT COUNT(*) AS n FROM schedules WHERE tenant_id = @tenant_id')!.n;
  }

  async update(scheduleId: string, changes: ScheduleChanges, precondition?: Precondition): Promise<Schedule> {
    return this.scope.transaction(() => {
      const row = this.row(scheduleId);
      if (row === undefined) throw new AppError(ScheduleErrorCodes.notFound, `schedule ${scheduleId} does not exist`);
      checkPrecondition(precondition, row.revision, `schedule ${scheduleId}`);
      const current = this.toSchedule(row);
      this.scope.run(
        `UPDATE schedules SET cron = @cron, time_zone = @time_zone, input = @input, version = @version, missed_fire_policy = @policy, status = @status,
           last_error = @last_error, updated_at = @at, revision = revision + 1 WHERE tenant_id = @tenant_id AND id = @id`,
        {
          id: scheduleId,
          cron: changes.cron ?? current.cron,
          time_zone: changes.timeZone ?? current.timeZone,
          input: toJsonText(changes.input ?? current.input),
          version: changes.version === undefined ? current.version : changes.version,
          policy: changes.missedFirePolicy ?? current.missedFirePolicy,
          status: changes.status ?? current.status,
          last_error: scheduleErrorText(changes.lastError === undefined ? current.lastError : changes.lastError),
          at: now(),
        },
      );
      return this.toSchedule(this.row(scheduleId)!);
    });
  }

  async recordFire(scheduleId: string, fire: { scheduledTime: string; runId: string | null; error: ScheduleError | null }): Promise<boolean> {
    // A failed fire keeps the last successful one; a successful one clears the last error.
    const sql =
      fire.runId === null
        ? 'UPDATE schedules SET last_error = @last_error WHERE tenant_id = @tenant_id AND id = @id'
        : 'UPDATE schedules SET last_fire_time = @fire_time, last_run_id = @run_id, last_error = @last_error WHERE tenant_id = @tenant_id AND id = @id';
    return (
      this.scope.run(sql, {
        id: scheduleId,
        fire_time: isoTimestamp(fire.scheduledTime, 'scheduledTime'),
        run_id: fire.runId,
        last_error: scheduleErrorText(fire.error),
      }).changes === 1
    );
  }

  async delete(scheduleId: string, precondition?: Precondition): Promise<boolean> {
    return this.scope.transaction(() => {
      const row = this.row(scheduleId);
      if (row === undefined) return false;
      checkPrecondition(precondition, row.revision, `schedule ${scheduleId}`);
      this.scope.run('DELETE FROM schedules WHERE tenant_id = @tenant_id AND id = @id', { id: scheduleId });
      return true;
    });
  }

  async listIdsByWorkflow(workflowId: string): Promise<string[]> {
    return this.scope
      .all<{ id: string }>('SELECT id FROM schedules WHERE tenant_id = @tenant_id AND workflow_id = @workflow_id ORDER BY id', { workflow_id: workflowId })
      .map((row) => row.id);
  }
}
