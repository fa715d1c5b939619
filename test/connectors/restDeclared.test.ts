import type http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { operationUrl, REST_PATH_OUTSIDE_BASE } from '../../shared/connectors/rest/declaredRestOperation.js';
import { createConnectorRegistry } from '../../shared/connectors/registry.js';
import { ConnectorError, type ActionContext } from '../../shared/connectors/sdk.js';
import { AppError, ValidationError } from '../../shared/domain/errors.js';
import type { JsonValue } from '../../shared/domain/json.js';
import { startLoopbackServer, type LoopbackServer } from '../support/loopbackServer.js';

/**
 * Operations of REST connectors declared in a definition, run by the `rest` connector against a real loopback
 * server: the URL stays under the base, inputs are checked against the operation's schema, auth and headers come
 * from the (resolved) declaration, and egress follows the calling tenant's allow-list only.
 */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
let server: LoopbackServer;

beforeAll(async () => {
  server = await startLoopbackServer((req, res, body) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const status = /\/status\/(\d{3})$/.exec(req.url ?? '');
    res.writeHead(status ? Number(status[1]) : (req.url ?? '').startsWith('/down/') ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, method: req.method }));
  });
});
afterAll(() => server.close());
beforeEach(() => {
  seen.length = 0;
});

const context = (overrides: Partial<ActionContext> = {}): ActionContext & { redacted: string[] } => {
  const redacted: string[] = [];
  return { tenantId: 't1', runId: 'run-1', stepId: 'step-a', signal: new AbortController().signal, log: () => undefined, redact: (value) => void redacted.push(value), redacted, ...overrides };
};

const declaration = (overrides: Record<string, JsonValue> = {}): JsonValue => ({
  type: 'rest',
  baseUrl: `${server.base}/api/v2`,
  auth: { type: 'basic', username: 'robot', password: 'pa55word' },
  headers: { 'X-Client': 'automateiq' },
  operations: {
    getCustomer: { method: 'GET', path: '/customers/{id}', query: { expand: 'orders' } },
    addNote: {
      method: 'POST',
      path: '/customers/{id}/notes',
      headers: { 'X-Operation': 'note' },
      input: { type: 'object', required: ['body'], properties: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 20 } } } } },
    },
    fail: { method: 'GET', path: '/status/{code}' },
  },
  ...overrides,
});

/** The tenant's allow-list that lets it reach the loopback server (the operator's allows nothing private). */
const loopbackEgress = () => ({ allowHosts: ['127.0.0.1'], allowPorts: [server.port] });

describe('declared REST operations', () => {
  const registry = createConnectorRegistry();

  it("send through the rest connector: URL under the base with the path value encoded, query, headers, basic auth and an Idempotency-Key", async () => {
    const action = registry.declaredAction('crm', declaration(), 'getCustomer');
    const ctx = context({ egress: loopbackEgress() });
    const out = (await action.run({ path: { id: 'a/b c?d' }, query: { page: 2 }, headers: { 'X-Trace': 't-1' } } as never, ctx)) as Record<string, unknown>;
    expect(out['status']).toBe(200);
    expect(out['url']).toBe(`${server.base}/api/v2/customers/a%2Fb%20c%3Fd`);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/api/v2/customers/a%2Fb%20c%3Fd?expand=orders&page=2');
    expect(seen[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('robot:pa55word').toString('base64')}`);
    expect(seen[0]!.headers['x-client']).toBe('automateiq');
    expect(seen[0]!.headers['x-trace']).toBe('t-1');
    expect(seen[0]!.headers['idempotency-key']).toMatch(/\S+/);
    // The derived credential is handed to the engine's redaction like rest.request's.
    expect(ctx.redacted).toContain(Buffer.from('robot:pa55word').toString('base64'));
  });

  it("checks the step's inputs against the operation's schema and the path values before sending anything (STEP.INPUT_INVALID, every problem)", async () => {
    const action = registry.declaredAction('crm', declaration(), 'addNote');
    const error = await action.run({ path: { id: '..' }, body: { text: 'x'.repeat(21) }, extra: 1 } as never, context({ egress: loopbackEgress() })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('STEP.INPUT_INVALID');
    expect((error as ValidationError).problems.map((p) => p.pointer).sort()).toEqual(['/inputs/body/text', '/inputs/extra', '/inputs/path/id']);
    const missing = await action.run({ body: { text: 'hi' } } as never, context({ egress: loopbackEgress() })).catch((caught: unknown) => caught);
    expect((missing as ValidationError).problems.map((p) => p.pointer)).toEqual(['/inputs/path']);
    expect(seen).toHaveLength(0);

    const out = (await action.run({ path: { id: 7 }, body: { text: 'hello' } } as never, context({ egress: loopbackEgress() }))) as Record<string, unknown>;
    expect(out['status']).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v2/customers/7/notes', body: '{"text":"hello"}' });
    expect(seen[0]!.headers['x-operation']).toBe('note');
    expect(seen[0]!.headers['content-type']).toMatch(/^application\/json/);
  });

  it('maps statuses like rest.request: 503 is retryable, 404 permanent', async () => {
    const action = registry.declaredAction('crm', declaration(), 'fail');
    const unavailable = (await action.run({ path: { code: 503 } } as never, context({ egress: loopbackEgress() })).catch((caught: unknown) => caught)) as ConnectorError;
    expect(unavailable).toBeInstanceOf(ConnectorError);
    expect(unavailable.retryable).toBe(true);
    const missing = (await action.run({ path: { code: 404 } } as never, context({ egress: loopbackEgress() })).catch((caught: unknown) => caught)) as ConnectorError;
    expect(missing.code).toBe('REST.HTTP_STATUS');
    expect(missing.retryable).toBe(false);
  });

  it('try the fallback base URLs in order after a retryable fault, with the same operation', async () => {
    const action = registry.declaredAction('crm', declaration({ baseUrl: `${server.base}/down/v2`, fallbackBaseUrls: [`${server.base}/api/v2`] }), 'getCustomer');
    const out = (await action.run({ path: { id: '9' } } as never, context({ egress: loopbackEgress() }))) as Record<string, unknown>;
    expect(out['url']).toBe(`${server.base}/api/v2/customers/9`);
    expect(seen.map((s) => s.url)).toEqual(['/down/v2/customers/9?expand=orders', '/api/v2/customers/9?expand=orders']);
    // One idempotency key for the call, whichever URL answers.
    expect(seen[0]!.headers['idempotency-key']).toBe(seen[1]!.headers['idempotency-key']);
  });

  it('follow the egress allow-list of the calling tenant only: without it the loopback server is refused before any connection', async () => {
    const action = registry.declaredAction('crm', declaration(), 'getCustomer');
    const refused = (await action.run({ path: { id: '1' } } as never, context({ tenantId: 't2' })).catch((caught: unknown) => caught)) as ConnectorError;
    expect(refused.code).toBe('SSRF.BLOCKED');
    const otherPorts = (await action.run({ path: { id: '1' } } as never, context({ tenantId: 't3', egress: { allowHosts: ['127.0.0.1'], allowPorts: [] } })).catch((caught: unknown) => caught)) as ConnectorError;
    expect(otherPorts.code).toBe('SSRF.BLOCKED');
    expect(seen).toHaveLength(0);
    await action.run({ path: { id: '1' } } as never, context({ tenantId: 't1', egress: loopbackEgress() }));
    expect(seen).toHaveLength(1);
  });

  it('never open a metadata endpoint, whatever the tenant allow-list says', async () => {
    const action = registry.declaredAction('meta', declaration({ baseUrl: 'http://169.254.169.254/latest' }), 'getCustomer');
    const refused = (await action.run({ path: { id: 'x' } } as never, context({ egress: { allowHosts: ['169.254.0.0/16'], allowPorts: [] } })).catch((caught: unknown) => caught)) as ConnectorError;
    expect(refused.code).toBe('SSRF.BLOCKED');
    const byName = registry.declaredAction('meta', declaration({ baseUrl: 'http://metadata.google.internal/computeMetadata' }), 'getCustomer');
    const named = (await byName.run({ path: { id: 'x' } } as never, context({ egress: { allowHosts: ['*.internal', 'metadata.google.internal'], allowPorts: [] } })).catch((caught: unknown) => caught)) as ConnectorError;
    expect(named.code).toBe('SSRF.BLOCKED');
  });

  it('refuse an unknown operation or a declaration no connector runs with WORKFLOW.INVALID', () => {
    expect(() => registry.declaredAction('crm', declaration(), 'deleteEverything')).toThrow(AppError);
    expect(() => registry.declaredAction('crm', { ...(declaration() as object), type: 'soap' }, 'getCustomer')).toThrow(/type no platform connector runs/);
  });
});

describe('the URL of a declared operation', () => {
  it('stays under the base URL: origin and path prefix', () => {
    expect(operationUrl('crm', 'https://api.example.com/v2', '/customers/{id}', { id: 'x y' })).toBe('https://api.example.com/v2/customers/x%20y');
    expect(operationUrl('crm', 'https://api.example.com/v2/', '/customers', {})).toBe('https://api.example.com/v2/customers');
    expect(operationUrl('crm', 'https://api.example.com', '/c/{id}', { id: '../../etc' })).toBe('https://api.example.com/c/..%2F..%2Fetc');
  });

  it('refuses templates or values that would leave it (defence behind the publish-time checks)', () => {
    for (const [path, values] of [
      ['/../admin', {}],
      ['/customers/{id}', { id: '..' }],
      ['/%2e%2e/admin', {}],
      ['/{id}/x', { id: '.' }],
    ] as const) {
      const error = (() => {
        try {
          operationUrl('crm', 'https://api.example.com/v2', path, values);
          return undefined;
        } catch (caught) {
          return caught as ConnectorError;
        }
      })();
      expect(error?.code, path).toBe(REST_PATH_OUTSIDE_BASE);
    }
  });
});
