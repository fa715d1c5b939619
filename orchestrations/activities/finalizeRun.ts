import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import { getContainer } from '../../shared/composition/container.js';
import type { JsonValue } from '../../shared/domain/json.js';
import type { RunUsage, StepExecution } from '../../shared/domain/run.js';
import type { ArtifactStore } from '../../shared/ports/artifactStore.js';
import { Activities, type RunFinalization } from '../activityHandles.js';
import { releaseRunSlot } from '../../functions/triggers/admittedRuns.js';
import { recordRunStatus } from './recordRunStatus.js';
import { runEventsOutput } from '../../functions/triggers/runEvents.js';

function jsonBytes(value: JsonValue | null | undefined): number {
  if (value === undefined || value === null) return 0;
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** A claim-checked output counts as its artifact's size (read once here; a missing artifact counts 0). */
async function outputBytes(step: StepExecution, tenantId: string, artifacts: ArtifactStore, invocation: InvocationContext | undefined): Promise<number> {
  if (step.outputRef === null) return jsonBytes(step.output);
  try {
    return (await artifacts.get(step.outputRef, tenantId)).content.length;
  } catch (error) {
    invocation?.warn(`Usage of run '${step.runId}': the output artifact of step '${step.stepId}' could not be read (${(error as Error).message}); counted as 0 bytes.`);
    return 0;
  }
}

/**
 * The run's usage: this run's own step executions (the records of steps carried over from the retried run are
 * left out), their connector call attempts and output bytes, the run input and output, and the duration by the
 * orchestration's clock. Pure over its inputs but for the artifact reads.
 */
export async function usageOf(
  finalization: RunFinalization,
  run: { input: JsonValue },
  steps: StepExecution[],
  artifacts: ArtifactStore,
  invocation?: InvocationContext,
): Promise<Omit<RunUsage, 'tenantId'>> {
  const carriedOver = new Set(finalization.carriedOver);
  const own = steps.filter((step) => !(step.iteration === null && carriedOver.has(step.stepId)));
  let bytes = jsonBytes(run.input) + jsonBytes(finalization.output);
  for (const step of own) bytes += await outputBytes(step, finalization.tenantId, artifacts, invocation);
  return {
    runId: finalization.runId,
    stepsExecuted: finalization.stepsExecuted,
    durationMs: Math.max(0, Date.parse(finalization.at) - Date.parse(finalization.startedAt)),
    bytes,
    connectorCalls: own.reduce((sum, step) => sum + step.attempts, 0),
    recordedAt: new Date().toISOString(),
  };
}

/**
 * The end of a run: writes its usage (run_usage; see RunUsage), then its final status, output and error (as
 * recordRunStatus does). Idempotent: a retried or replayed activity writes the same status and replaces
 * the usage row.
 */
export async function finalizeRun(finalization: RunFinalization, invocation?: InvocationContext): Promise<void> {
  const container = getContainer();
  const data = await container.appStore.forTenant(finalization.tenantId);
  const run = await data.runs.get(finalization.runId);
  // Usage first: whoever sees the run finished also finds its usage.
  if (run) await data.runs.putUsage(await usageOf(finalization, run, await data.runs.listSteps(finalization.runId), container.artifacts, invocation));
  await recordRunStatus(finalization, invocation);
  // The run has ended: its slot goes to the next waiting run (a child run holds none).
  if (invocation) await releaseRunSlot(df.getClient(invocation), finalization.tenantId, finalization.runId, invocation);
}

df.app.activity(Activities.finalizeRun.name, { extraInputs: [df.input.durableClient()], extraOutputs: [runEventsOutput], handler: finalizeRun as never });
