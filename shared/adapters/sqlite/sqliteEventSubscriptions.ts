import type Database from 'better-sqlite3';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { EventErrorCodes, type EventSubscription, eventSourceKey } from '../../domain/events.js';
import type { EventSubscriptionChanges, EventSubscriptionRepository, NewEventSubscription, Page, PageOptions, Precondition } from '../../ports/appStore.js';
import {
  EVENT_SUBSCRIPTION_COLUMNS,
  EVENT_SUBSCRIPTION_SET,
  EVENT_SUBSCRIPTION_VALUES,
  eventSubscriptionFromRow,
  type EventSubscriptionRow,
  eventSubscriptionToRow,
} from '../storeSupport/eventSubscriptionRows.js';
import { decodePageToken, pageLimit, pageScope } from '../storeSupport/storeSupport.js';
import { prepare } from './preparedStatement.js';
import { checkPrecondition, isConstraint, type Params, type TenantScope, toPage } from './sqliteTenantScope.js';

/** A tenant's event subscriptions in its SQLite database (table event_subscriptions). */
export class SqliteEventSubscriptionRepository implements EventSubscriptionRepository {
  constructor(private readonly scope: TenantScope) {}

  private toSubscription = (row: EventSubscriptionRow): EventSubscription => eventSubscriptionFromRow(this.scope.tenantId, row);

  private row(subscriptionId: string): EventSubscriptionRow | undefined {
    return this.scope.get<EventSubscriptionRow>(`SELECT ${EVENT_SUBSCRIPTION_COLUMNS} FROM event_subscriptions WHERE tenant_id = @tenant_id AND id = @id`, { id: subscriptionId });
  }

  async create(subscription: NewEventSubscription): Promise<EventSubscription> {
    const at = new Date().toISOString();
    const row = eventSubscriptionToRow(subscription, { createdAt: at, updatedAt: at, revision: 1 });
    try {
      this.scope.run(`INSERT INTO event_subscriptions (tenant_id, ${EVENT_SUBSCRIPTION_COLUMNS}) VALUES (@tenant_id, ${EVENT_SUBSCRIPTION_VALUES})`, row as unknown as Params);
    } catch (error) {
      if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new AppError(ErrorCodes.conflict, `event subscription ${subscription.id} already exists`);
      throw error;
    }
    return this.toSubscription(row);
  }

  async get(subscriptionId: string): Promise<EventSubscription | undefined> {
    const row = this.row(subscriptionId);
    return row === undefined ? undefined : this.toSubscription(row);
  }

  async list(options: PageOptions): Promise<Page<EventSubscription>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('event-subscriptions', this.scope.tenantId);
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const rows = this.scope.all<EventSubscriptionRow>(
      `SELECT ${EVENT_SUBSCRIPTION_COLUMNS} FROM event_subscriptions WHERE tenant_id = @tenant_id ${after === undefined ? '' : 'AND id > @after_id'} ORDER BY id LIMIT @take`,
      { after_id: after?.[0], take: limit + 1 },
    );
    return toPage(rows, limit, this.toSubscription, (row) => [row.id], scope);
  }

  async listEnabled(): Promise<EventSubscription[]> {
    return this.scope.all<EventSubscriptionRow>(`SELECT ${EVENT_SUBSCRIPTION_COLUMNS} FROM event_subscriptions WHERE tenant_id = @tenant_id AND enabled = 1 ORDER BY id`).map(this.toSubscription);
  }

  async count(): Promise<number> {
    return this.scope.get<{ n: number }>('SELECT COUNT(*) AS n FROM event_subscriptions WHERE tenant_id = @tenant_id')!.n;
  }

  async update(subscriptionId: string, changes: EventSubscriptionChanges, precondition?: Precondition): Promise<EventSubscription> {
    return this.scope.transaction(() => {
      const row = this.row(subscriptionId);
      if (row === undefined) throw new AppError(EventErrorCodes.subscriptionNotFound, `event subscription ${subscriptionId} does not exist`);
      checkPrecondition(precondition, row.revision, `event subscription ${subscriptionId}`);
      const current = this.toSubscription(row);
      const next = eventSubscriptionToRow({ ...current, ...changes }, { createdAt: current.createdAt, updatedAt: new Date().toISOString(), revision: current.revision + 1 });
      this.scope.run(`UPDATE event_subscriptions SET ${EVENT_SUBSCRIPTION_SET} WHERE tenant_id = @tenant_id AND id = @id`, next as unknown as Params);
      return this.toSubscription(next);
    });
  }

  async delete(subscriptionId: string, precondition?: Precondition): Promise<boolean> {
    return this.scope.transaction(() => {
      const row = this.row(subscriptionId);
      if (row === undefined) return false;
      checkPrecondition(precondition, row.revision, `event subscription ${subscriptionId}`);
      this.scope.run('DELETE FROM event_subscriptions WHERE tenant_id = @tenant_id AND id = @id', { id: subscriptionId });
      return true;
    });
  }
}

/**
 * Replaces a tenant's rows of the control-plane source index (table event_source_index) inside the caller's
 * transaction. A source registered to another tenant is refused (TENANT.EVENT_SOURCE_TAKEN): one source, one tenant.
 */
export function writeEventSourceIndex(db: Database.Database, tenantId: string, sources: readonly string[]): void {
  prepare(db, 'DELETE FROM event_source_index WHERE tenant_id = ?').run(tenantId);
  for (const source of new Set(sources.map(eventSourceKey))) {
    const owner = prepare(db, 'SELECT tenant_id FROM event_source_index WHERE source = ?').get(source) as { tenant_id: string } | undefined;
    if (owner !== undefined) throw new AppError(EventErrorCodes.eventSourceTaken, `The event source '${source.slice(0, 200)}' is registered to another tenant.`);
    prepare(db, 'INSERT INTO event_source_index (source, tenant_id) VALUES (?, ?)').run(source, tenantId);
  }
}
