import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, sampleDefinition, startPlatform } from './platform.js';

/** The management API through real HTTP on the embedded host, authenticated with development-issuer tokens. */
describe('management API', () => {
  let platform: Platform;
  let admin: string;
  let tenantAdmin: string;
  let tenantUser: string;

  beforeAll(async () => {
    platform = await startPlatform();
    admin = await platform.token('Platform.Admin');
    expect((await platform.call('POST', '/api/tenants', { token: admin, body: { id: 'acme', name: 'Acme', tier: 'standard' } })).status).toBe(201);
    tenantAdmin = await platform.token('Tenant.Admin', 'acme');
    tenantUser = await platform.token('Tenant.User', 'acme');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('onboards tenants with tier quotas and refuses duplicates and bad input with every problem', async () => {
    const created = await platform.call('POST', '/api/tenants', { token: admin, body: { id: 'globex', name: 'Globex', tier: 'premium', placement: 'dedicated', quotas: { maxWorkflows: 7 } } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/tenants/globex');
    const tenant = (await created.json()) as Record<string, any>;
    expect(tenant).toMatchObject({ id: 'globex', tier: 'premium', placement: 'dedicated', status: 'active', etag: '"r1"' });
    expect(tenant.quotas).toMatchObject({ maxWorkflows: 7, requestsPerSecond: 100 });
    const duplicate = await platform.call('POST', '/api/tenants', { token: admin, body: { id: 'globex', name: 'Again', tier: 'basic' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('content-type')).toBe('application/problem+json');
    expect(((await duplicate.json()) as { code: string }).code).toBe('TENANT.ALREADY_EXISTS');
    const invalid = await platform.call('POST', '/api/tenants', { token: admin, body: { id: 'X!', tier: 'gold', extra: 1 } });
    expect(invalid.status).toBe(400);
    const problems = ((await invalid.json()) as { errors: Array<{ pointer: string }> }).errors.map((e) => e.pointer).sort();
    expect(problems).toEqual(expect.arrayContaining(['/extra', '/id', '/name', '/tier']));
    expect((await platform.call('POST', '/api/tenants', { token: tenantAdmin, body: { id: 'mine', name: 'x', tier: 'basic' } })).status).toBe(403);
  });

  it('updates tenants with ETag preconditions and lists them with continuation tokens', async () => {
    for (const id of ['page-a', 'page-b', 'page-c']) await platform.call('POST', '/api/tenants', { token: admin, body: { id, name: id, tier: 'basic' } });
    const stale = await platform.call('PATCH', '/api/tenants/page-a', { token: admin, body: { name: 'A2' }, headers: { 'if-match': '"r9"' } });
    expect(stale.status).toBe(412);
    const updated = await platform.call('PATCH', '/api/tenants/page-a', { token: admin, body: { tier: 'premium' }, headers: { 'if-match': '"r1"' } });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"r2"');
    expect(((await updated.json()) as { quotas: { requestsPerSecond: number } }).quotas.requestsPerSecond).toBe(100);
    const seen: string[] = [];
    let next: string | undefined = '/api/tenants?limit=2';
    while (next) {
      const page = (await (await platform.call('GET', next, { token: admin })).json()) as { items: Array<{ id: string }>; nextLink?: string };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.id));
      next = page.nextLink;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['acme', 'page-a', 'page-b', 'page-c']));
    expect((await platform.call('GET', '/api/tenants', { token: tenantAdmin })).status).toBe(403);
  });

  it('creates, edits (If-Match), publishes immutable versions and validates workflows', async () => {
    const create = await platform.call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'greet', name: 'Greet', definition: sampleDefinition() } });
    expect(create.status).toBe(201);
    const etag = create.headers.get('etag')!;
    expect((await platform.call('POST', '/api/tenants/acme/workflows', { token: tenantUser, body: { id: 'nope', name: 'x', definition: sampleDefinition() } })).status).toBe(403);
    const noPrecondition = await platform.call('PUT', '/api/tenants/acme/workflows/greet', { token: tenantAdmin, body: { name: 'Greet 2', definition: sampleDefinition({ description: 'v2' }) } });
    expect(noPrecondition.status).toBe(428);
    const put = await platform.call('PUT', '/api/tenants/acme/workflows/greet', { token: tenantAdmin, body: { name: 'Greet 2', definition: sampleDefinition({ description: 'v2' }) }, headers: { 'if-match': etag } });
    expect(put.status).toBe(200);
    expect((await platform.call('PUT', '/api/tenants/acme/workflows/greet', { token: tenantAdmin, body: { name: 'lost update', definition: sampleDefinition() }, headers: { 'if-match': etag } })).status).toBe(412);
    const v1 = await platform.call('POST', '/api/tenants/acme/workflows/greet/versions', { token: tenantAdmin });
    expect(v1.status).toBe(201);
    expect(((await v1.json()) as { version: number }).version).toBe(1);
    const v2 = (await (await platform.call('POST', '/api/tenants/acme/workflows/greet/versions', { token: tenantAdmin })).json()) as { version: number };
    expect(v2.version).toBe(2);
    const got = (await (await platform.call('GET', '/api/tenants/acme/workflows/greet/versions/1', { token: tenantUser })).json()) as { definition: { description?: string } };
    expect(got.definition.description).toBe('v2');
    const versions = (await (await platform.call('GET', '/api/tenants/acme/workflows/greet/versions', { token: tenantUser })).json()) as { items: Array<{ version: number }> };
    expect(versions.items.map((v) => v.version).sort()).toEqual([1, 2]);
    expect((await platform.call('GET', '/api/tenants/acme/workflows/greet/versions/3', { token: tenantUser })).status).toBe(404);
    const valid = await platform.call('POST', '/api/tenants/acme/workflows:validate', { token: tenantUser, body: { definition: sampleDefinition() } });
    expect([valid.status, await valid.json()]).toEqual([200, { valid: true }]);
  });

  it('answers a bad definition with 400 and every problem: schema errors, a cycle, dangling references', async () => {
    const definition = {
      schemaVersion: 1,
      name: 'Broken',
      steps: [
        { id: 'a', type: 'action', connector: 'core', action: 'noop', dependsOn: ['c'] },
        { id: 'b', type: 'action', connector: 'core', action: 'noop', dependsOn: ['a'] },
        { id: 'c', type: 'action', connector: 'core', action: 'noop', dependsOn: ['b'] },
        { id: 'd', type: 'action', connector: 'core', action: 'noop', dependsOn: ['ghost'] },
        { id: 'e', type: 'action', connector: 'nowhere', action: 'noop' },
        { id: 'f', type: 'action', connector: 'core', action: 'noop', timeoutSeconds: -5 },
      ],
    };
    const response = await platform.call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'broken', name: 'Broken', definition } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; errors: Array<{ pointer: string; kind?: string; message: string }> };
    expect(body.code).toBe('WORKFLOW.INVALID');
    const kinds = body.errors.map((e) => e.kind);
    expect(body.errors.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(body.errors)).toMatch(/timeoutSeconds/);
    expect(kinds.some((k) => /cycle/i.test(String(k))) || JSON.stringify(body.errors).match(/cycle/i)).toBeTruthy();
    expect(JSON.stringify(body.errors)).toMatch(/ghost/);
    expect(JSON.stringify(body.errors)).toMatch(/nowhere/);
  });

  it('starts runs as queued with Location, honours Idempotency-Key, validates input and filters lists', async () => {
    const definition = sampleDefinition({ inputs: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' }, priority: { type: 'string', default: 'normal' } } } });
    await platform.call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'orders', name: 'Orders', definition } });
    expect((await platform.call('POST', '/api/tenants/acme/workflows/orders/runs', { token: tenantUser, body: { input: { orderId: 'o-1' } } })).status).toBe(409);
    await platform.call('POST', '/api/tenants/acme/workflows/orders/versions', { token: tenantAdmin });
    const first = await platform.call('POST', '/api/tenants/acme/workflows/orders/runs', { token: tenantUser, body: { input: { orderId: 'o-1' } }, headers: { 'idempotency-key': 'order-o-1' } });
    expect(first.status).toBe(202);
    const run = (await first.json()) as { id: string; status: string; input: unknown; workflowVersion: number };
    expect(first.headers.get('location')).toBe(`/api/tenants/acme/runs/${run.id}`);
    expect(run).toMatchObject({ status: 'queued', workflowVersion: 1, input: { orderId: 'o-1', priority: 'normal' } });
    const again = await platform.call('POST', '/api/tenants/acme/workflows/orders/runs', { token: tenantUser, body: { input: { orderId: 'o-1' } }, headers: { 'idempotency-key': 'order-o-1' } });
    expect(((await again.json()) as { id: string }).id).toBe(run.id);
    const badInput = await platform.call('POST', '/api/tenants/acme/workflows/orders/runs', { token: tenantUser, body: { input: { orderId: 42 } } });
    expect(badInput.status).toBe(400);
    expect(((await badInput.json()) as { code: string }).code).toBe('RUN.INPUT_INVALID');
    // The run is dispatched and executed; it ends succeeded with its step recorded.
    let fetched: { id: string; status: string; steps: Array<{ stepId: string }> } | undefined;
    for (let i = 0; i < 200 && fetched?.status !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      fetched = (await (await platform.call('GET', `/api/tenants/acme/runs/${run.id}`, { token: tenantUser })).json()) as typeof fetched;
    }
    expect(fetched).toMatchObject({ id: run.id, status: 'succeeded', steps: [{ stepId: 'hello' }] });
    const listed = (await (await platform.call('GET', '/api/tenants/acme/runs?workflowId=orders&status=succeeded', { token: tenantUser })).json()) as { items: Array<{ id: string }> };
    expect(listed.items.map((r) => r.id)).toEqual([run.id]);
    const none = (await (await platform.call('GET', '/api/tenants/acme/runs?workflowId=orders&status=failed', { token: tenantUser })).json()) as { items: unknown[] };
    expect(none.items).toEqual([]);
    expect((await platform.call('GET', '/api/tenants/acme/runs?status=exploded', { token: tenantUser })).status).toBe(400);
  });

  it('audits every mutating call with who, what, outcome and correlation id', async () => {
    await platform.call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'audited', name: 'A', definition: sampleDefinition() }, headers: { 'x-correlation-id': 'corr-123' } });
    await platform.call('POST', '/api/tenants/acme/workflows', { token: tenantAdmin, body: { id: 'audited', name: 'A', definition: sampleDefinition() } });
    const audit = (await (await platform.call('GET', '/api/tenants/acme/audit?action=workflow.create', { token: tenantAdmin })).json()) as { items: Array<Record<string, any>> };
    const mine = audit.items.filter((entry) => entry.target.id === 'audited');
    expect(mine.map((entry) => entry.outcome).sort()).toEqual(['failure', 'success']);
    expect(mine.find((entry) => entry.outcome === 'failure')!.errorCode).toBe('WORKFLOW.ALREADY_EXISTS');
    expect(mine.find((entry) => entry.correlationId === 'corr-123')).toMatchObject({ action: 'workflow.create', actor: { roles: ['Tenant.Admin'] } });
    expect((await platform.call('GET', '/api/tenants/acme/audit', { token: tenantUser })).status).toBe(403);
  });

  it('serves the OpenAPI document and its docs page', async () => {
    const document = (await (await platform.call('GET', '/api/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/tenants', '/tenants/{tenantId}/workflows/{workflowId}/runs', '/tenants/{tenantId}/audit']));
    expect(document.components.schemas).toHaveProperty('WorkflowDefinition');
    // Every route of the management API (functions/api) is documented.
    const apiDir = path.resolve('functions/api');
    const routes = fs
      .readdirSync(apiDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .flatMap((file) => [...fs.readFileSync(path.join(apiDir, file), 'utf8').matchAll(/route: '(tenants[^']*)'/g)].map((match) => `/${match[1]!.replace(/\{(\w+):[^}]*\}/g, '{$1}')}`));
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((route) => !(route in document.paths))).toEqual([]);
    // Every reference resolves inside the document.
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((name) => !(name in document.components.schemas))).toEqual([]);
    expect(JSON.stringify(document)).not.toContain('#/$defs/');
    const page = await platform.call('GET', '/api/docs');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('swagger-ui-bundle.js');
    expect((await platform.call('GET', '/api/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
    expect((await platform.call('GET', '/api/docs/assets/../../package.json')).status).toBe(404);
  });
});
