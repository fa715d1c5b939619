import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, sampleDefinition, startPlatform } from './platform.js';

/**
 * Tenant A's tokens against tenant B's ids, on every endpoint and verb, and bodies that try to set another
 * tenant: the answer is always 404 (or 403 for role/ownership), never B's data. The leaks are counted.
 */
describe('tenant isolation battery', () => {
  let platform: Platform;
  const ids: { runId: string } = { runId: '' };

  beforeAll(async () => {
    platform = await startPlatform();
    const admin = await platform.token('Platform.Admin');
    for (const id of ['tenant-a', 'tenant-b']) {
      expect((await platform.call('POST', '/api/tenants', { token: admin, body: { id, name: id, tier: 'premium' } })).status).toBe(201);
      const owner = await platform.token('Tenant.Admin', id);
      await platform.call('POST', `/api/tenants/${id}/workflows`, { token: owner, body: { id: 'shared-name', name: `${id} secret workflow`, definition: sampleDefinition({ description: `owned by ${id}` }) } });
      await platform.call('POST', `/api/tenants/${id}/workflows/shared-name/versions`, { token: owner });
      const run = (await (await platform.call('POST', `/api/tenants/${id}/workflows/shared-name/runs`, { token: owner, body: { input: { owner: id } } })).json()) as { id: string };
      if (id === 'tenant-b') ids.runId = run.id;
    }
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('never lets tenant A read, change or enumerate tenant B', async () => {
    const results: Array<{ request: string; status: number; leaked: boolean }> = [];
    const B = '/api/tenants/tenant-b';
    const endpoints: Array<[string, string, unknown?, Record<string, string>?]> = [
      ['GET', B],
      ['PATCH', B, { name: 'pwned' }],
      ['DELETE', B],
      ['GET', `${B}/workflows`],
      ['POST', `${B}/workflows`, { id: 'planted', name: 'planted', definition: sampleDefinition() }],
      ['POST', `${B}/workflows:validate`, { definition: sampleDefinition() }],
      ['GET', `${B}/workflows/shared-name`],
      ['PUT', `${B}/workflows/shared-name`, { name: 'pwned', definition: sampleDefinition() }, { 'if-match': '"r1"' }],
      ['DELETE', `${B}/workflows/shared-name`],
      ['POST', `${B}/workflows/shared-name/versions`],
      ['GET', `${B}/workflows/shared-name/versions`],
      ['GET', `${B}/workflows/shared-name/versions/1`],
      ['POST', `${B}/workflows/shared-name/runs`, { input: {} }],
      ['GET', `${B}/runs`],
      ['GET', `${B}/runs/${ids.runId}`],
      ['GET', `${B}/audit`],
      // Tenant A's own routes, but naming B through the header or bodies.
      ['GET', '/api/tenants/tenant-a/workflows', undefined, { 'x-tenant-id': 'tenant-b' }],
      ['GET', `/api/tenants/tenant-a/runs/${ids.runId}`],
      ['GET', '/api/tenants', undefined],
      ['POST', '/api/tenants', { id: 'tenant-b', name: 'takeover', tier: 'premium' }],
    ];
    for (const role of ['Tenant.Admin', 'Tenant.User'] as const) {
      const token = await platform.token(role, 'tenant-a');
      for (const [method, route, body, headers] of endpoints) {
        const response = await platform.call(method, route, { token, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
        const text = await response.text();
        const leaked = response.status < 400 && (text.includes('tenant-b') || text.includes('owned by tenant-b'));
        results.push({ request: `${role} ${method} ${route}`, status: response.status, leaked: leaked || text.includes('owned by tenant-b') || text.includes('tenant-b secret') });
      }
    }
    // Bodies that try to set another tenant on A's own resources.
    const ownAdmin = await platform.token('Tenant.Admin', 'tenant-a');
    const planted = await platform.call('POST', '/api/tenants/tenant-a/workflows', { token: ownAdmin, body: { id: 'x', tenantId: 'tenant-b', name: 'x', definition: sampleDefinition() } });
    results.push({ request: 'body tenantId on create', status: planted.status, leaked: planted.status < 400 });

    const leaks = results.filter((r) => r.leaked);
    const unexpected = results.filter((r) => ![400, 403, 404, 409, 412, 428].includes(r.status));
    console.log(`isolation battery: ${results.length} cross-tenant requests, ${leaks.length} leaks, statuses ${JSON.stringify(Object.fromEntries([...new Set(results.map((r) => r.status))].map((s) => [s, results.filter((r) => r.status === s).length])))}`);
    expect(leaks).toEqual([]);
    expect(unexpected).toEqual([]);

    // B's data is intact.
    const ownerB = await platform.token('Tenant.Admin', 'tenant-b');
    const workflow = (await (await platform.call('GET', '/api/tenants/tenant-b/workflows/shared-name', { token: ownerB })).json()) as { name: string; definition: { description: string } };
    expect(workflow).toMatchObject({ name: 'tenant-b secret workflow', definition: { description: 'owned by tenant-b' } });
    const list = (await (await platform.call('GET', '/api/tenants/tenant-b/workflows', { token: ownerB })).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((w) => w.id)).toEqual(['shared-name']);
    expect((await platform.call('GET', '/api/tenants/tenant-b', { token: ownerB })).status).toBe(200);
  });
});
