/** A small client for tests: starts orchestrations through the app's HTTP starter and follows the management URLs. */
export interface CheckStatus {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  purgeHistoryDeleteUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

export interface OrchestrationStatus {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

export async function startOrchestration(baseUrl: string, name: string, input?: unknown): Promise<CheckStatus> {
  const response = await fetch(`${baseUrl}/api/orchestrators/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(input === undefined ? {} : { body: JSON.stringify(input) }),
  });
  if (response.status !== 202) throw new Error(`Starting ${name} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CheckStatus;
}

export async function getStatus(statusUrl: string, query = ''): Promise<OrchestrationStatus> {
  const url = new URL(statusUrl);
  for (const [name, value] of new URLSearchParams(query)) url.searchParams.set(name, value);
  const response = await fetch(url);
  if (response.status === 404) throw new Error(`${statusUrl}: 404`);
  return (await response.json()) as OrchestrationStatus;
}

export async function waitForStatus(statusUrl: string, predicate: (status: OrchestrationStatus) => boolean = (s) => TERMINAL.has(s.runtimeStatus), timeoutMs = 20_000): Promise<OrchestrationStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: OrchestrationStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await getStatus(statusUrl);
      if (predicate(last)) return last;
    } catch {
      // The host may be restarting (crash tests): keep polling.
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Timed out waiting on ${statusUrl}; last status: ${JSON.stringify(last)}`);
}

export async function run(baseUrl: string, name: string, input?: unknown, timeoutMs?: number): Promise<OrchestrationStatus> {
  const started = await startOrchestration(baseUrl, name, input);
  return waitForStatus(started.statusQueryGetUri, undefined, timeoutMs);
}

export async function raiseEvent(check: CheckStatus, eventName: string, data: unknown): Promise<Response> {
  return fetch(check.sendEventPostUri.replace('{eventName}', eventName), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
}
