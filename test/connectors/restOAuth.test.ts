import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRestConnector, type RestConnectorOptions } from '../../shared/connectors/rest/restConnector.js';
import { ConnectorError, ConnectorRegistry, type ActionContext } from '../../shared/connectors/sdk.js';
import { startLoopbackServer, type LoopbackServer } from '../support/loopbackServer.js';

const SECRET = 's3cr3t-value-xyz';

interface TokenCall {
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
}

const tokenCalls: TokenCall[] = [];
const apiCalls: Array<{ path: string; authorization: string | undefined; idempotencyKey: string | undefined; method: string; body: string }> = [];
let tokenCounter = 0;
/** Tokens the API refuses with 401 (revoked). */
const revoked = new Set<string>();
let tokenDelayMs = 0;
let tokenExpiresIn = 3600;
let server: LoopbackServer;
let port = 0;
let base = '';

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const json = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (url.pathname === '/token') {
    const form = new URLSearchParams(body);
    tokenCalls.push({ headers: req.headers, form });
    if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type' });
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic) [clientId, clientSecret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) as [string, string];
    if (clientSecret !== SECRET) return json(401, { error: 'invalid_client', error_description: `bad secret ${clientSecret ?? ''}` });
    tokenCounter += 1;
    const token = `tok-${tokenCounter}-${clientId ?? ''}`;
    setTimeout(() => json(200, { access_token: token, token_type: 'Bearer', expires_in: tokenExpiresIn }), tokenDelayMs);
    return;
  }
  if (url.pathname === '/token-500') return json(503, { error: 'temporarily_unavailable' });
  apiCalls.push({ path: url.pathname, authorization: req.headers.authorization, idempotencyKey: req.headers['idempotency-key'] as string | undefined, method: req.method ?? '', body });
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) return json(Number(status[1]), { error: 'nope' });
  if (url.pathname === '/api') {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || revoked.has(token)) return json(401, { error: 'unauthorized' });
    return json(200, { token, body });
  }
  json(404, {});
}

beforeAll(async () => {
  server = await startLoopbackServer(handle);
  ({ port, base } = server);
});

afterAll(() => server.close());

beforeEach(() => {
  tokenCalls.length = 0;
  apiCalls.length = 0;
  revoked.clear();
  tokenDelayMs = 0;
  tokenExpiresIn = 3600;
});

const context = (overrides: Partial<ActionContext> = {}): ActionContext & { redacted: string[] } => {
  const redacted: string[] = [];
  return { tenantId: 't1', runId: 'run-1', stepId: 'step-a', signal: new AbortController().signal, log: () => undefined, redact: (value) => redacted.push(value), redacted, ...overrides };
};

const registry = (extra: Partial<RestConnectorOptions> = {}): ConnectorRegistry =>
  new ConnectorRegistry([createRestConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] }, ...extra })]);

type Out = { status: number; headers: Record<string, string>; body: { token?: string; body?: string }; url: string };

async function request(reg: ConnectorRegistry, input: Record<string, unknown>, ctx: ActionContext = context()): Promise<Out> {
  reg.validateInput('rest', 'request', input);
  return (await reg.action('rest', 'request').run(input as never, ctx)) as never;
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

const oauth = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'oauth2ClientCredentials', tokenUrl: `${base}/token`, clientId: 'app', clientSecret: SECRET, ...extra });

describe('rest connector: OAuth2 client credentials', () => {
  it('fetches a token once (form body) and reuses it across requests', async () => {
    const reg = registry();
    for (let i = 0; i < 3; i += 1) {
      const out = await request(reg, { url: `${base}/api`, auth: oauth({ scope: 'read write', audience: 'https://api.example' }) });
      expect(out.status).toBe(200);
      expect(out.body.token).toBe('tok-' + String(tokenCounter) + '-app');
    }
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(tokenCalls[0]!.form)).toEqual({ grant_type: 'client_credentials', scope: 'read write', audience: 'https://api.example', client_id: 'app', client_secret: SECRET });
    expect(tokenCalls[0]!.headers.authorization).toBeUndefined();
    expect(new Set(apiCalls.map((call) => call.authorization)).size).toBe(1);
    expect(apiCalls[0]!.authorization).toMatch(/^Bearer tok-\d+-app$/);
  });

  it('never shares a token between tenants', async () => {
    const reg = registry();
    const a = await request(reg, { url: `${base}/api`, auth: oauth() }, context({ tenantId: 'tenant-a' }));
    const b = await request(reg, { url: `${base}/api`, auth: oauth() }, context({ tenantId: 'tenant-b' }));
    const a2 = await request(reg, { url: `${base}/api`, auth: oauth() }, context({ tenantId: 'tenant-a' }));
    expect(tokenCalls).toHaveLength(2);
    expect(a.body.token).not.toBe(b.body.token);
    expect(a2.body.token).toBe(a.body.token);
  });

  it('refreshes the token 60 s before it expires', async () => {
    let now = 1_000_000;
    const reg = registry({ now: () => now });
    tokenExpiresIn = 120;
    const first = await request(reg, { url: `${base}/api`, auth: oauth() });
    now += 59_000;
    const second = await request(reg, { url: `${base}/api`, auth: oauth() });
    expect(second.body.token).toBe(first.body.token);
    expect(tokenCalls).toHaveLength(1);
    now += 2_000; // 61 s after the fetch: within the 60 s skew of expiry
    const third = await request(reg, { url: `${base}/api`, auth: oauth() });
    expect(tokenCalls).toHaveLength(2);
    expect(third.body.token).not.toBe(first.body.token);
  });

  it('on 401 with a cached token, fetches a new token once and retries once', async () => {
    const reg = registry();
    const first = await request(reg, { url: `${base}/api`, auth: oauth() });
    revoked.add(first.body.token!);
    const second = await request(reg, { method: 'POST', url: `${base}/api`, auth: oauth(), body: { x: 1 } });
    expect(second.status).toBe(200);
    expect(second.body.token).not.toBe(first.body.token);
    expect(tokenCalls).toHaveLength(2);
    // first GET, then the POST with the revoked token, then the retry with the same body and idempotency key
    expect(apiCalls).toHaveLength(3);
    expect(apiCalls[1]!.body).toBe(apiCalls[2]!.body);
    expect(apiCalls[1]!.idempotencyKey).toBe(apiCalls[2]!.idempotencyKey);
    // the new token is cached
    await request(reg, { url: `${base}/api`, auth: oauth() });
    expect(tokenCalls).toHaveLength(2);
  });

  it('a 401 after the refresh fails the step (no retry loop)', async () => {
    const reg = registry();
    const error = await failure(request(reg, { url: `${base}/status/401`, auth: oauth() }));
    expect(error.code).toBe('REST.HTTP_STATUS');
    expect(error.retryable).toBe(false);
    // fresh token: no retry at all
    expect(apiCalls).toHaveLength(1);
    const again = await failure(request(reg, { url: `${base}/status/401`, auth: oauth() }));
    expect(again.details).toMatchObject({ status: 401 });
    // cached token: one refresh, one retry
    expect(apiCalls).toHaveLength(3);
    expect(tokenCalls).toHaveLength(2);
  });

  it('invalid_client is permanent, names the OAuth error code and never echoes the secret', async () => {
    const reg = registry();
    const error = await failure(request(reg, { url: `${base}/api`, auth: oauth({ clientSecret: 'wrong-secret-123' }) }));
    expect(error.code).toBe('REST.OAUTH_TOKEN_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('invalid_client');
    expect(error.details).toMatchObject({ status: 401, oauthError: 'invalid_client' });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('wrong-secret-123');
    expect(apiCalls).toHaveLength(0);
  });

  it('a 5xx from the token endpoint is a retryable REST.OAUTH_TOKEN_FAILED', async () => {
    const error = await failure(request(registry(), { url: `${base}/api`, auth: oauth({ tokenUrl: `${base}/token-500` }) }));
    expect(error.code).toBe('REST.OAUTH_TOKEN_FAILED');
    expect(error.retryable).toBe(true);
  });

  it('the token endpoint is subject to the egress policy', async () => {
    const error = await failure(request(registry(), { url: `${base}/api`, auth: oauth({ tokenUrl: 'http://169.254.169.254/token' }) }));
    expect(error.code).toMatch(/^SSRF\./);
    expect(tokenCalls).toHaveLength(0);
  });

  it('clientAuth basic sends the credentials in an Authorization: Basic header (form-encoded), not in the body', async () => {
    const ctx = context();
    await request(registry(), { url: `${base}/api`, auth: oauth({ clientId: 'my app:1', clientAuth: 'basic' }) }, ctx);
    expect(tokenCalls).toHaveLength(1);
    const expected = Buffer.from(`my+app%3A1:${SECRET}`, 'utf8').toString('base64');
    expect(tokenCalls[0]!.headers.authorization).toBe(`Basic ${expected}`);
    expect(tokenCalls[0]!.form.get('client_secret')).toBeNull();
    expect(tokenCalls[0]!.form.get('client_id')).toBeNull();
    expect(ctx.redacted).toContain(expected);
  });

  it('concurrent requests share one token request', async () => {
    tokenDelayMs = 150;
    const reg = registry();
    const outs = await Promise.all(Array.from({ length: 5 }, () => request(reg, { url: `${base}/api`, auth: oauth() })));
    expect(tokenCalls).toHaveLength(1);
    expect(new Set(outs.map((out) => out.body.token)).size).toBe(1);
  });

  it('passes the access token and the client secret to context.redact', async () => {
    const ctx = context();
    const out = await request(registry(), { url: `${base}/api`, auth: oauth() }, ctx);
    expect(out.body.token).toMatch(/^tok-/);
    expect(ctx.redacted).toContain(out.body.token);
    expect(ctx.redacted).toContain(SECRET);
  });
});

describe('rest connector: fallback URLs', () => {
  it('primary 503 → the fallback answers; output.url is the fallback without its query', async () => {
    const out = await request(registry(), {
      method: 'POST',
      url: `${base}/status/503?key=primary`,
      fallbackUrls: [`${base}/status/200?api_key=hidden`],
      body: { a: 1 },
      headers: { 'X-Trace': 't' },
    });
    expect(out.status).toBe(200);
    expect(out.url).toBe(`${base}/status/200`);
    expect(apiCalls.map((call) => call.path)).toEqual(['/status/503', '/status/200']);
    expect(apiCalls[0]!.method).toBe('POST');
    expect(apiCalls[1]!.method).toBe('POST');
    expect(apiCalls[1]!.body).toBe(apiCalls[0]!.body);
    expect(apiCalls[1]!.idempotencyKey).toBe(apiCalls[0]!.idempotencyKey);
  });

  it('output.url is the primary when it answers; fallbacks are not called', async () => {
    const out = await request(registry(), { url: `${base}/status/200?x=1`, fallbackUrls: [`${base}/status/201`] });
    expect(out.url).toBe(`${base}/status/200`);
    expect(apiCalls).toHaveLength(1);
  });

  it('primary 400 → no fallback is tried', async () => {
    const error = await failure(request(registry(), { url: `${base}/status/400`, fallbackUrls: [`${base}/status/200`] }));
    expect(error.code).toBe('REST.HTTP_STATUS');
    expect(error.retryable).toBe(false);
    expect(apiCalls.map((call) => call.path)).toEqual(['/status/400']);
  });

  it('an SSRF refusal of the primary → no fallback is tried', async () => {
    const error = await failure(request(registry(), { url: 'http://169.254.169.254/x', fallbackUrls: [`${base}/status/200`] }));
    expect(error.code).toMatch(/^SSRF\./);
    expect(apiCalls).toHaveLength(0);
  });

  it('all fail → the last error, retryable', async () => {
    const error = await failure(request(registry(), { url: `${base}/status/503`, fallbackUrls: [`${base}/status/500`, `${base}/status/429`] }));
    expect(error.code).toBe('REST.HTTP_STATUS');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ status: 429 });
    expect(apiCalls.map((call) => call.path)).toEqual(['/status/503', '/status/500', '/status/429']);
  });

  it('a fallback after a retryable fault that then answers 4xx → that permanent error', async () => {
    const error = await failure(request(registry(), { url: `${base}/status/502`, fallbackUrls: [`${base}/status/404`, `${base}/status/200`] }));
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ status: 404 });
    expect(apiCalls).toHaveLength(2);
  });

  it('a network failure of the primary falls back', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const reg = new ConnectorRegistry([createRestConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port, closedPort] } })]);
    const out = await request(reg, { url: `http://127.0.0.1:${closedPort}/x`, fallbackUrls: [`${base}/status/200`] });
    expect(out.url).toBe(`${base}/status/200`);
  });

  it('accepts at most 3 fallback URLs', () => {
    expect(() => registry().validateInput('rest', 'request', { url: `${base}/x`, fallbackUrls: ['a', 'b', 'c', 'd'] })).toThrow();
  });
});
