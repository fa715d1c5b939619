import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import { Activities, type RunStatusChange } from '../activityHandles.js';
import { publishRunEvent, runEventsOutput } from '../../functions/triggers/runEvents.js';

/**
 * Writes a run's status transition (running when the orchestration starts; the outcome when it ends) and, given
 * the activity's invocation, publishes its run event (run.started, run.completed, ...) through the output binding.
 */
export async function recordRunStatus(change: RunStatusChange, invocation?: InvocationContext): Promise<void> {
  const data = await getContainer().appStore.forTenant(change.tenantId);
  const run = await data.runs.update(change.runId, {
    status: change.status,
    ...(change.status === 'running' ? { startedAt: change.at } : { completedAt: change.at }),
    ...(change.output !== undefined ? { output: change.output } : {}),
    ...(change.error ? { error: change.error } : {}),
  });
  if (invocation) publishRunEvent(invocation, run, change.at);
}

df.app.activity(Activities.recordRunStatus.name, { extraOutputs: [runEventsOutput], handler: recordRunStatus as never });
