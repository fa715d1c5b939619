import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import type { ResumeFrom, RunWorkflowInput } from '../../orchestrations/runWorkflowInput.js';
import { carriedOverSteps } from '../../shared/application/runControl.js';
import type { JsonObject, JsonValue } from '../../shared/domain/json.js';
import type { StepExecution } from '../../shared/domain/run.js';
import { sha256Hex } from '../../shared/ports/artifactStore.js';
import type { TenantTier } from '../../shared/domain/tenant.js';
import { DEFER_RUN_DISPATCH, type DeferRunInput } from '../../orchestrations/deferRunDispatch.js';
import type { RunDispatchMessage } from './runQueues.js';

/** How long a deferred run waits before its message is queued again: 5 s, doubling, at most a minute. */
export function deferralDelaySeconds(deferrals: number): number {
  return Math.min(60, 5 * 2 ** Math.min(deferrals, 4));
}

/**
 * The tenant is at its concurrency limit: the message comes back later instead of being dropped. A durable
 * orchestration waits, then queues it again (with its deferral count), so not even a crash loses it.
 */
async function defer(client: df.DurableClient, message: Required<RunDispatchMessage>, tier: TenantTier, context: InvocationContext): Promise<void> {
  const input: DeferRunInput = { message: { ...message, deferrals: message.deferrals + 1 }, tier, delaySeconds: deferralDelaySeconds(message.deferrals) };
  try {
    await client.startNew(DEFER_RUN_DISPATCH, { instanceId: `${message.runId}:deferral:${message.deferrals}`, input });
  } catch (error) {
    // A redelivered message whose deferral already started: nothing more to do.
    context.warn(`Deferral ${message.deferrals} of run '${message.runId}' already exists: ${(error as Error).message}`);
  }
}

/**
 * A retry from the failed step: the step executions a queued retry run already has are the ones carried over
 * from the original run (retryRun in runControl.ts copies them; a run's own executions only begin once its
 * orchestration starts, which it has not). Their outputs go to the orchestrator; a claim-checked output as its
 * full artifact reference (the record keeps only the URI), so the steps after it resolve it as before.
 * Undefined when there is nothing to carry over (a retry from the start).
 */
async function resumeFromOf(tenantId: string, originalRunId: string, definition: JsonObject, steps: StepExecution[]): Promise<ResumeFrom | undefined> {
  const carried = carriedOverSteps(definition, steps);
  if (carried.length === 0) return undefined;
  const { artifacts } = getContainer();
  const resumed: ResumeFrom = { runId: originalRunId, steps: {} };
  for (const step of carried) {
    let output: JsonValue = step.output;
    if (step.outputRef !== null) {
      const stored = await artifacts.get(step.outputRef, tenantId);
      output = { $artifact: step.outputRef, size: stored.content.length, contentType: stored.contentType, sha256: sha256Hex(stored.content) };
    }
    resumed.steps[step.stepId] = { output, attempts: step.attempts };
  }
  return resumed;
}

/** The orchestrator every run executes. */
export const RUN_ORCHESTRATOR = 'runWorkflow';

/**
 * Starts the orchestration of a queued run with `instanceId = runId`, carrying the pinned definition, so the
 * orchestrator loads nothing itself. Idempotent: a run whose orchestration exists (a redelivered message) is
 * acknowledged, not started twice. When the tenant already has `maxConcurrentRuns` runs executing, the run is
 * deferred (its message comes back later), never dropped. A malformed message or an unknown run is dropped with an
 * error log (a retry could not help); anything else is thrown so the broker redelivers it, then dead-letters it.
 */
export async function dispatchRun(message: unknown, context: InvocationContext): Promise<void> {
  const { tenantId, runId } = (message ?? {}) as Partial<RunDispatchMessage>;
  if (typeof tenantId !== 'string' || typeof runId !== 'string') {
    context.error(`Dropped a malformed run message: ${JSON.stringify(message).slice(0, 200)}`);
    return;
  }
  const client = df.getClient(context);
  const data = await getContainer().appStore.forTenant(tenantId);
  const run = await data.runs.get(runId);
  if (!run) {
    context.error(`Dropped the message of run '${runId}' (tenant '${tenantId}'): the run does not exist.`);
    return;
  }
  // `running` without an orchestration: an earlier delivery took the slot, then failed before starting it.
  if (run.status !== 'queued' && run.status !== 'running') return;
  const tenant = await getContainer().tenantCache.get(tenantId);
  if (!tenant) {
    context.error(`Dropped the message of run '${runId}': tenant '${tenantId}' no longer exists.`);
    return;
  }
  if (run.status === 'queued') {
    // Taking a slot and marking the run running is one atomic step: concurrent dispatchers cannot exceed the limit.
    const claim = await data.runs.claimStart(runId, tenant.quotas.maxConcurrentRuns, new Date().toISOString());
    if (claim === 'notQueued') return;
    if (claim === 'atLimit') {
      await defer(client, { tenantId, runId, deferrals: (message as RunDispatchMessage).deferrals ?? 0 }, tenant.tier, context);
      return;
    }
  }
  const version = await data.workflows.getVersion(run.workflowId, run.workflowVersion);
  if (!version) {
    context.error(`Run '${runId}' pins version ${run.workflowVersion} of '${run.workflowId}', which no longer exists.`);
    return;
  }
  const resumeFrom = run.trigger.kind === 'retry' ? await resumeFromOf(tenantId, run.trigger.source, version.definition, await data.runs.listSteps(runId)) : undefined;
  const input: RunWorkflowInput = {
    tenantId,
    runId,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    definition: version.definition,
    input: run.input,
    alreadyRunning: true,
    ...(resumeFrom ? { resumeFrom } : {}),
  };
  try {
    await client.startNew(RUN_ORCHESTRATOR, { instanceId: runId, input });
  } catch (error) {
    // A redelivered message of a run whose orchestration already runs: acknowledged, not started twice.
    if (/status code: 409\b/.test((error as Error).message)) return;
    throw error;
  }
}
