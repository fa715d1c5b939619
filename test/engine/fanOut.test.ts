import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../shared/domain/workflow-language/index.js';
import { type Platform, startPlatform } from '../api/platform.js';

type StepRow = { stepId: string; iteration: number | null; status: string; output: unknown; error: { code: string } | null };

/**
 * forEach steps (iterations as sub-orchestrations, in waves of at most `concurrency`) and subWorkflow steps
 * (child runs as runWorkflow sub-orchestrations), end to end on the embedded host.
 */
describe('forEach and sub-workflow runs', () => {
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform();
    await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: 'fanout', name: 'Fan out', tier: 'premium' } });
    token = await platform.token('Tenant.Admin', 'fanout');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function publish(id: string, definition: unknown, times = 1): Promise<void> {
    const created = await platform.call('POST', '/api/tenants/fanout/workflows', { token, body: { id, name: id, definition } });
    expect(created.status, await created.clone().text()).toBe(201);
    for (let i = 0; i < times; i++) {
      const published = await platform.call('POST', `/api/tenants/fanout/workflows/${id}/versions`, { token });
      expect(published.status, await published.clone().text()).toBe(201);
    }
  }

  async function getRun(runId: string): Promise<Record<string, any>> {
    const response = await platform.call('GET', `/api/tenants/fanout/runs/${encodeURIComponent(runId)}`, { token });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Record<string, any>;
  }

  async function runToEnd(workflowId: string, input: unknown = {}, timeoutMs = 30_000): Promise<Record<string, any>> {
    const started = await platform.call('POST', `/api/tenants/fanout/workflows/${workflowId}/runs`, { token, body: { input } });
    expect(started.status, await started.clone().text()).toBe(202);
    const location = started.headers.get('location')!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = (await (await platform.call('GET', location, { token })).json()) as Record<string, any>;
      if (['succeeded', 'failed', 'cancelled'].includes(run['status'])) return run;
      if (Date.now() > deadline) throw new Error(`Run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('runs the forEach example to success, the outputs in item order and every iteration step recorded', async () => {
    await publish('foreach', EXAMPLES.forEach);
    const lines = [
      { sku: 'A-1', quantity: 2, price: 9.5 },
      { sku: 'B-2', quantity: 1, price: 20 },
      { sku: 'C-3', quantity: 100, price: 7 },
      { sku: 'D-4', quantity: 3, price: 1 },
      { sku: 'E-5', quantity: 1, price: 0 },
      { sku: 'F-6', quantity: 60, price: 10 },
      { sku: 'G-7', quantity: 4, price: 2.5 },
    ];
    const run = await runToEnd('foreach', { lines });
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    expect(run['output']).toEqual({
      lines: [
        { sku: 'A-1', total: 19 },
        { sku: 'B-2', total: 20 },
        { sku: 'C-3', total: 700 },
        { sku: 'D-4', total: 3 },
        { sku: 'E-5', total: 0 },
        { sku: 'F-6', total: 600 },
        { sku: 'G-7', total: 10 },
      ],
      largeLines: ['C-3', 'F-6'],
    });
    const steps = run['steps'] as StepRow[];
    const of = (stepId: string): Array<[number | null, string]> =>
      steps
        .filter((s) => s.stepId === stepId)
        .map((s): [number | null, string] => [s.iteration, s.status])
        .sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1));
    expect(of('lineTotal')).toEqual(lines.map((_, i) => [i, 'succeeded']));
    expect(of('logTotals')).toEqual(lines.map((_, i) => [i, 'succeeded']));
    // flagLarge runs only for the large lines (its condition skips it elsewhere).
    expect(of('flagLarge')).toEqual([
      [2, 'succeeded'],
      [5, 'succeeded'],
    ]);
  });

  it('runs the forEach example with its default input', async () => {
    const run = await runToEnd('foreach');
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    expect(run['output']).toEqual({ lines: [{ sku: 'A-1', total: 19 }, { sku: 'B-2', total: 20 }], largeLines: [] });
  });

  it('fails a forEach (concurrency 2, 5 items) with the lowest failed iteration error, starting no iteration after the failing wave', async () => {
    await publish('foreach-fails', {
      schemaVersion: 1,
      name: 'forEach that fails',
      steps: [
        {
          id: 'each',
          type: 'forEach',
          items: ['a', 'b', 'c', 'd', 'e'],
          concurrency: 2,
          steps: [
            { id: 'echo', type: 'action', connector: 'core', action: 'set', inputs: { value: { $expr: 'item' } } },
            {
              id: 'boom',
              type: 'action',
              dependsOn: ['echo'],
              condition: { $expr: 'item == "c" || item == "d"' },
              connector: 'core',
              action: 'fail',
              inputs: { message: { $expr: '"bad item " + item' }, code: { $expr: 'item == "c" ? "ITEM.C_BAD" : "ITEM.D_BAD"' } },
            },
          ],
        },
      ],
    });
    const run = await runToEnd('foreach-fails');
    expect(run['status']).toBe('failed');
    expect(run['error']).toMatchObject({ code: 'ITEM.C_BAD', stepId: 'each' });
    expect(run['error'].message).toContain('iteration 2');
    expect(run['error'].message).toContain('bad item c');
    const steps = run['steps'] as StepRow[];
    const echoed = steps.filter((s) => s.stepId === 'echo').map((s) => s.iteration).sort();
    // Waves [0, 1], then [2, 3] (both fail): item 4 never starts.
    expect(echoed).toEqual([0, 1, 2, 3]);
    expect(steps.filter((s) => s.stepId === 'boom').map((s) => [s.iteration, s.status, s.error?.code]).sort()).toEqual([
      [2, 'failed', 'ITEM.C_BAD'],
      [3, 'failed', 'ITEM.D_BAD'],
    ]);
  });

  it('runs the subWorkflow example to success: a pinned version and the latest, each as a recorded child run', async () => {
    await publish(
      'invoice-customers',
      {
        schemaVersion: 1,
        name: 'Invoice customers',
        inputs: { type: 'object', required: ['period'], properties: { period: { type: 'string' }, dryRun: { type: 'boolean', default: true } } },
        steps: [{ id: 'invoice', type: 'action', connector: 'core', action: 'set', inputs: { value: { $expr: '"Invoices for " + inputs.period' } } }],
        outputs: { count: 3, period: { $expr: 'inputs.period' }, dryRun: { $expr: 'inputs.dryRun' } },
      },
      3,
    );
    await publish('notify-finance', {
      schemaVersion: 1,
      name: 'Notify finance',
      inputs: { type: 'object', required: ['subject'], properties: { subject: { type: 'string' }, count: { type: 'integer' } } },
      steps: [{ id: 'notify', type: 'action', connector: 'core', action: 'log', inputs: { message: { $expr: 'inputs.subject + ": " + string(inputs.count)' } } }],
      outputs: { sent: { $expr: 'inputs.subject' } },
    });
    await publish('subworkflow', EXAMPLES.subWorkflow);
    const run = await runToEnd('subworkflow', { month: '2026-12' });
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    expect(run['output']).toEqual({ invoices: 3 });

    const invoice = await getRun(`${run['id']}:invoice:sub`);
    expect(invoice).toMatchObject({
      workflowId: 'invoice-customers',
      workflowVersion: 3,
      status: 'succeeded',
      trigger: { kind: 'api', source: `run:${run['id']}` },
      input: { period: '2026-12', dryRun: false },
      output: { count: 3, period: '2026-12', dryRun: false },
    });
    const notify = await getRun(`${run['id']}:notify:sub`);
    expect(notify).toMatchObject({ workflowId: 'notify-finance', workflowVersion: 1, status: 'succeeded', output: { sent: 'Invoices for 2026-12' } });
    expect(notify['steps']).toEqual([expect.objectContaining({ stepId: 'notify', status: 'succeeded' })]);
  });

  it('fails a subWorkflow step that points at a missing workflow or version with a clear code', async () => {
    await publish('calls-v9', {
      schemaVersion: 1,
      name: 'Calls a missing version',
      steps: [{ id: 'child', type: 'subWorkflow', workflowId: 'notify-finance', version: 9, inputs: { subject: 'x' } }],
    });
    const missingVersion = await runToEnd('calls-v9');
    expect(missingVersion['status']).toBe('failed');
    expect(missingVersion['error']).toMatchObject({ code: 'WORKFLOW.VERSION_NOT_FOUND', stepId: 'child' });

    // A workflow deleted after the caller was saved.
    await publish('doomed', { schemaVersion: 1, name: 'Doomed', steps: [{ id: 'hello', type: 'action', connector: 'core', action: 'noop', inputs: {} }] });
    await publish('calls-doomed', {
      schemaVersion: 1,
      name: 'Calls a deleted workflow',
      steps: [{ id: 'child', type: 'subWorkflow', workflowId: 'doomed', version: 'latest', inputs: {} }],
    });
    expect((await platform.call('DELETE', '/api/tenants/fanout/workflows/doomed', { token })).status).toBe(204);
    const missing = await runToEnd('calls-doomed');
    expect(missing['status']).toBe('failed');
    expect(missing['error']).toMatchObject({ code: 'WORKFLOW.NOT_FOUND', stepId: 'child' });
  });

  it('fails the step with the child error code when the child run fails', async () => {
    await publish('child-fails', {
      schemaVersion: 1,
      name: 'Child that fails',
      steps: [{ id: 'boom', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'no way', code: 'ORDER.REJECTED' } }],
    });
    await publish('calls-failing-child', {
      schemaVersion: 1,
      name: 'Calls a failing child',
      steps: [{ id: 'child', type: 'subWorkflow', workflowId: 'child-fails', version: 'latest', inputs: {} }],
    });
    const run = await runToEnd('calls-failing-child');
    expect(run['status']).toBe('failed');
    expect(run['error']).toMatchObject({ code: 'ORDER.REJECTED', stepId: 'child' });
    expect((await getRun(`${run['id']}:child:sub`))['status']).toBe('failed');
  });
});
