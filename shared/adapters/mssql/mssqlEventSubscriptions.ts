import { AppError, ErrorCodes } from '../../domain/errors.js';
import { EVENT_LIMITS, EventErrorCodes, type EventSubscription, eventSourceKey } from '../../domain/events.js';
import type { EventSubscriptionChanges, EventSubscriptionRepository, NewEventSubscription, Page, PageOptions, Precondition } from '../../ports/appStore.js';
import {
  EVENT_SUBSCRIPTION_COLUMNS,
  EVENT_SUBSCRIPTION_SET,
  EVENT_SUBSCRIPTION_VALUES,
  eventSubscriptionFromRow,
  type EventSubscriptionRow as SharedRow,
  eventSubscriptionToRow,
} from '../storeSupport/eventSubscriptionRows.js';
import { decodePageToken, pageLimit, pageScope } from '../storeSupport/storeSupport.js';
import { int, ntext, nvarchar, type SqlParams, type SqlRow, type SqlSession, sqlErrorNumber, type TenantSqlSession, timestamp } from './mssqlSession.js';
import { checkPrecondition, DUPLICATE_KEY, id, type TenantSessions, toPage } from './mssqlTenantSessions.js';

interface EventSubscriptionRow extends SharedRow, SqlRow {}

function params(row: ReturnType<typeof eventSubscriptionToRow>): SqlParams {
  return {
    id: id(row.id, 'subscription id'),
    workflow_id: id(row.workflow_id, 'workflowId'),
    event_types: ntext(row.event_types),
    subject_begins_with: nvarchar(row.subject_begins_with, EVENT_LIMITS.subjectFilterLength, 'subjectBeginsWith'),
    subject_ends_with: nvarchar(row.subject_ends_with, EVENT_LIMITS.subjectFilterLength, 'subjectEndsWith'),
    case_sensitive: int(row.case_sensitive),
    enabled: int(row.enabled),
    created_by: nvarchar(row.created_by, 256, 'createdBy'),
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at),
    revision: int(row.revision),
  };
}

/** A tenant's event subscriptions in Azure SQL (dbo.event_subscriptions, under row-level security). */
export class MssqlEventSubscriptionRepository implements EventSubscriptionRepository {
  constructor(private readonly scope: TenantSessions) {}

  private toSubscription = (row: EventSubscriptionRow): EventSubscription => eventSubscriptionFromRow(this.scope.tenantId, row);

  private async row(s: TenantSqlSession, subscriptionId: string, lock = false): Promise<EventSubscriptionRow | undefined> {
    if (subscriptionId.length > 128) return undefined;
    return (
      await s.query<EventSubscriptionRow>(
        `SELECT ${EVENT_SUBSCRIPTION_COLUMNS} FROM dbo.event_subscriptions ${lock ? 'WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE tenant_id = @tenant_id AND id = @id`,
        { id: id(subscriptionId) },
      )
    )[0];
  }

  async create(subscription: NewEventSubscription): Promise<EventSubscription> {
    const at = new Date().toISOString();
    const row = eventSubscriptionToRow(subscription, { createdAt: at, updatedAt: at, revision: 1 });
    await this.scope.run(async (s) => {
      try {
        await s.query(`INSERT INTO dbo.event_subscriptions (tenant_id, ${EVENT_SUBSCRIPTION_COLUMNS}) VALUES (@tenant_id, ${EVENT_SUBSCRIPTION_VALUES})`, params(row));
      } catch (error) {
        if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw new AppError(ErrorCodes.conflict, `event subscription ${subscription.id} already exists`);
        throw error;
      }
    });
    return this.toSubscription(row as EventSubscriptionRow);
  }

  async get(subscriptionId: string): Promise<EventSubscription | undefined> {
    const row = await this.scope.run((s) => this.row(s, subscriptionId));
    return row === undefined ? undefined : this.toSubscription(row);
  }

  async list(options: PageOptions): Promise<Page<EventSubscription>> {
    const limit = pageLimit(options.limit);
    const scope = pageScope('event-subscriptions', this.scope.tenantId);
    const after = decodePageToken(options.continuationToken, scope, ['string']);
    const rows = await this.scope.run((s) =>
      s.query<EventSubscriptionRow>(
        `SELECT TOP (@take) ${EVENT_SUBSCRIPTION_COLUMNS} FROM dbo.event_subscriptions WHERE tenant_id = @tenant_id ${after === undefined ? '' : 'AND id > @after_id'} ORDER BY id`,
        { take: int(limit + 1), ...(after === undefined ? {} : { after_id: id(String(after[0])) }) },
      ),
    );
    return toPage(rows, limit, this.toSubscription, (row) => [row.id], scope);
  }

  async listEnabled(): Promise<EventSubscription[]> {
    const rows = await this.scope.run((s) =>
      s.query<EventSubscriptionRow>(`SELECT ${EVENT_SUBSCRIPTION_COLUMNS} FROM dbo.event_subscriptions WHERE tenant_id = @tenant_id AND enabled = 1 ORDER BY id`),
    );
    return rows.map(this.toSubscription);
  }

  async count(): Promise<number> {
    const rows = await this.scope.run((s) => s.query<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.event_subscriptions WHERE tenant_id = @tenant_id'));
    return rows[0]?.n ?? 0;
  }

  async update(subscriptionId: string, changes: EventSubscriptionChanges, precondition?: Precondition): Promise<EventSubscription> {
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, subscriptionId, true);
        if (row === undefined) throw new AppError(EventErrorCodes.subscriptionNotFound, `event subscription ${subscriptionId} does not exist`);
        checkPrecondition(precondition, row.revision, `event subscription ${subscriptionId}`);
        const current = this.toSubscription(row);
        const next = eventSubscriptionToRow({ ...current, ...changes }, { createdAt: current.createdAt, updatedAt: new Date().toISOString(), revision: current.revision + 1 });
        await s.query(`UPDATE dbo.event_subscriptions SET ${EVENT_SUBSCRIPTION_SET} WHERE tenant_id = @tenant_id AND id = @id`, params(next));
        return this.toSubscription(next as EventSubscriptionRow);
      }),
    );
  }

  async delete(subscriptionId: string, precondition?: Precondition): Promise<boolean> {
    return this.scope.run((s) =>
      s.transaction(async () => {
        const row = await this.row(s, subscriptionId, true);
        if (row === undefined) return false;
        checkPrecondition(precondition, row.revision, `event subscription ${subscriptionId}`);
        await s.query('DELETE FROM dbo.event_subscriptions WHERE tenant_id = @tenant_id AND id = @id', { id: id(subscriptionId) });
        return true;
      }),
    );
  }
}

/**
 * Replaces a tenant's rows of dbo.event_source_index (control plane) in the caller's session (and transaction). A
 * source registered to another tenant is refused (TENANT.EVENT_SOURCE_TAKEN); the primary key backs the check.
 */
export async function writeEventSourceIndex(session: SqlSession, tenantId: string, sources: readonly string[]): Promise<void> {
  const tenant = nvarchar(tenantId, 63);
  await session.query('DELETE FROM dbo.event_source_index WHERE owner_tenant_id = @tenant', { tenant });
  for (const source of new Set(sources.map(eventSourceKey))) {
    try {
      await session.query('INSERT INTO dbo.event_source_index (source, owner_tenant_id) VALUES (@source, @tenant)', { source: nvarchar(source, EVENT_LIMITS.eventSourceLength), tenant });
    } catch (error) {
      if (DUPLICATE_KEY.has(sqlErrorNumber(error) ?? 0)) throw new AppError(EventErrorCodes.eventSourceTaken, `The event source '${source.slice(0, 200)}' is registered to another tenant.`);
      throw error;
    }
  }
}
