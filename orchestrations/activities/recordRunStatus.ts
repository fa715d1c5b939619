import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import { Activities, type RunStatusChange } from '../activityHandles.js';

/** Writes a run's status transition (running when the orchestration starts; the outcome when it ends). */
export async function recordRunStatus(change: RunStatusChange): Promise<void> {
  const data = await getContainer().appStore.forTenant(change.tenantId);
  await data.runs.update(change.runId, {
    status: change.status,
    ...(change.status === 'running' ? { startedAt: change.at } : { completedAt: change.at }),
    ...(change.output !== undefined ? { output: change.output } : {}),
    ...(change.error ? { error: change.error } : {}),
  });
}

df.app.activity(Activities.recordRunStatus.name, { handler: recordRunStatus as never });
