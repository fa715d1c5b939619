import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../shared/domain/workflow-language/index.js';
import { type Platform, startPlatform } from '../api/platform.js';

/**
 * Runs end to end on the embedded host: HTTP start → the tier's Service Bus queue → the dispatcher → the
 * runWorkflow orchestration → executeStep activities → the run's final status, output and steps.
 */
describe('workflow runs', () => {
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform();
    await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: 'runner', name: 'Runner', tier: 'premium' } });
    token = await platform.token('Tenant.Admin', 'runner');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function publish(id: string, definition: unknown): Promise<void> {
    const created = await platform.call('POST', '/api/tenants/runner/workflows', { token, body: { id, name: id, definition } });
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await platform.call('POST', `/api/tenants/runner/workflows/${id}/versions`, { token })).status).toBe(201);
  }

  async function runToEnd(workflowId: string, input: unknown = {}, timeoutMs = 20_000): Promise<Record<string, any>> {
    const started = await platform.call('POST', `/api/tenants/runner/workflows/${workflowId}/runs`, { token, body: { input } });
    expect(started.status).toBe(202);
    const location = started.headers.get('location')!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = (await (await platform.call('GET', location, { token })).json()) as Record<string, any>;
      if (['succeeded', 'failed', 'cancelled'].includes(run['status'])) return run;
      if (Date.now() > deadline) throw new Error(`Run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('runs the sequence example to success with its output and every step recorded', async () => {
    await publish('sequence', EXAMPLES.sequence);
    const run = await runToEnd('sequence', { name: 'Ada' });
    expect(run['status']).toBe('succeeded');
    expect(run['output']).toEqual({ greeting: 'Hello, Ada!' });
    expect(run['startedAt']).toBeTruthy();
    expect((run['steps'] as Array<{ stepId: string; status: string; attempts: number }>).map((s) => [s.stepId, s.status]).sort()).toEqual([
      ['finish', 'succeeded'],
      ['logGreeting', 'succeeded'],
      ['makeGreeting', 'succeeded'],
    ]);
  });

  // Every example except those that wait for an event or an approval (they need someone to answer).
  for (const name of ['parallelBranches', 'condition', 'delay', 'errorHandling'] as const) {
    it(`runs the ${name} example to success as published, with no input beyond its defaults`, async () => {
      const id = name.toLowerCase();
      await publish(id, EXAMPLES[name]);
      const run = await runToEnd(id);
      expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    });
  }

  it('fails the run with the step error code on a permanent failure, without retrying it', async () => {
    await publish('fails', { schemaVersion: 1, name: 'Fails', steps: [{ id: 'boom', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'no way', code: 'ORDER.REJECTED' } }] });
    const run = await runToEnd('fails');
    expect(run['status']).toBe('failed');
    expect(run['error']).toMatchObject({ code: 'ORDER.REJECTED', stepId: 'boom' });
    expect(run['steps'][0]).toMatchObject({ stepId: 'boom', status: 'failed', attempts: 1 });
  });

  it('retries a transient failure per the step policy, then fails', async () => {
    await publish('flaky', {
      schemaVersion: 1,
      name: 'Flaky',
      steps: [{ id: 'call', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'try later', code: 'UPSTREAM.BUSY', kind: 'transient' }, retry: { maxRetries: 1, intervalSeconds: 1 } }],
    });
    const run = await runToEnd('flaky');
    expect(run['status']).toBe('failed');
    expect(run['error']).toMatchObject({ code: 'UPSTREAM.BUSY' });
    expect(run['steps'][0]).toMatchObject({ attempts: 2 });
  });
});

describe('per-tenant concurrency', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('defers runs beyond maxConcurrentRuns instead of dropping them; all complete, never more than the limit at once', async () => {
    const admin = await platform.token('Platform.Admin');
    await platform.call('POST', '/api/tenants', { token: admin, body: { id: 'narrow', name: 'Narrow', tier: 'basic', quotas: { maxConcurrentRuns: 1 } } });
    const token = await platform.token('Tenant.Admin', 'narrow');
    const definition = { schemaVersion: 1, name: 'Slow', steps: [{ id: 'wait', type: 'delay', durationSeconds: 1 }] };
    await platform.call('POST', '/api/tenants/narrow/workflows', { token, body: { id: 'slow', name: 'Slow', definition } });
    await platform.call('POST', '/api/tenants/narrow/workflows/slow/versions', { token });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await (await platform.call('POST', '/api/tenants/narrow/workflows/slow/runs', { token, body: {} })).json()) as { id: string }).id);
    let maxRunning = 0;
    const deadline = Date.now() + 45_000;
    for (;;) {
      const runs = ((await (await platform.call('GET', '/api/tenants/narrow/runs', { token })).json()) as { items: Array<{ id: string; status: string }> }).items;
      maxRunning = Math.max(maxRunning, runs.filter((run) => run.status === 'running').length);
      if (runs.length === 3 && runs.every((run) => run.status === 'succeeded')) break;
      if (Date.now() > deadline) throw new Error(`Runs did not all finish: ${JSON.stringify(runs)}`);
      // The basic tier allows 5 requests/s: poll below that.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(maxRunning).toBe(1);
  }, 60_000);
});
