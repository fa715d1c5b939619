import { randomUUID } from 'node:crypto';
import { app, type InvocationContext } from '@azure/functions';
import { routeEvent } from '../../shared/application/eventUseCases.js';
import { getContainer } from '../../shared/composition/container.js';
import { runQueueOutputs, type RunDispatchMessage } from './runQueues.js';

/**
 * `eventRouter` (Event Grid trigger, Event Grid and CloudEvents schemas): one event per invocation. The event's
 * source (Event Grid `topic`, CloudEvents `source`) finds the tenant that a platform admin registered it for; each
 * of that tenant's enabled subscriptions whose types and subject filters take the event starts one run through
 * startRun (idempotent per subscription and event id, so a redelivery starts nothing new), queued on the tenant's
 * tier. Events that can never start anything (malformed, unknown source, data above the tenant's
 * maxPayloadBytes) are logged and dropped: returning normally acknowledges them. A store outage throws, so that
 * Event Grid redelivers.
 */
export async function eventRouter(event: unknown, context: InvocationContext): Promise<void> {
  const container = getContainer();
  const correlationId = randomUUID();
  const routing = await routeEvent(event, { correlationId, now: new Date() }, {
    tenantBySource: (source) => container.appStore.tenants.getByEventSource(source),
    tenant: (tenantId) => container.tenantCache.get(tenantId),
    platformSources: container.config.platformEventSources,
    forTenant: (tenantId) => container.appStore.forTenant(tenantId),
  });
  if (routing.outcome === 'dropped') {
    context.warn(`Event dropped (${routing.reason}, ${correlationId}): ${routing.detail}${routing.event ? ` [event ${routing.event.id.slice(0, 128)}]` : ''}`);
    return;
  }
  const { tenant, event: routed, results } = routing;
  const queued: RunDispatchMessage[] = [];
  for (const result of results) {
    if ('refused' in result) {
      context.warn(`Event ${routed.id.slice(0, 128)} of tenant '${tenant.id}': subscription '${result.subscriptionId}' started no run (${result.refused}).`);
    } else if (result.run.status === 'queued') {
      // Flushed when this invocation returns; the dispatcher ignores a run that is admitted already.
      queued.push({ tenantId: tenant.id, runId: result.run.id });
    }
  }
  if (queued.length > 0) context.extraOutputs.set(runQueueOutputs[tenant.tier], queued);
  context.log(`Event ${routed.id.slice(0, 128)} (${routed.type.slice(0, 128)}) of tenant '${tenant.id}': ${results.length} matching subscription(s), ${queued.length} run(s) queued (${correlationId}).`);
}

app.eventGrid('eventRouter', { extraOutputs: Object.values(runQueueOutputs), handler: eventRouter as never });
