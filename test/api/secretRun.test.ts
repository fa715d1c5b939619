import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from './platform.js';

const SECRET_VALUE = `tok-${randomBytes(16).toString('hex')}`;

/** Every byte of every file under `dir`, for scanning (SQLite files, WAL files, the task hub, the broker). */
function filesUnder(dir: string): Array<{ name: string; bytes: Buffer }> {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => ({ name: path.join(entry.parentPath, entry.name), bytes: fs.readFileSync(path.join(entry.parentPath, entry.name)) }));
}

/**
 * A run that uses a secret, end to end on the embedded host: a REST step authenticates with a tenant secret
 * against a loopback server (allow-listed for the test) that echoes the credential back. The server receives
 * the value; the API answers, the host's logs and every stored file (app store, secrets file, task hub,
 * broker) show no trace of it.
 */
describe('a run that uses a secret', () => {
  let platform: Platform;
  let dataDir: string;
  let server: http.Server;
  let port: number;
  const received: string[] = [];
  const answers: string[] = [];
  let admin: string;

  const call = async (method: string, route: string, body?: unknown): Promise<{ status: number; json: any; text: string }> => {
    const response = await platform.call(method, route, { token: admin, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    answers.push(text, JSON.stringify([...response.headers]));
    return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      received.push(String(request.headers.authorization), String(request.headers['x-api-key']));
      response.setHeader('content-type', 'application/json');
      // An echo endpoint: the credential comes back in the body and in a header.
      response.setHeader('x-seen-key', String(request.headers['x-api-key']));
      response.end(JSON.stringify({ authorization: request.headers.authorization, apiKey: request.headers['x-api-key'], path: request.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-secret-run-'));
    platform = await startPlatform({
      AIQ_SQLITE_PATH: path.join(dataDir, 'app.db'),
      AIQ_SECRETS_KEY: randomBytes(32).toString('base64'),
      AZURE_KEYVAULT_URL: '',
      AIQ_EGRESS_ALLOW_HOSTS: '127.0.0.1',
      AIQ_EGRESS_ALLOW_PORTS: String(port),
    });
    const platformAdmin = await platform.token('Platform.Admin');
    expect((await platform.call('POST', '/api/tenants', { token: platformAdmin, body: { id: 'vault', name: 'Vault', tier: 'standard' } })).status).toBe(201);
    admin = await platform.token('Tenant.Admin', 'vault');
  });
  afterAll(async () => {
    await platform?.stop();
    await new Promise((resolve) => server?.close(resolve));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("checks literal inputs against the action's schema at publish time; inputs with expressions or secrets wait for the run", async () => {
    const step = (inputs: Record<string, unknown>): Record<string, unknown> => ({ schemaVersion: 1, name: 'Literal', steps: [{ id: 'call', type: 'action', connector: 'rest', action: 'request', inputs }] });
    const typo = await call('POST', '/api/tenants/vault/workflows', { id: 'typo', name: 'Typo', definition: step({ url: 'https://api.example.com', methd: 'GET', timeoutSeconds: 0 }) });
    expect(typo.status, typo.text).toBe(400);
    expect(typo.json.code).toBe('WORKFLOW.INVALID');
    expect(typo.json.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ pointer: '/steps/0/inputs', kind: 'additionalProperties' }), expect.objectContaining({ pointer: '/steps/0/inputs/timeoutSeconds' })]),
    );
    const dynamic = await call('POST', '/api/tenants/vault/workflows', { id: 'dynamic', name: 'Dynamic', definition: step({ url: { $expr: '"https://api.example.com/" + "x"' } }) });
    expect(dynamic.status, dynamic.text).toBe(201);
  });

  it('sends the value to the target and keeps it out of the API, the logs and every stored file', async () => {
    expect((await call('PUT', '/api/tenants/vault/secrets/api-token', { value: SECRET_VALUE })).status).toBe(201);
    const definition = {
      schemaVersion: 1,
      name: 'Calls an API with a secret',
      steps: [
        {
          id: 'callApi',
          type: 'action',
          connector: 'rest',
          action: 'request',
          inputs: {
            method: 'GET',
            url: `http://127.0.0.1:${port}/echo`,
            auth: { type: 'bearer', token: { $secret: 'api-token' } },
            headers: { 'X-Api-Key': { $secret: 'api-token' } },
          },
        },
        {
          id: 'basicCall',
          type: 'action',
          dependsOn: ['callApi'],
          connector: 'rest',
          action: 'request',
          inputs: { url: `http://127.0.0.1:${port}/basic`, auth: { type: 'basic', username: 'robot', password: { $secret: 'api-token' } } },
        },
        { id: 'logIt', type: 'action', dependsOn: ['basicCall'], connector: 'core', action: 'log', inputs: { message: { $expr: 'steps.callApi.output.body.authorization' } } },
      ],
      outputs: { echoed: { $expr: 'steps.callApi.output.body' }, basic: { $expr: 'steps.basicCall.output.body.authorization' } },
    };
    const created = await call('POST', '/api/tenants/vault/workflows', { id: 'with-secret', name: 'With a secret', definition });
    expect(created.status, created.text).toBe(201);
    expect((await call('POST', '/api/tenants/vault/workflows/with-secret/versions')).status).toBe(201);
    const started = await call('POST', '/api/tenants/vault/workflows/with-secret/runs', { input: {} });
    expect(started.status, started.text).toBe(202);

    const deadline = Date.now() + 20_000;
    let run: any;
    for (;;) {
      run = (await call('GET', `/api/tenants/vault/runs/${started.json.id}`)).json;
      if (['succeeded', 'failed'].includes(run.status)) break;
      if (Date.now() > deadline) throw new Error(`The run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    // The target got the real value ...
    const basicCredential = Buffer.from(`robot:${SECRET_VALUE}`).toString('base64');
    expect(received).toEqual([`Bearer ${SECRET_VALUE}`, SECRET_VALUE, `Basic ${basicCredential}`, 'undefined']);
    // ... and what it echoed is redacted in the run's output and step history.
    expect(run.output.echoed).toEqual({ authorization: 'Bearer [secret]', apiKey: '[secret]', path: '/echo' });
    // A credential derived from the secret (basic auth's base64 user:password) is redacted too.
    expect(run.output.basic).toBe('Basic [secret]');
    await call('GET', '/api/tenants/vault/runs');
    await call('GET', '/api/tenants/vault/workflows/with-secret');
    await call('GET', '/api/tenants/vault/audit');
    await call('GET', '/api/tenants/vault/secrets');

    const encodings = [SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64'), Buffer.from(`Bearer ${SECRET_VALUE}`).toString('base64'), basicCredential];
    const text = [...answers, platform.host.output()].join('\n');
    for (const form of encodings) expect(text).not.toContain(form);
    await platform.stop(); // flush every WAL before reading the files
    for (const file of [...filesUnder(dataDir), ...filesUnder(platform.host.stateDir)]) {
      for (const form of encodings) expect(file.bytes.includes(Buffer.from(form)), `${file.name} holds the secret`).toBe(false);
    }
  });
});
