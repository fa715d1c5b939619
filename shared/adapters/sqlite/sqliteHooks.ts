import type Database from 'better-sqlite3';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { type Hook, type HookDelivery, type HookDeliverySummary, WebhookErrorCodes } from '../../domain/webhook.js';
import type { HookChanges, HookIndex, HookRepository, NewHook, NewHookDelivery, Page, PageOptions, Precondition } from '../../ports/appStore.js';
import {
  DELIVERY_COLUMNS,
  DELIVERY_SUMMARY_COLUMNS,
  deliveryFromRow,
  deliverySummaryFromRow,
  deliveryToRow,
  type DeliveryRow,
  HOOK_COLUMNS,
  hookFromRow,
  hookToRow,
  type HookRow,
} from '../storeSupport/hookRows.js';
import { decodePageToken, isoTimestamp, pageLimit, pageScope } from '../storeSupport/storeSupport.js';
import { prepare } from './preparedStatement.js';
import { checkPrecondition, isConstraint, type Params, type TenantScope, toPage } from './sqliteTenantScope.js';

const HOOK_VALUES = HOOK_COLUMNS.split(', ').map((column) => `@${column}`).join(', ');
const DELIVERY_VALUES = DELIVERY_COLUMNS.split(', ').map((column) => `@${column}`).join(', ');

/** A tenant's hooks and their deliveries in its SQLite database (tables hooks and hook_deliveries). */
export class SqliteHookRepository implements HookRepository {
  constructor(private readonly scope: TenantScope) {}

  private toHook = (row: HookRow): Hook => hookFromRow(this.scope.tenantId, row);

  private toDelivery = (row: DeliveryRow): HookDelivery => deliveryFromRow(this.scope.tenantId, row);

  private row(hookId: string): HookRow | undefined {
    return this.scope.get<HookRow>(`SELECT ${HOOK_COLUMNS} FROM hooks WHERE tenant_id = @tenant_id AND id = @id`, { id: hookId });
  }

  async create(hook: NewHook): Promise<Hook> {
    const at = new Date().toISOString();
    const row = hookToRow(hook, { createdAt: at, updatedAt: at, revision: 1 });
    try {
      this.scope.run(`INSERT INTO hooks (tenant_id, ${HOOK_COLUMNS}) VALUES (@tenant_id, ${HOOK_VALUES})`, row as unknown as Params);
    } catch (error) {
      if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new AppError(ErrorCodes.conflict, `hook ${hook.id} already exists`);
      throw error;
    }
    return this.toHook(this.row(hook.id)!);
  }

  async get(hookId: string): Promise<Hook | undefined> {
    const row = this.row(hookId);
    return row === undefined ? undefined : this.toHook(row);
  }

  async list(options: PageOptions): Promise<Page<Hook>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('hooks', this.scope.tenantId);
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const rows = this.scope.all<HookRow>(
      `SELECT ${HOOK_COLUMNS} FROM hooks WHERE tenant_id = @tenant_id ${after === undefined ? '' : 'AND id > @after_id'} ORDER BY id LIMIT @take`,
      { after_id: after?.[0], take: limit + 1 },
    );
    return toPage(rows, limit, this.toHook, (row) => [row.id], scope);
  }

  async count(): Promise<number> {
    return this.scope.get<{ n: number }>('SELECT COUNT(*) AS n FROM hooks WHERE tenant_id = @tenant_id')!.n;
  }

  async update(hookId: string, changes: HookChanges, precondition?: Precondition): Promise<Hook> {
    return this.scope.transaction(() => {
      const row = this.row(hookId);
      if (row === undefined) throw new AppError(WebhookErrorCodes.notFound, `hook ${hookId} does not exist`);
      checkPrecondition(precondition, row.revision, `hook ${hookId}`);
      const current = this.toHook(row);
      const next = hookToRow({ ...current, ...changes }, { createdAt: current.createdAt, updatedAt: new Date().toISOString(), revision: current.revision + 1 });
      this.scope.run(
        `UPDATE hooks SET name = @name, enabled = @enabled, max_body_bytes = @max_body_bytes, respond_mode = @respond_mode,
           respond_timeout_seconds = @respond_timeout_seconds, secret_version = @secret_version, previous_secret_version = @previous_secret_version,
           previous_secret_expires_at = @previous_secret_expires_at, updated_at = @updated_at, revision = @revision
         WHERE tenant_id = @tenant_id AND id = @id`,
        next as unknown as Params,
      );
      return this.toHook(next);
    });
  }

  async delete(hookId: string, precondition?: Precondition): Promise<boolean> {
    return this.scope.transaction(() => {
      const row = this.row(hookId);
      if (row === undefined) return false;
      checkPrecondition(precondition, row.revision, `hook ${hookId}`);
      this.scope.run('DELETE FROM hook_deliveries WHERE tenant_id = @tenant_id AND hook_id = @id', { id: hookId });
      this.scope.run('DELETE FROM hooks WHERE tenant_id = @tenant_id AND id = @id', { id: hookId });
      return true;
    });
  }

  async recordDelivery(delivery: NewHookDelivery): Promise<{ delivery: HookDelivery; created: boolean }> {
    const row = deliveryToRow(delivery);
    return this.scope.transaction(() => {
      if (this.row(delivery.hookId) === undefined) throw new AppError(WebhookErrorCodes.notFound, `hook ${delivery.hookId} does not exist`);
      if (row.inbox === 1) {
        const first = this.inboxRow(delivery.hookId, delivery.deliveryId!);
        if (first !== undefined) return { delivery: this.toDelivery(first), created: false };
      }
      this.scope.run(`INSERT INTO hook_deliveries (tenant_id, ${DELIVERY_COLUMNS}, inbox) VALUES (@tenant_id, ${DELIVERY_VALUES}, @inbox)`, row as unknown as Params);
      return { delivery: this.toDelivery(row), created: true };
    });
  }

  private inboxRow(hookId: string, deliveryId: string): DeliveryRow | undefined {
    return this.scope.get<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM hook_deliveries WHERE tenant_id = @tenant_id AND hook_id = @hook_id AND delivery_id = @delivery_id AND inbox = 1`,
      { hook_id: hookId, delivery_id: deliveryId },
    );
  }

  async getInboxEntry(hookId: string, deliveryId: string): Promise<HookDelivery | undefined> {
    const row = this.inboxRow(hookId, deliveryId);
    return row === undefined ? undefined : this.toDelivery(row);
  }

  async settleDelivery(id: string, outcome: { runId: string | null; reason: string | null }): Promise<void> {
    this.scope.run('UPDATE hook_deliveries SET run_id = @run_id, reason = @reason WHERE tenant_id = @tenant_id AND id = @id', {
      id,
      run_id: outcome.runId,
      reason: outcome.reason,
    });
  }

  async listDeliveries(hookId: string, options: PageOptions): Promise<Page<HookDeliverySummary>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('hook_deliveries', this.scope.tenantId, { hookId });
    const after = decodePageToken(options.continuationToken, scope, ['string', 'string']);
    const rows = this.scope.all<Omit<DeliveryRow, 'payload'> & { run_status: string | null }>(
      `SELECT ${DELIVERY_SUMMARY_COLUMNS} FROM hook_deliveries d LEFT JOIN runs r ON r.tenant_id = d.tenant_id AND r.id = d.run_id
       WHERE d.tenant_id = @tenant_id AND d.hook_id = @hook_id ${after === undefined ? '' : 'AND (d.received_at < @after_at OR (d.received_at = @after_at AND d.id < @after_id))'}
       ORDER BY d.received_at DESC, d.id DESC LIMIT @take`,
      { hook_id: hookId, after_at: after?.[0], after_id: after?.[1], take: limit + 1 },
    );
    return toPage(rows, limit, (row) => deliverySummaryFromRow(this.scope.tenantId, row), (row) => [row.received_at, row.id], scope);
  }

  async listUnstartedDeliveries(receivedBefore: string, limit: number): Promise<HookDelivery[]> {
    return this.scope
      .all<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM hook_deliveries WHERE tenant_id = @tenant_id AND inbox = 1 AND run_id IS NULL AND reason IS NULL AND received_at < @before ORDER BY received_at LIMIT @take`,
        { before: isoTimestamp(receivedBefore, 'receivedBefore'), take: pageLimit(limit) },
      )
      .map(this.toDelivery);
  }

  async deleteDeliveriesBefore(receivedBefore: string): Promise<number> {
    return this.scope.run('DELETE FROM hook_deliveries WHERE tenant_id = @tenant_id AND received_at < @before', { before: isoTimestamp(receivedBefore, 'receivedBefore') }).changes;
  }
}

/** The hook index in the control database (table hook_index). */
export class SqliteHookIndex implements HookIndex {
  constructor(private readonly db: () => Database.Database) {}

  async put(hookId: string, tenantId: string): Promise<void> {
    prepare(this.db(), 'INSERT INTO hook_index (hook_id, tenant_id) VALUES (?, ?) ON CONFLICT (hook_id) DO NOTHING').run(hookId, tenantId);
    const owner = await this.tenantOf(hookId);
    if (owner !== tenantId) throw new AppError(ErrorCodes.conflict, `hook ${hookId} already exists`);
  }

  async tenantOf(hookId: string): Promise<string | undefined> {
    return (prepare(this.db(), 'SELECT tenant_id FROM hook_index WHERE hook_id = ?').get(hookId) as { tenant_id: string } | undefined)?.tenant_id;
  }

  async delete(hookId: string): Promise<void> {
    prepare(this.db(), 'DELETE FROM hook_index WHERE hook_id = ?').run(hookId);
  }
}

/** Removes a deleted tenant's hook index rows (inside the tenant deletion's transaction). */
export function deleteTenantHookIndex(db: Database.Database, tenantId: string): void {
  prepare(db, 'DELETE FROM hook_index WHERE tenant_id = ?').run(tenantId);
}
