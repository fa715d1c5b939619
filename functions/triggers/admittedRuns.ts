import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { admitWaitingRuns, type StartOutcome } from '../../shared/application/runAdmission.js';
import { carriedOverSteps } from '../../shared/application/runControl.js';
import { getContainer } from '../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../shared/domain/errors.js';
import type { JsonObject, JsonValue } from '../../shared/domain/json.js';
import type { Run, StepExecution } from '../../shared/domain/run.js';
import type { Tenant } from '../../shared/domain/tenant.js';
import { sha256Hex } from '../../shared/ports/artifactStore.js';
import type { TenantDataStore } from '../../shared/ports/appStore.js';
import type { AdmittedRun } from '../../shared/ports/runAdmission.js';
import type { ResumeFrom, RunWorkflowInput } from '../../orchestrations/runWorkflowInput.js';
import { publishRunEvent } from './runEvents.js';

/** The orchestrator every run executes. */
export const RUN_ORCHESTRATOR = 'runWorkflow';

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

/** The tenant's data store, or undefined when the tenant no longer exists. */
async function tenantData(tenantId: string): Promise<TenantDataStore | undefined> {
  try {
    return await getContainer().appStore.forTenant(tenantId);
  } catch (error) {
    if (error instanceof AppError && error.code === ErrorCodes.tenantNotFound) return undefined;
    throw error;
  }
}

/**
 * Starts an admitted run: marks it running (within the tenant's limit, as the tenant's own store counts) and
 * starts its orchestration with `instanceId = runId`, carrying the pinned definition so the orchestrator loads
 * nothing itself. Idempotent: a run already running only gets its orchestration started if it has none (a
 * start that failed half-way); an existing orchestration is left alone. A run whose pinned version was deleted
 * fails with WORKFLOW.VERSION_NOT_FOUND.
 */
export async function startAdmittedRun(client: df.DurableClient, admitted: AdmittedRun, context: InvocationContext): Promise<StartOutcome> {
  const { tenantId, runId } = admitted;
  const data = await tenantData(tenantId);
  const run = data && (await data.runs.get(runId));
  if (!data || !run) return 'gone';
  if (run.status === 'queued') {
    const tenant = await getContainer().tenantCache.get(tenantId);
    if (!tenant) return 'gone';
    const claimedAt = new Date().toISOString();
    const claim = await data.runs.claimStart(runId, tenant.quotas.maxConcurrentRuns, claimedAt);
    if (claim === 'atLimit') return 'atLimit';
    // Queued → running happens here, once: the run.started event goes out when this invocation returns.
    if (claim === 'started') publishRunEvent(context, { ...run, status: 'running', startedAt: claimedAt }, claimedAt);
    // Another admitter marked it first: starting the orchestration is idempotent, so go on only if it runs.
    if (claim === 'notQueued' && (await data.runs.get(runId))?.status !== 'running') return 'gone';
  } else if (run.status !== 'running') {
    return 'gone';
  }
  const version = await data.workflows.getVersion(run.workflowId, run.workflowVersion);
  if (!version) {
    const message = `The run pins version ${run.workflowVersion} of workflow '${run.workflowId}', which no longer exists.`;
    context.error(`Run '${runId}' of tenant '${tenantId}': ${message}`);
    await data.runs.update(runId, { status: 'failed', error: { code: ErrorCodes.versionNotFound, message }, completedAt: new Date().toISOString() });
    return 'gone';
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
    // The orchestration exists already (a redelivered message, a second admitter): it is not started twice.
    if (!/status code: 409\b/.test((error as Error).message)) throw error;
  }
  await getContainer().appStore.admission.markStarted(tenantId, runId, new Date().toISOString());
  return 'started';
}

/**
 * Starts a run that already holds a slot (a start a crash interrupted) and settles the slot by the outcome: given
 * back when the run is gone, back to the waiting list when its tenant is at its limit. True when the slot was
 * given up.
 */
export async function restartAdmittedRun(client: df.DurableClient, run: AdmittedRun, context: InvocationContext): Promise<boolean> {
  const outcome = await startAdmittedRun(client, run, context);
  const { admission } = getContainer().appStore;
  if (outcome === 'gone') return admission.release(run.tenantId, run.runId);
  if (outcome === 'atLimit') return admission.readmit(run.tenantId, run.runId);
  return false;
}

/** Admits waiting runs into the platform's free slots and starts them (see admitWaitingRuns). */
export function admitAndStartRuns(client: df.DurableClient, context: InvocationContext): Promise<number> {
  const { appStore, config } = getContainer();
  return admitWaitingRuns({
    admission: appStore.admission,
    capacity: config.maxActiveRuns,
    start: (run) => startAdmittedRun(client, run, context),
    warn: (message) => context.warn(message),
  });
}

/**
 * A run has ended (or will never start): its slot goes to the next waiting run. Never throws: the run's own
 * outcome is already recorded, and what fails here the reconciler (reconcileRunAdmission) repairs within minutes.
 */
export async function releaseRunSlot(client: df.DurableClient, tenantId: string, runId: string, context: InvocationContext): Promise<void> {
  try {
    if (await getContainer().appStore.admission.release(tenantId, runId)) await admitAndStartRuns(client, context);
  } catch (error) {
    context.warn(`The slot of run '${runId}' (tenant '${tenantId}') was not handed on; the reconciler will: ${(error as Error).message}`);
  }
}

/**
 * A queued run joins the platform's admission list (idempotent: a run already waiting keeps its place), a run
 * admitted before is started if a start failed half-way, and every run that fits a free slot starts.
 */
export async function admitQueuedRun(client: df.DurableClient, tenant: Tenant, run: Run, context: InvocationContext): Promise<void> {
  const place = await getContainer().appStore.admission.enqueue({ tenantId: tenant.id, runId: run.id, tier: tenant.tier, queuedAt: run.createdAt, maxRunning: tenant.quotas.maxConcurrentRuns });
  // Admitted before (a redelivery after a start that failed half-way): finish starting it.
  if (place === 'admitted') await startAdmittedRun(client, { tenantId: tenant.id, runId: run.id, tier: tenant.tier, admittedAt: run.createdAt }, context);
  await admitAndStartRuns(client, context);
}
