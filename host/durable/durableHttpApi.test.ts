import { randomUUID } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostSettings } from '../config/settings.js';
import { presentedKey } from '../http/httpExchange.js';
import type { SystemRoute } from '../http/httpServer.js';
import { KeyAuthorizer } from '../http/keys.js';
import type { HistoryEvent } from './historyEvents.js';
import { durableClientBindingData, durableHttpApiRoute, type DurableHttpApiOptions } from './durableHttpApi.js';
import { type InstanceQuery, type InstanceRecord, type RuntimeStatus, type TaskHubClient, TaskHubRequestError, TERMINAL_STATUSES } from './taskHubClient.js';

// ---------------------------------------------------------------------------------------------------------------
// A minimal in-memory task hub (test double of the TaskHubClient port).

interface FakeInstance extends InstanceRecord {
  history: Array<Record<string, unknown>>;
  events: Array<{ name: string; input: string | null }>;
  reasons: string[];
}

class FakeTaskHub implements TaskHubClient {
  readonly taskHubName = 'TestHub';
  readonly orchestrators = new Set(['Hello', 'Wait']);
  readonly instances = new Map<string, FakeInstance>();
  readonly starts: Array<{ name: string; instanceId?: string; input: string | null; version?: string }> = [];
  defaultPageSize = 100;
  failWith: Error | undefined;
  #listeners = new Set<() => void>();
  #clock = Date.parse('2026-03-01T10:00:00.000Z');

  startNew(name: string, options: { instanceId?: string; input: string | null; version?: string }): string {
    this.starts.push({ name, ...options });
    if (!this.orchestrators.has(name)) throw new TaskHubRequestError(400, `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    const existing = this.instances.get(instanceId);
    if (existing && !TERMINAL_STATUSES.has(existing.runtimeStatus)) throw new TaskHubRequestError(409, `An instance with ID '${instanceId}' already exists.`);
    const now = new Date((this.#clock += 1000));
    this.instances.set(instanceId, {
      instanceId,
      name,
      version: options.version ?? '',
      executionId: randomUUID(),
      runtimeStatus: 'Pending',
      input: options.input,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      parentInstanceId: null,
      history: [],
      events: [],
      reasons: [],
    });
    return instanceId;
  }

  getInstance(instanceId: string): InstanceRecord | undefined {
    if (this.failWith) throw this.failWith;
    return this.instances.get(instanceId);
  }

  getHistory(instanceId: string): HistoryEvent[] {
    return (this.instances.get(instanceId)?.history ?? []) as unknown as HistoryEvent[];
  }

  listInstances(query: InstanceQuery): { instances: InstanceRecord[]; continuationToken: string | undefined } {
    const all = this.#matching(query);
    const offset = query.continuationToken ? Number(Buffer.from(query.continuationToken, 'base64').toString()) : 0;
    const top = query.top ?? this.defaultPageSize;
    const next = offset + top;
    return { instances: all.slice(offset, next), continuationToken: next < all.length ? Buffer.from(String(next)).toString('base64') : undefined };
  }

  raiseEvent(instanceId: string, eventName: string, input: string | null): void {
    const instance = this.#live(instanceId);
    if (/^\d+$/.test(eventName)) throw new TaskHubRequestError(400, 'digits');
    instance.events.push({ name: eventName, input });
  }

  terminate(instanceId: string, reason: string | null): void {
    this.#live(instanceId);
    this.update(instanceId, { runtimeStatus: 'Terminated', output: reason });
  }

  suspend(instanceId: string, reason: string | null): void {
    const instance = this.#live(instanceId);
    if (instance.runtimeStatus === 'Suspended') throw new TaskHubRequestError(409, `Instance '${instanceId}' is already suspended.`);
    instance.reasons.push(`suspend:${reason}`);
    this.update(instanceId, { runtimeStatus: 'Suspended' });
  }

  resume(instanceId: string, reason: string | null): void {
    const instance = this.#live(instanceId);
    if (instance.runtimeStatus !== 'Suspended') throw new TaskHubRequestError(409, `Instance '${instanceId}' is not suspended.`);
    instance.reasons.push(`resume:${reason}`);
    this.update(instanceId, { runtimeStatus: 'Running' });
  }

  purge(instanceId: string): number {
    const instance = this.instances.get(instanceId);
    if (!instance) return 0;
    if (!TERMINAL_STATUSES.has(instance.runtimeStatus)) throw new TaskHubRequestError(400, 'running');
    this.instances.delete(instanceId);
    return 1;
  }

  purgeBy(query: Pick<InstanceQuery, 'createdTimeFrom' | 'createdTimeTo' | 'runtimeStatus'>): number {
    const victims = this.#matching(query).filter((instance) => TERMINAL_STATUSES.has(instance.runtimeStatus));
    for (const victim of victims) this.instances.delete(victim.instanceId);
    return victims.length;
  }

  waitForCompletion(instanceId: string, timeoutMs: number, signal?: AbortSignal): Promise<InstanceRecord | undefined> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        signal?.removeEventListener('abort', finish);
        resolve(this.instances.get(instanceId));
      };
      const check = (): void => {
        const instance = this.instances.get(instanceId);
        if (!instance || TERMINAL_STATUSES.has(instance.runtimeStatus)) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.#listeners.add(check);
      signal?.addEventListener('abort', finish);
      check();
    });
  }

  /** How many waitForCompletion calls are still waiting. */
  get waiting(): number {
    return this.#listeners.size;
  }

  /** Test helper: changes an instance (as the engine would) and wakes waiters. */
  update(instanceId: string, patch: Partial<FakeInstance>): void {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`no instance ${instanceId}`);
    Object.assign(instance, { lastUpdatedTime: new Date((this.#clock += 1000)) }, patch);
    for (const listener of [...this.#listeners]) listener();
  }

  #live(instanceId: string): FakeInstance {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new TaskHubRequestError(404, `No instance with ID '${instanceId}' found.`);
    if (TERMINAL_STATUSES.has(instance.runtimeStatus)) throw new TaskHubRequestError(410, 'finished');
    return instance;
  }

  #matching(query: InstanceQuery): FakeInstance[] {
    return [...this.instances.values()]
      .filter((instance) => !query.createdTimeFrom || instance.createdTime >= query.createdTimeFrom)
      .filter((instance) => !query.createdTimeTo || instance.createdTime <= query.createdTimeTo)
      .filter((instance) => !query.runtimeStatus?.length || query.runtimeStatus.includes(instance.runtimeStatus))
      .filter((instance) => !query.instanceIdPrefix || instance.instanceId.startsWith(query.instanceIdPrefix))
      .sort((a, b) => a.createdTime.getTime() - b.createdTime.getTime());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The route on a real node:http server, dispatched the way httpServer.ts does.

const MASTER_KEY = 'the-master-key';
const SYSTEM_KEY = 'the-durable-system-key';

interface Api {
  hub: FakeTaskHub;
  origin: string;
  url(path: string): string;
  /** The real durable-functions DurableClient, obtained through `df.getClient()` from the binding data. */
  client(requiredQueryString?: string): df.DurableClient;
  errors: unknown[];
  close(): Promise<void>;
}

async function startApi(overrides: Partial<DurableHttpApiOptions> = {}): Promise<Api> {
  const hub = new FakeTaskHub();
  const errors: unknown[] = [];
  const authorizer = new KeyAuthorizer({ masterKey: MASTER_KEY, hostKeys: {}, functionKeys: {}, systemKeys: { durabletask_extension: SYSTEM_KEY } }, new HostSettings({}));
  let origin = '';
  const route: SystemRoute = durableHttpApiRoute({
    client: hub,
    baseUrl: () => origin,
    authorizer,
    authEnforced: false,
    onError: (_message, error) => errors.push(error),
    ...overrides,
  });
  const server: Server = http.createServer((request, response) => {
    const rawUrl = request.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart >= 0 ? rawUrl.slice(0, queryStart) : rawUrl;
    const query = new URLSearchParams(queryStart >= 0 ? rawUrl.slice(queryStart + 1) : '');
    const trimmedPath = rawPath.replace(/^\/+/, '');
    const prefix = route.prefix.toLowerCase();
    const lowerPath = trimmedPath.toLowerCase();
    if (lowerPath === prefix || lowerPath.startsWith(`${prefix}/`)) {
      route.handle({ request, response, subPath: trimmedPath.slice(prefix.length + 1), query, key: presentedKey(request, query) }).catch(() => {
        response.statusCode = 599;
        response.end();
      });
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    hub,
    origin,
    errors,
    url: (path) => `${origin}/runtime/webhooks/durabletask/${path}`,
    client(requiredQueryString = '') {
      const binding = df.input.durableClient();
      const context = new InvocationContext({ functionName: 'Starter', options: { extraInputs: [binding] } });
      context.extraInputs.set(binding, durableClientBindingData(origin, hub.taskHubName, requiredQueryString));
      return df.getClient(context);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  return text === '' ? undefined : JSON.parse(text);
}

const STATUS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

// getClient() rewrites the client URLs to localhost:7071 unless WEBSITE_HOSTNAME is set (spec gotcha 13).
const savedHostname = process.env['WEBSITE_HOSTNAME'];
beforeAll(() => {
  process.env['WEBSITE_HOSTNAME'] = '127.0.0.1:7071';
});
afterAll(() => {
  if (savedHostname === undefined) delete process.env['WEBSITE_HOSTNAME'];
  else process.env['WEBSITE_HOSTNAME'] = savedHostname;
});

// ---------------------------------------------------------------------------------------------------------------

describe('durableHttpApi (no key required)', () => {
  let api: Api;
  let client: df.DurableClient;
  beforeAll(async () => {
    api = await startApi();
    client = api.client();
  });
  afterAll(() => api.close());
  afterEach(() => {
    api.hub.instances.clear();
    api.hub.starts.length = 0;
    api.hub.defaultPageSize = 100;
  });

  describe('startNew', () => {
    it('passes the body through as the serialized input; no input arrives as the JSON empty string ""', async () => {
      const withInput = await client.startNew('Hello', { input: { city: 'Tokyo', n: 1 } });
      const withoutInput = await client.startNew('Hello');
      expect(api.hub.instances.get(withInput)?.input).toBe('{"city":"Tokyo","n":1}');
      // axios posts "" for undefined input: the orchestrator's getInput() returns "" as in production.
      expect(api.hub.instances.get(withoutInput)?.input).toBe('""');
      const empty = await fetch(api.url('orchestrators/Hello'), { method: 'POST' });
      expect(empty.status).toBe(202);
      const { id } = (await json(empty)) as { id: string };
      expect(api.hub.instances.get(id)?.input).toBeNull();
    });

    it('uses an explicit instance id and version, and answers 409 while that instance runs', async () => {
      expect(await client.startNew('Hello', { instanceId: 'order-42', version: '2.0', input: 'x' })).toBe('order-42');
      expect(api.hub.starts.at(-1)).toEqual({ name: 'Hello', instanceId: 'order-42', input: '"x"', version: '2.0' });
      await expect(client.startNew('Hello', { instanceId: 'order-42' })).rejects.toThrow(/409/);
      const conflict = await fetch(api.url('orchestrators/Hello/order-42'), { method: 'POST' });
      expect(conflict.status).toBe(409);
      expect(conflict.headers.get('content-type')).toBe('application/problem+json');
      expect(await json(conflict)).toMatchObject({ status: 409, code: 'Durable.Conflict' });
    });

    it('decodes the path and refuses invalid instance ids with 400', async () => {
      const spaced = await fetch(api.url('ORCHESTRATORS/Hello/a%20b'), { method: 'POST' });
      expect(spaced.status).toBe(202);
      expect(((await json(spaced)) as { id: string }).id).toBe('a b');
      for (const bad of ['%40entity', 'a%2Fb', 'a%5Cb', 'a%23b', 'a%01b', 'x'.repeat(257)]) {
        const response = await fetch(api.url(`orchestrators/Hello/${bad}`), { method: 'POST' });
        expect(response.status, bad).toBe(400);
        expect(await json(response)).toMatchObject({ code: 'Durable.InvalidInstanceId' });
      }
      await expect(client.startNew('Hello', { instanceId: '@bad' })).rejects.toThrow(/400/);
      expect(api.hub.starts).toHaveLength(1);
    });

    it('answers 400 for invalid JSON and for an unknown orchestrator (the task hub refusal)', async () => {
      const invalid = await fetch(api.url('orchestrators/Hello'), { method: 'POST', body: '{"a":', headers: { 'content-type': 'application/json' } });
      expect(invalid.status).toBe(400);
      expect(invalid.headers.get('content-type')).toBe('application/problem+json');
      expect(await json(invalid)).toMatchObject({ status: 400, code: 'Durable.InvalidJson' });
      const unknown = await fetch(api.url('orchestrators/Nope'), { method: 'POST' });
      expect(unknown.status).toBe(400);
      expect(await json(unknown)).toMatchObject({ code: 'Durable.BadRequest', detail: expect.stringContaining("'Nope'") });
      expect(api.hub.instances.size).toBe(0);
    });

    it('answers with the check-status payload; createCheckStatusResponse builds the same links', async () => {
      const response = await fetch(api.url('orchestrators/Hello/check-1'), { method: 'POST', body: '1' });
      expect(response.status).toBe(202);
      const body = (await json(response)) as Record<string, string>;
      const instance = `${api.origin}/runtime/webhooks/durabletask/instances/check-1`;
      const q = 'taskHub=TestHub&connection=Storage';
      expect(body).toEqual({
        id: 'check-1',
        statusQueryGetUri: `${instance}?${q}`,
        sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
        terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
        purgeHistoryDeleteUri: `${instance}?${q}`,
        restartPostUri: `${instance}/restart?${q}`,
        suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
        resumePostUri: `${instance}/resume?reason={text}&${q}`,
        rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
      });
      expect(response.headers.get('location')).toBe(body['statusQueryGetUri']);
      expect(response.headers.get('retry-after')).toBe('10');

      const request = new HttpRequest({ url: `${api.origin}/api/start`, method: 'POST' });
      const fromClient = client.createCheckStatusResponse(request, 'check-1');
      expect(fromClient.status).toBe(202);
      expect(await fromClient.json()).toEqual(body);
      expect(client.createHttpManagementPayload('check-1')).toEqual(body);
      // The links work.
      expect((await fetch(body['statusQueryGetUri'] as string)).status).toBe(202);
    });

    it('refuses bodies over the limit with 413', async () => {
      const small = await startApi({ maxRequestBodyBytes: 64 });
      try {
        const response = await fetch(small.url('orchestrators/Hello'), { method: 'POST', body: JSON.stringify('x'.repeat(100)) });
        expect(response.status).toBe(413);
        expect(await json(response)).toMatchObject({ code: 'Durable.PayloadTooLarge' });
        expect(small.hub.instances.size).toBe(0);
      } finally {
        await small.close();
      }
    });
  });

  describe('create and wait', () => {
    it('answers 202 check-status when the timeout passes first', async () => {
      const started = Date.now();
      const response = await fetch(api.url('orchestrators/Wait/slow?timeout=0.2&pollingInterval=0.1'), { method: 'POST' });
      expect(response.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(await json(response)).toMatchObject({ id: 'slow', statusQueryGetUri: expect.stringContaining('/instances/slow?') });
      expect(response.headers.get('retry-after')).toBe('10');
    });

    it('answers 200 with the output when the instance completes in time, and the status payload otherwise', async () => {
      setTimeout(() => api.hub.update('fast', { runtimeStatus: 'Completed', output: '{"greeting":"Hello Tokyo"}' }), 50);
      const completed = await fetch(api.url('orchestrators/Wait/fast?timeout=5&pollingInterval=1'), { method: 'POST', body: '"Tokyo"' });
      expect(completed.status).toBe(200);
      expect(await json(completed)).toEqual({ greeting: 'Hello Tokyo' });

      setTimeout(() => api.hub.update('ended', { runtimeStatus: 'Terminated', output: 'stopped by ops' }), 50);
      const terminated = await fetch(api.url('orchestrators/Wait/ended?timeout=5&pollingInterval=1'), { method: 'POST' });
      expect(terminated.status).toBe(200);
      expect(await json(terminated)).toMatchObject({ instanceId: 'ended', runtimeStatus: 'Terminated', output: 'stopped by ops' });
    });

    it('stops waiting when the caller goes away', async () => {
      const controller = new AbortController();
      const request = fetch(api.url('orchestrators/Wait/abandoned?timeout=30&pollingInterval=1'), { method: 'POST', signal: controller.signal });
      await expect.poll(() => api.hub.waiting).toBe(1);
      controller.abort();
      await expect(request).rejects.toThrow();
      await expect.poll(() => api.hub.waiting).toBe(0);
      expect(api.hub.instances.get('abandoned')?.runtimeStatus).toBe('Pending');
    });

    it('refuses a polling interval longer than the timeout before starting anything', async () => {
      const response = await fetch(api.url('orchestrators/Wait?timeout=1&pollingInterval=5'), { method: 'POST' });
      expect(response.status).toBe(400);
      expect(api.hub.starts).toHaveLength(0);
    });
  });

  describe('status', () => {
    it('answers 202 with Location and Retry-After while running, 200 when finished, 404 for an unknown id', async () => {
      const id = await client.startNew('Hello', { input: { a: 1 } });
      const pending = await fetch(api.url(`instances/${id}?taskHub=TestHub&connection=Storage`));
      expect(pending.status).toBe(202);
      expect(pending.headers.get('location')).toBe(api.url(`instances/${id}?taskHub=TestHub&connection=Storage`));
      expect(pending.headers.get('retry-after')).toBe('5');
      const payload = (await json(pending)) as Record<string, unknown>;
      expect(Object.keys(payload)).toEqual(['name', 'instanceId', 'runtimeStatus', 'input', 'customStatus', 'output', 'createdTime', 'lastUpdatedTime']);
      expect(payload).toMatchObject({ name: 'Hello', instanceId: id, runtimeStatus: 'Pending', input: { a: 1 }, customStatus: null, output: null });
      expect(payload['createdTime']).toMatch(STATUS_TIME);
      expect(payload['lastUpdatedTime']).toMatch(STATUS_TIME);

      api.hub.update(id, { runtimeStatus: 'Running', customStatus: '"step 2"' });
      const running = await client.getStatus(id);
      expect(running).toMatchObject({ runtimeStatus: 'Running', customStatus: 'step 2', input: { a: 1 } });

      api.hub.update(id, { runtimeStatus: 'Completed', output: '[1,2,3]' });
      const done = await fetch(api.url(`instances/${id}`));
      expect(done.status).toBe(200);
      expect(done.headers.get('location')).toBeNull();
      expect(await json(done)).toMatchObject({ runtimeStatus: 'Completed', output: [1, 2, 3] });
      const status = await client.getStatus(id);
      expect(status.output).toEqual([1, 2, 3]);
      expect(status.createdTime).toBeInstanceOf(Date);

      const missing = await fetch(api.url('instances/nope'));
      expect(missing.status).toBe(404);
      expect(await json(missing)).toMatchObject({ code: 'Durable.InstanceNotFound' });
      await expect(client.getStatus('nope')).rejects.toThrow(/404/);
    });

    it('hides the input with showInput=false and renders failure text raw; 500 on request for failures', async () => {
      const id = await client.startNew('Hello', { input: 'secret' });
      api.hub.update(id, { runtimeStatus: 'Failed', output: '  Orchestrator function failed: boom  ' });
      const hidden = await fetch(api.url(`instances/${id}?showInput=false`));
      expect(await json(hidden)).toMatchObject({ input: null, output: 'Orchestrator function failed: boom' });
      expect((await client.getStatus(id)).input).toBe('secret');
      // Over rpcBaseUrl the JS client only sends showInput when it is true, so showInput:false never arrives.
      expect((await client.getStatus(id, { showInput: false })).input).toBe('secret');
      const failed = await fetch(api.url(`instances/${id}?returnInternalServerErrorOnFailure=true`));
      expect(failed.status).toBe(500);
      expect(await json(failed)).toMatchObject({ runtimeStatus: 'Failed' });
      expect((await fetch(api.url(`instances/${id}?returnInternalServerErrorOnFailure=false`))).status).toBe(200);
    });

    it('adds the friendly history with showHistory (never for Pending); the JS client drops it, as in production', async () => {
      const id = await client.startNew('Hello', { instanceId: 'hist', input: 'Tokyo' });
      const pending = (await json(await fetch(api.url('instances/hist?showHistory=true')))) as Record<string, unknown>;
      expect(pending).not.toHaveProperty('historyEvents');
      api.hub.update(id, { runtimeStatus: 'Completed', output: '["Hello Tokyo"]', history: sampleHistory() });

      const full = (await json(await fetch(api.url('instances/hist?showHistory=true&showHistoryOutput=true')))) as { historyEvents: unknown };
      expect(full.historyEvents).toEqual([
        { EventType: 'ExecutionStarted', Timestamp: T0, Input: '"Tokyo"', FunctionName: 'Hello' },
        { EventType: 'TaskCompleted', Timestamp: T1, Result: 'Hello Tokyo', ScheduledTime: T0, FunctionName: 'SayHello', Input: '"Tokyo"' },
        { EventType: 'TimerCreated', Timestamp: T1, FireAt: T2 },
        { EventType: 'TimerFired', Timestamp: T2, FireAt: T2 },
        { EventType: 'EventRaised', Timestamp: T2, Name: 'Approval', Input: 'true' },
        { EventType: 'ExecutionCompleted', Timestamp: T2, OrchestrationStatus: 'Completed', Result: ['Hello Tokyo'], FailureDetails: null },
      ]);

      const quiet = (await json(await fetch(api.url('instances/hist?SHOWHISTORY=True&showInput=false')))) as { input: unknown; historyEvents: Array<Record<string, unknown>> };
      expect(quiet.input).toBeNull();
      expect(quiet.historyEvents.map((event) => event['EventType'])).toEqual(['ExecutionStarted', 'TaskCompleted', 'TimerCreated', 'TimerFired', 'EventRaised', 'ExecutionCompleted']);
      expect(quiet.historyEvents.some((event) => 'Input' in event || 'Result' in event)).toBe(false);

      const viaClient = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
      expect(viaClient.history).toBeUndefined(); // durable-js reads `history`, the API sends `historyEvents` (issue #620)
    });
  });

  describe('query', () => {
    async function seed(): Promise<Record<RuntimeStatus, string>> {
      const ids: Partial<Record<RuntimeStatus, string>> = {};
      for (const status of ['Running', 'Completed', 'Failed', 'Terminated', 'Suspended'] as const) {
        ids[status] = await client.startNew('Hello', { instanceId: `q-${status.toLowerCase()}`, input: status });
        api.hub.update(ids[status] as string, { runtimeStatus: status });
      }
      return ids as Record<RuntimeStatus, string>;
    }

    it('filters by runtime status and creation time', async () => {
      await seed();
      const finished = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Failed] });
      expect(finished.map((status) => status.instanceId)).toEqual(['q-completed', 'q-failed']);
      const failed = api.hub.instances.get('q-failed') as FakeInstance;
      const fromFailed = await client.getStatusBy({ createdTimeFrom: failed.createdTime });
      expect(fromFailed.map((status) => status.instanceId)).toEqual(['q-failed', 'q-terminated', 'q-suspended']);
      const window = await client.getStatusBy({ createdTimeFrom: new Date(0), createdTimeTo: failed.createdTime });
      expect(window.map((status) => status.instanceId)).toEqual(['q-running', 'q-completed', 'q-failed']);
      expect(window[0]).toMatchObject({ name: 'Hello', input: 'Running', runtimeStatus: 'Running' });

      const prefixed = await fetch(api.url('instances?instanceIdPrefix=q-t&showInput=false'));
      expect(prefixed.status).toBe(200);
      expect(await json(prefixed)).toEqual([expect.objectContaining({ instanceId: 'q-terminated', input: null })]);
      const bad = await fetch(api.url('instances/?runtimeStatus=Running,Sleeping'));
      expect(bad.status).toBe(400);
      expect((await fetch(api.url('instances/?createdTimeFrom=yesterday'))).status).toBe(400);
      expect((await fetch(api.url('instances/?top=0'))).status).toBe(400);
    });

    it('pages with x-ms-continuation-token; the JS client follows the tokens to the end', async () => {
      await seed();
      api.hub.defaultPageSize = 2;
      const all = await client.getStatusAll();
      expect(all.map((status) => status.instanceId)).toEqual(['q-running', 'q-completed', 'q-failed', 'q-terminated', 'q-suspended']);

      api.hub.defaultPageSize = 100;
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const response: Response = await fetch(api.url('instances?top=2'), { headers: token ? { 'x-ms-continuation-token': token } : {} });
        expect(response.status).toBe(200);
        seen.push(...((await json(response)) as Array<{ instanceId: string }>).map((status) => status.instanceId));
        token = response.headers.get('x-ms-continuation-token');
        pages++;
      } while (token);
      expect(pages).toBe(3);
      expect(seen).toEqual(all.map((status) => status.instanceId));
    });
  });

  describe('raiseEvent', () => {
    it('delivers the JSON body (202), answers 404 unknown and 410 finished', async () => {
      const id = await client.startNew('Hello');
      api.hub.update(id, { runtimeStatus: 'Running' });
      await client.raiseEvent(id, 'Approval', { approved: true });
      await client.raiseEvent(id, 'Ping', undefined);
      expect(api.hub.instances.get(id)?.events).toEqual([
        { name: 'Approval', input: '{"approved":true}' },
        { name: 'Ping', input: null },
      ]);
      const direct = await fetch(api.url(`INSTANCES/${id}/RAISEEVENT/Go%20now`), { method: 'POST', body: '42', headers: { 'content-type': 'application/json; charset=utf-8' } });
      expect(direct.status).toBe(202);
      expect(api.hub.instances.get(id)?.events.at(-1)).toEqual({ name: 'Go now', input: '42' });

      await expect(client.raiseEvent('nope', 'Approval', 1)).rejects.toThrow("No instance with ID 'nope' found.");
      const unknown = await fetch(api.url('instances/nope/raiseEvent/Approval'), { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
      expect(unknown.status).toBe(404);

      api.hub.update(id, { runtimeStatus: 'Completed' });
      const gone = await fetch(api.url(`instances/${id}/raiseEvent/Approval`), { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
      expect(gone.status).toBe(410);
      await expect(client.raiseEvent(id, 'Approval', 1)).resolves.toBeUndefined(); // the client ignores 410
    });

    it('refuses all-digit event names, invalid JSON and non-JSON content with 400', async () => {
      const id = await client.startNew('Hello');
      await expect(client.raiseEvent(id, '0', 'x')).rejects.toThrow(/400/);
      const digits = await fetch(api.url(`instances/${id}/raiseEvent/123`), { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
      expect(digits.status).toBe(400);
      expect(await json(digits)).toMatchObject({ code: 'Durable.InvalidEventName' });
      const invalid = await fetch(api.url(`instances/${id}/raiseEvent/Approval`), { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
      expect(invalid.status).toBe(400);
      expect(await json(invalid)).toMatchObject({ code: 'Durable.InvalidJson' });
      const text = await fetch(api.url(`instances/${id}/raiseEvent/Approval`), { method: 'POST', body: 'yes', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(400);
      expect(await json(text)).toMatchObject({ code: 'Durable.JsonContentRequired' });
      expect(api.hub.instances.get(id)?.events).toEqual([]);
    });
  });

  describe('terminate, suspend, resume, restart, rewind, entities', () => {
    it('terminates with the decoded reason (202), then answers 410; 404 for unknown', async () => {
      const id = await client.startNew('Hello');
      await client.terminate(id, 'no longer needed');
      expect(api.hub.instances.get(id)).toMatchObject({ runtimeStatus: 'Terminated', output: 'no longer needed' });
      const again = await fetch(api.url(`instances/${id}/terminate?reason=x`), { method: 'POST' });
      expect(again.status).toBe(410);
      await expect(client.terminate('nope', 'x')).rejects.toThrow("No instance with ID 'nope' found.");
      const wrongMethod = await fetch(api.url(`instances/${id}/terminate`));
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('POST');
    });

    it('suspends and resumes (202); a second suspend is the task hub 409', async () => {
      const id = await client.startNew('Hello');
      api.hub.update(id, { runtimeStatus: 'Running' });
      await client.suspend(id, 'maintenance');
      expect(api.hub.instances.get(id)?.runtimeStatus).toBe('Suspended');
      expect((await fetch(api.url(`instances/${id}`))).status).toBe(202);
      await expect(client.suspend(id, 'again')).rejects.toThrow(/409/);
      await client.resume(id, 'done');
      expect(api.hub.instances.get(id)).toMatchObject({ runtimeStatus: 'Running', reasons: ['suspend:maintenance', 'resume:done'] });
      api.hub.update(id, { runtimeStatus: 'Completed' });
      expect((await fetch(api.url(`instances/${id}/suspend`), { method: 'POST' })).status).toBe(410);
    });

    it('restarts an instance with its input, under a new id by default', async () => {
      const id = await client.startNew('Hello', { instanceId: 'orig', input: { n: 7 } });
      api.hub.update(id, { runtimeStatus: 'Completed' });
      const fresh = await fetch(api.url('instances/orig/restart'), { method: 'POST' });
      expect(fresh.status).toBe(202);
      const freshId = ((await json(fresh)) as { id: string }).id;
      expect(freshId).not.toBe('orig');
      expect(api.hub.instances.get(freshId)?.input).toBe('{"n":7}');
      const same = await fetch(api.url('instances/orig/restart?restartWithNewInstanceId=false'), { method: 'POST' });
      expect(same.status).toBe(202);
      expect(((await json(same)) as { id: string }).id).toBe('orig');
      expect(api.hub.instances.get('orig')?.runtimeStatus).toBe('Pending');
    });

    it('answers 501 for rewind and for entities', async () => {
      const id = await client.startNew('Hello');
      api.hub.update(id, { runtimeStatus: 'Failed' });
      const rewind = await fetch(api.url(`instances/${id}/rewind?reason=retry`), { method: 'POST' });
      expect(rewind.status).toBe(501);
      expect(rewind.headers.get('content-type')).toBe('application/problem+json');
      expect(await json(rewind)).toMatchObject({ status: 501, code: 'Durable.RewindNotSupported', detail: expect.stringMatching(/not supported/) });
      await expect(client.rewind(id, 'retry')).rejects.toThrow();
      expect((await fetch(api.url('instances/nope/rewind'), { method: 'POST' })).status).toBe(404);

      const entity = await fetch(api.url('entities/Counter/one?op=add'), { method: 'POST', body: '1' });
      expect(entity.status).toBe(501);
      expect(await json(entity)).toMatchObject({ code: 'Durable.EntitiesNotSupported' });
      await expect(client.signalEntity(new df.EntityId('Counter', 'one'), 'add', 1)).rejects.toThrow(/501/);
      await expect(client.readEntityState(new df.EntityId('Counter', 'one'))).rejects.toThrow(/501/);
    });
  });

  describe('purge', () => {
    it('purges one finished instance (200), reports 0 for unknown, and refuses a running one with 412', async () => {
      const id = await client.startNew('Hello');
      const running = await fetch(api.url(`instances/${id}`), { method: 'DELETE' });
      expect(running.status).toBe(412);
      expect(await json(running)).toMatchObject({ code: 'Durable.InstanceNotFinished' });
      api.hub.update(id, { runtimeStatus: 'Completed' });
      expect(await client.purgeInstanceHistory(id)).toEqual({ instancesDeleted: 1 });
      expect(api.hub.instances.has(id)).toBe(false);
      expect(await client.purgeInstanceHistory(id)).toEqual({ instancesDeleted: 0 });
    });

    it('purges by filter (createdTimeFrom required), 404 when nothing matched', async () => {
      const ids = [];
      for (const status of ['Completed', 'Failed', 'Running', 'Completed'] as const) {
        const id = await client.startNew('Hello');
        api.hub.update(id, { runtimeStatus: status });
        ids.push(id);
      }
      const missing = await fetch(api.url('instances/'), { method: 'DELETE' });
      expect(missing.status).toBe(400);
      expect(await json(missing)).toMatchObject({ code: 'Durable.MissingCreatedTimeFrom' });

      const onlyFailed = await client.purgeInstanceHistoryBy({ createdTimeFrom: new Date(0), runtimeStatus: [df.OrchestrationRuntimeStatus.Failed] });
      expect(onlyFailed).toEqual({ instancesDeleted: 1 });
      const rest = await client.purgeInstanceHistoryBy({ createdTimeFrom: new Date(0) });
      expect(rest).toEqual({ instancesDeleted: 2 });
      expect([...api.hub.instances.keys()]).toEqual([ids[2]]);
      const none = await fetch(api.url(`instances?createdTimeFrom=${new Date(0).toISOString()}`), { method: 'DELETE' });
      expect(none.status).toBe(404);
      expect(await client.purgeInstanceHistoryBy({ createdTimeFrom: new Date(0) })).toEqual({ instancesDeleted: 0 });
    });
  });

  describe('errors', () => {
    it('answers 404 for unknown paths and 500 without details for unexpected failures', async () => {
      expect((await fetch(api.url(''))).status).toBe(404);
      expect((await fetch(api.url('instances/a/b/c/d/e'))).status).toBe(404);
      expect((await fetch(api.url('instances/%E0%A4%A'))).status).toBe(400);
      api.hub.failWith = new Error('database is locked at /secret/path');
      try {
        const response = await fetch(api.url('instances/anything'));
        expect(response.status).toBe(500);
        const body = JSON.stringify(await json(response));
        expect(body).toContain('Durable.InternalError');
        expect(body).not.toContain('secret');
        expect(api.errors).toHaveLength(1);
      } finally {
        api.hub.failWith = undefined;
      }
    });
  });
});

describe('durableHttpApi (key required)', () => {
  let api: Api;
  beforeAll(async () => {
    api = await startApi({ authEnforced: true });
  });
  afterAll(() => api.close());

  it('answers 401 without a valid key and serves the master or system key', async () => {
    expect((await fetch(api.url('instances'))).status).toBe(401);
    expect((await fetch(api.url('instances?code=wrong'))).status).toBe(401);
    expect((await fetch(api.url('instances'), { headers: { 'x-functions-key': MASTER_KEY } })).status).toBe(200);
    expect((await fetch(api.url(`instances?code=${SYSTEM_KEY}`))).status).toBe(200);
    expect((await fetch(api.url('orchestrators/Hello'), { method: 'POST' })).status).toBe(401);
    expect(api.hub.starts).toHaveLength(0);
  });

  it('puts the caller’s key into the check-status links', async () => {
    const response = await fetch(api.url('orchestrators/Hello/keyed'), { method: 'POST', headers: { 'x-functions-key': MASTER_KEY } });
    expect(response.status).toBe(202);
    const body = (await json(response)) as Record<string, string>;
    expect(body['statusQueryGetUri']).toBe(api.url(`instances/keyed?taskHub=TestHub&connection=Storage&code=${MASTER_KEY}`));
    expect((await fetch(body['statusQueryGetUri'] as string)).status).toBe(202);
  });

  it('works with the JS client when the binding data carries the key', async () => {
    const client = api.client(`code=${SYSTEM_KEY}`);
    const id = await client.startNew('Hello', { input: 1 });
    expect((await client.getStatus(id)).runtimeStatus).toBe('Pending');
    // Without rpcBaseUrl the client uses the templates, which do send showInput=false.
    expect((await client.getStatus(id, { showInput: false })).input).toBeNull();
    api.hub.update(id, { runtimeStatus: 'Running' });
    await client.raiseEvent(id, 'Go', true);
    expect(api.hub.instances.get(id)?.events).toEqual([{ name: 'Go', input: 'true' }]);
    expect((await client.getStatusAll()).map((status) => status.instanceId)).toContain(id);
    await client.terminate(id, 'bye');
    expect(await client.purgeInstanceHistory(id)).toEqual({ instancesDeleted: 1 });
  });
});

describe('durableClientBindingData', () => {
  it('renders the binding value of the extension, with rpcBaseUrl pointing at the same routes', () => {
    const base = 'http://127.0.0.1:7071/runtime/webhooks/durabletask';
    const q = 'taskHub=MyHub&connection=Storage';
    expect(durableClientBindingData('http://127.0.0.1:7071/', 'MyHub', '')).toEqual({
      taskHubName: 'MyHub',
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&`,
      },
      managementUrls: {
        id: 'INSTANCEID',
        statusQueryGetUri: `${base}/instances/INSTANCEID?${q}`,
        sendEventPostUri: `${base}/instances/INSTANCEID/raiseEvent/{eventName}?${q}`,
        terminatePostUri: `${base}/instances/INSTANCEID/terminate?reason={text}&${q}`,
        purgeHistoryDeleteUri: `${base}/instances/INSTANCEID?${q}`,
        restartPostUri: `${base}/instances/INSTANCEID/restart?${q}`,
        suspendPostUri: `${base}/instances/INSTANCEID/suspend?reason={text}&${q}`,
        resumePostUri: `${base}/instances/INSTANCEID/resume?reason={text}&${q}`,
        rewindPostUri: `${base}/instances/INSTANCEID/rewind?reason={text}&${q}`,
      },
      baseUrl: base,
      requiredQueryStringParameters: '',
      rpcBaseUrl: `${base}/`,
    });
  });

  it('carries the key in every template and leaves rpcBaseUrl out (the client would not send the key there)', () => {
    const data = durableClientBindingData('http://h:1', 'Hub', 'code=abc');
    expect(data.rpcBaseUrl).toBeUndefined();
    expect(data.requiredQueryStringParameters).toBe('code=abc');
    expect(data.creationUrls.createNewInstancePostUri).toBe('http://h:1/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?code=abc');
    for (const [name, url] of Object.entries(data.managementUrls)) if (name !== 'id') expect(url, name).toMatch(/&code=abc$/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const T0 = '2026-03-01T10:00:00.100Z';
const T1 = '2026-03-01T10:00:01.200Z';
const T2 = '2026-03-01T10:00:05.300Z';

/** A stored history (PascalCase, numeric EventType) over three episodes. */
function sampleHistory(): Array<Record<string, unknown>> {
  return [
    { EventType: 12, EventId: -1, IsPlayed: true, Timestamp: T0 },
    {
      EventType: 0,
      EventId: -1,
      IsPlayed: true,
      Timestamp: T0,
      OrchestrationInstance: { InstanceId: 'hist', ExecutionId: 'e1' },
      ParentInstance: null,
      Name: 'Hello',
      Version: '',
      Input: '"Tokyo"',
      Tags: null,
    },
    { EventType: 4, EventId: 0, IsPlayed: true, Timestamp: T0, Name: 'SayHello', Version: '', Input: '"Tokyo"' },
    { EventType: 13, EventId: -1, IsPlayed: true, Timestamp: T0 },
    { EventType: 12, EventId: -1, IsPlayed: true, Timestamp: T1 },
    { EventType: 5, EventId: -1, IsPlayed: true, Timestamp: T1, TaskScheduledId: 0, Result: '"Hello Tokyo"' },
    { EventType: 10, EventId: 1, IsPlayed: true, Timestamp: T1, FireAt: T2 },
    { EventType: 13, EventId: -1, IsPlayed: true, Timestamp: T1 },
    { EventType: 12, EventId: -1, IsPlayed: false, Timestamp: T2 },
    { EventType: 11, EventId: -1, IsPlayed: false, Timestamp: T2, TimerId: 1, FireAt: T2 },
    { EventType: 15, EventId: -1, IsPlayed: false, Timestamp: T2, Name: 'Approval', Input: 'true' },
    { EventType: 1, EventId: 2, IsPlayed: false, Timestamp: T2, OrchestrationStatus: 1, Result: '["Hello Tokyo"]', FailureDetails: null },
    { EventType: 13, EventId: -1, IsPlayed: false, Timestamp: T2 },
  ];
}

