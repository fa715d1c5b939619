import * as df from 'durable-functions';

export type DurableClient = ReturnType<typeof df.getClient>;

const ACTIVE = new Set<string>([df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending, df.OrchestrationRuntimeStatus.ContinuedAsNew, df.OrchestrationRuntimeStatus.Suspended]);

/** The runtime status of an orchestration instance, undefined when it does not exist. */
export async function runtimeStatusOf(client: DurableClient, instanceId: string): Promise<string | undefined> {
  try {
    const status = await client.getStatus(instanceId);
    return status?.runtimeStatus;
  } catch (error) {
    if (/404|No instance/i.test((error as Error).message ?? '')) return undefined;
    throw error;
  }
}

export function isActive(runtimeStatus: string | undefined): boolean {
  return runtimeStatus !== undefined && ACTIVE.has(runtimeStatus);
}

/** Terminates an instance when it is active; true when it was. */
export async function terminateIfActive(client: DurableClient, instanceId: string, reason: string): Promise<boolean> {
  if (!isActive(await runtimeStatusOf(client, instanceId))) return false;
  try {
    await client.terminate(instanceId, reason);
    return true;
  } catch (error) {
    // It finished in between: nothing left to stop.
    if (isActive(await runtimeStatusOf(client, instanceId))) throw error;
    return false;
  }
}

/**
 * The active instances below a run: its step sub-orchestrations (`${runId}:${stepId}`), forEach iterations
 * (`${runId}:${stepId}:${index}`…) and child runs (`…:sub`) with theirs, at any depth, with their custom
 * status. Only instances created since the run are looked at.
 */
export async function activeBelow(client: DurableClient, runId: string, since: Date): Promise<Array<{ instanceId: string; customStatus: unknown }>> {
  const active = await client.getStatusBy({ createdTimeFrom: since, runtimeStatus: [...ACTIVE] as df.OrchestrationRuntimeStatus[] });
  return active.filter((status) => status.instanceId.startsWith(`${runId}:`)).map((status) => ({ instanceId: status.instanceId, customStatus: status.customStatus }));
}

/**
 * Terminates a run's orchestration and every active instance below it; returns the instance ids terminated
 * below. The run goes first, so it starts nothing new; the instances below are listed again until none is
 * left, since a child still running can start one between a listing and its termination.
 */
export async function terminateRunTree(client: DurableClient, runId: string, since: Date, reason: string): Promise<string[]> {
  await terminateIfActive(client, runId, reason);
  const terminated = new Set<string>();
  for (let round = 0; round < 5; round++) {
    const below = (await activeBelow(client, runId, since)).map((instance) => instance.instanceId).filter((instanceId) => !terminated.has(instanceId));
    if (below.length === 0) break;
    await Promise.all(below.map(async (instanceId) => (await terminateIfActive(client, instanceId, reason)) && terminated.add(instanceId)));
  }
  return [...terminated];
}
