import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from './platform.js';

/**
 * Retry from the failed step, end to end on the embedded host. The failure is real and needs no input or
 * version change to pass on the retry: step 2 waits for an event with a short timeout, which nobody sends on the
 * first run (STEP.TIMEOUT fails the run) and the test sends on the retry. Step 1 (an action) must keep its
 * recorded output and not run again; step 2 and step 3 (an action after it) must run.
 */
describe('retry from the failed step', () => {
  let platform: Platform;
  let admin: string;
  const base = '/api/tenants/resume';

  beforeAll(async () => {
    platform = await startPlatform();
    const created = await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: 'resume', name: 'Resume', tier: 'premium' } });
    expect(created.status, await created.clone().text()).toBe(201);
    admin = await platform.token('Tenant.Admin', 'resume');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function publish(id: string, definition: unknown, create = true): Promise<void> {
    if (create) {
      const created = await platform.call('POST', `${base}/workflows`, { token: admin, body: { id, name: id, definition } });
      expect(created.status, await created.clone().text()).toBe(201);
    }
    const published = await platform.call('POST', `${base}/workflows/${id}/versions`, { token: admin });
    expect(published.status, await published.clone().text()).toBe(201);
  }

  async function getRun(runId: string): Promise<Record<string, any>> {
    const response = await platform.call('GET', `${base}/runs/${runId}`, { token: admin });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, any>;
  }

  async function waitForStatus(runId: string, statuses: string[], timeoutMs = 20_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await getRun(runId);
      if (statuses.includes(run['status'])) return run;
      if (Date.now() > deadline) throw new Error(`Run did not reach ${statuses.join('/')}: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function sendEvent(runId: string, name: string, body: unknown, timeoutMs = 15_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await platform.call('POST', `${base}/runs/${runId}/events/${encodeURIComponent(name)}`, { token: admin, body });
      if (response.status !== 404 || Date.now() > deadline) return response;
      if (((await response.clone().json()) as { code: string }).code !== 'EVENT.NOT_EXPECTED') return response;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const definition = {
    schemaVersion: 1,
    name: 'Resumable',
    steps: [
      { id: 'prepare', type: 'action', connector: 'core', action: 'set', inputs: { value: { $expr: '"prepared for " + inputs.name' } } },
      { id: 'gate', type: 'waitForEvent', dependsOn: ['prepare'], event: 'go', timeoutSeconds: 2 },
      { id: 'finish', type: 'action', dependsOn: ['gate'], connector: 'core', action: 'set', inputs: { value: { $expr: 'steps.prepare.output + " / " + steps.gate.output.note' } } },
    ],
    outputs: { prepared: { $expr: 'steps.prepare.output' }, finished: { $expr: 'steps.finish.output' } },
  };

  it('starts the new run from the original state: the succeeded step keeps its output and does not run again', async () => {
    await publish('resumable', definition);
    const started = await platform.call('POST', `${base}/workflows/resumable/runs`, { token: admin, body: { input: { name: 'Ada' } } });
    expect(started.status).toBe(202);
    const originalId = ((await started.json()) as { id: string }).id;
    const original = await waitForStatus(originalId, ['failed', 'succeeded']);
    expect(original['status']).toBe('failed');
    expect(original['error']).toMatchObject({ code: 'STEP.TIMEOUT', stepId: 'gate' });
    const prepared = (original['steps'] as Array<Record<string, any>>).find((step) => step['stepId'] === 'prepare')!;
    expect(prepared).toMatchObject({ status: 'succeeded', attempts: 1, output: 'prepared for Ada' });
    expect(original['usage']).toMatchObject({ stepsExecuted: 2, connectorCalls: 1 });

    const retried = await platform.call('POST', `${base}/runs/${originalId}:retry`, { token: admin, body: { from: 'failedStep' } });
    expect(retried.status, await retried.clone().text()).toBe(202);
    const created = (await retried.json()) as { id: string; trigger: unknown; retryOf: string };
    expect(created.trigger).toEqual({ kind: 'retry', source: originalId });
    expect((await sendEvent(created.id, 'go', { note: 'approved' })).status).toBe(202);
    const resumed = await waitForStatus(created.id, ['failed', 'succeeded']);
    expect(resumed['status'], JSON.stringify(resumed['error'])).toBe('succeeded');
    // The carried-over output reached the steps after it and the outputs.
    expect(resumed['output']).toEqual({ prepared: 'prepared for Ada', finished: 'prepared for Ada / approved' });

    const steps = Object.fromEntries((resumed['steps'] as Array<Record<string, any>>).map((step) => [step['stepId'], step]));
    // Step 1 was not executed again: its record is the original's, unchanged (a new execution would have
    // counted attempt 2 and written a new completion time).
    expect(steps['prepare']).toEqual({ ...prepared, runId: created.id });
    // The steps from the failed one on ran: finish executed once, in this run.
    expect(steps['finish']).toMatchObject({ status: 'succeeded', attempts: 1, output: 'prepared for Ada / approved' });
    expect(Date.parse(steps['finish']['startedAt'])).toBeGreaterThanOrEqual(Date.parse(resumed['startedAt']));
    // This run's usage: gate and finish ran; one connector call (finish), none for prepare.
    expect(resumed['usage']).toMatchObject({ stepsExecuted: 2, connectorCalls: 1 });

    // The original stays as it was.
    const after = await getRun(originalId);
    expect(after['status']).toBe('failed');
    expect(after['completedAt']).toBe(original['completedAt']);
  }, 40_000);

  it('refuses a retry from the failed step on another version (400), and accepts one from the start', async () => {
    await publish('versioned', definition);
    const started = await platform.call('POST', `${base}/workflows/versioned/runs`, { token: admin, body: { input: { name: 'Bo' } } });
    const originalId = ((await started.json()) as { id: string }).id;
    expect((await waitForStatus(originalId, ['failed', 'succeeded']))['status']).toBe('failed');
    // 'latest' naming the pinned version is the pinned version: accepted.
    const same = await platform.call('POST', `${base}/runs/${originalId}:retry`, { token: admin, body: { from: 'failedStep', version: 'latest' } });
    expect(same.status, await same.clone().text()).toBe(202);
    await publish('versioned', definition, false);
    const other = await platform.call('POST', `${base}/runs/${originalId}:retry`, { token: admin, body: { from: 'failedStep', version: 'latest' } });
    expect(other.status).toBe(400);
    const problem = (await other.json()) as { code: string; detail: string };
    expect(problem.code).toBe('RUN.RETRY_FROM_STEP_UNSUPPORTED');
    expect(problem.detail).toMatch(/version 1 .*not on the latest \(2\)/);
    const fresh = await platform.call('POST', `${base}/runs/${originalId}:retry`, { token: admin, body: { from: 'start', version: 'latest' } });
    expect(fresh.status).toBe(202);
    // From the start nothing is carried over: every step runs again (prepare is executed, as attempt 1 of the new run).
    const freshId = ((await fresh.json()) as { id: string }).id;
    const freshRun = await waitForStatus(freshId, ['failed', 'succeeded']);
    expect(freshRun['usage']).toMatchObject({ stepsExecuted: 2, connectorCalls: 1 });
    const originalPrepare = ((await getRun(originalId))['steps'] as Array<Record<string, any>>).find((step) => step['stepId'] === 'prepare')!;
    const freshPrepare = (freshRun['steps'] as Array<Record<string, any>>).find((step) => step['stepId'] === 'prepare')!;
    expect(freshPrepare['attempts']).toBe(1);
    expect(freshPrepare['startedAt']).not.toBe(originalPrepare['startedAt']);
  }, 40_000);
});
