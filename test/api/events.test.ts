import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callJson, type JsonAnswer, PLATFORM_EVENTS_TOPIC, type Platform, startPlatform } from './platform.js';

const ACME_TOPIC = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/acme/providers/Microsoft.EventGrid/topics/orders';
const ACME_SOURCE = 'urn:acme:orders';
const GLOBEX_TOPIC = '/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/globex/providers/Microsoft.EventGrid/topics/orders';

/**
 * Event Grid end to end on the embedded host: tenants' sources are registered by a platform admin, subscriptions
 * are managed through the API, events are delivered to the eventRouter through the host's Event Grid webhook
 * (as Event Grid would), and the platform's own run events come back through its eventGrid output binding
 * (EMBEDDED_EVENTGRID_SUBSCRIPTIONS subscribes the eventRouter to the platform topic).
 */
describe('Event Grid', () => {
  let platform: Platform;
  let platformAdmin: string;
  let admin: string;
  let otherAdmin: string;

  const api = (method: string, route: string, body?: unknown, token = admin, headers: Record<string, string> = {}): Promise<JsonAnswer> => callJson(platform, method, route, { token, headers, body });

  const webhook = (): string => `${platform.host.baseUrl}/runtime/webhooks/eventgrid?functionName=eventRouter`;

  /** Delivers events as Event Grid does: the Event Grid schema with aeg-event-type, or CloudEvents by content type. */
  const deliver = async (events: unknown[], schema: 'eventgrid' | 'cloudevents' = 'eventgrid'): Promise<number> => {
    const response = await fetch(webhook(), {
      method: 'POST',
      headers: schema === 'eventgrid' ? { 'content-type': 'application/json', 'aeg-event-type': 'Notification' } : { 'content-type': 'application/cloudevents-batch+json; charset=utf-8' },
      body: JSON.stringify(events),
    });
    await response.text();
    return response.status;
  };

  const gridEvent = (eventType: string, subject: string, topic = ACME_TOPIC, data: unknown = { order: 7 }, id = randomUUID()) => ({
    id,
    topic,
    subject,
    eventType,
    eventTime: '2026-11-27T10:00:00Z',
    data,
    dataVersion: '1',
    metadataVersion: '1',
  });

  const runsOf = async (tenant: string, workflowId: string, token = admin): Promise<any[]> => {
    const listed = await api('GET', `/api/tenants/${tenant}/runs?workflowId=${workflowId}&limit=100`, undefined, token);
    expect(listed.status).toBe(200);
    return listed.json.items;
  };

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. The host said:\n${platform.host.output().split('\n').filter((line) => !/Functions\.(listRuns|getRun)\b/.test(line)).slice(-40).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const waitForRun = async (tenant: string, runId: string, token = admin): Promise<any> =>
    waitFor(`run ${runId}`, async () => {
      const run = (await api('GET', `/api/tenants/${tenant}/runs/${runId}`, undefined, token)).json;
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    });

  const publish = async (tenant: string, id: string, token: string, steps: unknown[] = [{ id: 'hello', type: 'action', connector: 'core', action: 'noop', inputs: {} }]) => {
    const definition = { schemaVersion: 1, name: id, steps, outputs: { received: { $expr: 'inputs' } } };
    expect((await api('POST', `/api/tenants/${tenant}/workflows`, { id, name: id, definition }, token)).status).toBe(201);
    expect((await api('POST', `/api/tenants/${tenant}/workflows/${id}/versions`, undefined, token)).status).toBe(201);
  };

  const subscribe = async (body: Record<string, unknown>, tenant = 'acme', token = admin): Promise<{ id: string; etag: string }> => {
    const created = await api('POST', `/api/tenants/${tenant}/eventSubscriptions`, body, token);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return created.json;
  };

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-events-'));
    const subscriptions = path.join(dir, 'eventgrid-subscriptions.json');
    fs.writeFileSync(subscriptions, JSON.stringify({ subscriptions: [{ topic: PLATFORM_EVENTS_TOPIC, function: 'eventRouter', includedEventTypes: ['run.started', 'run.completed', 'run.failed', 'run.cancelled'] }] }));
    platform = await startPlatform({ EMBEDDED_EVENTGRID_SUBSCRIPTIONS: subscriptions });
    platformAdmin = await platform.token('Platform.Admin');
    for (const id of ['acme', 'globex']) {
      expect((await platform.call('POST', '/api/tenants', { token: platformAdmin, body: { id, name: id, tier: 'standard' } })).status).toBe(201);
    }
    admin = await platform.token('Tenant.Admin', 'acme');
    otherAdmin = await platform.token('Tenant.Admin', 'globex');
    // The tests poll the runs list: a request rate above the standard tier's keeps 429s out of them.
    expect((await api('PATCH', '/api/tenants/acme', { eventSources: [ACME_TOPIC, ACME_SOURCE], quotas: { requestsPerSecond: 1000 } }, platformAdmin)).status).toBe(200);
    const globex = await api('PATCH', '/api/tenants/globex', { eventSources: [GLOBEX_TOPIC], quotas: { maxPayloadBytes: 4096, requestsPerSecond: 1000 } }, platformAdmin);
    expect(globex.status, JSON.stringify(globex.json)).toBe(200);
    for (const id of ['created', 'shipped', 'disabled', 'exact', 'notify', 'on-cancel']) await publish('acme', id, admin);
    await publish('acme', 'gate', admin, [{ id: 'gate', type: 'waitForEvent', event: 'go', timeoutSeconds: 3600 }]);
    await publish('acme', 'boom', admin, [{ id: 'boom', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'no way', code: 'ORDER.REJECTED' } }]);
    await publish('globex', 'anything', otherAdmin);
    await subscribe({ workflowId: 'anything', eventTypes: ['*'] }, 'globex', otherAdmin);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('answers the Event Grid subscription validation handshake and the CloudEvents abuse-protection handshake', async () => {
    const validation = await fetch(webhook(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'SubscriptionValidation' },
      body: JSON.stringify([{ id: randomUUID(), topic: ACME_TOPIC, subject: '', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', eventTime: new Date().toISOString(), data: { validationCode: 'code-123' }, dataVersion: '1' }]),
    });
    expect(validation.status).toBe(200);
    expect(await validation.json()).toEqual({ validationResponse: 'code-123' });
    const options = await fetch(webhook(), { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
    expect(options.status).toBe(200);
    expect(options.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
    // A handshake starts nothing.
    expect(await runsOf('acme', 'created')).toEqual([]);
  });

  it('lets only a platform admin register event sources, one tenant per source, validated and audited', async () => {
    const refused = await api('PATCH', '/api/tenants/acme', { eventSources: ['urn:acme:mine'] });
    expect(refused.status).toBe(403);
    const taken = await api('PATCH', '/api/tenants/globex', { eventSources: [GLOBEX_TOPIC, ACME_TOPIC.toUpperCase()] }, platformAdmin);
    expect(taken.status).toBe(409);
    expect(taken.json.code).toBe('TENANT.EVENT_SOURCE_TAKEN');
    const invalid = await api('PATCH', '/api/tenants/globex', { eventSources: ['urn:*'] }, platformAdmin);
    expect(invalid.status).toBe(400);
    expect(invalid.json.code).toBe('TENANT.EVENT_SOURCES_INVALID');
    const tenant = await api('GET', '/api/tenants/acme');
    expect(tenant.json.eventSources).toEqual([ACME_TOPIC.toLowerCase(), ACME_SOURCE]);
    expect((await api('GET', '/api/tenants/globex', undefined, otherAdmin)).json.eventSources).toEqual([GLOBEX_TOPIC.toLowerCase()]);
    const audit = await api('GET', '/api/tenants/acme/audit?action=tenant.eventSources.update', undefined, platformAdmin);
    expect(audit.status).toBe(200);
    expect(audit.json.items.length).toBeGreaterThanOrEqual(1);
  });

  it('manages subscriptions: create, get, list, update with ETags, delete; problems with stable codes; audited; tenant-scoped', async () => {
    const created = await subscribe({ workflowId: 'exact', eventTypes: ['Test.Manage'], subjectBeginsWith: '/manage/' });
    expect(created).toMatchObject({ id: expect.stringMatching(/^es-[0-9a-f]{32}$/), workflowId: 'exact', eventTypes: ['Test.Manage'], subjectBeginsWith: '/manage/', subjectEndsWith: null, caseSensitive: false, enabled: true, etag: '"r1"' });
    const read = await api('GET', `/api/tenants/acme/eventSubscriptions/${created.id}`, undefined, await platform.token('Tenant.User', 'acme'));
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"r1"');
    expect((await api('GET', '/api/tenants/acme/eventSubscriptions')).json.items.map((s: any) => s.id)).toContain(created.id);

    const invalid = await api('POST', '/api/tenants/acme/eventSubscriptions', { workflowId: 'exact', eventTypes: ['A.*.B'] });
    expect(invalid.status).toBe(400);
    expect(invalid.json.code).toBe('EVENT_SUBSCRIPTION.INVALID');
    const noTypes = await api('POST', '/api/tenants/acme/eventSubscriptions', { workflowId: 'exact', eventTypes: [], extra: 1 });
    expect(noTypes.status).toBe(400);
    expect(noTypes.json.code).toBe('EVENT_SUBSCRIPTION.INVALID');
    expect((await api('POST', '/api/tenants/acme/eventSubscriptions', { workflowId: 'missing', eventTypes: ['A'] })).json.code).toBe('WORKFLOW.NOT_FOUND');
    expect((await api('POST', '/api/tenants/acme/eventSubscriptions', { workflowId: 'exact', eventTypes: ['A'] }, await platform.token('Tenant.User', 'acme'))).status).toBe(403);

    const stale = await api('PATCH', `/api/tenants/acme/eventSubscriptions/${created.id}`, { enabled: false }, admin, { 'if-match': '"r7"' });
    expect(stale.status).toBe(412);
    const updated = await api('PATCH', `/api/tenants/acme/eventSubscriptions/${created.id}`, { enabled: false, subjectEndsWith: '.xml' }, admin, { 'if-match': '"r1"' });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ enabled: false, subjectEndsWith: '.xml', etag: '"r2"' });

    // Another tenant's admin cannot see or change it.
    expect((await api('GET', `/api/tenants/globex/eventSubscriptions/${created.id}`, undefined, otherAdmin)).json.code).toBe('EVENT_SUBSCRIPTION.NOT_FOUND');
    expect((await api('GET', `/api/tenants/acme/eventSubscriptions/${created.id}`, undefined, otherAdmin)).status).toBe(404);

    expect((await api('DELETE', `/api/tenants/acme/eventSubscriptions/${created.id}`)).status).toBe(204);
    expect((await api('DELETE', `/api/tenants/acme/eventSubscriptions/${created.id}`)).status).toBe(204);
    const gone = await api('GET', `/api/tenants/acme/eventSubscriptions/${created.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe('EVENT_SUBSCRIPTION.NOT_FOUND');
    const audit = (await api('GET', '/api/tenants/acme/audit?limit=100')).json.items.map((entry: any) => entry.action);
    expect(audit).toEqual(expect.arrayContaining(['eventSubscription.create', 'eventSubscription.update', 'eventSubscription.delete']));
  });

  describe('routing', () => {
    let created: { id: string };
    let shipped: { id: string };

    beforeAll(async () => {
      created = await subscribe({ workflowId: 'created', eventTypes: ['Contoso.Orders.Created'], subjectBeginsWith: '/orders/' });
      shipped = await subscribe({ workflowId: 'shipped', eventTypes: ['Contoso.Orders.*'], subjectEndsWith: '.json' });
      await subscribe({ workflowId: 'disabled', eventTypes: ['*'], enabled: false });
      await subscribe({ workflowId: 'exact', eventTypes: ['Contoso.Orders.Created'], subjectBeginsWith: '/Orders/', caseSensitive: true });
    });

    it('starts one run per matching subscription for an Event Grid event, with the event as input, and none on redelivery', async () => {
      const event = gridEvent('contoso.orders.CREATED', '/ORDERS/1/doc.JSON');
      expect(await deliver([event])).toBe(202);
      const [first] = await runsOf('acme', 'created');
      expect(await runsOf('acme', 'created')).toHaveLength(1);
      expect(await runsOf('acme', 'shipped')).toHaveLength(1);
      expect(await runsOf('acme', 'disabled')).toEqual([]);
      expect(await runsOf('acme', 'exact')).toEqual([]);
      const run = await waitForRun('acme', first.id);
      expect(run.status).toBe('succeeded');
      expect(run.trigger).toEqual({ kind: 'event', source: created.id });
      expect(run.input).toEqual({ id: event.id, type: 'contoso.orders.CREATED', subject: '/ORDERS/1/doc.JSON', source: ACME_TOPIC, time: '2026-11-27T10:00:00Z', schema: 'eventgrid', data: { order: 7 } });

      // Event Grid redelivers (the same event id): the runs of the first delivery stand, nothing new starts.
      expect(await deliver([event])).toBe(202);
      expect(await deliver([event])).toBe(202);
      expect((await runsOf('acme', 'created')).map((r) => r.id)).toEqual([first.id]);
      expect(await runsOf('acme', 'shipped')).toHaveLength(1);
    });

    it('starts the matching runs for CloudEvents (batch and single), by source', async () => {
      const before = (await runsOf('acme', 'shipped')).length;
      const event = { specversion: '1.0', id: randomUUID(), source: ACME_SOURCE, type: 'Contoso.Orders.Shipped', subject: '/orders/9/label.json', time: '2026-11-27T11:00:00Z', datacontenttype: 'application/json', data: { parcel: 'p-1' } };
      expect(await deliver([event], 'cloudevents')).toBe(202);
      const runs = await runsOf('acme', 'shipped');
      expect(runs).toHaveLength(before + 1);
      const run = await waitForRun('acme', runs[0].id);
      expect(run.trigger).toEqual({ kind: 'event', source: shipped.id });
      expect(run.input).toEqual({ id: event.id, type: 'Contoso.Orders.Shipped', subject: '/orders/9/label.json', source: ACME_SOURCE, time: '2026-11-27T11:00:00Z', schema: 'cloudevents', data: { parcel: 'p-1' } });
      // The exact-case subscription takes a subject in its case.
      const single = await fetch(webhook(), {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ ...event, id: randomUUID(), type: 'Contoso.Orders.Created', subject: '/Orders/2' }),
      });
      expect(single.status).toBe(202);
      expect(await runsOf('acme', 'exact')).toHaveLength(1);
      expect(await runsOf('acme', 'shipped')).toHaveLength(before + 1);
    });

    it('starts nothing for events the filters exclude', async () => {
      const counts = async () => Promise.all(['created', 'shipped', 'disabled', 'exact'].map(async (id) => (await runsOf('acme', id)).length));
      const before = await counts();
      expect(await deliver([gridEvent('Contoso.Invoices.Paid', '/orders/1/doc.json'), gridEvent('Contoso.Orders.Cancelled', '/orders/1/doc.xml'), gridEvent('Contoso.Orders.Created', '/customers/1')])).toBe(202);
      expect(await deliver([{ specversion: '1.0', id: randomUUID(), source: ACME_SOURCE, type: 'Contoso.Ordersx' }], 'cloudevents')).toBe(202);
      expect(await counts()).toEqual(before);
    });

    it("starts nothing in a tenant for another tenant's source or an unknown one, and drops them without a retry", async () => {
      const before = await Promise.all(['created', 'shipped'].map(async (id) => (await runsOf('acme', id)).length));
      expect((await runsOf('globex', 'anything', otherAdmin)).length).toBe(0);
      // Globex's topic: its '*' subscription runs; acme's subscriptions that would match do not.
      expect(await deliver([gridEvent('Contoso.Orders.Created', '/orders/1/doc.json', GLOBEX_TOPIC)])).toBe(202);
      expect(await runsOf('globex', 'anything', otherAdmin)).toHaveLength(1);
      // An unregistered topic (and a publisher-chosen CloudEvents source nobody registered) is acknowledged and dropped.
      expect(await deliver([gridEvent('Contoso.Orders.Created', '/orders/1/doc.json', `${ACME_TOPIC}-other`)])).toBe(202);
      expect(await deliver([{ specversion: '1.0', id: randomUUID(), source: 'urn:acme:orders:evil', type: 'Contoso.Orders.Created', subject: '/orders/1/doc.json' }], 'cloudevents')).toBe(202);
      expect(await Promise.all(['created', 'shipped'].map(async (id) => (await runsOf('acme', id)).length))).toEqual(before);
      expect(await runsOf('globex', 'anything', otherAdmin)).toHaveLength(1);
      expect(platform.host.output()).toContain('EVENT.UNKNOWN_SOURCE');
    });

    it("refuses event data above the tenant's maxPayloadBytes without starting a run or crashing", async () => {
      const big = gridEvent('Contoso.Big', '/big', GLOBEX_TOPIC, { blob: 'x'.repeat(5000) });
      expect(await deliver([big])).toBe(202);
      expect(await runsOf('globex', 'anything', otherAdmin)).toHaveLength(1);
      expect(platform.host.output()).toContain('EVENT.TOO_LARGE');
      // Odd but well-formed events do not hurt the router either.
      expect(await deliver([gridEvent('Contoso.Odd', '/odd', GLOBEX_TOPIC, null), gridEvent('x'.repeat(300), '/s', GLOBEX_TOPIC)])).toBe(202);
      expect(await runsOf('globex', 'anything', otherAdmin)).toHaveLength(2);
      expect((await fetch(`${platform.host.baseUrl}/api/health`)).status).toBeLessThan(500);
    });
  });

  it('publishes run.started, run.completed and run.failed through the output binding to a subscriber (the router), with no input or output', async () => {
    await subscribe({ workflowId: 'notify', eventTypes: ['run.started', 'run.completed', 'run.failed'], subjectBeginsWith: '/tenants/acme/workflows/' });
    const ok = await api('POST', '/api/tenants/acme/workflows/created/runs', { input: { secretish: 'do-not-publish' } });
    expect(ok.status).toBe(202);
    const failing = await api('POST', '/api/tenants/acme/workflows/boom/runs', { input: {} });
    expect(failing.status).toBe(202);
    expect((await waitForRun('acme', ok.json.id)).status).toBe('succeeded');
    const failedRun = await waitForRun('acme', failing.json.id);
    expect(failedRun.status).toBe('failed');

    // Each of the two runs publishes two events, each of which starts one notify run.
    const notified = await waitFor('four notify runs', async () => {
      const runs = await runsOf('acme', 'notify');
      return runs.length >= 4 ? runs : undefined;
    });
    const events = notified.map((run) => run.input);
    const okId = ok.json.id;
    const failedId = failedRun.id;
    const byKey = Object.fromEntries(events.map((event: any) => [`${event.data.runId}:${event.type}`, event]));
    expect(Object.keys(byKey).sort()).toEqual([`${failedId}:run.failed`, `${failedId}:run.started`, `${okId}:run.completed`, `${okId}:run.started`].sort());
    const completed = byKey[`${okId}:run.completed`];
    expect(completed).toMatchObject({ id: `${okId}:run.completed`, subject: `/tenants/acme/workflows/created/runs/${okId}`, source: PLATFORM_EVENTS_TOPIC, schema: 'eventgrid' });
    expect(completed.data).toMatchObject({ tenantId: 'acme', runId: okId, workflowId: 'created', version: 1, status: 'succeeded', trigger: 'api', errorCode: null });
    expect(typeof completed.data.durationMs).toBe('number');
    expect(byKey[`${failedId}:run.failed`].data).toMatchObject({ status: 'failed', errorCode: 'ORDER.REJECTED', workflowId: 'boom' });
    expect(byKey[`${okId}:run.started`].data).toMatchObject({ status: 'running', completedAt: null });
    expect(JSON.stringify(events)).not.toContain('do-not-publish');
    expect(Object.keys(completed.data)).not.toContain('input');
    expect(Object.keys(completed.data)).not.toContain('output');

    // The notify runs' own events reach the router too, and start nothing (no loops): wait until it has dropped
    // the completion of every notify run, then count again.
    for (const run of notified) await waitForRun('acme', run.id);
    await waitFor('the notify runs’ own events to be dropped', async () => {
      const dropped = notified.filter((run) => platform.host.output().includes(`[event ${run.id}:run.completed]`));
      return dropped.length === notified.length ? true : undefined;
    });
    expect(await runsOf('acme', 'notify')).toHaveLength(4);
    // Globex's catch-all subscription saw none of acme's run events.
    expect(await runsOf('globex', 'anything', otherAdmin)).toHaveLength(2);
  });

  it('publishes run.cancelled when a run is cancelled through the API', async () => {
    await subscribe({ workflowId: 'on-cancel', eventTypes: ['run.cancelled'] });
    const started = await api('POST', '/api/tenants/acme/workflows/gate/runs', { input: {} });
    expect(started.status).toBe(202);
    const runId = started.json.id;
    await waitFor('the gate run to run', async () => ((await api('GET', `/api/tenants/acme/runs/${runId}`)).json.status === 'running' ? true : undefined));
    const cancelled = await api('POST', `/api/tenants/acme/runs/${runId}:cancel`);
    expect(cancelled.status).toBe(200);
    const [notified] = await waitFor('the on-cancel run', async () => {
      const runs = await runsOf('acme', 'on-cancel');
      return runs.length > 0 ? runs : undefined;
    });
    expect(notified.input).toMatchObject({ id: `${runId}:run.cancelled`, type: 'run.cancelled', subject: `/tenants/acme/workflows/gate/runs/${runId}` });
    expect(notified.input.data).toMatchObject({ tenantId: 'acme', runId, workflowId: 'gate', status: 'cancelled', trigger: 'api' });
    expect(await runsOf('acme', 'on-cancel')).toHaveLength(1);
  });
});
