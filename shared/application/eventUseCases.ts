import { randomBytes } from 'node:crypto';
import { AppError, ErrorCodes, ValidationError } from '../domain/errors.js';
import {
  EventErrorCodes,
  eventRunIdempotencyKey,
  eventSourceKey,
  eventRunInput,
  type EventSubscription,
  EVENT_SUBSCRIPTION_ID_PATTERN,
  eventTypeProblems,
  type IncomingEvent,
  parseIncomingEvent,
  subscriptionMatches,
} from '../domain/events.js';
import type { Run } from '../domain/run.js';
import type { Tenant } from '../domain/tenant.js';
import type { EventSubscriptionChanges, Page, PageOptions, TenantDataStore } from '../ports/appStore.js';
import type { RequestContext } from './requestContext.js';
import { createEventSubscriptionSchema, updateEventSubscriptionSchema } from './requestSchemas.js';
import { startRun } from './runUseCases.js';
import { validateRequest } from './validateRequest.js';

interface SubscriptionSettings {
  workflowId?: string;
  eventTypes?: string[];
  subjectBeginsWith?: string | null;
  subjectEndsWith?: string | null;
  caseSensitive?: boolean;
  enabled?: boolean;
}

/** The body checked against its schema and the type rules; every problem is EVENT_SUBSCRIPTION.INVALID. */
function checkedSettings(schema: object, body: unknown): SubscriptionSettings {
  let request: SubscriptionSettings;
  try {
    request = validateRequest<SubscriptionSettings>(schema, body);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(EventErrorCodes.subscriptionInvalid, 'The event subscription is invalid.', error.problems);
    throw error;
  }
  const problems = eventTypeProblems(request.eventTypes ?? []);
  if (problems.length > 0) throw new ValidationError(EventErrorCodes.subscriptionInvalid, 'The event subscription is invalid.', problems.map((message) => ({ pointer: `/${message.split(':')[0]}`, message })));
  return request;
}

/** An empty subject filter is no filter. */
function filter(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

async function requireWorkflow(workflowId: string, data: TenantDataStore): Promise<void> {
  if (!(await data.workflows.get(workflowId))) throw new AppError(ErrorCodes.workflowNotFound, `Workflow '${workflowId}' was not found.`);
}

/** The subscription, or EVENT_SUBSCRIPTION.NOT_FOUND (also for ids that cannot be subscription ids). */
export async function getEventSubscription(subscriptionId: string, data: TenantDataStore): Promise<EventSubscription> {
  const subscription = EVENT_SUBSCRIPTION_ID_PATTERN.test(subscriptionId) ? await data.eventSubscriptions.get(subscriptionId) : undefined;
  if (!subscription) throw new AppError(EventErrorCodes.subscriptionNotFound, `Event subscription '${subscriptionId.slice(0, 140)}' was not found.`);
  return subscription;
}

/** Subscribes a workflow to event types (with subject filters). At most the tenant's maxWorkflows subscriptions. */
export async function createEventSubscription(ctx: RequestContext, tenant: Tenant, body: unknown, data: TenantDataStore): Promise<EventSubscription> {
  const request = checkedSettings(createEventSubscriptionSchema, body) as SubscriptionSettings & { workflowId: string; eventTypes: string[] };
  await requireWorkflow(request.workflowId, data);
  if ((await data.eventSubscriptions.count()) >= tenant.quotas.maxWorkflows) {
    throw new AppError(ErrorCodes.quotaExceeded, `Tenant '${tenant.id}' has its maximum of ${tenant.quotas.maxWorkflows} event subscriptions.`);
  }
  return data.eventSubscriptions.create({
    id: `es-${randomBytes(16).toString('hex')}`,
    workflowId: request.workflowId,
    eventTypes: request.eventTypes,
    subjectBeginsWith: filter(request.subjectBeginsWith),
    subjectEndsWith: filter(request.subjectEndsWith),
    caseSensitive: request.caseSensitive ?? false,
    enabled: request.enabled ?? true,
    createdBy: ctx.principal.subject,
  });
}

export async function listEventSubscriptions(options: PageOptions, data: TenantDataStore): Promise<Page<EventSubscription>> {
  return data.eventSubscriptions.list(options);
}

/** Changes any of a subscription's settings; `If-Match` honoured. */
export async function updateEventSubscription(subscriptionId: string, body: unknown, ifRevision: number | undefined, data: TenantDataStore): Promise<EventSubscription> {
  const request = checkedSettings(updateEventSubscriptionSchema, body);
  await getEventSubscription(subscriptionId, data);
  const changes: EventSubscriptionChanges = {};
  if (request.workflowId !== undefined) {
    await requireWorkflow(request.workflowId, data);
    changes.workflowId = request.workflowId;
  }
  if (request.eventTypes !== undefined) changes.eventTypes = request.eventTypes;
  if (request.subjectBeginsWith !== undefined) changes.subjectBeginsWith = filter(request.subjectBeginsWith);
  if (request.subjectEndsWith !== undefined) changes.subjectEndsWith = filter(request.subjectEndsWith);
  if (request.caseSensitive !== undefined) changes.caseSensitive = request.caseSensitive;
  if (request.enabled !== undefined) changes.enabled = request.enabled;
  return data.eventSubscriptions.update(subscriptionId, changes, ifRevision === undefined ? {} : { ifRevision });
}

/** Idempotent. */
export async function deleteEventSubscription(subscriptionId: string, ifRevision: number | undefined, data: TenantDataStore): Promise<boolean> {
  if (!EVENT_SUBSCRIPTION_ID_PATTERN.test(subscriptionId)) return false;
  return data.eventSubscriptions.delete(subscriptionId, ifRevision === undefined ? {} : { ifRevision });
}

// ------------------------------------------------------------------------------------------------- routing

export interface EventRouterDependencies {
  /** The tenant an event source is registered to (control plane). */
  tenantBySource(source: string): Promise<Tenant | undefined>;
  tenant(tenantId: string): Promise<Tenant | undefined>;
  /** The topics of the platform's own run events, lower-case (see {@link tenantOfEvent}). */
  platformSources: readonly string[];
  forTenant(tenantId: string): Promise<TenantDataStore>;
}

/** A subscription's run for the event, or the permanent reason it could not start. */
export type SubscriptionOutcome = { subscriptionId: string; run: Run; created: boolean } | { subscriptionId: string; refused: string };

/** What became of one delivered event. `dropped`: nothing started, and a redelivery would not change that. */
export type EventRouting =
  | { outcome: 'dropped'; reason: 'EVENT.INVALID' | 'EVENT.UNKNOWN_SOURCE' | 'EVENT.CHAINED' | 'EVENT.TOO_LARGE'; detail: string; event?: IncomingEvent; tenant?: Tenant }
  | { outcome: 'routed'; event: IncomingEvent; tenant: Tenant; results: SubscriptionOutcome[] };

/** Failures another delivery can get past (an outage, a rate limit): thrown so that Event Grid redelivers. */
function isTransient(error: unknown): boolean {
  return !(error instanceof AppError) || error.code === ErrorCodes.rateLimited || error.code === ErrorCodes.internal || error.retryable;
}

/**
 * The tenant of an event. The platform's own run events (Event Grid schema, `topic` one of the platform's; only
 * Event Grid, or a holder of the trigger's system key, can set it) belong to the tenant their data names — and a
 * run event of a run that an event started is not routed at all, so that subscriptions cannot loop. Every other
 * event belongs to the tenant that registered its source, if any.
 */
async function tenantOfEvent(event: IncomingEvent, deps: EventRouterDependencies): Promise<Tenant | 'chained' | undefined> {
  if (event.schema === 'eventgrid' && deps.platformSources.includes(eventSourceKey(event.source))) {
    const data = event.data as { tenantId?: unknown; trigger?: unknown } | null;
    if (typeof data !== 'object' || data === null || typeof data.tenantId !== 'string') return undefined;
    if (data.trigger === 'event') return 'chained';
    return deps.tenant(data.tenantId);
  }
  return deps.tenantBySource(event.source);
}

/**
 * Routes one delivered event: its source (Event Grid `topic`, CloudEvents `source`) names the tenant (the
 * platform's own run events name it in their data, see {@link tenantOfEvent}), and a source no active tenant
 * registered is dropped; nothing else the sender chooses picks a tenant. The tenant's enabled subscriptions
 * whose types and subject filters take the event each start one run through startRun, with the event as input and
 * an idempotency key of (subscription, event id): a redelivered event finds the runs of the first delivery.
 * Permanent refusals (no such workflow, input schema, daily quota) are reported per subscription; a store outage
 * is thrown (Event Grid retries, and the runs already started are not started twice).
 */
export async function routeEvent(raw: unknown, ctx: Omit<RequestContext, 'principal'>, deps: EventRouterDependencies): Promise<EventRouting> {
  const parsed = parseIncomingEvent(raw);
  if ('problem' in parsed) return { outcome: 'dropped', reason: 'EVENT.INVALID', detail: parsed.problem };
  const { event } = parsed;
  const tenant = await tenantOfEvent(event, deps);
  if (tenant === 'chained') {
    return { outcome: 'dropped', reason: 'EVENT.CHAINED', detail: 'A run event of a run that an event started starts no runs (no subscription loops).', event };
  }
  if (!tenant || tenant.status !== 'active') {
    return { outcome: 'dropped', reason: 'EVENT.UNKNOWN_SOURCE', detail: `No active tenant has registered the source '${event.source.slice(0, 200)}'.`, event };
  }
  const bytes = Buffer.byteLength(JSON.stringify(event.data) ?? '', 'utf8');
  if (bytes > tenant.quotas.maxPayloadBytes) {
    return { outcome: 'dropped', reason: 'EVENT.TOO_LARGE', detail: `The event data (${bytes} bytes) exceeds the tenant's maxPayloadBytes (${tenant.quotas.maxPayloadBytes}).`, event, tenant };
  }
  const data = await deps.forTenant(tenant.id);
  const matching = (await data.eventSubscriptions.listEnabled()).filter((subscription) => subscriptionMatches(subscription, event));
  const results: SubscriptionOutcome[] = [];
  for (const subscription of matching) {
    const runContext: RequestContext = { ...ctx, principal: { subject: `event-subscription:${subscription.id}`, name: subscription.id, roles: [], tenantId: tenant.id } };
    try {
      const started = await startRun(runContext, tenant, subscription.workflowId, { input: eventRunInput(event) }, {
        trigger: { kind: 'event', source: subscription.id },
        idempotencyKey: eventRunIdempotencyKey(subscription.id, event.id),
      }, { data });
      results.push({ subscriptionId: subscription.id, ...started });
    } catch (error) {
      if (isTransient(error)) throw error;
      results.push({ subscriptionId: subscription.id, refused: (error as AppError).code });
    }
  }
  return { outcome: 'routed', event, tenant, results };
}
