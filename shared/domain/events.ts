import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from './json.js';
import type { RunError, RunStatus } from './run.js';

/**
 * Event Grid: a tenant's event subscriptions start runs of a workflow for the events the `eventRouter` receives
 * (Event Grid and CloudEvents 1.0 schemas). Which tenant an event belongs to is decided by its source alone — the
 * Event Grid `topic` or the CloudEvents `source` — matched against the sources a platform admin registered for
 * the tenant (see docs/events.md, "Trust model"). Everything here is pure.
 */

export const EventErrorCodes = {
  subscriptionNotFound: 'EVENT_SUBSCRIPTION.NOT_FOUND',
  subscriptionInvalid: 'EVENT_SUBSCRIPTION.INVALID',
  /** A tenant's eventSources list is malformed. */
  eventSourcesInvalid: 'TENANT.EVENT_SOURCES_INVALID',
  /** An event source is registered for another tenant already. */
  eventSourceTaken: 'TENANT.EVENT_SOURCE_TAKEN',
} as const;

/** Bounds of a subscription and of a tenant's sources. */
export const EVENT_LIMITS = {
  eventTypes: 25,
  eventTypeLength: 256,
  subjectFilterLength: 1024,
  eventSources: 20,
  eventSourceLength: 1024,
} as const;

/** Subscription ids: `es-` and 128 random bits (hex). */
export const EVENT_SUBSCRIPTION_ID_PATTERN = /^es-[0-9a-f]{32}$/;

export interface EventSubscription {
  tenantId: string;
  id: string;
  workflowId: string;
  /** Exact type names (compared case-insensitively, as Event Grid does), or a prefix ending in `*` (`*` alone: every type). */
  eventTypes: string[];
  subjectBeginsWith: string | null;
  subjectEndsWith: string | null;
  /** Subject filters compare case-sensitively (Event Grid's default: false). */
  caseSensitive: boolean;
  enabled: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

export type EventSchema = 'eventgrid' | 'cloudevents';

/** An event of either schema, as a run sees it (its input). */
export interface IncomingEvent {
  schema: EventSchema;
  id: string;
  type: string;
  subject: string;
  /** The Event Grid `topic` or the CloudEvents `source`: the only field that decides the tenant. */
  source: string;
  time: string | null;
  data: JsonValue | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
}

/**
 * One delivered event in either schema (CloudEvents when it has `specversion`), or why it cannot be used. The
 * source is required: an event without one can belong to no tenant. Never throws, whatever the event holds.
 */
export function parseIncomingEvent(raw: unknown): { event: IncomingEvent } | { problem: string } {
  if (!isObject(raw)) return { problem: 'The event is not a JSON object.' };
  const cloud = 'specversion' in raw;
  if (cloud && raw['specversion'] !== '1.0') return { problem: 'A CloudEvent needs "specversion": "1.0".' };
  const id = text(raw['id'], 1024);
  const type = text(cloud ? raw['type'] : raw['eventType'], EVENT_LIMITS.eventTypeLength);
  const source = text(cloud ? raw['source'] : raw['topic'], EVENT_LIMITS.eventSourceLength);
  const subject = raw['subject'] === undefined && cloud ? '' : typeof raw['subject'] === 'string' ? raw['subject'] : undefined;
  const time = cloud ? raw['time'] : raw['eventTime'];
  if (id === undefined) return { problem: 'The event needs an "id" of 1-1024 characters.' };
  if (type === undefined) return { problem: `The event needs a "${cloud ? 'type' : 'eventType'}" of 1-${EVENT_LIMITS.eventTypeLength} characters.` };
  if (source === undefined) return { problem: `The event needs a "${cloud ? 'source' : 'topic'}" of 1-${EVENT_LIMITS.eventSourceLength} characters.` };
  if (subject === undefined) return { problem: 'The event "subject" must be a string.' };
  const data = 'data' in raw ? (raw['data'] as JsonValue) : 'data_base64' in raw && typeof raw['data_base64'] === 'string' ? { base64: raw['data_base64'] } : null;
  return {
    event: { schema: cloud ? 'cloudevents' : 'eventgrid', id, type, subject, source, time: typeof time === 'string' ? time : null, data: data ?? null },
  };
}

/** Sources compare case-insensitively (Azure resource ids do) and without surrounding blanks. */
export function eventSourceKey(source: string): string {
  return source.trim().toLowerCase();
}

/** Problems of a tenant's eventSources list (empty when valid). */
export function eventSourceProblems(sources: readonly string[]): string[] {
  const problems: string[] = [];
  if (sources.length > EVENT_LIMITS.eventSources) problems.push(`At most ${EVENT_LIMITS.eventSources} event sources.`);
  sources.forEach((source, index) => {
    const key = eventSourceKey(source);
    if (key.length === 0 || key.length > EVENT_LIMITS.eventSourceLength) problems.push(`eventSources/${index}: 1-${EVENT_LIMITS.eventSourceLength} characters.`);
    else if (/[\s\x00-\x1f\x7f*]/.test(key)) problems.push(`eventSources/${index}: no blanks, control characters or wildcards.`);
  });
  return problems;
}

/** Problems of a subscription's event types (empty when valid). */
export function eventTypeProblems(eventTypes: readonly string[]): string[] {
  return eventTypes.flatMap((type, index) =>
    type.indexOf('*') !== -1 && type.indexOf('*') !== type.length - 1 ? [`eventTypes/${index}: '*' may only end a type (a prefix such as 'Contoso.Orders.*').`] : [],
  );
}

function typeMatches(pattern: string, type: string): boolean {
  const wanted = pattern.toLowerCase();
  const actual = type.toLowerCase();
  return wanted.endsWith('*') ? actual.startsWith(wanted.slice(0, -1)) : wanted === actual;
}

/** Whether the subscription takes the event: one of its types, and the subject filters (Event Grid's semantics). */
export function subscriptionMatches(subscription: Pick<EventSubscription, 'eventTypes' | 'subjectBeginsWith' | 'subjectEndsWith' | 'caseSensitive'>, event: Pick<IncomingEvent, 'type' | 'subject'>): boolean {
  if (!subscription.eventTypes.some((pattern) => typeMatches(pattern, event.type))) return false;
  const fold = (value: string): string => (subscription.caseSensitive ? value : value.toLowerCase());
  const subject = fold(event.subject);
  if (subscription.subjectBeginsWith && !subject.startsWith(fold(subscription.subjectBeginsWith))) return false;
  if (subscription.subjectEndsWith && !subject.endsWith(fold(subscription.subjectEndsWith))) return false;
  return true;
}

/**
 * The idempotency key of the run a subscription starts for an event: a redelivered event (same id) finds the
 * first run. The event id is hashed, so any id fits the key's 200 characters.
 */
export function eventRunIdempotencyKey(subscriptionId: string, eventId: string): string {
  return `event:${subscriptionId}:${createHash('sha256').update(eventId, 'utf8').digest('hex')}`;
}

/** The run input: the event itself, in one shape for both schemas. */
export function eventRunInput(event: IncomingEvent): JsonObject {
  return { id: event.id, type: event.type, subject: event.subject, source: event.source, time: event.time, schema: event.schema, data: event.data };
}

// ------------------------------------------------------------------------------------ published run events

export const RUN_EVENT_TYPES = ['run.started', 'run.completed', 'run.failed', 'run.cancelled'] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** The run event a status change publishes (none for `queued`). */
export function runEventTypeOf(status: RunStatus): RunEventType | undefined {
  switch (status) {
    case 'running':
      return 'run.started';
    case 'succeeded':
      return 'run.completed';
    case 'failed':
      return 'run.failed';
    case 'cancelled':
      return 'run.cancelled';
    default:
      return undefined;
  }
}

/** What a run event says: never the run's input, output or secrets. */
export interface RunEventFacts {
  tenantId: string;
  runId: string;
  workflowId: string;
  workflowVersion: number;
  status: RunStatus;
  trigger: string;
  error: RunError | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

/** An event in the Event Grid schema, as the output binding takes it. */
export interface PublishedEvent {
  id: string;
  eventType: RunEventType;
  subject: string;
  eventTime: string;
  dataVersion: '1';
  data: JsonObject;
}

/**
 * The Event Grid event of a run's status change. Its id is fixed per run and type, so a retried activity publishes
 * the same event again and subscribers can drop the duplicate by id.
 */
export function runEvent(type: RunEventType, run: RunEventFacts, at: string): PublishedEvent {
  const durationMs = run.startedAt !== null && run.completedAt !== null ? Math.max(0, Date.parse(run.completedAt) - Date.parse(run.startedAt)) : null;
  return {
    id: `${run.runId}:${type}`,
    eventType: type,
    subject: `/tenants/${run.tenantId}/workflows/${run.workflowId}/runs/${run.runId}`,
    eventTime: at,
    dataVersion: '1',
    data: {
      tenantId: run.tenantId,
      runId: run.runId,
      workflowId: run.workflowId,
      version: run.workflowVersion,
      status: run.status,
      trigger: run.trigger,
      errorCode: run.error?.code ?? null,
      errorStepId: run.error?.stepId ?? null,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      completedAt: run.completedAt,
      durationMs,
    },
  };
}
