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
