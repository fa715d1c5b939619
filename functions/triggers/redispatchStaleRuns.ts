import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getContainer } from '../../shared/composition/container.js';
import type { Tenant } from '../../shared/domain/tenant.js';
import { type RunDispatchMessage, runQueueOutputs } from './runQueues.js';

/** A run queued longer than this without starting is dispatched again. */
const STALE_AFTER_MS = 2 * 60_000;

/**
 * Every minute: runs still `queued` well after they were created are dispatched again. A host that died between
 * inserting a run and sending its message (or a message dead-lettered by an outage) would otherwise leave the run
 * queued forever; the dispatcher ignores runs whose orchestration already exists, so a duplicate is harmless.
 */
export async function redispatchStaleRuns(_timer: Timer, context: InvocationContext): Promise<void> {
  const { appStore } = getContainer();
  const before = new Date(Date.now() - STALE_AFTER_MS).toISOString();
  const messages: Record<Tenant['tier'], RunDispatchMessage[]> = { premium: [], standard: [], basic: [] };
  let tenantsToken: string | undefined;
  do {
    const tenants = await appStore.tenants.list({ limit: 100, status: 'active', ...(tenantsToken ? { continuationToken: tenantsToken } : {}) });
    for (const tenant of tenants.items) {
      const data = await appStore.forTenant(tenant.id);
      const stale = await data.runs.list({ status: 'queued', createdTo: before, limit: 100 });
      for (const run of stale.items) messages[tenant.tier].push({ tenantId: tenant.id, runId: run.id });
    }
    tenantsToken = tenants.continuationToken;
  } while (tenantsToken);
  for (const tier of Object.keys(messages) as Array<Tenant['tier']>) {
    if (messages[tier].length === 0) continue;
    context.warn(`Dispatching ${messages[tier].length} ${tier} runs again that stayed queued for over ${STALE_AFTER_MS / 60_000} minutes.`);
    context.extraOutputs.set(runQueueOutputs[tier], messages[tier]);
  }
}

app.timer('redispatchStaleRuns', {
  schedule: '0 * * * * *',
  extraOutputs: Object.values(runQueueOutputs),
  handler: redispatchStaleRuns,
});
