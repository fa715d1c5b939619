import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadAppConfig } from '../../shared/config/appConfig.js';
import { createConnectorRegistry } from '../../shared/connectors/registry.js';
import { ConnectorError, type ActionContext, type ConnectorRegistry } from '../../shared/connectors/sdk.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { startLoopbackServer, type LoopbackServer } from '../support/loopbackServer.js';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
let server: LoopbackServer;
let port = 0;
let base = '';

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) {
    const code = Number(status[1]);
    res.writeHead(code, { 'content-type': 'application/json', ...(code === 503 || code === 429 ? { 'retry-after': '7' } : {}) });
    res.end(JSON.stringify({ error: 'nope', echo: url.search }));
    return;
  }
  switch (url.pathname) {
    case '/echo':
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'set-cookie': ['session=abc; HttpOnly'], 'X-Custom-Thing': 'yes' });
      res.end(JSON.stringify({ method: req.method, query: Object.fromEntries(url.searchParams), body }));
      return;
    case '/text':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{"looks":"like json"}');
      return;
    case '/empty':
      res.writeHead(204);
      res.end();
      return;
    case '/slow':
      setTimeout(() => {
        if (res.writableEnded || res.destroyed) return;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('late');
      }, 3000).unref();
      return;
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
  }
}

beforeAll(async () => {
  server = await startLoopbackServer(handle);
  ({ port, base } = server);
});

afterAll(() => server.close());

beforeEach(() => {
  seen.length = 0;
});

const context = (overrides: Partial<ActionContext> = {}): ActionContext & { lines: string[] } => {
  const lines: string[] = [];
  return { tenantId: 't1', runId: 'run-1', stepId: 'step-a', signal: new AbortController().signal, log: (message) => lines.push(message), lines, ...overrides };
};

const allowing = (): ConnectorRegistry => createConnectorRegistry({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] } });

async function request(input: Record<string, unknown>, ctx: ActionContext = context(), registry: ConnectorRegistry = allowing()): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  registry.validateInput('rest', 'request', input);
  return (await registry.action('rest', 'request').run(input as never, ctx)) as never;
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('rest connector: requests', () => {
  it('is in the catalog with its request action', () => {
    expect([...allowing().catalog().get('rest')!]).toEqual(['request']);
  });

  it('GET with query (scalars and arrays, appended to a query already in the url) returns the JSON body', async () => {
    const out = await request({ url: `${base}/echo?fixed=1`, query: { q: 'a b', n: 3, flag: true, tag: ['x', 'y'] } });
    expect(out.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.query.get('fixed')).toBe('1');
    expect(seen[0]!.query.get('q')).toBe('a b');
    expect(seen[0]!.query.get('n')).toBe('3');
    expect(seen[0]!.query.get('flag')).toBe('true');
    expect(seen[0]!.query.getAll('tag')).toEqual(['x', 'y']);
    expect(out.body).toEqual({ method: 'GET', query: { fixed: '1', q: 'a b', n: '3', flag: 'true', tag: 'y' }, body: '' });
  });

  it('POST json (default bodyType) sends JSON with its content type', async () => {
    const out = await request({ method: 'POST', url: `${base}/echo`, body: { a: 1, b: [true, null] } });
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(seen[0]!.body)).toEqual({ a: 1, b: [true, null] });
    expect((out.body as { method: string }).method).toBe('POST');
  });

  it('POST form sends url-encoded fields (arrays repeat)', async () => {
    await request({ method: 'POST', url: `${base}/echo`, bodyType: 'form', body: { name: 'Ann & Bo', n: 2, tag: ['x', 'y'] } });
    expect(seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(seen[0]!.body);
    expect(form.get('name')).toBe('Ann & Bo');
    expect(form.get('n')).toBe('2');
    expect(form.getAll('tag')).toEqual(['x', 'y']);
  });

  it('PUT text sends the string as is; a caller content-type wins', async () => {
    await request({ method: 'PUT', url: `${base}/echo`, bodyType: 'text', body: 'hello, world' });
    expect(seen[0]!.method).toBe('PUT');
    expect(seen[0]!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(seen[0]!.body).toBe('hello, world');
    await request({ method: 'PATCH', url: `${base}/echo`, bodyType: 'text', body: '<x/>', headers: { 'Content-Type': 'application/xml' } });
    expect(seen[1]!.method).toBe('PATCH');
    expect(seen[1]!.headers['content-type']).toBe('application/xml');
  });

  it('rejects a body that does not fit its bodyType, and a body on GET, before sending', async () => {
    expect((await failure(request({ method: 'POST', url: `${base}/echo`, bodyType: 'text', body: { a: 1 } }))).code).toBe('REST.INPUT_INVALID');
    expect((await failure(request({ method: 'POST', url: `${base}/echo`, bodyType: 'form', body: [1] }))).code).toBe('REST.INPUT_INVALID');
    expect((await failure(request({ url: `${base}/echo`, body: { a: 1 } }))).code).toBe('REST.INPUT_INVALID');
    expect(seen).toHaveLength(0);
  });
});

describe('rest connector: auth', () => {
  it('bearer', async () => {
    await request({ url: `${base}/echo`, auth: { type: 'bearer', token: 'tok-123' } });
    expect(seen[0]!.headers['authorization']).toBe('Bearer tok-123');
  });

  it('basic', async () => {
    await request({ url: `${base}/echo`, auth: { type: 'basic', username: 'ann', password: 'p@ss:wörd' } });
    expect(seen[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('ann:p@ss:wörd', 'utf8').toString('base64')}`);
  });

  it('apiKey in a header (the default) and in the query', async () => {
    await request({ url: `${base}/echo`, auth: { type: 'apiKey', name: 'X-Api-Key', value: 'k-header' } });
    expect(seen[0]!.headers['x-api-key']).toBe('k-header');
    expect(seen[0]!.query.has('X-Api-Key')).toBe(false);
    await request({ url: `${base}/echo`, query: { page: 2 }, auth: { type: 'apiKey', name: 'api_key', value: 'k-query', in: 'query' } });
    expect(seen[1]!.query.get('api_key')).toBe('k-query');
    expect(seen[1]!.query.get('page')).toBe('2');
    expect(seen[1]!.headers['api_key']).toBeUndefined();
  });
});

describe('rest connector: responses', () => {
  it('auto: JSON for a JSON content type, text otherwise; headers lower-cased without set-cookie', async () => {
    const json = await request({ url: `${base}/echo` });
    expect(json.body).toMatchObject({ method: 'GET' });
    expect(json.headers['x-custom-thing']).toBe('yes');
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.headers['set-cookie']).toBeUndefined();
    expect(Object.keys(json.headers).every((name) => name === name.toLowerCase())).toBe(true);
    const text = await request({ url: `${base}/text` });
    expect(text.body).toBe('{"looks":"like json"}');
  });

  it('responseType json parses whatever the content type; text never parses; empty is null', async () => {
    expect((await request({ url: `${base}/text`, responseType: 'json' })).body).toEqual({ looks: 'like json' });
    expect((await request({ url: `${base}/echo`, responseType: 'text' })).body).toBeTypeOf('string');
    expect(await request({ url: `${base}/empty` })).toMatchObject({ status: 204, body: null });
  });

  it('a 4xx is a permanent REST.HTTP_STATUS naming status and host, never the query, credentials or body', async () => {
    const error = await failure(request({ url: `${base}/status/404`, query: { q: 'visible?' }, auth: { type: 'apiKey', name: 'key', value: 'SECRET-KEY-VALUE', in: 'query' } }));
    expect(error).toMatchObject({ code: 'REST.HTTP_STATUS', retryable: false, details: { status: 404, host: '127.0.0.1' } });
    expect(error.message).toContain('404');
    expect(error.message).toContain('127.0.0.1');
    const serialized = `${error.message} ${JSON.stringify(error.details)}`;
    expect(serialized).not.toContain('SECRET-KEY-VALUE');
    expect(serialized).not.toContain('visible');
    expect(serialized).not.toContain('nope');
  });

  it('503 and 429 are retryable with Retry-After; 408 retryable; 400 not', async () => {
    expect(await failure(request({ url: `${base}/status/503` }))).toMatchObject({ code: 'REST.HTTP_STATUS', retryable: true, options: { retryAfterSeconds: 7 } });
    expect(await failure(request({ url: `${base}/status/429` }))).toMatchObject({ retryable: true, options: { retryAfterSeconds: 7 } });
    expect(await failure(request({ url: `${base}/status/408` }))).toMatchObject({ retryable: true });
    expect(await failure(request({ url: `${base}/status/400` }))).toMatchObject({ retryable: false });
  });

  it('expectStatus accepts listed statuses and then refuses 2xx not listed', async () => {
    const out = await request({ url: `${base}/status/404`, expectStatus: [200, 404] });
    expect(out).toMatchObject({ status: 404, body: { error: 'nope' } });
    expect(await failure(request({ url: `${base}/echo`, expectStatus: [201] }))).toMatchObject({ code: 'REST.HTTP_STATUS', retryable: false });
  });

  it('a connection failure is retryable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const registry = createConnectorRegistry({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [closedPort] } });
    expect(await failure(request({ url: `http://127.0.0.1:${closedPort}/` }, context(), registry))).toMatchObject({ code: 'REST.REQUEST_FAILED', retryable: true });
  });
});

describe('rest connector: timeout, cancellation, idempotency', () => {
  it('times out after timeoutSeconds with a retryable REST.TIMEOUT', async () => {
    const started = Date.now();
    const error = await failure(request({ url: `${base}/slow`, timeoutSeconds: 0.3 }));
    expect(error).toMatchObject({ code: 'REST.TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('the step signal aborts the request', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('step cancelled')), 200);
    const started = Date.now();
    await expect(request({ url: `${base}/slow` }, context({ signal: controller.signal }))).rejects.toThrow('step cancelled');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('Idempotency-Key is sent, stable for the same run and step, different for another step, and the caller may set it', async () => {
    await request({ method: 'POST', url: `${base}/echo`, body: {} });
    await request({ method: 'POST', url: `${base}/echo`, body: {} });
    await request({ method: 'POST', url: `${base}/echo`, body: {} }, context({ stepId: 'step-b' }));
    await request({ method: 'POST', url: `${base}/echo`, body: {} }, context({ runId: 'run-2' }));
    await request({ method: 'POST', url: `${base}/echo`, body: {}, headers: { 'Idempotency-Key': 'mine' } });
    const keys = seen.map((s) => s.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[3]).not.toBe(keys[0]);
    expect(keys[3]).not.toBe(keys[2]);
    expect(keys[4]).toBe('mine');
  });
});

describe('rest connector: egress policy', () => {
  it('blocks a host that is not allow-listed, permanently, and the server sees no request', async () => {
    const portOnly = createConnectorRegistry({ egress: { allowPorts: [port] } });
    const error = await failure(request({ url: `${base}/echo`, auth: { type: 'bearer', token: 'tok-xyz' } }, context(), portOnly));
    expect(error).toMatchObject({ code: 'SSRF.BLOCKED', retryable: false });
    expect(error.message).not.toContain('tok-xyz');
    const defaults = createConnectorRegistry();
    expect(await failure(request({ url: `${base}/echo` }, context(), defaults))).toMatchObject({ code: 'SSRF.BLOCKED', retryable: false });
    expect(await failure(request({ url: 'http://localhost/echo' }, context(), defaults))).toMatchObject({ code: 'SSRF.BLOCKED', retryable: false });
    expect(await failure(request({ url: 'http://169.254.169.254/latest/meta-data' }, context(), allowing()))).toMatchObject({ code: 'SSRF.BLOCKED' });
    expect(seen).toHaveLength(0);
  });

  it('an invalid url is a permanent SSRF.INVALID_URL that does not echo it', async () => {
    const error = await failure(request({ url: 'not a url?key=SECRET' }));
    expect(error).toMatchObject({ code: 'SSRF.INVALID_URL', retryable: false });
    expect(error.message).not.toContain('SECRET');
    expect(await failure(request({ url: 'file:///etc/passwd' }))).toMatchObject({ code: 'SSRF.BLOCKED', retryable: false });
  });
});

describe('rest connector: input schema', () => {
  const registry = createConnectorRegistry();
  const invalid = (input: unknown): ValidationError => {
    try {
      registry.validateInput('rest', 'request', input);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return error as ValidationError;
    }
    throw new Error('the input was accepted');
  };

  it('accepts a full valid input', () => {
    expect(() =>
      registry.validateInput('rest', 'request', {
        method: 'POST',
        url: 'https://api.example.com/x',
        query: { a: 1, b: ['c', true] },
        headers: { 'X-Trace': '1' },
        body: { any: ['json', 1, null] },
        bodyType: 'json',
        responseType: 'auto',
        auth: { type: 'apiKey', name: 'X-Key', value: 'v', in: 'query' },
        timeoutSeconds: 5,
        expectStatus: [200, 409],
      }),
    ).not.toThrow();
  });

  it('rejects unknown properties, a missing url and bad enums', () => {
    const unknown = invalid({ url: 'https://api.example.com/', verb: 'GET' });
    expect(unknown.code).toBe('STEP.INPUT_INVALID');
    expect(unknown.problems.some((p) => p.kind === 'additionalProperties')).toBe(true);
    expect(invalid({}).problems.some((p) => p.kind === 'required')).toBe(true);
    invalid({ url: 'https://api.example.com/', method: 'TRACE' });
    invalid({ url: 'https://api.example.com/', bodyType: 'xml' });
    invalid({ url: 'https://api.example.com/', responseType: 'blob' });
    invalid({ url: 'https://api.example.com/', bodyType: 'stream' });
    invalid({ url: 'https://api.example.com/', responseType: 'binary', maxResponseBytes: 0 });
  });

  it('rejects malformed auth, query, headers, timeout and expectStatus', () => {
    invalid({ url: 'https://a.example/', auth: { type: 'bearer' } });
    invalid({ url: 'https://a.example/', auth: { type: 'bearer', token: 't', extra: 1 } });
    invalid({ url: 'https://a.example/', auth: { type: 'oauth2', token: 't' } });
    invalid({ url: 'https://a.example/', auth: { type: 'apiKey', name: 'k', value: 'v', in: 'cookie' } });
    invalid({ url: 'https://a.example/', query: { a: { nested: 1 } } });
    invalid({ url: 'https://a.example/', headers: { 'X-A': 1 } });
    invalid({ url: 'https://a.example/', headers: { 'X-A': 'a\r\nInjected: 1' } });
    invalid({ url: 'https://a.example/', headers: { 'bad name': 'x' } });
    invalid({ url: 'https://a.example/', timeoutSeconds: 0 });
    invalid({ url: 'https://a.example/', expectStatus: [99] });
  });
});

describe('AIQ_EGRESS_ALLOW_HOSTS / AIQ_EGRESS_ALLOW_PORTS settings', () => {
  it('parse into the egress policy; empty means none', () => {
    expect(loadAppConfig({}).egress).toEqual({ allowHosts: [], allowPorts: [] });
    const config = loadAppConfig({ AIQ_EGRESS_ALLOW_HOSTS: ' api.internal, *.Corp.Example ,10.1.0.0/16, 10.2.3.4, ::1, fd00::/8 ', AIQ_EGRESS_ALLOW_PORTS: '8080, 8443' });
    expect(config.egress).toEqual({ allowHosts: ['api.internal', '*.corp.example', '10.1.0.0/16', '10.2.3.4', '::1', 'fd00::/8'], allowPorts: [8080, 8443] });
  });

  it.each(['http://api.internal', 'a b', '10.0.0.0/33', '10.0.0.0/x', '*.', 'user@host', '999.1.1.1', 'host/path'])('an invalid host entry %j fails startup naming the setting', (entry) => {
    let error: unknown;
    try {
      loadAppConfig({ AIQ_EGRESS_ALLOW_HOSTS: `ok.example,${entry}` });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('AIQ_EGRESS_ALLOW_HOSTS');
  });

  it.each(['0', '70000', 'http', '80x'])('an invalid port %j fails startup naming the setting', (entry) => {
    expect(() => loadAppConfig({ AIQ_EGRESS_ALLOW_PORTS: entry })).toThrow(expect.objectContaining({ setting: 'AIQ_EGRESS_ALLOW_PORTS' }));
  });
});
