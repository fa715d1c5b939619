import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from './platform.js';

const VALUE_1 = `crm-secret-${randomBytes(12).toString('hex')}`;
const VALUE_2 = `crm-rotated-${randomBytes(12).toString('hex')}`;

/** A definition calling a declared REST connector whose auth and step inputs reference the secret `crm-token`. */
function crmDefinition(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    name: 'CRM lookup',
    connectors: {
      crm: {
        type: 'rest',
        baseUrl: 'https://crm.example.com/api/v2',
        auth: { type: 'bearer', token: { $secret: 'crm-token' } },
        operations: { getCustomer: { method: 'GET', path: '/customers/{customerId}' } },
      },
    },
    steps: [
      {
        id: 'findCustomer',
        type: 'action',
        connector: 'crm',
        action: 'getCustomer',
        inputs: { path: { customerId: '42' }, headers: { 'X-Crm-Token': { $secret: 'crm-token' } } },
      },
    ],
  };
}

/** Tenant secrets through real HTTP on the embedded host (encrypted SQLite store). */
describe('secrets API', () => {
  let platform: Platform;
  let dataDir: string;
  let tenantAdmin: string;
  let tenantUser: string;
  let globexAdmin: string;
  const answers: string[] = [];

  const call = async (method: string, route: string, options: Parameters<Platform['call']>[2] = {}): Promise<{ status: number; text: string; json: any; headers: Headers }> => {
    const response = await platform.call(method, route, options);
    const text = await response.text();
    answers.push(text, JSON.stringify([...response.headers]));
    return { status: response.status, text, json: text ? JSON.parse(text) : undefined, headers: response.headers };
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-secrets-api-'));
    platform = await startPlatform({ AIQ_SQLITE_PATH: path.join(dataDir, 'app.db'), AIQ_SECRETS_KEY: randomBytes(32).toString('base64'), AZURE_KEYVAULT_URL: '' });
    const admin = await platform.token('Platform.Admin');
    for (const id of ['acme', 'globex']) expect((await platform.call('POST', '/api/tenants', { token: admin, body: { id, name: id, tier: 'standard' } })).status).toBe(201);
    tenantAdmin = await platform.token('Tenant.Admin', 'acme');
    tenantUser = await platform.token('Tenant.User', 'acme');
    globexAdmin = await platform.token('Tenant.Admin', 'globex');
  });
  afterAll(async () => {
    await platform?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('validates a definition referencing a secret only once the secret exists', async () => {
    const before = await call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'crm', name: 'CRM', definition: crmDefinition() } });
    expect(before.status).toBe(400);
    expect(before.json.code).toBe('WORKFLOW.INVALID');
    expect(before.json.errors.map((e: { kind: string }) => e.kind)).toContain('unknownSecret');

    const created = await call('PUT', '/api/tenants/acme/secrets/crm-token', { token: tenantAdmin, body: { value: VALUE_1 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/tenants/acme/secrets/crm-token');
    expect(created.json).toEqual({ name: 'crm-token', version: expect.any(String), updatedAt: expect.any(String) });

    const after = await call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'crm', name: 'CRM', definition: crmDefinition() } });
    expect(after.status).toBe(201);
    // Another tenant's secret of the same name does not make the reference valid there.
    const elsewhere = await call('POST', '/api/tenants/globex/workflows', { token: globexAdmin, body: { id: 'crm', name: 'CRM', definition: crmDefinition() } });
    expect(elsewhere.status).toBe(400);
  });

  it('rotates to a new version, lists names and metadata, and deletes idempotently', async () => {
    const first = await call('GET', '/api/tenants/acme/secrets/crm-token', { token: tenantAdmin });
    expect(first.status).toBe(200);
    const rotated = await call('PUT', '/api/tenants/acme/secrets/crm-token', { token: tenantAdmin, body: { value: VALUE_2 } });
    expect(rotated.status).toBe(200);
    expect(rotated.json.version).not.toBe(first.json.version);
    const meta = await call('GET', '/api/tenants/acme/secrets/crm-token', { token: tenantAdmin });
    expect(meta.json).toMatchObject({ name: 'crm-token', version: rotated.json.version, updatedAt: rotated.json.updatedAt });

    expect((await call('PUT', '/api/tenants/acme/secrets/temp-key', { token: tenantAdmin, body: { value: 'temporary-value' } })).status).toBe(201);
    const list = await call('GET', '/api/tenants/acme/secrets', { token: tenantAdmin });
    expect(list.status).toBe(200);
    expect(list.json.items.map((s: { name: string }) => s.name)).toEqual(['crm-token', 'temp-key']);
    expect(Object.keys(list.json.items[0]).sort()).toEqual(['href', 'name', 'updatedAt', 'version']);

    expect((await call('DELETE', '/api/tenants/acme/secrets/temp-key', { token: tenantAdmin })).status).toBe(204);
    expect((await call('DELETE', '/api/tenants/acme/secrets/temp-key', { token: tenantAdmin })).status).toBe(204);
    const gone = await call('GET', '/api/tenants/acme/secrets/temp-key', { token: tenantAdmin });
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe('SECRET.NOT_FOUND');
  });

  it('refuses bad names and bodies', async () => {
    const badName = await call('PUT', '/api/tenants/acme/secrets/bad_name', { token: tenantAdmin, body: { value: 'x-value' } });
    expect(badName.status).toBe(400);
    expect(badName.json.code).toBe('SECRET.INVALID_NAME');
    expect((await call('GET', `/api/tenants/acme/secrets/${'a'.repeat(128)}`, { token: tenantAdmin })).json.code).toBe('SECRET.INVALID_NAME');
    expect((await call('PUT', '/api/tenants/acme/secrets/ok-name', { token: tenantAdmin, body: { value: '' } })).status).toBe(400);
    expect((await call('PUT', '/api/tenants/acme/secrets/ok-name', { token: tenantAdmin, body: { value: 'v', extra: 1 } })).status).toBe(400);
    expect((await call('PUT', '/api/tenants/acme/secrets/ok-name', { token: tenantAdmin, body: { value: 'x'.repeat(64 * 1024 + 1) } })).status).toBe(413);
    expect((await call('GET', '/api/tenants/acme/secrets/ok-name', { token: tenantAdmin })).status).toBe(404);
  });

  it('is for tenant admins of the tenant only', async () => {
    expect((await call('PUT', '/api/tenants/acme/secrets/user-try', { token: tenantUser, body: { value: 'nope-value' } })).status).toBe(403);
    expect((await call('GET', '/api/tenants/acme/secrets', { token: tenantUser })).status).toBe(403);
    expect((await call('DELETE', '/api/tenants/acme/secrets/crm-token', { token: tenantUser })).status).toBe(403);
    expect((await call('GET', '/api/tenants/acme/secrets')).status).toBe(401);
    // Tenant B sees nothing of tenant A: A's routes are 404 for it, its own list is empty.
    expect((await call('GET', '/api/tenants/acme/secrets', { token: globexAdmin })).status).toBe(404);
    expect((await call('GET', '/api/tenants/acme/secrets/crm-token', { token: globexAdmin })).status).toBe(404);
    expect((await call('DELETE', '/api/tenants/acme/secrets/crm-token', { token: globexAdmin })).status).toBe(404);
    expect((await call('GET', '/api/tenants/globex/secrets', { token: globexAdmin })).json.items).toEqual([]);
    expect((await call('GET', '/api/tenants/globex/secrets/crm-token', { token: globexAdmin })).status).toBe(404);
    expect((await call('GET', '/api/tenants/acme/secrets/crm-token', { token: tenantAdmin })).status).toBe(200);
  });

  it('audits set and delete without the value, and the value appears in no answer, log or file', async () => {
    const audit = await call('GET', '/api/tenants/acme/audit?action=secret.set', { token: tenantAdmin });
    expect(audit.status).toBe(200);
    const sets = audit.json.items.filter((entry: { target: { id: string } }) => entry.target.id === 'crm-token');
    expect(sets).toHaveLength(2);
    expect(sets[0]).toMatchObject({ action: 'secret.set', target: { type: 'secret', id: 'crm-token' }, outcome: 'success' });
    const deletes = await call('GET', '/api/tenants/acme/audit?action=secret.delete', { token: tenantAdmin });
    expect(deletes.json.items.filter((entry: { target: { id: string } }) => entry.target.id === 'temp-key')).toHaveLength(2);

    const everything = [...answers, platform.host.output()].join('\n');
    for (const value of [VALUE_1, VALUE_2, 'temporary-value']) {
      expect(everything).not.toContain(value);
      expect(everything).not.toContain(Buffer.from(value).toString('base64'));
    }
    const files = fs.readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(files.map((entry) => entry.name)).toContain('secrets.db');
    for (const entry of files) {
      const bytes = fs.readFileSync(path.join(entry.parentPath, entry.name));
      for (const value of [VALUE_1, VALUE_2, 'temporary-value']) expect(bytes.includes(Buffer.from(value)), `${entry.name} holds a secret value`).toBe(false);
    }
  });

  it('deletes the secrets of an offboarded tenant, so a tenant onboarded again under the id starts with none', async () => {
    const admin = await platform.token('Platform.Admin');
    expect((await call('POST', '/api/tenants', { token: admin, body: { id: 'initech', name: 'Initech', tier: 'standard' } })).status).toBe(201);
    const initechAdmin = await platform.token('Tenant.Admin', 'initech');
    expect((await call('PUT', '/api/tenants/initech/secrets/db-password', { token: initechAdmin, body: { value: 'offboarded-value' } })).status).toBe(201);
    expect((await call('DELETE', '/api/tenants/initech', { token: admin })).status).toBe(204);
    expect((await call('POST', '/api/tenants', { token: admin, body: { id: 'initech', name: 'Initech again', tier: 'standard' } })).status).toBe(201);
    const list = await call('GET', '/api/tenants/initech/secrets', { token: await platform.token('Tenant.Admin', 'initech') });
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([]);
    expect((await call('GET', '/api/tenants/acme/secrets/crm-token', { token: tenantAdmin })).status).toBe(200);
  });
});
