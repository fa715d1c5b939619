import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import { admitQueuedRun } from './admittedRuns.js';
import type { RunDispatchMessage } from './runQueues.js';

/**
 * A run's message, from any tier queue: the run joins the platform's admission list (premium first, then fair
 * between tenants; shared/domain/admission.ts), then every run that fits in a free slot starts — this one or
 * others that waited longer or rank higher. Runs beyond the platform's capacity or their tenant's
 * `maxConcurrentRuns` wait in the list (durably, never dropped) until a run ends and frees a slot.
 * Idempotent: a redelivered message keeps the run's place, and a run already admitted is only started if its
 * orchestration is missing. A malformed message or an unknown run is dropped with an error log (a retry could
 * not help); anything else is thrown so the broker redelivers it, then dead-letters it.
 */
export async function dispatchRun(message: unknown, context: InvocationContext): Promise<void> {
  const { tenantId, runId } = (message ?? {}) as Partial<RunDispatchMessage>;
  if (typeof tenantId !== 'string' || typeof runId !== 'string') {
    context.error(`Dropped a malformed run message: ${JSON.stringify(message).slice(0, 200)}`);
    return;
  }
  const { appStore, tenantCache } = getContainer();
  const tenant = await tenantCache.get(tenantId);
  const run = tenant && (await (await appStore.forTenant(tenantId)).runs.get(runId));
  if (!tenant || !run) {
    context.error(`Dropped the message of run '${runId}' (tenant '${tenantId}'): the ${tenant ? 'run' : 'tenant'} does not exist.`);
    return;
  }
  if (run.status !== 'queued' && run.status !== 'running') return;
  await admitQueuedRun(df.getClient(context), tenant, run, context);
}
