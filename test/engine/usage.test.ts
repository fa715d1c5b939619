import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../shared/domain/workflow-language/index.js';
import { type Platform, startPlatform } from '../api/platform.js';

/**
 * Run usage end to end on the embedded host: the finalizeRun activity records, with the run's final status,
 * the steps executed, duration, bytes and connector calls, and GET run returns them as `usage`.
 */
describe('run usage', () => {
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform();
    const created = await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: 'usage', name: 'Usage', tier: 'premium' } });
    expect(created.status, await created.clone().text()).toBe(201);
    token = await platform.token('Tenant.Admin', 'usage');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function publish(id: string, definition: unknown): Promise<void> {
    const created = await platform.call('POST', '/api/tenants/usage/workflows', { token, body: { id, name: id, definition } });
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await platform.call('POST', `/api/tenants/usage/workflows/${id}/versions`, { token })).status).toBe(201);
  }

  async function runToEnd(workflowId: string, input: unknown = {}, timeoutMs = 20_000): Promise<Record<string, any>> {
    const started = await platform.call('POST', `/api/tenants/usage/workflows/${workflowId}/runs`, { token, body: { input } });
    expect(started.status, await started.clone().text()).toBe(202);
    const location = started.headers.get('location')!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = (await (await platform.call('GET', location, { token })).json()) as Record<string, any>;
      if (['succeeded', 'failed', 'cancelled'].includes(run['status'])) return run;
      expect(run['usage']).toBeNull();
      if (Date.now() > deadline) throw new Error(`Run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('records the usage of a run of the sequence example: 3 steps, 3 connector calls, its duration and bytes', async () => {
    await publish('sequence', EXAMPLES.sequence);
    const run = await runToEnd('sequence', { name: 'Ada' });
    expect(run['status']).toBe('succeeded');
    const usage = run['usage'] as Record<string, number>;
    expect(usage).toMatchObject({ stepsExecuted: 3, connectorCalls: 3 });
    expect(usage['durationMs']).toBeGreaterThan(0);
    expect(usage['durationMs']).toBeLessThanOrEqual(Date.parse(run['completedAt']) - Date.parse(run['startedAt']) + 1);
    // Input {"name":"Ada"} (14) + output {"greeting":"Hello, Ada!"} (26) + makeGreeting's "Hello, Ada!" (13); log and noop output null.
    expect(usage['bytes']).toBe(14 + 26 + 13);
    expect(Date.parse(String(usage['recordedAt']))).not.toBeNaN();
  });

  it('counts retries as connector calls, a failed run too, and a claim-checked output by its artifact size', async () => {
    await publish('flaky', {
      schemaVersion: 1,
      name: 'Flaky',
      steps: [
        { id: 'big', type: 'action', connector: 'core', action: 'set', inputs: { value: { $expr: 'inputs.blob' } } },
        { id: 'call', type: 'action', dependsOn: ['big'], connector: 'core', action: 'fail', inputs: { message: 'try later', code: 'UPSTREAM.BUSY', kind: 'transient' }, retry: { maxRetries: 1, intervalSeconds: 1 } },
      ],
    });
    const blob = 'x'.repeat(100_000);
    const run = await runToEnd('flaky', { blob });
    expect(run['status']).toBe('failed');
    const big = (run['steps'] as Array<Record<string, unknown>>).find((step) => step['stepId'] === 'big')!;
    expect(big['outputRef']).toEqual(expect.stringMatching(/^artifact:\/\//));
    expect(big['output']).toBeNull();
    // big once + call twice (one retry).
    expect(run['usage']).toMatchObject({ stepsExecuted: 2, connectorCalls: 3 });
    // The input ({"blob":"xxx…"}) and the artifact ("xxx…"): 100 011 + 100 002 bytes (no output: the run failed).
    expect(run['usage']['bytes']).toBe(100_011 + 100_002);
  }, 30_000);
});
