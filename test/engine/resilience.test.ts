import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../api/platform.js';
import { type AzuriteBlob, startAzuriteBlob } from '../support/azurite.js';

/**
 * The engine's resilience rules end to end: the durable retry rhythm of a step's policy, the circuit breaker that
 * opens after five consecutive failures of a target, and the claim check that keeps large outputs out of the
 * orchestration history (Blob Storage on Azurite).
 */
const suffix = Math.random().toString(36).slice(2, 8);
const STURDY = `sturdy-${suffix}`;
const BULKY = `bulky-${suffix}`;

describe('engine resilience', () => {
  let azurite: AzuriteBlob;
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    azurite = await startAzuriteBlob();
    platform = await startPlatform({ AIQ_ARTIFACT_STORAGE: azurite.connectionString });
    await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: STURDY, name: 'Sturdy', tier: 'premium' } });
    token = await platform.token('Tenant.Admin', STURDY);
  });
  afterAll(async () => {
    await platform?.stop();
    await azurite?.stop();
  });

  // Each test uses its own tenant: a breaker is per tenant and connector target, and the breaker test opens one.
  async function publish(id: string, definition: unknown, tenant = STURDY): Promise<void> {
    if (tenant !== STURDY) {
      await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: tenant, name: tenant, tier: 'premium' } });
      token = await platform.token('Tenant.Admin', tenant);
    }
    expect((await platform.call('POST', `/api/tenants/${tenant}/workflows`, { token, body: { id, name: id, definition } })).status).toBe(201);
    expect((await platform.call('POST', `/api/tenants/${tenant}/workflows/${id}/versions`, { token })).status).toBe(201);
  }

  async function runToEnd(workflowId: string, input: unknown = {}, tenant = STURDY): Promise<Record<string, any>> {
    const started = await platform.call('POST', `/api/tenants/${tenant}/workflows/${workflowId}/runs`, { token, body: { input } });
    const location = started.headers.get('location')!;
    const deadline = Date.now() + 40_000;
    for (;;) {
      const run = (await (await platform.call('GET', location, { token })).json()) as Record<string, any>;
      if (['succeeded', 'failed', 'cancelled'].includes(run['status'])) return run;
      if (Date.now() > deadline) throw new Error(`Run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function history(instanceId: string): Promise<Array<Record<string, any>>> {
    const response = await fetch(`${platform.host.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}?showHistory=true&showHistoryOutput=true`);
    return ((await response.json()) as { historyEvents: Array<Record<string, any>> }).historyEvents;
  }

  it('retries on the policy rhythm, then the breaker opens after five consecutive failures and fails fast', async () => {
    await publish('breaker', {
      schemaVersion: 1,
      name: 'Breaker',
      steps: [
        {
          id: 'call',
          type: 'action',
          connector: 'core',
          action: 'fail',
          inputs: { message: 'upstream busy', code: 'UPSTREAM.BUSY', kind: 'transient' },
          retry: { maxRetries: 6, intervalSeconds: 1, backoffCoefficient: 1 },
        },
      ],
    });
    const run = await runToEnd('breaker');
    expect(run['status']).toBe('failed');
    // Attempts 1-5 fail (transient, each counted by the breaker); attempt 6 finds it open and fails fast.
    expect(run['error']).toMatchObject({ code: 'CONNECTOR.CIRCUIT_OPEN', stepId: 'call' });
    expect(run['steps'][0]).toMatchObject({ stepId: 'call', status: 'failed', attempts: 6 });
    // The durable retry timers follow the policy: 1 s between attempts (coefficient 1).
    const events = await history(`${run['id']}:call`);
    const delays = events.filter((event) => event['EventType'] === 'TimerCreated').map((event) => Date.parse(event['FireAt']) - Date.parse(event['Timestamp']));
    expect(delays).toHaveLength(5);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(990);
      expect(delay).toBeLessThan(1_100);
    }
  }, 60_000);

  it('stores an output above 64 KB as an artifact, keeps it out of the history, and later steps read it', async () => {
    await publish(
      'bulky',
      {
      schemaVersion: 1,
      name: 'Bulky',
      inputs: { type: 'object', properties: { blob: { type: 'string' } } },
      steps: [
        { id: 'big', type: 'action', connector: 'core', action: 'set', inputs: { value: { $expr: 'inputs.blob' } } },
        { id: 'copy', type: 'action', dependsOn: ['big'], connector: 'core', action: 'set', inputs: { value: { $expr: 'steps.big.output' } } },
      ],
      },
      BULKY,
    );
    const blob = 'x'.repeat(70 * 1024);
    const run = await runToEnd('bulky', { blob }, BULKY);
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    const [big, copy] = ['big', 'copy'].map((id) => (run['steps'] as Array<Record<string, any>>).find((step) => step['stepId'] === id)!);
    expect(big!['output']).toBeNull();
    expect(big!['outputRef'].startsWith(`artifact://${BULKY}/`)).toBe(true);
    // The second step received the content (not the reference): its output is the same 70 KB, stored again
    // with the same content hash in its name.
    const contentName = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);
    expect(copy!['outputRef']).toMatch(/\/copy\/output-/);
    expect(contentName(copy!['outputRef'])).toBe(contentName(big!['outputRef']));
    // What the step returned into the history is the small reference, not the 70 KB (its input, the run input,
    // is in the history as any input is).
    const completed = (await history(`${run['id']}:big`)).filter((event) => event['EventType'] === 'TaskCompleted');
    expect(completed).toHaveLength(1);
    const result = JSON.stringify(completed[0]!['Result']);
    expect(result).toContain('$artifact');
    expect(result.length).toBeLessThan(1024);
  }, 60_000);
});
