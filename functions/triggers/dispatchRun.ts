import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import type { RunWorkflowInput } from '../../orchestrations/runWorkflowInput.js';
import type { RunDispatchMessage } from './runQueues.js';

/** The orchestrator every run executes. */
export const RUN_ORCHESTRATOR = 'runWorkflow';

/**
 * Starts the orchestration of a queued run with `instanceId = runId`, carrying the pinned definition, so the
 * orchestrator loads nothing itself. Idempotent: a run whose orchestration exists (a redelivered message) is
 * acknowledged, not started twice. A malformed message or an unknown run is dropped with an error log (a retry
 * could not help); anything else is thrown so the broker redelivers it, then dead-letters it.
 */
export async function dispatchRun(message: unknown, context: InvocationContext): Promise<void> {
  const { tenantId, runId } = (message ?? {}) as Partial<RunDispatchMessage>;
  if (typeof tenantId !== 'string' || typeof runId !== 'string') {
    context.error(`Dropped a malformed run message: ${JSON.stringify(message).slice(0, 200)}`);
    return;
  }
  const client = df.getClient(context);
  const existing = await client.getStatus(runId).catch(() => undefined);
  if (existing && existing.runtimeStatus !== undefined) return;
  const data = await getContainer().appStore.forTenant(tenantId);
  const run = await data.runs.get(runId);
  if (!run) {
    context.error(`Dropped the message of run '${runId}' (tenant '${tenantId}'): the run does not exist.`);
    return;
  }
  if (run.status !== 'queued') return;
  const version = await data.workflows.getVersion(run.workflowId, run.workflowVersion);
  if (!version) {
    context.error(`Run '${runId}' pins version ${run.workflowVersion} of '${run.workflowId}', which no longer exists.`);
    return;
  }
  const input: RunWorkflowInput = {
    tenantId,
    runId,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    definition: version.definition,
    input: run.input,
  };
  await client.startNew(RUN_ORCHESTRATOR, { instanceId: runId, input });
}
