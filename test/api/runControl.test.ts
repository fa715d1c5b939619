import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../shared/domain/workflow-language/index.js';
import { type Platform, startPlatform } from './platform.js';

/**
 * Run control end to end on the embedded host: events resuming waiting steps (waitForEvent, approval), cancel,
 * retry, and tenant isolation of all three.
 */
describe('run control', () => {
  let platform: Platform;
  let admin: string;
  let user: string;
  let otherAdmin: string;

  beforeAll(async () => {
    platform = await startPlatform();
    const platformAdmin = await platform.token('Platform.Admin');
    for (const id of ['ctl-a', 'ctl-b']) {
      const created = await platform.call('POST', '/api/tenants', { token: platformAdmin, body: { id, name: id, tier: 'premium' } });
      expect(created.status, await created.clone().text()).toBe(201);
    }
    admin = await platform.token('Tenant.Admin', 'ctl-a');
    user = await platform.token('Tenant.User', 'ctl-a');
    otherAdmin = await platform.token('Tenant.Admin', 'ctl-b');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const base = '/api/tenants/ctl-a';

  async function publish(id: string, definition: unknown): Promise<void> {
    const created = await platform.call('POST', `${base}/workflows`, { token: admin, body: { id, name: id, definition } });
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await platform.call('POST', `${base}/workflows/${id}/versions`, { token: admin })).status).toBe(201);
  }

  async function start(workflowId: string, input: unknown = {}): Promise<string> {
    const started = await platform.call('POST', `${base}/workflows/${workflowId}/runs`, { token: admin, body: { input } });
    expect(started.status).toBe(202);
    return ((await started.json()) as { id: string }).id;
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

  /** Sends the event, retrying while the step is not waiting yet (EVENT.NOT_EXPECTED). */
  async function sendEvent(runId: string, name: string, body: unknown, token = admin, timeoutMs = 15_000, query = ''): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await platform.call('POST', `${base}/runs/${runId}/events/${encodeURIComponent(name)}${query}`, { token, ...(body === undefined ? {} : { body }) });
      if (response.status !== 404 || Date.now() > deadline) return response;
      const problem = (await response.clone().json()) as { code: string };
      if (problem.code !== 'EVENT.NOT_EXPECTED') return response;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function durableStatus(instanceId: string): Promise<string | undefined> {
    const response = await fetch(`${platform.host.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`);
    // 200 for a finished instance, 202 while it runs.
    if (response.status !== 200 && response.status !== 202) return undefined;
    return ((await response.json()) as { runtimeStatus: string }).runtimeStatus;
  }

  const gate = { schemaVersion: 1, name: 'Gate', steps: [{ id: 'gate', type: 'waitForEvent', event: 'go', timeoutSeconds: 3600 }], outputs: { got: { $expr: 'steps.gate.output' } } };

  it('resumes a waitForEvent step through the events endpoint', async () => {
    await publish('payment', EXAMPLES.waitForEvent);
    const runId = await start('payment', { orderId: 'o-7' });
    // The step waits with the correlation key inputs.orderId: an event of another order (or none) does not resume it.
    const deadline = Date.now() + 15_000;
    while ((await durableStatus(`${runId}:awaitPayment`)) !== 'Running' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const otherOrder = await platform.call('POST', `${base}/runs/${runId}/events/payment.received?correlationKey=o-8`, { token: user, body: { amount: 1 } });
    expect(((await otherOrder.json()) as { code: string }).code).toBe('EVENT.NOT_EXPECTED');
    const unkeyed = await platform.call('POST', `${base}/runs/${runId}/events/payment.received`, { token: user, body: { amount: 1 } });
    expect(((await unkeyed.json()) as { code: string }).code).toBe('EVENT.NOT_EXPECTED');
    const raised = await sendEvent(runId, 'payment.received', { amount: 42 }, user, 15_000, '?correlationKey=o-7');
    expect(raised.status, await raised.clone().text()).toBe(202);
    expect(((await raised.json()) as { deliveredTo: unknown }).deliveredTo).toEqual([{ waitId: 'awaitPayment', stepId: 'awaitPayment' }]);
    const run = await waitForStatus(runId, ['succeeded', 'failed', 'cancelled']);
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    expect(run['steps'].map((s: { stepId: string; status: string }) => [s.stepId, s.status])).toContainEqual(['ship', 'succeeded']);
    // The run is finished: no more events.
    const late = await platform.call('POST', `${base}/runs/${runId}/events/payment.received`, { token: admin, body: {} });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { code: string }).code).toBe('RUN.NOT_RUNNING');
  });

  it('validates event names and answers EVENT.NOT_EXPECTED for an event no step waits for', async () => {
    await publish('gate', gate);
    const runId = await start('gate');
    const digits = await platform.call('POST', `${base}/runs/${runId}/events/12345`, { token: admin });
    expect(digits.status).toBe(400);
    const unknown = await platform.call('POST', `${base}/runs/${runId}/events/nobody.waits`, { token: admin, body: {} });
    expect(unknown.status).toBe(404);
    const problem = (await unknown.json()) as { code: string; status: number };
    expect(problem).toMatchObject({ code: 'EVENT.NOT_EXPECTED', status: 404 });
    const missing = await platform.call('POST', `${base}/runs/00000000-0000-0000-0000-000000000000/events/go`, { token: admin });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('RUN.NOT_FOUND');
    expect((await sendEvent(runId, 'go', { ok: true })).status).toBe(202);
    const run = await waitForStatus(runId, ['succeeded', 'failed']);
    expect(run['output']).toEqual({ got: { ok: true } });
  });

  it('decides an approval through the endpoint: approvers only (Tenant.Admin), the decision as the step output', async () => {
    await publish('refund', EXAMPLES.approval);
    const runId = await start('refund');
    // Wait until the step waits (a valid approver gets past EVENT.NOT_EXPECTED), then check a non-approver first.
    await waitForStatus(runId, ['running']);
    const badBody = await sendEvent(runId, 'approval:review', { decision: 'maybe' });
    expect(badBody.status, await badBody.clone().text()).toBe(400);
    const byUser = await platform.call('POST', `${base}/runs/${runId}/events/approval:review`, { token: user, body: { decision: 'approved' } });
    expect(byUser.status).toBe(403);
    const approved = await sendEvent(runId, 'approval:review', { decision: 'approved', comment: 'fine' });
    expect(approved.status, await approved.clone().text()).toBe(202);
    const run = await waitForStatus(runId, ['succeeded', 'failed']);
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    expect(run['output']).toEqual({ decision: 'approved' });
    expect(run['steps'].map((s: { stepId: string; status: string }) => [s.stepId, s.status])).toContainEqual(['refund', 'succeeded']);
  });

  it('cancels a run waiting for an event: cancelled, its orchestrations terminated, later events refused', async () => {
    const runId = await start('gate');
    await waitForStatus(runId, ['running']);
    // Make sure the step waits (its sub-orchestration runs) before cancelling.
    for (let i = 0; i < 100 && (await durableStatus(`${runId}:gate`)) !== 'Running'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await durableStatus(`${runId}:gate`)).toBe('Running');
    const cancelled = await platform.call('POST', `${base}/runs/${runId}:cancel`, { token: user });
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    expect(((await cancelled.json()) as { status: string }).status).toBe('cancelled');
    const run = await getRun(runId);
    expect(run['status']).toBe('cancelled');
    expect(run['completedAt']).toBeTruthy();
    expect(await durableStatus(runId)).toBe('Terminated');
    expect(await durableStatus(`${runId}:gate`)).toBe('Terminated');
    const late = await platform.call('POST', `${base}/runs/${runId}/events/go`, { token: admin, body: {} });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { code: string }).code).toBe('RUN.NOT_RUNNING');
    // Idempotent.
    const again = await platform.call('POST', `${base}/runs/${runId}:cancel`, { token: admin });
    expect(again.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await getRun(runId))['status']).toBe('cancelled');
    // The audit log has the cancel.
    const audit = await platform.call('GET', `${base}/audit?action=run.cancel`, { token: admin });
    expect(audit.status).toBe(200);
    const entries = ((await audit.json()) as { items: Array<{ action: string; target: unknown; outcome: string }> }).items;
    expect(entries).toContainEqual(expect.objectContaining({ action: 'run.cancel', target: { type: 'run', id: runId }, outcome: 'success' }));
  });

  it('cancels the whole tree: forEach iterations and child runs below the run stop too, the child run is cancelled', async () => {
    await publish('tree', {
      schemaVersion: 1,
      name: 'Tree',
      steps: [
        { id: 'each', type: 'forEach', items: [1, 2], concurrency: 2, steps: [{ id: 'pause', type: 'delay', durationSeconds: 3600 }] },
        { id: 'child', type: 'subWorkflow', workflowId: 'gate', version: 'latest' },
      ],
    });
    const runId = await start('tree');
    const below = async (): Promise<Array<{ instanceId: string; runtimeStatus: string }>> =>
      (await (await fetch(`${platform.host.baseUrl}/runtime/webhooks/durabletask/instances?instanceIdPrefix=${encodeURIComponent(`${runId}:`)}&showInput=false`)).json()) as Array<{ instanceId: string; runtimeStatus: string }>;
    const running = async (): Promise<string[]> => (await below()).filter((instance) => ['Running', 'Pending'].includes(instance.runtimeStatus)).map((instance) => instance.instanceId);
    const childRunId = `${runId}:child:sub`;
    // Wait until the tree is deep: both iterations, the child run and the child's waiting step.
    for (let i = 0; i < 100; i++) {
      const ids = await running();
      if (ids.includes(`${childRunId}:gate`) && ids.filter((id) => id.startsWith(`${runId}:each:`)).length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const before = await running();
    expect(before).toContain(`${childRunId}:gate`);
    expect(before.filter((id) => id.startsWith(`${runId}:each:`)).length).toBeGreaterThanOrEqual(2);

    const cancelled = await platform.call('POST', `${base}/runs/${runId}:cancel`, { token: admin });
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    expect(await running()).toEqual([]);
    expect((await below()).filter((instance) => before.includes(instance.instanceId)).every((instance) => instance.runtimeStatus === 'Terminated')).toBe(true);
    const child = await getRun(childRunId);
    expect(child['status']).toBe('cancelled');
    expect(child['steps'].find((step: { stepId: string }) => step.stepId === 'gate')?.status ?? 'cancelled').toBe('cancelled');
  });

  it('retries a failed run as a new run with trigger retry; the original stays failed', async () => {
    await publish('boom', { schemaVersion: 1, name: 'Boom', steps: [{ id: 'boom', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'no', code: 'ORDER.REJECTED' } }] });
    const runId = await start('boom', {});
    const failed = await waitForStatus(runId, ['failed', 'succeeded']);
    expect(failed['status']).toBe('failed');
    const badBody = await platform.call('POST', `${base}/runs/${runId}:retry`, { token: admin, body: { from: 'somewhere' } });
    expect(badBody.status).toBe(400);
    const retried = await platform.call('POST', `${base}/runs/${runId}:retry`, { token: user, body: { version: 'latest' } });
    expect(retried.status, await retried.clone().text()).toBe(202);
    const location = retried.headers.get('location')!;
    const created = (await retried.json()) as { id: string; trigger: unknown };
    expect(created.id).not.toBe(runId);
    expect(location).toBe(`${base}/runs/${created.id}`);
    expect(created.trigger).toEqual({ kind: 'retry', source: runId });
    const second = await waitForStatus(created.id, ['failed', 'succeeded']);
    expect(second['status']).toBe('failed');
    expect(second['trigger']).toEqual({ kind: 'retry', source: runId });
    const original = await getRun(runId);
    expect(original['status']).toBe('failed');
    expect(original['completedAt']).toBe(failed['completedAt']);
    const audit = await platform.call('GET', `${base}/audit?action=run.retry`, { token: admin });
    const outcomes = ((await audit.json()) as { items: Array<{ target: { id: string }; outcome: string; errorCode: string | null }> }).items.filter((e) => e.target.id === runId);
    expect(outcomes.map((e) => [e.outcome, e.errorCode]).sort()).toEqual([['failure', 'REQUEST.INVALID'], ['success', null]]);
    // Succeeded runs cannot be cancelled.
    const done = await start('payment');
    expect((await sendEvent(done, 'payment.received', { amount: 1 }, admin, 15_000, '?correlationKey=o-1001')).status).toBe(202);
    await waitForStatus(done, ['succeeded']);
    const cancel = await platform.call('POST', `${base}/runs/${done}:cancel`, { token: admin });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as { code: string }).code).toBe('RUN.NOT_RUNNING');
  });

  it('routes events into forEach iterations by correlation key, and collects minApprovals distinct approvals in a child run', async () => {
    await publish('second-opinion', {
      schemaVersion: 1,
      name: 'Second opinion',
      steps: [{ id: 'review', type: 'approval', approvers: { roles: ['Tenant.Admin'] }, minApprovals: 2, timeoutSeconds: 600 }],
      outputs: { review: { $expr: 'steps.review.output' } },
    });
    await publish('batch', {
      schemaVersion: 1,
      name: 'Batch',
      inputs: { type: 'object', properties: { orders: { type: 'array', items: { type: 'string' }, default: ['a-1', 'b-2'] } } },
      steps: [
        { id: 'each', type: 'forEach', items: { $expr: 'inputs.orders' }, concurrency: 2, steps: [{ id: 'confirm', type: 'waitForEvent', event: 'order.confirmed', correlationKey: { $expr: 'item' }, timeoutSeconds: 600 }], output: { $expr: 'steps.confirm.output' } },
        { id: 'opinion', type: 'subWorkflow', dependsOn: ['each'], workflowId: 'second-opinion', version: 'latest' },
      ],
      outputs: { confirmations: { $expr: 'steps.each.output' }, review: { $expr: 'steps.opinion.output.review' } },
    });
    const runId = await start('batch');
    // Each iteration takes only the event with its own key, whatever the order they are raised in.
    const second = await sendEvent(runId, 'order.confirmed', { by: 'b' }, user, 15_000, '?correlationKey=b-2');
    expect(second.status, await second.clone().text()).toBe(202);
    expect(((await second.json()) as { deliveredTo: unknown }).deliveredTo).toEqual([{ waitId: 'each:1:confirm', stepId: 'confirm' }]);
    expect((await sendEvent(runId, 'order.confirmed', { by: 'a' }, user, 15_000, '?correlationKey=a-1')).status).toBe(202);
    // The approval inside the child run: two distinct Tenant.Admins; the first cannot vote twice, a Tenant.User not at all.
    const first = await sendEvent(runId, 'approval:review', { decision: 'approved', comment: 'looks right' });
    expect(first.status, await first.clone().text()).toBe(202);
    expect(((await first.json()) as { deliveredTo: Array<{ waitId: string }> }).deliveredTo[0]!.waitId).toBe('opinion:sub:review');
    const again = await sendEvent(runId, 'approval:review', { decision: 'approved' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('APPROVAL.ALREADY_DECIDED');
    expect((await sendEvent(runId, 'approval:review', { decision: 'approved' }, user)).status).toBe(403);
    const colleague = await platform.token('Tenant.Admin', 'ctl-a', { subject: 'colleague' });
    expect((await sendEvent(runId, 'approval:review', { decision: 'approved', comment: 'agreed' }, colleague)).status).toBe(202);
    const run = await waitForStatus(runId, ['succeeded', 'failed']);
    expect(run['status'], JSON.stringify(run['error'])).toBe('succeeded');
    expect(run['output']['confirmations']).toEqual([{ by: 'a' }, { by: 'b' }]);
    expect(run['output']['review']).toMatchObject({ decision: 'approved', comment: 'agreed', approvals: [{ decision: 'approved', comment: 'looks right' }, { by: expect.stringMatching(/:colleague$/), decision: 'approved', comment: 'agreed' }] });
  });

  it('isolates tenants: tenant B cannot send events to, cancel or retry tenant A runs', async () => {
    const runId = await start('gate');
    await waitForStatus(runId, ['running']);
    for (const [route, body] of [
      [`/runs/${runId}/events/go`, {}],
      [`/runs/${runId}:cancel`, undefined],
      [`/runs/${runId}:retry`, {}],
    ] as const) {
      // Through tenant A's route with B's token, and through B's own route.
      const cross = await platform.call('POST', `${base}${route}`, { token: otherAdmin, ...(body ? { body } : {}) });
      expect(cross.status, route).toBe(404);
      const own = await platform.call('POST', `/api/tenants/ctl-b${route}`, { token: otherAdmin, ...(body ? { body } : {}) });
      expect(own.status, route).toBe(404);
    }
    expect((await getRun(runId))['status']).toBe('running');
    expect((await sendEvent(runId, 'go', { fine: true })).status).toBe(202);
    expect((await waitForStatus(runId, ['succeeded', 'failed']))['status']).toBe('succeeded');
  });
});
