import { randomUUID } from 'node:crypto';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { hookContext, startDeliveryRun } from '../../shared/application/webhookUseCases.js';
import { getContainer } from '../../shared/composition/container.js';
import type { TenantTier } from '../../shared/domain/tenant.js';
import { runQueueOutputs, type RunDispatchMessage } from './runQueues.js';

/** A stored delivery without a run this long after it arrived was interrupted between storing and starting. */
const STRANDED_AFTER_MS = 30_000;
/** Deliveries are listed (and kept) for this long. */
const RETENTION_MS = 30 * 24 * 3600 * 1000;
const BATCH = 100;

let lastRetention = 0;

/**
 * Every 30 seconds: every inbox entry stored but not turned into a run (the host died after storing it and
 * before starting its run, or the tenant's quota was exhausted) gets its run through startRun, idempotently
 * (the hook and delivery id are the idempotency key, so an entry whose run exists gets that run, not a second),
 * and the run is queued on its tier. Hourly, deliveries older than 30 days are deleted.
 */
export async function startStoredDeliveries(_timer: Timer, context: InvocationContext): Promise<void> {
  const { appStore, tenantCache } = getContainer();
  const now = new Date();
  const before = new Date(now.getTime() - STRANDED_AFTER_MS).toISOString();
  const retain = now.getTime() - lastRetention > 3600_000;
  if (retain) lastRetention = now.getTime();
  const messages: Record<TenantTier, RunDispatchMessage[]> = { premium: [], standard: [], basic: [] };
  let token: string | undefined;
  do {
    const tenants = await appStore.tenants.list({ limit: 100, status: 'active', ...(token ? { continuationToken: token } : {}) });
    for (const listed of tenants.items) {
      const tenant = (await tenantCache.get(listed.id)) ?? listed;
      const data = await appStore.forTenant(tenant.id);
      if (retain) await data.hooks.deleteDeliveriesBefore(new Date(now.getTime() - RETENTION_MS).toISOString());
      for (const entry of await data.hooks.listUnstartedDeliveries(before, BATCH)) {
        const hook = await data.hooks.get(entry.hookId);
        if (!hook) continue;
        try {
          const { run } = await startDeliveryRun(hookContext(hook, randomUUID(), now), { tenant, data, hook }, entry);
          if (run.status === 'queued') messages[tenant.tier].push({ tenantId: tenant.id, runId: run.id });
        } catch (error) {
          context.warn(`Stored delivery '${entry.deliveryId}' of hook '${hook.id}' (tenant '${tenant.id}') did not start: ${(error as Error).message}`);
        }
      }
    }
    token = tenants.continuationToken;
  } while (token);
  for (const tier of Object.keys(messages) as TenantTier[]) {
    if (messages[tier].length > 0) context.extraOutputs.set(runQueueOutputs[tier], messages[tier]);
  }
  const started = Object.values(messages).reduce((sum, list) => sum + list.length, 0);
  if (started > 0) context.warn(`Queued ${started} runs of stored webhook deliveries whose start was interrupted.`);
}

app.timer('startStoredDeliveries', {
  schedule: '*/30 * * * * *',
  extraOutputs: Object.values(runQueueOutputs),
  handler: startStoredDeliveries,
});
