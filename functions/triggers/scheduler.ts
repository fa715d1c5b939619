import { app, type InvocationContext, type Timer } from '@azure/functions';
import { fireDueSchedules } from '../../shared/application/scheduleUseCases.js';
import { getContainer } from '../../shared/composition/container.js';
import { schedulerTickSchedule } from '../../shared/config/appConfig.js';
import type { TenantTier } from '../../shared/domain/tenant.js';
import { type RunDispatchMessage, runQueueOutputs } from './runQueues.js';

/** A tick stops reading further due schedules after this long, so ticks do not pile up (the next one continues). */
const TICK_BUDGET_MS = 45_000;

/**
 * Every minute (`0 * * * * *`, not on startup): claims the cron schedules that are due, across all tenants, and
 * starts their runs through `startRun`, queued on the tenant's tier queue like any other run. See
 * docs/schedules.md and shared/application/scheduleUseCases.ts for the claiming rules.
 *
 * The dispatch messages leave when the invocation succeeds (output bindings). A run whose message is lost with a
 * crashed invocation stays `queued` and is enqueued by reconcileRunAdmission; its fire is finished, and its
 * idempotency key keeps any replay from creating a second run.
 */
export async function scheduler(_timer: Timer, context: InvocationContext): Promise<void> {
  const { appStore } = getContainer();
  const messages: Record<TenantTier, RunDispatchMessage[]> = { premium: [], standard: [], basic: [] };
  const tick = await fireDueSchedules({
    store: appStore,
    now: () => new Date(),
    deadline: new Date(Date.now() + TICK_BUDGET_MS),
    dispatch: (tenant, run) => messages[tenant.tier].push({ tenantId: tenant.id, runId: run.id }),
    warn: (message) => context.warn(message),
    error: (message) => context.error(message),
  });
  for (const tier of Object.keys(messages) as TenantTier[]) {
    if (messages[tier].length > 0) context.extraOutputs.set(runQueueOutputs[tier], messages[tier]);
  }
  if (tick.claimed > 0 || tick.errored > 0) context.log(`Scheduler: ${tick.claimed} slots claimed, ${tick.started} runs started, ${tick.skipped} skipped, ${tick.failed} failed, ${tick.errored} schedules errored.`);

}

app.timer('scheduler', {
  schedule: schedulerTickSchedule(),
  runOnStartup: false,
  extraOutputs: Object.values(runQueueOutputs),
  handler: scheduler,
});
