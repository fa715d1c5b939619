import { AppError, ErrorCodes } from '../../domain/errors.js';
import { type Hook, type HookDelivery, type HookDeliverySummary, WebhookErrorCodes } from '../../domain/webhook.js';
import type { HookChanges, HookIndex, HookRepository, NewHook, NewHookDelivery, Page, PageOptions, Precondition } from '../../ports/appStore.js';
import {
  DELIVERY_COLUMNS,
  DELIVERY_SUMMARY_COLUMNS,
  deliveryFromRow,
  deliverySummaryFromRow,
  deliveryToRow,
  type DeliveryRow as SharedDeliveryRow,
  HOOK_COLUMNS,
  hookFromRow,
  hookToRow,
  type HookRow as SharedHookRow,
} from '../storeSupport/hookRows.js';
import { decodePageToken, isoTimestamp, pageLimit, pageScope } from '../storeSupport/storeSupport.js';
import { int, ntext, nvarchar, type SqlParams, type SqlRow, type SqlSession, type SqlSessions, sqlErrorNumber, type TenantSqlSession, timestamp } from './mssqlSession.js';
import { checkPrecondition, DUPLICATE_KEY, id, type TenantSessions, toPage } from './mssqlTenantSessions.js';

interface HookRow extends SharedHookRow, SqlRow {}
interface DeliveryRow extends SharedDeliveryRow, SqlRow {}
interface DeliverySummaryRow extends Omit<SharedDeliveryRow, 'payload'>, SqlRow {
  run_status: string | null;
}

const HOOK_VALUES = HOOK_COLUMNS.split(', ').map((column) => `@${column}`).join(', ');
const DELIVERY_VALUES = DELIVERY_COLUMNS.split(', ').map((column) => `@${column}`).join(', ');

function hookParams(row: SharedHookRow): SqlParams {
  return {
    id: id(row.id, 'hook id'),
    workflow_id: id(row.workflow_id, 'workflowId'),
    name: nvarchar(row.name, 200, 'name'),
    signature: nvarchar(row.signature, 32),
    enabled: int(row.enabled ? 1 : 0),
    max_body_bytes: int(row.max_body_bytes),
    respond_mode: nvarchar(row.respond_mode, 16),
    respond_timeout_seconds: int(row.respond_timeout_seconds),
    secret_version: nvarchar(row.secret_version, 128, 'secretVersion'),
    previous_secret_version: nvarchar(row.previous_secret_version, 128, 'previousSecretVersion'),
    previous_secret_expires_at: timestamp(row.previous_secret_expires_at),
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at),
    created_by: nvarchar(row.created_by, 256, 'createdBy'),
    revision: int(row.revision),
  };
}

/** A tenant's hooks and their deliveries in Azure SQL (tables dbo.hooks and dbo.hook_deliveries, under row-level security). */
export class MssqlHookRepository implements HookRepository {
  constructor(private readonly scope: TenantSessions) {}

  private toHook = (row: HookRow): Hook => hookFromRow(this.scope.tenantId, row);

  private toDelivery = (row: DeliveryRow): HookDelivery => deliveryFromRow(this.scope.tenantId, row);

  private async row(s: TenantSqlSession, hookId: string, lock = false): Promise<HookRow | undefined> {
    if (hookId.length > 128) return undefined;
    return (await s.query<HookRow>(`SELECT ${HOOK_COLUMNS} FROM dbo.hooks ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE tenant_id = @tenant_id AND id = @id`, { id: id(hookId) }))[0];
  }

  async create(hook: NewHook): Promise<Hook> {
    const at = new Date().toISOString();
    const row = hookToRow(hook, { createdAt: at, updatedAt: at, revision: 1 });
    await this.scope.run(async (s) => {
      try {
        await s.query(`INSERT INTO dbo.hooks (tenant_id, ${HOOK_COLUMNS}) VALUES (@tenant_id, ${HOOK_VALUES})`, hookParams(row));
      } catch (error) {
        if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw new AppError(ErrorCodes.conflict, `hook ${hook.id} already exists`);
        throw error;
      }
    });
    return this.toHook(row as HookRow);
  }

  async get(hookId: string): Promise<Hook | undefined> {
    const row = await this.scope.run((s) => this.row(s, hookId));
    return row === undefined ? undefined : this.toHook(row);
  }

  async list(options: PageOptions): Promise<Page<Hook>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('hooks', this.scope.tenantId);
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const rows = await this.scope.run((s) =>
      s.query<HookRow>(`SELECT TOP (@take) ${HOOK_COLUMNS} FROM dbo.hooks WHERE tenant_id = @tenant_id ${after === undefined ? '' : 'AND id > @after_id'} ORDER BY id`, {
        take: int(limit + 1),
        ...(after === undefined ? {} : { after_id: id(String(after[0])) }),
      }),
    );
    return toPage(rows, limit, this.toHook, (row) => [row.id], scope);
  }

  async count(): Promise<number> {
    const rows = await this.scope.run((s) => s.query<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.hooks WHERE tenant_id = @tenant_id'));
    return rows[0]?.n ?? 0;
  }

  async update(hookId: string, changes: HookChanges, precondition?: Precondition): Promise<Hook> {
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, hookId, true);
        if (row === undefined) throw new AppError(WebhookErrorCodes.notFound, `hook ${hookId} does not exist`);
        checkPrecondition(precondition, row.revision, `hook ${hookId}`);
        const current = this.toHook(row);
        const next = hookToRow({ ...current, ...changes }, { createdAt: current.createdAt, updatedAt: new Date().toISOString(), revision: current.revision + 1 });
        await s.query(
          `UPDATE dbo.hooks SET name = @name, enabled = @enabled, max_body_bytes = @max_body_bytes, respond_mode = @respond_mode,
             respond_timeout_seconds = @respond_timeout_seconds, secret_version = @secret_version, previous_secret_version = @previous_secret_version,
             previous_secret_expires_at = @previous_secret_expires_at, updated_at = @updated_at, revision = @revision
           WHERE tenant_id = @tenant_id AND id = @id`,
          hookParams(next),
        );
        return this.toHook(next as HookRow);
      }),
    );
  }

  async delete(hookId: string, precondition?: Precondition): Promise<boolean> {
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, hookId, true);
        if (row === undefined) return false;
        checkPrecondition(precondition, row.revision, `hook ${hookId}`);
        await s.query('DELETE FROM dbo.hook_deliveries WHERE tenant_id = @tenant_id AND hook_id = @id; DELETE FROM dbo.hooks WHERE tenant_id = @tenant_id AND id = @id;', { id: id(hookId) });
        return true;
      }),
    );
  }

  private async inboxRow(s: TenantSqlSession, hookId: string, deliveryId: string, lock: boolean): Promise<DeliveryRow | undefined> {
    return (
      await s.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM dbo.hook_deliveries ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE tenant_id = @tenant_id AND hook_id = @hook_id AND delivery_id = @delivery_id AND inbox = 1`,
        { hook_id: id(hookId), delivery_id: id(deliveryId, 'deliveryId') },
      )
    )[0];
  }

  async recordDelivery(delivery: NewHookDelivery): Promise<{ delivery: HookDelivery; created: boolean }> {
    const row = deliveryToRow(delivery);
    const params: SqlParams = {
      id: id(row.id),
      hook_id: id(row.hook_id),
      delivery_id: nvarchar(row.delivery_id, 128, 'deliveryId'),
      outcome: nvarchar(row.outcome, 16),
      reason: nvarchar(row.reason, 128, 'reason'),
      run_id: nvarchar(row.run_id, 128, 'runId'),
      received_at: timestamp(row.received_at),
      content_type: nvarchar(row.content_type, 256, 'contentType'),
      body_bytes: int(row.body_bytes),
      payload: ntext(row.payload),
      inbox: int(row.inbox),
    };
    return this.scope.run((s) =>
      s.transaction(async () => {
        if ((await this.row(s, row.hook_id)) === undefined) throw new AppError(WebhookErrorCodes.notFound, `hook ${row.hook_id} does not exist`);
        // The key's range stays locked until commit: a concurrent delivery with the same id waits, then finds this one.
        if (row.inbox === 1) {
          const first = await this.inboxRow(s, row.hook_id, row.delivery_id!, true);
          if (first !== undefined) return { delivery: this.toDelivery(first), created: false };
        }
        try {
          await s.query(`INSERT INTO dbo.hook_deliveries (tenant_id, ${DELIVERY_COLUMNS}, inbox) VALUES (@tenant_id, ${DELIVERY_VALUES}, @inbox)`, params);
        } catch (error) {
          if (sqlErrorNumber(error) === 2601 && row.inbox === 1) {
            const first = await this.inboxRow(s, row.hook_id, row.delivery_id!, false);
            if (first !== undefined) return { delivery: this.toDelivery(first), created: false };
          }
          throw error;
        }
        return { delivery: this.toDelivery(row as unknown as DeliveryRow), created: true };
      }),
    );
  }

  async getInboxEntry(hookId: string, deliveryId: string): Promise<HookDelivery | undefined> {
    if (hookId.length > 128 || deliveryId.length > 128) return undefined;
    const row = await this.scope.run((s) => this.inboxRow(s, hookId, deliveryId, false));
    return row === undefined ? undefined : this.toDelivery(row);
  }

  async settleDelivery(deliveryRecordId: string, outcome: { runId: string | null; reason: string | null }): Promise<void> {
    await this.scope.run((s) =>
      s.query('UPDATE dbo.hook_deliveries SET run_id = @run_id, reason = @reason WHERE tenant_id = @tenant_id AND id = @id', {
        id: id(deliveryRecordId),
        run_id: nvarchar(outcome.runId, 128, 'runId'),
        reason: nvarchar(outcome.reason, 128, 'reason'),
      }),
    );
  }

  async listDeliveries(hookId: string, options: PageOptions): Promise<Page<HookDeliverySummary>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('hook_deliveries', this.scope.tenantId, { hookId });
    const after = decodePageToken(options.continuationToken, scope, ['string', 'string']);
    if (hookId.length > 128) return { items: [] };
    const rows = await this.scope.run((s) =>
      s.query<DeliverySummaryRow>(
        `SELECT TOP (@take) ${DELIVERY_SUMMARY_COLUMNS} FROM dbo.hook_deliveries d LEFT JOIN dbo.runs r ON r.tenant_id = d.tenant_id AND r.id = d.run_id
         WHERE d.tenant_id = @tenant_id AND d.hook_id = @hook_id ${after === undefined ? '' : 'AND (d.received_at < @after_at OR (d.received_at = @after_at AND d.id < @after_id))'}
         ORDER BY d.received_at DESC, d.id DESC`,
        {
          hook_id: id(hookId),
          take: int(limit + 1),
          ...(after === undefined ? {} : { after_at: timestamp(String(after[0])), after_id: id(String(after[1])) }),
        },
      ),
    );
    return toPage(rows, limit, (row) => deliverySummaryFromRow(this.scope.tenantId, row), (row) => [row.received_at, row.id], scope);
  }

  async listUnstartedDeliveries(receivedBefore: string, limit: number): Promise<HookDelivery[]> {
    const rows = await this.scope.run((s) =>
      s.query<DeliveryRow>(
        `SELECT TOP (@take) ${DELIVERY_COLUMNS} FROM dbo.hook_deliveries WHERE tenant_id = @tenant_id AND inbox = 1 AND run_id IS NULL AND reason IS NULL AND received_at < @before ORDER BY received_at`,
        { take: int(pageLimit(limit)), before: timestamp(isoTimestamp(receivedBefore, 'receivedBefore')) },
      ),
    );
    return rows.map(this.toDelivery);
  }

  async deleteDeliveriesBefore(receivedBefore: string): Promise<number> {
    const rows = await this.scope.run((s) =>
      s.query<{ n: number }>('DELETE FROM dbo.hook_deliveries WHERE tenant_id = @tenant_id AND received_at < @before; SELECT @@ROWCOUNT AS n;', {
        before: timestamp(isoTimestamp(receivedBefore, 'receivedBefore')),
      }),
    );
    return rows[0]?.n ?? 0;
  }
}

/** The hook index in the control database (dbo.hook_index; control plane, outside row-level security). */
export class MssqlHookIndex implements HookIndex {
  constructor(private readonly sessions: SqlSessions) {}

  async put(hookId: string, tenantId: string): Promise<void> {
    const owner = await this.sessions.control(async (s) => {
      await s.query('IF NOT EXISTS (SELECT 1 FROM dbo.hook_index WITH (UPDLOCK, HOLDLOCK) WHERE hook_id = @hook) INSERT INTO dbo.hook_index (hook_id, owner_tenant_id) VALUES (@hook, @tenant);', {
        hook: id(hookId),
        tenant: nvarchar(tenantId, 63),
      });
      return (await s.query<{ tenant_id: string }>('SELECT owner_tenant_id AS tenant_id FROM dbo.hook_index WHERE hook_id = @hook', { hook: id(hookId) }))[0]?.tenant_id;
    });
    if (owner !== tenantId) throw new AppError(ErrorCodes.conflict, `hook ${hookId} already exists`);
  }

  async tenantOf(hookId: string): Promise<string | undefined> {
    if (hookId.length > 128) return undefined;
    const rows = await this.sessions.control((s) => s.query<{ tenant_id: string }>('SELECT owner_tenant_id AS tenant_id FROM dbo.hook_index WHERE hook_id = @hook', { hook: id(hookId) }));
    return rows[0]?.tenant_id;
  }

  async delete(hookId: string): Promise<void> {
    if (hookId.length > 128) return;
    await this.sessions.control((s) => s.query('DELETE FROM dbo.hook_index WHERE hook_id = @hook', { hook: id(hookId) }));
  }
}

/** Removes a deleted tenant's hook index rows. */
export async function deleteTenantHookIndex(session: SqlSession, tenantId: string): Promise<void> {
  await session.query('DELETE FROM dbo.hook_index WHERE owner_tenant_id = @tenant', { tenant: nvarchar(tenantId, 63) });
}
