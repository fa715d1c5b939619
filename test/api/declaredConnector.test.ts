import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackServer, type LoopbackServer } from '../support/loopbackServer.js';
import { type Platform, startPlatform } from './platform.js';

const SECRET_VALUE = `crm-${randomBytes(16).toString('hex')}`;

/** Every byte of every file under `dir` (SQLite files and their WAL, the task hub, the broker). */
function filesUnder(dir: string): Array<{ name: string; bytes: Buffer }> {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => ({ name: path.join(entry.parentPath, entry.name), bytes: fs.readFileSync(path.join(entry.parentPath, entry.name)) }));
}

/**
 * A REST connector declared as JSON in a definition, end to end on the embedded host: the operator allows no
 * private egress; tenant `acme` gets a loopback allow-list from a platform admin, tenant `globex` none. acme's
 * run reaches the loopback server with a bearer token from its secret (no trace of the value in the API, the
 * host's logs or any stored file); globex's identical run is refused before any connection. Publish-time problems
 * are reported all at once; a path value that tries to climb out of the base URL is refused before sending.
 */
describe('a declared REST connector', () => {
  let platform: Platform;
  let dataDir: string;
  let server: LoopbackServer;
  let connections = 0;
  const received: Array<{ url: string; authorization: string | undefined; idempotencyKey: string | undefined }> = [];
  const answers: string[] = [];
  let platformAdmin: string;

  const call = async (token: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: any; text: string }> => {
    const response = await platform.call(method, route, { token, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    answers.push(text, JSON.stringify([...response.headers]));
    return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
  };

  const waitForRun = async (token: string, tenantId: string, runId: string): Promise<any> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = (await call(token, 'GET', `/api/tenants/${tenantId}/runs/${runId}`)).json;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`The run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const crmDefinition = (port: number, extraSteps: unknown[] = []) => ({
    schemaVersion: 1,
    name: 'Find a customer',
    inputs: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string' } } },
    connectors: {
      crm: {
        type: 'rest',
        baseUrl: `http://127.0.0.1:${port}/api/v2`,
        auth: { type: 'bearer', token: { $secret: 'crm-token' } },
        headers: { 'X-Client': 'automateiq' },
        timeoutSeconds: 10,
        operations: {
          getCustomer: {
            method: 'GET',
            path: '/customers/{id}',
            query: { expand: 'orders' },
            input: { type: 'object', required: ['path'], properties: { path: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } } },
            responseType: 'json',
          },
        },
      },
    },
    steps: [{ id: 'find', type: 'action', connector: 'crm', action: 'getCustomer', inputs: { path: { id: { $expr: 'inputs.customerId' } } } }, ...extraSteps],
    outputs: { customer: { $expr: 'steps.find.output.body' }, status: { $expr: 'steps.find.output.status' } },
  });

  /** Creates the workflow, publishes it and runs it once; returns the finished run. */
  const publishAndRun = async (token: string, tenantId: string, workflowId: string, definition: unknown, input: unknown): Promise<any> => {
    const created = await call(token, 'POST', `/api/tenants/${tenantId}/workflows`, { id: workflowId, name: workflowId, definition });
    expect(created.status, created.text).toBe(201);
    const published = await call(token, 'POST', `/api/tenants/${tenantId}/workflows/${workflowId}/versions`);
    expect(published.status, published.text).toBe(201);
    const started = await call(token, 'POST', `/api/tenants/${tenantId}/workflows/${workflowId}/runs`, { input });
    expect(started.status, started.text).toBe(202);
    return waitForRun(token, tenantId, started.json.id);
  };

  beforeAll(async () => {
    server = await startLoopbackServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      received.push({ url: req.url ?? '', authorization: req.headers.authorization, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      res.setHeader('content-type', 'application/json');
      // An echo endpoint: the credential comes back in the body.
      res.end(JSON.stringify({ path: req.url, authorization: req.headers.authorization, client: req.headers['x-client'] }));
    });
    server.server.on('connection', () => {
      connections += 1;
    });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-declared-'));
    platform = await startPlatform({
      AIQ_SQLITE_PATH: path.join(dataDir, 'app.db'),
      AIQ_SECRETS_KEY: randomBytes(32).toString('base64'),
      AZURE_KEYVAULT_URL: '',
      // The operator opens nothing private: only a tenant allow-list can reach the loopback server.
      AIQ_EGRESS_ALLOW_HOSTS: '',
      AIQ_EGRESS_ALLOW_PORTS: '',
    });
    platformAdmin = await platform.token('Platform.Admin');
    const acme = await call(platformAdmin, 'POST', '/api/tenants', { id: 'acme', name: 'Acme', tier: 'standard', egress: { allowHosts: ['127.0.0.1'], allowPorts: [server.port] } });
    expect(acme.status, acme.text).toBe(201);
    expect(acme.json.egress).toEqual({ allowHosts: ['127.0.0.1'], allowPorts: [server.port] });
    expect((await call(platformAdmin, 'POST', '/api/tenants', { id: 'globex', name: 'Globex', tier: 'standard' })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets only a platform admin set a tenant egress allow-list, validates it, returns it and audits the change', async () => {
    const tenantAdmin = await platform.token('Tenant.Admin', 'acme');
    const own = await call(tenantAdmin, 'PATCH', '/api/tenants/acme', { egress: { allowHosts: ['10.0.0.0/8'] } });
    expect(own.status, own.text).toBe(403);

    const bad = await call(platformAdmin, 'PATCH', '/api/tenants/acme', { egress: { allowHosts: ['169.254.169.254', 'not a host', 'metadata.google.internal'], allowPorts: [8443] } });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.json.code).toBe('TENANT.EGRESS_INVALID');
    expect(bad.json.errors.map((e: any) => [e.pointer, e.kind])).toEqual([
      ['/egress/allowHosts/0', 'metadataEndpoint'],
      ['/egress/allowHosts/1', 'invalidEntry'],
      ['/egress/allowHosts/2', 'metadataEndpoint'],
    ]);
    const badPort = await call(platformAdmin, 'PATCH', '/api/tenants/acme', { egress: { allowPorts: [70000] } });
    expect(badPort.status).toBe(400);
    expect(badPort.json.code).toBe('REQUEST.INVALID');

    // Unchanged by the refused requests; visible to the tenant's own admin (read-only).
    const seen = await call(tenantAdmin, 'GET', '/api/tenants/acme');
    expect(seen.json.egress).toEqual({ allowHosts: ['127.0.0.1'], allowPorts: [server.port] });
    const globex = await call(platformAdmin, 'GET', '/api/tenants/globex');
    expect(globex.json.egress).toBeNull();

    // A real change, then back, each audited as tenant.egress.update with its outcome.
    const widened = await call(platformAdmin, 'PATCH', '/api/tenants/acme', { egress: { allowHosts: ['127.0.0.1', '10.1.0.0/16'], allowPorts: [server.port] } });
    expect(widened.status, widened.text).toBe(200);
    expect(widened.json.egress.allowHosts).toEqual(['127.0.0.1', '10.1.0.0/16']);
    expect((await call(platformAdmin, 'PATCH', '/api/tenants/acme', { egress: { allowHosts: ['127.0.0.1'], allowPorts: [server.port] } })).status).toBe(200);
    const audit = await call(platformAdmin, 'GET', '/api/tenants/acme/audit?action=tenant.egress.update');
    expect(audit.json.items.map((entry: any) => [entry.outcome, entry.errorCode]).sort()).toEqual([
      ['failure', 'REQUEST.INVALID'],
      ['failure', 'TENANT.EGRESS_INVALID'],
      ['success', null],
      ['success', null],
    ]);
    // The tenant admin's attempt was refused before the handler ran: audited as a forbidden tenant.update.
    const refused = await call(platformAdmin, 'GET', '/api/tenants/acme/audit?action=tenant.update');
    expect(refused.json.items.map((entry: any) => [entry.outcome, entry.errorCode])).toContainEqual(['failure', 'AUTH.FORBIDDEN']);
  });

  it('reports every publish-time problem of declared connectors at once', async () => {
    const admin = await platform.token('Tenant.Admin', 'acme');
    const definition = {
      schemaVersion: 1,
      name: 'Broken',
      connectors: {
        rest: { type: 'rest', baseUrl: 'https://api.example.com', operations: { get: { method: 'GET', path: '/' } } },
        crm: {
          type: 'rest',
          baseUrl: 'https://api.example.com/v2',
          auth: { type: 'bearer', token: { $secret: 'no-such-secret' } },
          operations: {
            climb: { method: 'GET', path: '/customers/../../admin' },
            note: { method: 'POST', path: '/customers/{id}/notes', input: { type: 'object', requried: ['body'] } },
          },
        },
      },
      steps: [
        { id: 'a', type: 'action', connector: 'crm', action: 'deleteAll' },
        { id: 'b', type: 'action', connector: 'crm', action: 'note', inputs: { body: {} } },
        { id: 'c', type: 'action', connector: 'crm', action: 'note', inputs: { path: { id: '..' } } },
      ],
    };
    const created = await call(admin, 'POST', '/api/tenants/acme/workflows', { id: 'broken', name: 'Broken', definition });
    expect(created.status, created.text).toBe(400);
    expect(created.json.code).toBe('WORKFLOW.INVALID');
    expect(created.json.errors.map((e: any) => [e.pointer, e.kind]).sort()).toEqual(
      [
        ['/connectors/rest', 'connectorConflict'],
        ['/connectors/crm/auth/token/$secret', 'unknownSecret'],
        ['/connectors/crm/operations/climb/path', 'invalidPath'],
        ['/connectors/crm/operations/note/input', 'invalidSchema'],
        ['/steps/0/action', 'unknownAction'],
        ['/steps/1/inputs/path', 'invalidInput'],
        ['/steps/2/inputs/path/id', 'invalidPathValue'],
      ].sort(),
    );
  });

  it("calls the loopback server for the tenant whose allow-list names it, with the secret's token, and keeps the value out of everything stored", async () => {
    const admin = await platform.token('Tenant.Admin', 'acme');
    expect((await call(admin, 'PUT', '/api/tenants/acme/secrets/crm-token', { value: SECRET_VALUE })).status).toBe(201);
    const run = await publishAndRun(admin, 'acme', 'find-customer', crmDefinition(server.port), { customerId: 'c 42/x' });
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/api/v2/customers/c%2042%2Fx?expand=orders');
    expect(received[0]!.authorization).toBe(`Bearer ${SECRET_VALUE}`);
    expect(received[0]!.idempotencyKey).toMatch(/\S/);
    expect(run.output.status).toBe(200);
    // What the server echoed is redacted in the run output and history.
    expect(run.output.customer).toEqual({ path: '/api/v2/customers/c%2042%2Fx?expand=orders', authorization: 'Bearer [secret]', client: 'automateiq' });
  });

  it("refuses the same call for a tenant without the allow-list: SSRF.BLOCKED, not one connection", async () => {
    const admin = await platform.token('Tenant.Admin', 'globex');
    expect((await call(admin, 'PUT', '/api/tenants/globex/secrets/crm-token', { value: SECRET_VALUE })).status).toBe(201);
    const before = { connections, requests: received.length };
    const run = await publishAndRun(admin, 'globex', 'find-customer', crmDefinition(server.port), { customerId: '42' });
    expect(run.status, JSON.stringify(run)).toBe('failed');
    expect(run.error.code).toBe('SSRF.BLOCKED');
    expect(connections).toBe(before.connections);
    expect(received).toHaveLength(before.requests);
  });

  it('refuses a path value that would climb out of the base URL before sending anything', async () => {
    const admin = await platform.token('Tenant.Admin', 'acme');
    const before = { connections, requests: received.length };
    const run = await publishAndRun(admin, 'acme', 'climb', crmDefinition(server.port), { customerId: '..' });
    expect(run.status, JSON.stringify(run)).toBe('failed');
    expect(run.error.code).toBe('STEP.INPUT_INVALID');
    expect(connections).toBe(before.connections);
    expect(received).toHaveLength(before.requests);
  });

  it('leaves no trace of the secret value in API answers, host logs or stored files', async () => {
    const admin = await platform.token('Tenant.Admin', 'acme');
    const runs = await call(admin, 'GET', '/api/tenants/acme/runs');
    for (const run of runs.json.items) await call(admin, 'GET', `/api/tenants/acme/runs/${run.id}`);
    await call(admin, 'GET', '/api/tenants/acme/workflows/find-customer');
    await call(admin, 'GET', '/api/tenants/acme/audit');
    const encodings = [SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64'), Buffer.from(`Bearer ${SECRET_VALUE}`).toString('base64')];
    const text = [...answers, platform.host.output()].join('\n');
    for (const form of encodings) expect(text).not.toContain(form);
    await platform.stop(); // flush every WAL before reading the files
    for (const file of [...filesUnder(dataDir), ...filesUnder(platform.host.stateDir)]) {
      for (const form of encodings) expect(file.bytes.includes(Buffer.from(form)), `${file.name} holds the secret`).toBe(false);
    }
  });
});
