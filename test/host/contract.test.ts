import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';

/**
 * The embedded host's contract, checked end to end: a plain @azure/functions v4 app (test/fixtures/contract-app)
 * runs under the compiled `aiq-host` CLI, and every check goes through real HTTP, real timers and the real
 * SQLite broker. These are the prototype's checks, and more.
 */
const appDir = path.join(repoRoot, 'test', 'fixtures', 'contract-app');

type Observation = { kind: string } & Record<string, unknown>;

describe('embedded host contract (contract-app)', () => {
  let host: HostProcess;
  const url = (p: string): string => `${host.baseUrl}${p}`;
  const observations = async (kind: string): Promise<Observation[]> =>
    ((await (await fetch(url('/api/observations'))).json()) as Observation[]).filter((o) => o.kind === kind);

  beforeAll(async () => {
    host = await startHost({ appDir, args: ['--auth', 'enforce'] });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('prints the function table with routes, triggers and the indexing error', () => {
    const out = host.output();
    expect(out).toMatch(/getWorkflow: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/tenants\/\{tenantId\}\/workflows\/\{id:int\?\}/);
    expect(out).toMatch(/sweep: timerTrigger/);
    expect(out).toMatch(/processRun: serviceBusTrigger/);
    expect(out).toMatch(/reservedRoute: .*\(error\)/);
  });

  it('passes route values, joins repeated query keys and leaves an absent optional out', async () => {
    const withId = (await (await fetch(url('/api/tenants/acme/workflows/42?x=1&x=2&empty='))).json()) as Record<string, any>;
    expect(withId.params).toEqual({ tenantId: 'acme', id: '42' });
    expect(withId.query).toEqual({ x: '1,2', empty: '' });
    expect(withId.traceParent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const list = (await (await fetch(url('/api/tenants/acme/workflows'))).json()) as Record<string, any>;
    expect(list.params).toEqual({ tenantId: 'acme' });
  });

  it('matches literals case-insensitively with a trailing slash; constraint and method misses are 404', async () => {
    expect((await fetch(url('/API/Tenants/acme/WORKFLOWS/7/'))).status).toBe(200);
    expect((await fetch(url('/api/tenants/acme/workflows/abc'))).status).toBe(404);
    expect((await fetch(url('/api/tenants/acme/workflows/7'), { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(url('/api/nothing-here'))).status).toBe(404);
  });

  it('strips client-sent x-ms-client-principal headers so identities cannot be forged', async () => {
    const forged = Buffer.from(JSON.stringify({ userId: 'admin', userRoles: ['Platform.Admin'] })).toString('base64');
    const body = (await (await fetch(url('/api/tenants/acme/workflows'), { headers: { 'x-ms-client-principal': forged, 'x-ms-client-principal-name': 'admin' } })).json()) as Record<string, any>;
    expect(body.principalHeader).toBeNull();
    expect(body.user).toBeNull();
  });

  it('enforces function and admin keys: header or ?code=, 401 with an empty body otherwise', async () => {
    const post = (headers: Record<string, string>, query = ''): Promise<Response> =>
      fetch(url(`/api/tenants/acme/workflows${query}`), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ workflow: 'w' }) });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.text()).toBe('');
    expect((await post({ 'x-functions-key': 'wrong' })).status).toBe(401);
    expect((await post({ 'x-functions-key': 'function-test-key' })).status).toBe(202);
    expect((await post({}, '?code=master-test-key')).status).toBe(202);
    expect((await fetch(url('/api/secure/admin'), { headers: { 'x-functions-key': 'function-test-key' } })).status).toBe(401);
    expect((await fetch(url('/api/secure/admin'), { headers: { 'x-functions-key': 'master-test-key' } })).status).toBe(200);
  });

  it('returns 202 JSON with headers and a cookie, and the output binding feeds the Service Bus trigger', async () => {
    const response = await fetch(url('/api/tenants/acme/workflows'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': 'function-test-key' },
      body: JSON.stringify({ workflow: 'nightly' }),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('application/json');
    const { runId } = (await response.json()) as { runId: string };
    expect(response.headers.get('location')).toBe(`/api/tenants/acme/runs/${runId}`);
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`^lastRun=${runId}; Max-Age=60; Path=/; SameSite=Lax; HttpOnly$`));
    const seen = await eventually(async () => (await observations('serviceBus')).find((o) => (o['message'] as any).runId === runId));
    expect(seen['deliveryCount']).toBe(1);
    expect(seen['messageId']).toMatch(/^[0-9a-f]{32}$/);
    expect(seen['enqueuedTimeUtc']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
    expect((seen['message'] as any).tenantId).toBe('acme');
  });

  it('redelivers a failing message with deliveryCount+1 and an array output becomes one message per element', async () => {
    const response = await fetch(url('/api/tenants/acme/workflows?code=function-test-key'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batch: [{ item: 1, failTimes: 1 }, { item: 2 }] }),
    });
    const { runId } = (await response.json()) as { runId: string };
    const mine = async (): Promise<Observation[]> => (await observations('serviceBus')).filter((o) => (o['message'] as any).runId === runId);
    const settled = await eventually(async () => {
      const seen = await mine();
      return seen.some((o) => (o['message'] as any).item === 1 && o['deliveryCount'] === 2) && seen.some((o) => (o['message'] as any).item === 2) ? seen : undefined;
    });
    expect(settled.filter((o) => (o['message'] as any).item === 1).map((o) => o['deliveryCount'])).toEqual([1, 2]);
    expect(settled.filter((o) => (o['message'] as any).item === 2)).toHaveLength(1);
  });

  it('converts every response form as the Functions host does', async () => {
    const text = await fetch(url('/api/diag/text'));
    expect([text.status, text.headers.get('content-type'), await text.text()]).toEqual([200, 'text/plain;charset=UTF-8', 'plain text body']);
    const bytes = await fetch(url('/api/diag/bytes'));
    expect(Buffer.from(await bytes.arrayBuffer()).toString('hex')).toBe('deadbeef');
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect((await fetch(url('/api/diag/empty'))).status).toBe(204);
    const redirect = await fetch(url('/api/diag/redirect'), { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/api/diag/text']);
    const nothing = await fetch(url('/api/diag/nothing'));
    expect([nothing.status, await nothing.text()]).toEqual([200, '']);
    const error = await fetch(url('/api/diag/error'));
    expect([error.status, await error.text()]).toEqual([500, '']);
    const head = await fetch(url('/api/diag/text'), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '15', '']);
    const echo = await fetch(url('/api/diag/echo'), { method: 'POST', headers: { 'content-type': 'application/x-custom' }, body: Buffer.from([1, 2, 3, 250]) });
    expect(Buffer.from(await echo.arrayBuffer()).toString('hex')).toBe('010203fa');
  });

  it('answers a hung function with 500 once functionTimeout passes, and keeps serving', async () => {
    const hung = await fetch(url('/api/diag/hang'));
    expect(hung.status).toBe(500);
    expect((await fetch(url('/api/diag/text'))).status).toBe(200);
  });

  it('applies CORS from local.settings.json Host.CORS (with credentials), preflight included', async () => {
    const preflight = await fetch(url('/api/diag/text'), { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const simple = await fetch(url('/api/diag/text'), { headers: { origin: 'https://app.example.com' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await fetch(url('/api/diag/text'), { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('fires the timer from %SweepSchedule%, retries a failed run with the retry context', async () => {
    const runs = await eventually(async () => {
      const seen = await observations('timer');
      return seen.length >= 2 ? seen : undefined;
    }, 15_000);
    // With a retry policy the context is there from the first attempt (retryCount 0), as the prototype found.
    expect(runs[0]!['retryContext']).toEqual({ retryCount: 0, maxRetryCount: 2 });
    expect(runs[1]!['retryContext']).toMatchObject({ retryCount: 1, maxRetryCount: 2, exception: { message: expect.stringContaining('transient sweep failure') } });
    // A schedule that fires more often than once a minute turns the monitor off: no schedule status.
    expect(runs[1]!['scheduleStatus']).toBeFalsy();
  });

  it('runs non-HTTP functions through the admin API only with the master key', async () => {
    const before = (await observations('eventGrid')).length;
    const event = { id: 'admin-1', subject: 'tenants/acme', eventType: 'Tenant.Created', eventTime: new Date().toISOString(), data: { via: 'admin' }, dataVersion: '1' };
    const denied = await fetch(url('/admin/functions/onEvent'), { method: 'POST', body: JSON.stringify({ input: JSON.stringify(event) }) });
    expect(denied.status).toBe(401);
    const accepted = await fetch(url('/admin/functions/onEvent'), { method: 'POST', headers: { 'x-functions-key': 'master-test-key' }, body: JSON.stringify({ input: JSON.stringify(event) }) });
    expect(accepted.status).toBe(202);
    const seen = await eventually(async () => ((await observations('eventGrid')).length > before ? (await observations('eventGrid')).at(-1) : undefined));
    expect((seen['event'] as any).data).toEqual({ via: 'admin' });
    const status = (await (await fetch(url('/admin/host/status'), { headers: { 'x-functions-key': 'master-test-key' } })).json()) as Record<string, any>;
    expect(status.state).toBe('Running');
    expect(status.functions.withErrors).toBe(1);
    expect(status.errors[0]).toMatch(/reservedRoute/);
  });

  it('serves the Event Grid webhook: validation handshake, Event Grid and CloudEvents notifications, 500 on failure', async () => {
    const webhook = (eventType: string, body: unknown, contentType = 'application/json'): Promise<Response> =>
      fetch(url('/runtime/webhooks/eventgrid?functionName=onEvent&code=master-test-key'), { method: 'POST', headers: { 'aeg-event-type': eventType, 'content-type': contentType }, body: JSON.stringify(body) });
    const validation = await webhook('SubscriptionValidation', [{ id: 'v', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', subject: '', data: { validationCode: 'abc-123' }, dataVersion: '1', eventTime: new Date().toISOString() }]);
    expect(validation.status).toBe(200);
    expect(await validation.json()).toEqual({ validationResponse: 'abc-123' });
    const egEvent = { id: 'e-1', subject: 'tenants/acme', eventType: 'Tenant.Provisioned', eventTime: new Date().toISOString(), data: { plan: 'gold' }, dataVersion: '1' };
    expect((await webhook('Notification', [egEvent])).status).toBe(202);
    const cloudEvent = { specversion: '1.0', id: 'c-1', source: '/tenants/acme', type: 'Tenant.Updated', data: { plan: 'silver' } };
    expect((await webhook('Notification', [cloudEvent], 'application/cloudevents-batch+json')).status).toBe(202);
    expect((await webhook('Notification', [{ ...egEvent, id: 'e-2', data: { fail: true } }])).status).toBe(500);
    expect((await webhook('Bogus', [egEvent])).status).toBe(400);
    const seen = await observations('eventGrid');
    expect(seen.map((o) => (o['event'] as any).id)).toEqual(expect.arrayContaining(['e-1', 'c-1']));
    expect(seen.find((o) => (o['event'] as any).id === 'e-1')!['data']).toEqual({ plan: 'gold' });
    expect((await fetch(url('/runtime/webhooks/eventgrid?functionName=onEvent'), { method: 'POST', headers: { 'aeg-event-type': 'Notification' }, body: '[]' })).status).toBe(401);
  });

  it('delivers eventGrid output events to the subscribed trigger function', async () => {
    const event = { id: 'out-1', subject: 'runs/1', eventType: 'Run.Completed', eventTime: new Date().toISOString(), data: { ok: true }, dataVersion: '1' };
    expect((await fetch(url('/api/events'), { method: 'POST', body: JSON.stringify([event]) })).status).toBe(202);
    const seen = await eventually(async () => (await observations('eventGrid')).find((o) => (o['event'] as any).id === 'out-1'));
    expect((seen['event'] as any).topic).toBe('https://contract-topic.local/api/events');
    const malformed = await fetch(url('/api/events'), { method: 'POST', body: JSON.stringify([{ id: 'bad' }]) });
    expect(malformed.status).toBe(500);
  });

  it('runs preInvocation/postInvocation/log hooks around invocations', async () => {
    const ok = await fetch(url('/api/hooked/ok'));
    expect(await ok.text()).toBe('appStart ran: true');
    expect(ok.headers.get('x-wrapped')).toBe('pre');
    const recovered = await fetch(url('/api/hooked/fail'));
    expect(recovered.status).toBe(200);
    expect(await recovered.text()).toMatch(/^recovered by postInvocation, calls=\d+$/);
    await eventually(async () => (host.output().includes('secret=[redacted] mode=ok') ? true : undefined));
    expect(host.output()).not.toContain('s3cr3t');
  });
});
