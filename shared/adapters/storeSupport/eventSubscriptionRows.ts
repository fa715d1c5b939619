import type { EventSubscription } from '../../domain/events.js';
import type { NewEventSubscription } from '../../ports/appStore.js';

/** The event subscription row both SQL stores read (the same columns in SQLite and Azure SQL) and its mapping. */
export interface EventSubscriptionRow {
  id: string;
  workflow_id: string;
  event_types: string;
  subject_begins_with: string | null;
  subject_ends_with: string | null;
  /** SQLite INTEGER 0/1, Azure SQL bit (true/false). */
  case_sensitive: number | boolean;
  enabled: number | boolean;
  created_by: string;
  created_at: string;
  updated_at: string;
  revision: number;
}

export const EVENT_SUBSCRIPTION_COLUMNS = 'id, workflow_id, event_types, subject_begins_with, subject_ends_with, case_sensitive, enabled, created_by, created_at, updated_at, revision';

/** `@column` placeholders of every column, in order. */
export const EVENT_SUBSCRIPTION_VALUES = EVENT_SUBSCRIPTION_COLUMNS.split(', ').map((column) => `@${column}`).join(', ');

/** The SET list of an update (every column but the key and the creation facts). */
export const EVENT_SUBSCRIPTION_SET =
  'workflow_id = @workflow_id, event_types = @event_types, subject_begins_with = @subject_begins_with, subject_ends_with = @subject_ends_with, case_sensitive = @case_sensitive, enabled = @enabled, updated_at = @updated_at, revision = @revision';

export function eventSubscriptionFromRow(tenantId: string, row: EventSubscriptionRow): EventSubscription {
  return {
    tenantId,
    id: row.id,
    workflowId: row.workflow_id,
    eventTypes: JSON.parse(row.event_types) as string[],
    subjectBeginsWith: row.subject_begins_with,
    subjectEndsWith: row.subject_ends_with,
    caseSensitive: row.case_sensitive === true || row.case_sensitive === 1,
    enabled: row.enabled === true || row.enabled === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revision: row.revision,
  };
}

/** The row of a subscription; booleans as 0/1 (both stores bind them so). */
export function eventSubscriptionToRow(subscription: NewEventSubscription | EventSubscription, at: { createdAt: string; updatedAt: string; revision: number }): Omit<EventSubscriptionRow, 'case_sensitive' | 'enabled'> & { case_sensitive: number; enabled: number } {
  return {
    id: subscription.id,
    workflow_id: subscription.workflowId,
    event_types: JSON.stringify(subscription.eventTypes),
    subject_begins_with: subscription.subjectBeginsWith,
    subject_ends_with: subscription.subjectEndsWith,
    case_sensitive: subscription.caseSensitive ? 1 : 0,
    enabled: subscription.enabled ? 1 : 0,
    created_by: subscription.createdBy,
    created_at: at.createdAt,
    updated_at: at.updatedAt,
    revision: at.revision,
  };
}
