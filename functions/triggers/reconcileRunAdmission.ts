import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../shared/domain/errors.js';
import { isTerminalRunStatus } from '../../shared/domain/run.js';
import type { AdmittedRun } from '../../shared/ports/runAdmission.js';
import { isActive, runtimeStatusOf } from '../api/runs/runControlHttp.js';
import { admitAndStartRuns, restartAdmittedRun } from './admittedRuns.js';
import { runEventsOutput } from './runEvents.js';

/** A run queued or admitted longer than this without the expected progress is looked at again. */
const STALE_AFTER_MS = 2 * 60_000;
/** Runs looked at per tenant (queued) and in all (admitted) per tick; the next tick takes the rest. */
const BATCH = 200;

/**
 * Queued runs whose message never led to a ticket (a host that died between inserting the run and sending its
 * message, a message dead-lettered by an outage) join the admission list. Enqueueing is idempotent, so runs
 * already waiting keep their place.
 */
async function enqueueForgottenRuns(before: string): Promise<number> {
  const { appStore } = getContainer();
  let enqueued = 0;
  let token: string | undefined;
  do {
    const tenants = await appStore.tenants.list({ limit: 100, status: 'active', ...(token ? { continuationToken: token } : {}) });
    for (const tenant of tenants.items) {
      const queued = await (await appStore.forTenant(tenant.id)).runs.list({ status: 'queued', createdTo: before, limit: Math.min(100, BATCH) });
      for (const run of queued.items) {
        const ticket = { tenantId: tenant.id, runId: run.id, tier: tenant.tier, queuedAt: run.createdAt, maxRunning: tenant.quotas.maxConcurrentRuns };
        if ((await appStore.admission.enqueue(ticket)) === 'waiting') enqueued += 1;
      }
    }
    token = tenants.continuationToken;
  } while (token);
  return enqueued;
}

/**
 * A slot held since before the cutoff whose run is not executing any more is freed: the run ended without
 * releasing it (a crash between its last status and the release), its orchestration failed outside the
 * engine's control (the run is then recorded failed), or the run or tenant is gone. An admitted run that never
 * started (a crash between admission and start) is started. True when the slot was freed.
 */
async function reconcileSlot(client: df.DurableClient, slot: AdmittedRun, context: InvocationContext): Promise<boolean> {
  const { appStore } = getContainer();
  let run;
  try {
    run = await (await appStore.forTenant(slot.tenantId)).runs.get(slot.runId);
  } catch (error) {
    if (!(error instanceof AppError && error.code === ErrorCodes.tenantNotFound)) throw error;
  }
  if (run && !isTerminalRunStatus(run.status)) {
    const runtimeStatus = await runtimeStatusOf(client, slot.runId);
    if (runtimeStatus === undefined || run.status === 'queued') return restartAdmittedRun(client, slot, context);
    if (isActive(runtimeStatus)) return false;
    const message = `The run's orchestration ended (${runtimeStatus}) without recording the run's outcome.`;
    context.error(`Run '${slot.runId}' of tenant '${slot.tenantId}': ${message}`);
    await (await appStore.forTenant(slot.tenantId)).runs.update(slot.runId, { status: 'failed', error: { code: ErrorCodes.internal, message }, completedAt: new Date().toISOString() });
  }
  return appStore.admission.release(slot.tenantId, slot.runId);
}

/**
 * Every minute: repairs what a crash can leave behind in run admission (forgotten queued runs, slots of runs
 * that ended or never started), then fills the free slots. Safe with several instances: every step is
 * idempotent and admission itself is atomic.
 */
export async function reconcileRunAdmission(_timer: Timer, context: InvocationContext): Promise<void> {
  const client = df.getClient(context);
  const before = new Date(Date.now() - STALE_AFTER_MS).toISOString();
  const enqueued = await enqueueForgottenRuns(before);
  if (enqueued > 0) context.warn(`${enqueued} runs queued for over ${STALE_AFTER_MS / 60_000} minutes had no admission ticket; they now wait for a slot.`);
  let freed = 0;
  for (const slot of await getContainer().appStore.admission.listAdmitted({ admittedBefore: before, limit: BATCH })) {
    if (await reconcileSlot(client, slot, context)) freed += 1;
  }
  if (freed > 0) context.warn(`Freed ${freed} slots held by runs that were no longer executing.`);
  await admitAndStartRuns(client, context);
}

app.timer('reconcileRunAdmission', {
  schedule: '0 * * * * *',
  extraInputs: [df.input.durableClient()],
  extraOutputs: [runEventsOutput],
  handler: reconcileRunAdmission,
});
