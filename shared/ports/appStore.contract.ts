/**
 * The contract every AppStore adapter must meet, as one vitest suite each adapter runs beside its own tests
 * (`runAppStoreContract({ name: 'sqlite', newStore })`). It pins the behaviour the port leaves open, so that
 * adapters agree with each other:
 *
 * - Orders: tenants and workflows by id ascending; versions newest first (highest version first); runs
 *   newest first (createdAt, then id, descending); audit newest first (at, then id, descending); steps by
 *   step id, then iteration (no iteration first).
 * - Pages: `limit` 1..100 (default 50), anything else is `REQUEST.INVALID`; a page has a continuation token
 *   exactly when more items follow; a token is opaque, bound to the list, tenant and filters it came from, and
 *   any other token (malformed, foreign, from another list or tenant) is `REQUEST.INVALID`.
 * - Revisions start at 1 and increase by one on every change (publishing changes the workflow).
 * - Timestamps are ISO 8601 UTC strings as `Date#toISOString()` writes them.
 * - `audit.append` is idempotent by entry id; `putStep` requires the run to exist in the tenant.
 * - Schedules list by id; deleting a workflow deletes its schedules; `recordFire` leaves the revision. The due
 *   index claims each slot once (compare-and-set), keeps a claimed fire pending until finished, and lists it
 *   again once its lease expires.
 *
 * The suite is written for a store that other runs may share (Azure SQL): every test uses fresh random ids,
 * never assumes an empty tenant registry, and deletes the tenants it created.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../domain/audit.js';
import { AppError, ErrorCodes } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import type { Run, RunStatus, StepExecution } from '../domain/run.js';
import { DEFAULT_QUOTAS, type Tenant, type TenantPlacement, type TenantTier } from '../domain/tenant.js';
import type { AppStore, Page, PageOptions, TenantDataStore } from './appStore.js';
import type { AdmissionTicket } from './runAdmission.js';
import type { Schedule } from '../domain/schedule.js';

/** Options of {@link runAppStoreContract}. */
export interface AppStoreContractOptions {
  /** Names the adapter in the suite title. */
  name: string;
  /** A new, open store; called before every test and closed after it. */
  newStore: () => Promise<AppStore>;
  /** When set, every test is reported as skipped with this reason (e.g. no server is configured). */
  skip?: string;
}

type TenantInput = Omit<Tenant, 'createdAt' | 'updatedAt' | 'revision'>;
type RunInput = Omit<Run, 'tenantId'>;

const BASE_TIME = Date.parse('2030-01-01T00:00:00.000Z');

/** An ISO timestamp `seconds` after a fixed base, so tests control the time order of runs and audit entries. */
function at(seconds: number): string {
  return new Date(BASE_TIME + seconds * 1000).toISOString();
}

function uid(): string {
  return randomUUID().replaceAll('-', '').slice(0, 10);
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected AppError ${code}`).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe(code);
}

/** Reads every page of a list, checking each page's size and that only the last page lacks a token. */
async function readAllPages<T>(list: (options: PageOptions) => Promise<Page<T>>, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await list(token === undefined ? { limit } : { limit, continuationToken: token });
    pages += 1;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.continuationToken !== undefined) expect(page.items.length).toBe(limit);
    items.push(...page.items);
    token = page.continuationToken;
    if (pages > 1000) throw new Error('paging does not end');
  } while (token !== undefined);
  return { items, pages };
}

function draft(label: string): JsonObject {
  return { label, steps: [{ id: 'a', uses: 'rest.get', with: { url: 'https://example.com' } }], nested: { n: 1, ok: true, none: null } };
}

function runInput(id: string, workflowId: string, createdAt: string, overrides: Partial<RunInput> = {}): RunInput {
  return {
    id,
    workflowId,
    workflowVersion: 1,
    trigger: { kind: 'api', source: 'user-1' },
    input: { n: 1, list: [1, 'two', null] },
    status: 'queued',
    output: null,
    error: null,
    idempotencyKey: null,
    correlationId: `corr-${id}`,
    createdAt,
    startedAt: null,
    completedAt: null,
    ...overrides,
  };
}

function auditInput(id: string, when: string, action: string): Omit<AuditEntry, 'tenantId'> {
  return {
    id,
    at: when,
    actor: { subject: 'user-1', name: 'Ada', roles: ['Tenant.Admin'] },
    action,
    target: { type: 'workflow', id: 'wf' },
    outcome: 'success',
    errorCode: null,
    correlationId: `corr-${id}`,
  };
}

/**
 * Registers the AppStore contract suite. Call it at the top level of an adapter's test file.
 * With `skip`, every test is still listed, and reported as skipped with that reason.
 */
export function runAppStoreContract(options: AppStoreContractOptions): void {
  const { name, newStore, skip } = options;
  let store: AppStore;
  let created: string[] = [];

  /** A test that is reported as skipped, with the reason, when the suite is skipped. */
  const test = (title: string, body: () => Promise<void>, timeoutMs?: number): void => {
    if (skip !== undefined) {
      it(title, (context) => context.skip(skip));
    } else {
      it(title, body, timeoutMs);
    }
  };

  /** Creates a tenant with a fresh id (prefix + random), remembered for deletion after the test. */
  async function newTenant(overrides: Partial<TenantInput> = {}, prefix = 't'): Promise<Tenant> {
    const id = overrides.id ?? `${prefix}-${uid()}`;
    created.push(id);
    return store.tenants.create({
      id,
      name: `Tenant ${id}`,
      tier: 'standard',
      status: 'active',
      quotas: { ...DEFAULT_QUOTAS.standard },
      entraTenantId: null,
      placement: 'shared',
      egress: null,
      eventSources: [],
      ...overrides,
    });
  }

  async function dataOf(placement: TenantPlacement = 'shared'): Promise<TenantDataStore> {
    const tenant = await newTenant({ placement });
    return store.forTenant(tenant.id);
  }

  describe(`AppStore contract: ${name}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    beforeEach(async () => {
      if (skip !== undefined) return;
      created = [];
      store = await newStore();
    });

    afterEach(async () => {
      if (skip !== undefined) return;
      for (const id of created) {
        await store.tenants.delete(id).catch(() => undefined);
      }
      await store.close();
    });

    describe('store', () => {
      test('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('tenants', () => {
      test('creates, gets, updates and deletes a tenant, with revisions and preconditions', async () => {
        const entra = randomUUID();
        const tenant = await newTenant({ entraTenantId: entra, tier: 'premium', quotas: { ...DEFAULT_QUOTAS.premium } });
        expect(tenant.revision).toBe(1);
        expect(tenant.createdAt).toBe(tenant.updatedAt);
        expect(new Date(tenant.createdAt).toISOString()).toBe(tenant.createdAt);
        expect(tenant).toMatchObject({ tier: 'premium', status: 'active', placement: 'shared', entraTenantId: entra, quotas: DEFAULT_QUOTAS.premium });

        expect(await store.tenants.get(tenant.id)).toEqual(tenant);
        expect(await store.tenants.getByEntraTenantId(entra)).toEqual(tenant);
        expect(await store.tenants.get(`missing-${uid()}`)).toBeUndefined();
        expect(await store.tenants.getByEntraTenantId(randomUUID())).toBeUndefined();

        const renamed = await store.tenants.update(tenant.id, { name: 'Renamed' });
        expect(renamed).toMatchObject({ id: tenant.id, name: 'Renamed', tier: 'premium', revision: 2, createdAt: tenant.createdAt });
        expect(renamed.updatedAt >= tenant.updatedAt).toBe(true);

        await expectAppError(store.tenants.update(tenant.id, { status: 'suspended' }, { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        const quotas = { ...DEFAULT_QUOTAS.basic, runsPerDay: 7 };
        const suspended = await store.tenants.update(tenant.id, { status: 'suspended', quotas, entraTenantId: null }, { ifRevision: 2 });
        expect(suspended).toMatchObject({ status: 'suspended', quotas, entraTenantId: null, revision: 3 });
        expect(await store.tenants.getByEntraTenantId(entra)).toBeUndefined();
        expect(await store.tenants.get(tenant.id)).toEqual(suspended);

        await expectAppError(store.tenants.update(`missing-${uid()}`, { name: 'x' }), ErrorCodes.tenantNotFound);
        await expectAppError(store.tenants.delete(tenant.id, { ifRevision: 2 }), ErrorCodes.preconditionFailed);
        expect(await store.tenants.delete(tenant.id, { ifRevision: 3 })).toBe(true);
        expect(await store.tenants.get(tenant.id)).toBeUndefined();
        expect(await store.tenants.delete(tenant.id)).toBe(false);
      });

      test("stores a tenant's egress allow-list, changes it, clears it, and keeps it to that tenant", async () => {
        const egress = { allowHosts: ['10.1.0.0/16', 'api.internal', '*.corp.example'], allowPorts: [8443] };
        const open = await newTenant({ egress });
        const closed = await newTenant();
        expect(open.egress).toEqual(egress);
        expect(closed.egress).toBeNull();
        expect((await store.tenants.get(open.id))?.egress).toEqual(egress);
        expect((await store.tenants.get(closed.id))?.egress).toBeNull();

        const renamed = await store.tenants.update(open.id, { name: 'Renamed' });
        expect(renamed.egress).toEqual(egress);
        const narrowed = await store.tenants.update(open.id, { egress: { allowHosts: ['127.0.0.1'], allowPorts: [] } });
        expect(narrowed).toMatchObject({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [] }, revision: 3 });
        expect((await store.tenants.get(open.id))?.egress).toEqual({ allowHosts: ['127.0.0.1'], allowPorts: [] });
        const cleared = await store.tenants.update(open.id, { egress: null });
        expect(cleared.egress).toBeNull();
        expect((await store.tenants.get(open.id))?.egress).toBeNull();
        expect((await store.tenants.get(closed.id))?.egress).toBeNull();
      });

      test("registers a tenant's event sources: found case-insensitively, one tenant per source, released on change and delete", async () => {
        const topic = `/subscriptions/${randomUUID()}/resourceGroups/rg/providers/Microsoft.EventGrid/topics/orders`;
        const source = `urn:contract:${randomUUID()}`;
        const acme = await newTenant();
        const globex = await newTenant();
        expect(acme.eventSources).toEqual([]);
        expect(await store.tenants.getByEventSource(topic)).toBeUndefined();
        const registered = await store.tenants.update(acme.id, { eventSources: [topic.toLowerCase(), source] });
        expect(registered.eventSources).toEqual([topic.toLowerCase(), source]);
        expect((await store.tenants.get(acme.id))?.eventSources).toEqual([topic.toLowerCase(), source]);
        expect((await store.tenants.getByEventSource(topic.toUpperCase()))?.id).toBe(acme.id);
        expect((await store.tenants.getByEventSource(source))?.id).toBe(acme.id);
        expect(await store.tenants.getByEventSource(`${source}:other`)).toBeUndefined();
        // Another tenant cannot claim it, and its failed attempt changes nothing.
        await expectAppError(store.tenants.update(globex.id, { eventSources: [source] }), 'TENANT.EVENT_SOURCE_TAKEN');
        expect((await store.tenants.get(globex.id))?.eventSources).toEqual([]);
        expect((await store.tenants.getByEventSource(source))?.id).toBe(acme.id);
        // Released by a change: the other tenant may register it now.
        await store.tenants.update(acme.id, { eventSources: [topic.toLowerCase()] });
        expect(await store.tenants.getByEventSource(source)).toBeUndefined();
        await store.tenants.update(globex.id, { eventSources: [source] });
        expect((await store.tenants.getByEventSource(source))?.id).toBe(globex.id);
        // Other changes keep the sources; deleting the tenant releases them.
        expect((await store.tenants.update(acme.id, { name: 'Renamed' })).eventSources).toEqual([topic.toLowerCase()]);
        await store.tenants.delete(acme.id);
        expect(await store.tenants.getByEventSource(topic)).toBeUndefined();
      });

      test('rejects a taken tenant id or Entra tenant id with TENANT.ALREADY_EXISTS', async () => {
        const entra = randomUUID();
        const first = await newTenant({ entraTenantId: entra });
        await expectAppError(newTenant({ id: first.id }), ErrorCodes.tenantExists);
        await expectAppError(newTenant({ entraTenantId: entra }), ErrorCodes.tenantExists);
        const second = await newTenant({ entraTenantId: randomUUID() });
        await expectAppError(store.tenants.update(second.id, { entraTenantId: entra }), ErrorCodes.tenantExists);
        expect((await store.tenants.get(second.id))?.revision).toBe(1);
        // Tenants without an Entra tenant id do not collide with each other.
        await newTenant({ entraTenantId: null });
        await newTenant({ entraTenantId: null });
      });

      test('rejects a tenant id that is not a slug with REQUEST.INVALID', async () => {
        await expectAppError(newTenant({ id: '../Evil' }), ErrorCodes.requestInvalid);
        await expectAppError(store.forTenant('../evil'), ErrorCodes.tenantNotFound);
      });

      test('pages tenants by id in a stable order, without duplicates or gaps, with a status filter', async () => {
        const prefix = `p${uid()}`;
        const ours: string[] = [];
        for (let i = 0; i < 7; i += 1) ours.push((await newTenant({ id: `${prefix}-${i}` })).id);
        await store.tenants.update(ours[2]!, { status: 'suspended' });
        await store.tenants.update(ours[5]!, { status: 'suspended' });

        const all = await readAllPages((page) => store.tenants.list(page), 2);
        const ids = all.items.map((t) => t.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.filter((id) => id.startsWith(`${prefix}-`))).toEqual(ours);
        for (let i = 1; i < ids.length; i += 1) expect(ids[i - 1]! < ids[i]!).toBe(true);

        const suspended = await readAllPages((page) => store.tenants.list({ ...page, status: 'suspended' }), 1);
        expect(suspended.items.every((t) => t.status === 'suspended')).toBe(true);
        expect(suspended.items.map((t) => t.id).filter((id) => id.startsWith(`${prefix}-`))).toEqual([ours[2], ours[5]]);
        const active = await readAllPages((page) => store.tenants.list({ ...page, status: 'active' }), 3);
        expect(active.items.map((t) => t.id).filter((id) => id.startsWith(`${prefix}-`))).toEqual([ours[0], ours[1], ours[3], ours[4], ours[6]]);
      });

      test('rejects bad continuation tokens and page limits with REQUEST.INVALID', async () => {
        const data = await dataOf();
        for (let i = 0; i < 3; i += 1) await data.workflows.create({ id: `wf-${i}`, name: 'w', description: '', draft: {}, createdBy: 'u' });
        const workflowToken = (await data.workflows.list({ limit: 1 })).continuationToken;
        expect(workflowToken).toBeDefined();
        const bad = ['not a token', 'e30', Buffer.from(JSON.stringify({ k: ['x'] })).toString('base64url'), `${workflowToken}x`, workflowToken!.slice(0, -2)];
        for (const token of bad) {
          await expectAppError(data.workflows.list({ limit: 1, continuationToken: token }), ErrorCodes.requestInvalid);
        }
        // A token belongs to the list it came from.
        await expectAppError(store.tenants.list({ continuationToken: workflowToken! }), ErrorCodes.requestInvalid);
        await expectAppError(data.runs.list({ continuationToken: workflowToken! }), ErrorCodes.requestInvalid);
        await expectAppError(data.audit.list({ continuationToken: workflowToken! }), ErrorCodes.requestInvalid);
        await expectAppError(data.workflows.listVersions('wf-0', { continuationToken: workflowToken! }), ErrorCodes.requestInvalid);
        for (const limit of [0, -1, 101, 1.5, Number.NaN]) {
          await expectAppError(data.workflows.list({ limit }), ErrorCodes.requestInvalid);
          await expectAppError(store.tenants.list({ limit }), ErrorCodes.requestInvalid);
        }
        expect((await data.workflows.list({ limit: 100 })).items).toHaveLength(3);
        expect((await data.workflows.list({})).items).toHaveLength(3);
      });
    });

    describe('workflows', () => {
      test('creates, gets, lists and counts workflows; a taken id is WORKFLOW.ALREADY_EXISTS', async () => {
        const data = await dataOf();
        expect(await data.workflows.count()).toBe(0);
        expect(await data.workflows.list({})).toEqual({ items: [] });
        const wf = await data.workflows.create({ id: 'orders', name: 'Orders', description: 'Sync orders', draft: draft('v1'), createdBy: 'user-1' });
        expect(wf).toMatchObject({ tenantId: data.tenantId, id: 'orders', name: 'Orders', description: 'Sync orders', draft: draft('v1'), latestVersion: null, createdBy: 'user-1', revision: 1 });
        expect(wf.createdAt).toBe(wf.updatedAt);
        expect(await data.workflows.get('orders')).toEqual(wf);
        expect(await data.workflows.get('missing')).toBeUndefined();
        await expectAppError(data.workflows.create({ id: 'orders', name: 'Again', description: '', draft: {}, createdBy: 'user-2' }), ErrorCodes.workflowExists);
        await data.workflows.create({ id: 'billing', name: 'Billing', description: '', draft: {}, createdBy: 'user-1' });
        expect(await data.workflows.count()).toBe(2);
        expect((await data.workflows.list({})).items.map((w) => w.id)).toEqual(['billing', 'orders']);
      });

      test('replaces the draft with revisions and ifRevision preconditions', async () => {
        const data = await dataOf();
        await expectAppError(data.workflows.updateDraft('missing', { name: 'x' }), ErrorCodes.workflowNotFound);
        const wf = await data.workflows.create({ id: 'wf', name: 'W', description: 'd', draft: draft('v1'), createdBy: 'u' });
        const renamed = await data.workflows.updateDraft('wf', { name: 'W2' });
        expect(renamed).toMatchObject({ name: 'W2', description: 'd', draft: draft('v1'), revision: 2, createdAt: wf.createdAt });
        await expectAppError(data.workflows.updateDraft('wf', { draft: draft('stale') }, { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        const redrafted = await data.workflows.updateDraft('wf', { draft: draft('v2'), description: '' }, { ifRevision: 2 });
        expect(redrafted).toMatchObject({ name: 'W2', description: '', draft: draft('v2'), revision: 3 });
        expect(await data.workflows.get('wf')).toEqual(redrafted);
      });

      test('publishes immutable versions 1..n and lists them newest first', async () => {
        const data = await dataOf();
        await expectAppError(data.workflows.publish('missing', 'u'), ErrorCodes.workflowNotFound);
        await data.workflows.create({ id: 'wf', name: 'W', description: '', draft: draft('v1'), createdBy: 'u' });
        const v1 = await data.workflows.publish('wf', 'publisher-1', { ifRevision: 1 });
        expect(v1).toMatchObject({ tenantId: data.tenantId, workflowId: 'wf', version: 1, definition: draft('v1'), publishedBy: 'publisher-1' });
        expect(new Date(v1.publishedAt).toISOString()).toBe(v1.publishedAt);
        const afterPublish = await data.workflows.get('wf');
        expect(afterPublish).toMatchObject({ latestVersion: 1, revision: 2 });

        await expectAppError(data.workflows.publish('wf', 'u', { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        await data.workflows.updateDraft('wf', { draft: draft('v2') });
        const v2 = await data.workflows.publish('wf', 'publisher-2');
        expect(v2.version).toBe(2);
        await data.workflows.updateDraft('wf', { draft: draft('v3-draft') });

        expect(await data.workflows.getVersion('wf', 1)).toEqual(v1);
        expect(await data.workflows.getVersion('wf', 2)).toEqual(v2);
        expect(await data.workflows.getVersion('wf', 3)).toBeUndefined();
        expect(await data.workflows.getVersion('missing', 1)).toBeUndefined();
        expect((await data.workflows.get('wf'))?.latestVersion).toBe(2);

        for (let i = 3; i <= 5; i += 1) await data.workflows.publish('wf', 'u');
        const versions = await readAllPages((page) => data.workflows.listVersions('wf', page), 2);
        expect(versions.pages).toBe(3);
        expect(versions.items.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
        expect(versions.items[4]).toEqual(v1);
        expect((await data.workflows.listVersions('missing', {})).items).toEqual([]);
      });

      test('deletes a workflow and its versions, idempotently and with preconditions', async () => {
        const data = await dataOf();
        await data.workflows.create({ id: 'wf', name: 'W', description: '', draft: draft('v1'), createdBy: 'u' });
        await data.workflows.publish('wf', 'u');
        await expectAppError(data.workflows.delete('wf', { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        expect(await data.workflows.delete('wf', { ifRevision: 2 })).toBe(true);
        expect(await data.workflows.get('wf')).toBeUndefined();
        expect(await data.workflows.getVersion('wf', 1)).toBeUndefined();
        expect((await data.workflows.listVersions('wf', {})).items).toEqual([]);
        expect(await data.workflows.delete('wf')).toBe(false);
        expect(await data.workflows.count()).toBe(0);

        await data.workflows.create({ id: 'wf', name: 'W again', description: '', draft: draft('again'), createdBy: 'u' });
        expect((await data.workflows.publish('wf', 'u')).version).toBe(1);
      });

      test('pages workflows by id without duplicates or gaps', async () => {
        const data = await dataOf();
        const ids = ['a1', 'b2', 'c3', 'd4', 'e5'];
        for (const id of [...ids].reverse()) await data.workflows.create({ id, name: id, description: '', draft: {}, createdBy: 'u' });
        const pages = await readAllPages((page) => data.workflows.list(page), 2);
        expect(pages.pages).toBe(3);
        expect(pages.items.map((w) => w.id)).toEqual(ids);
        const exact = await readAllPages((page) => data.workflows.list(page), 5);
        expect(exact.pages).toBe(1);
      });

      test('gives 20 parallel publishes the versions 1..20, without gaps or duplicates', async () => {
        const data = await dataOf();
        await data.workflows.create({ id: 'wf', name: 'W', description: '', draft: draft('v'), createdBy: 'u' });
        const published = await Promise.all(Array.from({ length: 20 }, (_, i) => data.workflows.publish('wf', `p${i}`)));
        expect(published.map((v) => v.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        const wf = await data.workflows.get('wf');
        expect(wf).toMatchObject({ latestVersion: 20, revision: 21 });
        const listed = await readAllPages((page) => data.workflows.listVersions('wf', page), 100);
        expect(listed.items.map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
      });
    });

    describe('runs', () => {
      test('creates and gets runs; a repeated idempotency key returns the first run with created: false', async () => {
        const data = await dataOf();
        const first = await data.runs.create(runInput('run-1', 'wf', at(1), { idempotencyKey: 'key-1' }));
        expect(first.created).toBe(true);
        expect(first.run).toEqual({ ...runInput('run-1', 'wf', at(1), { idempotencyKey: 'key-1' }), tenantId: data.tenantId });
        expect(await data.runs.get('run-1')).toEqual(first.run);
        expect(await data.runs.get('missing')).toBeUndefined();

        const again = await data.runs.create(runInput('run-2', 'wf', at(2), { idempotencyKey: 'key-1' }));
        expect(again).toEqual({ run: first.run, created: false });
        expect(await data.runs.get('run-2')).toBeUndefined();

        // The key is per workflow; runs without a key never collide.
        expect((await data.runs.create(runInput('run-3', 'other-wf', at(3), { idempotencyKey: 'key-1' }))).created).toBe(true);
        expect((await data.runs.create(runInput('run-4', 'wf', at(4)))).created).toBe(true);
        expect((await data.runs.create(runInput('run-5', 'wf', at(5)))).created).toBe(true);
        await expectAppError(data.runs.create(runInput('run-4', 'wf', at(6))), ErrorCodes.conflict);
      });

      test('turns 10 concurrent creates with one idempotency key into one run', async () => {
        const data = await dataOf();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => data.runs.create(runInput(`run-${i}`, 'wf', at(i), { idempotencyKey: 'same' }))),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
        expect((await data.runs.list({})).items).toHaveLength(1);
      });

      test('lists runs newest first with workflow, status and time filters, in pages', async () => {
        const data = await dataOf();
        const statuses: RunStatus[] = ['queued', 'running', 'succeeded', 'failed'];
        for (let i = 0; i < 12; i += 1) {
          await data.runs.create(runInput(`run-${String(i).padStart(2, '0')}`, i % 2 === 0 ? 'even' : 'odd', at(i), { status: statuses[i % 4]! }));
        }
        // Two runs at the same instant: ordered by id, descending, and never lost between pages.
        await data.runs.create(runInput('tie-a', 'even', at(5)));
        await data.runs.create(runInput('tie-b', 'even', at(5)));

        const all = await readAllPages((page) => data.runs.list(page), 5);
        expect(all.pages).toBe(3);
        expect(all.items.map((r) => r.id)).toEqual(['run-11', 'run-10', 'run-09', 'run-08', 'run-07', 'run-06', 'tie-b', 'tie-a', 'run-05', 'run-04', 'run-03', 'run-02', 'run-01', 'run-00']);

        const even = await readAllPages((page) => data.runs.list({ ...page, workflowId: 'even' }), 2);
        expect(even.items.map((r) => r.id)).toEqual(['run-10', 'run-08', 'run-06', 'tie-b', 'tie-a', 'run-04', 'run-02', 'run-00']);
        const failed = await readAllPages((page) => data.runs.list({ ...page, status: 'failed' }), 1);
        expect(failed.items.map((r) => r.id)).toEqual(['run-11', 'run-07', 'run-03']);
        const window = await readAllPages((page) => data.runs.list({ ...page, createdFrom: at(3), createdTo: at(6) }), 2);
        expect(window.items.map((r) => r.id)).toEqual(['run-06', 'tie-b', 'tie-a', 'run-05', 'run-04', 'run-03']);
        const combined = await data.runs.list({ workflowId: 'odd', status: 'running', createdFrom: at(2) });
        expect(combined.items.map((r) => r.id)).toEqual(['run-09', 'run-05']);
        expect((await data.runs.list({ workflowId: 'none' })).items).toEqual([]);

        // A token carries its filters: reusing it with other filters is rejected.
        const token = (await data.runs.list({ limit: 1, workflowId: 'even' })).continuationToken!;
        await expectAppError(data.runs.list({ limit: 1, workflowId: 'odd', continuationToken: token }), ErrorCodes.requestInvalid);
        expect((await data.runs.list({ limit: 1, workflowId: 'even', continuationToken: token })).items.map((r) => r.id)).toEqual(['run-08']);
      });

      test('claims a start slot atomically: concurrent claims never exceed the running limit', async () => {
        const data = await dataOf();
        for (let i = 0; i < 10; i += 1) await data.runs.create(runInput(`claim-${i}`, 'wf', at(i)));
        await data.runs.create(runInput('already', 'wf', at(20), { status: 'succeeded' }));
        const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => data.runs.claimStart(`claim-${i}`, 3, at(30))));
        expect(outcomes.filter((o) => o === 'started')).toHaveLength(3);
        expect(outcomes.filter((o) => o === 'atLimit')).toHaveLength(7);
        expect((await data.runs.list({ status: 'running' })).items).toHaveLength(3);
        const started = (await data.runs.list({ status: 'running' })).items[0]!;
        expect(started.startedAt).toBe(at(30));
        expect(await data.runs.claimStart(started.id, 3, at(31))).toBe('notQueued');
        expect(await data.runs.claimStart('already', 3, at(31))).toBe('notQueued');
        expect(await data.runs.claimStart('missing', 3, at(31))).toBe('notQueued');
        // A finished run frees its slot.
        await data.runs.update(started.id, { status: 'succeeded', completedAt: at(40) });
        const queued = (await data.runs.list({ status: 'queued' })).items[0]!;
        expect(await data.runs.claimStart(queued.id, 3, at(41))).toBe('started');
      });

      test('counts runs created since a time', async () => {
        const data = await dataOf();
        for (let i = 0; i < 5; i += 1) await data.runs.create(runInput(`run-${i}`, 'wf', at(i * 60)));
        expect(await data.runs.countCreatedSince(at(0))).toBe(5);
        expect(await data.runs.countCreatedSince(at(120))).toBe(3);
        expect(await data.runs.countCreatedSince(at(121))).toBe(2);
        expect(await data.runs.countCreatedSince(at(10_000))).toBe(0);
      });

      test('applies status transitions and their fields; an unknown run is RUN.NOT_FOUND', async () => {
        const data = await dataOf();
        const { run } = await data.runs.create(runInput('run-1', 'wf', at(0)));
        const running = await data.runs.update('run-1', { status: 'running', startedAt: at(1) });
        expect(running).toEqual({ ...run, status: 'running', startedAt: at(1) });
        const done = await data.runs.update('run-1', { status: 'succeeded', output: { total: 3, items: ['a'] }, completedAt: at(2) });
        expect(done).toEqual({ ...running, status: 'succeeded', output: { total: 3, items: ['a'] }, completedAt: at(2) });
        expect(await data.runs.get('run-1')).toEqual(done);

        await data.runs.create(runInput('run-2', 'wf', at(3)));
        const failed = await data.runs.update('run-2', { status: 'failed', error: { code: 'CONNECTOR.TIMEOUT', message: 'timed out', stepId: 'a' }, completedAt: at(4) });
        expect(failed).toMatchObject({ status: 'failed', error: { code: 'CONNECTOR.TIMEOUT', message: 'timed out', stepId: 'a' }, output: null });
        expect((await data.runs.update('run-2', { error: null })).error).toBeNull();
        await expectAppError(data.runs.update('missing', { status: 'running' }), ErrorCodes.runNotFound);
      });

      test('records step executions, one per run, step and iteration', async () => {
        const data = await dataOf();
        await data.runs.create(runInput('run-1', 'wf', at(0)));
        const step = (stepId: string, iteration: number | null, overrides: Partial<StepExecution> = {}): Omit<StepExecution, 'tenantId'> => ({
          runId: 'run-1',
          stepId,
          iteration,
          status: 'running',
          attempts: 1,
          startedAt: at(1),
          completedAt: null,
          error: null,
          output: null,
          outputRef: null,
          ...overrides,
        });
        await data.runs.putStep(step('fetch', null));
        await data.runs.putStep(step('each', 1));
        await data.runs.putStep(step('each', 0));
        await data.runs.putStep(step('each', 0, { status: 'succeeded', attempts: 2, completedAt: at(2), output: { ok: true } }));
        await data.runs.putStep(step('fetch', null, { status: 'failed', error: { code: 'X', message: 'boom' }, outputRef: 'artifacts/1' }));

        const steps = await data.runs.listSteps('run-1');
        expect(steps.map((s) => [s.stepId, s.iteration, s.status])).toEqual([
          ['each', 0, 'succeeded'],
          ['each', 1, 'running'],
          ['fetch', null, 'failed'],
        ]);
        expect(steps[0]).toEqual({ ...step('each', 0, { status: 'succeeded', attempts: 2, completedAt: at(2), output: { ok: true } }), tenantId: data.tenantId });
        expect(steps[2]).toMatchObject({ error: { code: 'X', message: 'boom' }, outputRef: 'artifacts/1' });
        expect(await data.runs.listSteps('missing')).toEqual([]);
        await expectAppError(data.runs.putStep({ ...step('x', null), runId: 'missing' }), ErrorCodes.runNotFound);
      });

      test('records a run\'s usage once per run (a second put replaces it), only for a run of the tenant, unseen by other tenants', async () => {
        const data = await dataOf();
        const other = await dataOf();
        await data.runs.create(runInput('run-1', 'wf', at(1)));
        await other.runs.create(runInput('run-1', 'wf', at(1)));
        expect(await data.runs.getUsage('run-1')).toBeUndefined();
        const usage = { runId: 'run-1', stepsExecuted: 3, durationMs: 1234, bytes: 5_000_000_000, connectorCalls: 4, recordedAt: at(2) };
        await data.runs.putUsage(usage);
        expect(await data.runs.getUsage('run-1')).toEqual({ ...usage, tenantId: data.tenantId });
        await data.runs.putUsage({ ...usage, stepsExecuted: 5, recordedAt: at(3) });
        expect(await data.runs.getUsage('run-1')).toEqual({ ...usage, stepsExecuted: 5, recordedAt: at(3), tenantId: data.tenantId });
        expect(await other.runs.getUsage('run-1')).toBeUndefined();
        expect(await data.runs.getUsage('missing')).toBeUndefined();
        await expectAppError(data.runs.putUsage({ ...usage, runId: 'missing' }), ErrorCodes.runNotFound);
        await expectAppError(data.runs.putUsage({ ...usage, bytes: -1 }), ErrorCodes.requestInvalid);
      });
    });

    describe('audit', () => {
      test('appends entries and lists them newest first, with action and time filters, in pages', async () => {
        const data = await dataOf();
        for (let i = 0; i < 7; i += 1) await data.audit.append(auditInput(`a-${i}`, at(i), i % 2 === 0 ? 'workflow.create' : 'run.start'));
        await data.audit.append(auditInput('a-3', at(3), 'run.start'));
        const failure: Omit<AuditEntry, 'tenantId'> = { ...auditInput('a-x', at(3), 'workflow.publish'), outcome: 'failure', errorCode: 'WORKFLOW.INVALID', actor: { subject: 'system:scheduler', name: null, roles: [] } };
        await data.audit.append(failure);

        const all = await readAllPages((page) => data.audit.list(page), 3);
        expect(all.items.map((e) => e.id)).toEqual(['a-6', 'a-5', 'a-4', 'a-x', 'a-3', 'a-2', 'a-1', 'a-0']);
        expect(all.items.find((e) => e.id === 'a-x')).toEqual({ ...failure, tenantId: data.tenantId });
        const starts = await readAllPages((page) => data.audit.list({ ...page, action: 'run.start' }), 2);
        expect(starts.items.map((e) => e.id)).toEqual(['a-5', 'a-3', 'a-1']);
        const window = await data.audit.list({ from: at(2), to: at(4) });
        expect(window.items.map((e) => e.id)).toEqual(['a-4', 'a-x', 'a-3', 'a-2']);
        expect((await data.audit.list({ action: 'tenant.update' })).items).toEqual([]);
      });
    });

    describe('run admission', () => {
      /** Tickets of fresh tenants; their slots are given back after the test (a shared store keeps other rows). */
      let tickets: AdmissionTicket[] = [];
      afterEach(async () => {
        if (skip !== undefined) return;
        for (const ticket of tickets.splice(0)) await store.admission.release(ticket.tenantId, ticket.runId);
      });

      async function enqueue(tenantId: string, runId: string, tier: TenantTier, queuedAt: string, maxRunning = 100): Promise<'waiting' | 'admitted'> {
        const ticket = { tenantId, runId, tier, queuedAt, maxRunning };
        tickets.push(ticket);
        return store.admission.enqueue(ticket);
      }

      /** A capacity `free` slots above what the store holds now. */
      async function capacityFor(free: number): Promise<number> {
        return (await store.admission.stats()).admitted + free;
      }

      async function admitOne(): Promise<string | undefined> {
        const admitted = await store.admission.admit(await capacityFor(1), at(100));
        expect(admitted.length).toBeLessThanOrEqual(1);
        return admitted[0]?.runId;
      }

      test('admits by tier first: premium before standard before basic runs queued earlier', async () => {
        const t = uid();
        expect(await enqueue(`b-${t}`, 'basic-1', 'basic', at(1))).toBe('waiting');
        await enqueue(`s-${t}`, 'standard-1', 'standard', at(2));
        await enqueue(`p-${t}`, 'premium-1', 'premium', at(3));
        await enqueue(`b-${t}`, 'basic-2', 'basic', at(4));
        expect((await store.admission.stats()).waiting).toMatchObject({ premium: expect.any(Number), standard: expect.any(Number), basic: expect.any(Number) });
        const order: Array<string | undefined> = [];
        for (let i = 0; i < 4; i += 1) order.push(await admitOne());
        expect(order).toEqual(['premium-1', 'standard-1', 'basic-1', 'basic-2']);
        expect(await admitOne()).toBeUndefined();
      });

      test('serves the tenants of a tier fairly: fewest slots first, then round robin, oldest run first within a tenant', async () => {
        const t = uid();
        for (let i = 1; i <= 4; i += 1) await enqueue(`a-${t}`, `a${i}`, 'standard', at(i));
        for (let i = 1; i <= 2; i += 1) await enqueue(`b-${t}`, `b${i}`, 'standard', at(10 + i));
        // One slot at a time: every tenant holds none when asked, so the round robin decides.
        const order: Array<string | undefined> = [];
        for (let i = 0; i < 3; i += 1) {
          const runId = await admitOne();
          order.push(runId);
          await store.admission.release(runId!.startsWith('a') ? `a-${t}` : `b-${t}`, runId!);
        }
        expect(order).toEqual(['a1', 'b1', 'a2']);
        // Several slots at once: fewest held first, so the tenants alternate.
        await enqueue(`c-${t}`, 'c1', 'standard', at(30));
        const batch = await store.admission.admit(await capacityFor(3), at(101));
        expect(batch.map((run) => run.runId)).toEqual(['c1', 'b2', 'a3']);
        expect(batch[0]).toEqual({ tenantId: `c-${t}`, runId: 'c1', tier: 'standard', admittedAt: at(101) });
      });

      test('never admits past a tenant\'s own limit, and never past the capacity, even when admitters race', async () => {
        const t = uid();
        for (let i = 0; i < 5; i += 1) await enqueue(`limited-${t}`, `l${i}`, 'premium', at(i), 2);
        for (let i = 0; i < 20; i += 1) await enqueue(`busy-${t}`, `r${String(i).padStart(2, '0')}`, 'basic', at(i));
        const capacity = await capacityFor(6);
        const batches = await Promise.all(Array.from({ length: 8 }, () => store.admission.admit(capacity, at(100))));
        const admitted = batches.flat();
        expect(admitted).toHaveLength(6);
        expect(admitted.filter((run) => run.tenantId === `limited-${t}`).map((run) => run.runId).sort()).toEqual(['l0', 'l1']);
        expect(await store.admission.admit(capacity, at(100))).toEqual([]);
        // A freed slot of the limited tenant goes to its next run (premium first).
        await store.admission.release(`limited-${t}`, 'l0');
        expect((await store.admission.admit(capacity, at(102))).map((run) => run.runId)).toEqual(['l2']);
      });

      test('enqueue is idempotent; release, readmit and listAdmitted', async () => {
        const t = uid();
        const tenant = `x-${t}`;
        expect(await enqueue(tenant, 'one', 'standard', at(1))).toBe('waiting');
        expect(await enqueue(tenant, 'one', 'standard', at(5))).toBe('waiting');
        await enqueue(tenant, 'two', 'standard', at(2));
        expect((await store.admission.admit(await capacityFor(1), at(50))).map((run) => run.runId)).toEqual(['one']);
        expect(await enqueue(tenant, 'one', 'standard', at(1))).toBe('admitted');
        const listed = await store.admission.listAdmitted({ admittedBefore: at(51), limit: 100 });
        expect(listed.filter((run) => run.tenantId === tenant)).toEqual([{ tenantId: tenant, runId: 'one', tier: 'standard', admittedAt: at(50) }]);
        expect((await store.admission.listAdmitted({ admittedBefore: at(50), limit: 100 })).filter((run) => run.tenantId === tenant)).toEqual([]);
        // Until marked started, an admitted run is listed as unstarted (a crash may have stranded it).
        const unstarted = async () => (await store.admission.listAdmitted({ admittedBefore: at(51), limit: 100, unstarted: true })).filter((run) => run.tenantId === tenant);
        expect((await unstarted()).map((run) => run.runId)).toEqual(['one']);
        await store.admission.markStarted(tenant, 'one', at(52));
        expect(await unstarted()).toEqual([]);
        expect((await store.admission.listAdmitted({ admittedBefore: at(51), limit: 100 })).filter((run) => run.tenantId === tenant)).toHaveLength(1);
        // Readmit: the slot is given back and the run waits at its old place (before 'two').
        expect(await store.admission.readmit(tenant, 'one')).toBe(true);
        expect(await store.admission.readmit(tenant, 'one')).toBe(false);
        expect(await admitOne()).toBe('one');
        expect(await store.admission.release(tenant, 'one')).toBe(true);
        expect(await store.admission.release(tenant, 'one')).toBe(false);
        expect(await admitOne()).toBe('two');
      });

      test('deleting a tenant removes its tickets and slots', async () => {
        const tenant = await newTenant();
        await enqueue(tenant.id, 'held', 'standard', at(1));
        await enqueue(tenant.id, 'waits', 'standard', at(2));
        await store.admission.admit(await capacityFor(1), at(10));
        const before = await store.admission.stats();
        await store.tenants.delete(tenant.id);
        const after = await store.admission.stats();
        expect(after.admitted).toBe(before.admitted - 1);
        expect(after.waiting.standard).toBe(before.waiting.standard - 1);
        expect(await store.admission.release(tenant.id, 'held')).toBe(false);
        expect(await store.admission.release(tenant.id, 'waits')).toBe(false);
      });
    });

    describe('event subscriptions', () => {
      const subscription = (id: string, overrides: Record<string, unknown> = {}) => ({
        id,
        workflowId: 'wf',
        eventTypes: ['Contoso.Orders.Created', 'Contoso.Invoices.*'],
        subjectBeginsWith: '/orders/',
        subjectEndsWith: null,
        caseSensitive: false,
        enabled: true,
        createdBy: 'u',
        ...overrides,
      });

      test('creates, reads, lists, lists the enabled ones, updates with revisions and deletes, within one tenant', async () => {
        const data = await dataOf();
        const other = await dataOf();
        const created = await data.eventSubscriptions.create(subscription('es-b'));
        expect(created).toMatchObject({ ...subscription('es-b'), tenantId: data.tenantId, revision: 1 });
        expect(await data.eventSubscriptions.get('es-b')).toEqual(created);
        await data.eventSubscriptions.create(subscription('es-a', { enabled: false, caseSensitive: true, subjectEndsWith: '.json' }));
        await expectAppError(data.eventSubscriptions.create(subscription('es-a')), ErrorCodes.conflict);
        expect((await data.eventSubscriptions.list({})).items.map((s) => s.id)).toEqual(['es-a', 'es-b']);
        expect((await data.eventSubscriptions.list({ limit: 1 })).continuationToken).toBeDefined();
        expect((await data.eventSubscriptions.listEnabled()).map((s) => s.id)).toEqual(['es-b']);
        expect(await data.eventSubscriptions.count()).toBe(2);
        expect(await other.eventSubscriptions.get('es-b')).toBeUndefined();
        expect(await other.eventSubscriptions.listEnabled()).toEqual([]);
        expect(await other.eventSubscriptions.delete('es-b')).toBe(false);

        const updated = await data.eventSubscriptions.update('es-a', { enabled: true, eventTypes: ['*'], subjectBeginsWith: null }, { ifRevision: 1 });
        expect(updated).toMatchObject({ enabled: true, eventTypes: ['*'], subjectBeginsWith: null, subjectEndsWith: '.json', caseSensitive: true, revision: 2 });
        expect(await data.eventSubscriptions.get('es-a')).toEqual(updated);
        expect((await data.eventSubscriptions.listEnabled()).map((s) => s.id)).toEqual(['es-a', 'es-b']);
        await expectAppError(data.eventSubscriptions.update('es-a', { enabled: false }, { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        await expectAppError(data.eventSubscriptions.update('es-none', { enabled: false }), 'EVENT_SUBSCRIPTION.NOT_FOUND');
        await expectAppError(data.eventSubscriptions.delete('es-a', { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        expect(await data.eventSubscriptions.delete('es-a', { ifRevision: 2 })).toBe(true);
        expect(await data.eventSubscriptions.delete('es-a')).toBe(false);
        expect(await data.eventSubscriptions.count()).toBe(1);
      });
    });

    describe('hooks', () => {
      const hookInput = (id: string, workflowId = 'wf') => ({
        id,
        workflowId,
        name: `Hook ${id}`,
        signature: 'standard-webhooks' as const,
        enabled: true,
        maxBodyBytes: 4096,
        respondWith: { mode: 'accepted' as const, timeoutSeconds: 0 },
        secretVersion: 'v1',
        previousSecretVersion: null,
        previousSecretExpiresAt: null,
        createdBy: 'u',
      });
      const delivery = (id: string, hookId: string, when: string, overrides: Record<string, unknown> = {}) => ({
        id,
        hookId,
        deliveryId: `msg-${id}`,
        outcome: 'accepted' as const,
        reason: null,
        runId: null,
        receivedAt: when,
        contentType: 'application/json',
        bodyBytes: 2,
        payload: '{}',
        ...overrides,
      });

      test('creates, reads, lists, updates with revisions and deletes hooks with their deliveries', async () => {
        const data = await dataOf();
        const hook = await data.hooks.create(hookInput('h-1'));
        expect(hook).toMatchObject({ tenantId: data.tenantId, id: 'h-1', enabled: true, respondWith: { mode: 'accepted', timeoutSeconds: 0 }, revision: 1, previousSecretVersion: null });
        expect(await data.hooks.get('h-1')).toEqual(hook);
        await data.hooks.create(hookInput('h-0'));
        expect((await data.hooks.list({})).items.map((h) => h.id)).toEqual(['h-0', 'h-1']);
        expect(await data.hooks.count()).toBe(2);
        const expires = at(100);
        const updated = await data.hooks.update('h-1', { enabled: false, secretVersion: 'v2', previousSecretVersion: 'v1', previousSecretExpiresAt: expires, respondWith: { mode: 'output', timeoutSeconds: 5 } }, { ifRevision: 1 });
        expect(updated).toMatchObject({ enabled: false, secretVersion: 'v2', previousSecretVersion: 'v1', previousSecretExpiresAt: expires, respondWith: { mode: 'output', timeoutSeconds: 5 }, revision: 2 });
        expect(await data.hooks.get('h-1')).toEqual(updated);
        await expectAppError(data.hooks.update('h-1', { name: 'x' }, { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        await expectAppError(data.hooks.update('nope', { name: 'x' }), 'WEBHOOK.NOT_FOUND');
        await data.hooks.recordDelivery(delivery('d-1', 'h-1', at(1)));
        expect(await data.hooks.delete('h-1', { ifRevision: 2 })).toBe(true);
        expect(await data.hooks.delete('h-1')).toBe(false);
        expect(await data.hooks.get('h-1')).toBeUndefined();
        expect(await data.hooks.getInboxEntry('h-1', 'msg-d-1')).toBeUndefined();
      });

      test('stores one inbox entry per hook and delivery id, even under concurrent deliveries, and records every other outcome', async () => {
        const data = await dataOf();
        await data.hooks.create(hookInput('h'));
        await data.hooks.create(hookInput('h2'));
        const attempts = await Promise.all(Array.from({ length: 10 }, (_, i) => data.hooks.recordDelivery(delivery(`c-${i}`, 'h', at(1), { deliveryId: 'same' }))));
        expect(attempts.filter((attempt) => attempt.created)).toHaveLength(1);
        const first = attempts.find((attempt) => attempt.created)!.delivery;
        expect(new Set(attempts.map((attempt) => attempt.delivery.id))).toEqual(new Set([first.id]));
        // The same delivery id on another hook is another entry.
        expect((await data.hooks.recordDelivery(delivery('other', 'h2', at(1), { deliveryId: 'same' }))).created).toBe(true);
        for (const outcome of ['duplicate', 'rejected', 'replayed'] as const) {
          expect((await data.hooks.recordDelivery(delivery(`o-${outcome}`, 'h', at(2), { deliveryId: 'same', outcome, payload: null }))).created).toBe(true);
        }
        await expectAppError(data.hooks.recordDelivery(delivery('x', 'missing', at(1))), 'WEBHOOK.NOT_FOUND');
        const entry = await data.hooks.getInboxEntry('h', 'same');
        expect(entry).toMatchObject({ id: first.id, outcome: 'accepted', payload: '{}', runId: null });
      });

      test('settles entries, lists deliveries newest first with their run status, finds unstarted entries and deletes old ones', async () => {
        const data = await dataOf();
        await data.workflows.create({ id: 'wf', name: 'w', description: '', draft: draft('w'), createdBy: 'u' });
        await data.runs.create(runInput('run-1', 'wf', at(1)));
        await data.hooks.create(hookInput('h'));
        await data.hooks.recordDelivery(delivery('d-1', 'h', at(1)));
        await data.hooks.recordDelivery(delivery('d-2', 'h', at(2)));
        await data.hooks.recordDelivery(delivery('d-3', 'h', at(3)));
        await data.hooks.recordDelivery(delivery('d-4', 'h', at(4), { outcome: 'rejected', reason: 'WEBHOOK.SIGNATURE_INVALID', deliveryId: null, payload: null }));
        await data.hooks.settleDelivery('d-1', { runId: 'run-1', reason: null });
        await data.hooks.settleDelivery('d-2', { runId: null, reason: 'RUN.INPUT_INVALID' });
        expect((await data.hooks.listUnstartedDeliveries(at(10), 10)).map((d) => d.id)).toEqual(['d-3']);
        expect(await data.hooks.listUnstartedDeliveries(at(3), 10)).toEqual([]);
        const all = await readAllPages((page) => data.hooks.listDeliveries('h', page), 3);
        expect(all.items.map((d) => [d.id, d.outcome, d.reason, d.runId, d.runStatus])).toEqual([
          ['d-4', 'rejected', 'WEBHOOK.SIGNATURE_INVALID', null, null],
          ['d-3', 'accepted', null, null, null],
          ['d-2', 'accepted', 'RUN.INPUT_INVALID', null, null],
          ['d-1', 'accepted', null, 'run-1', 'queued'],
        ]);
        expect(all.items.every((d) => !('payload' in d))).toBe(true);
        expect(await data.hooks.deleteDeliveriesBefore(at(3))).toBe(2);
        expect((await data.hooks.listDeliveries('h', {})).items.map((d) => d.id)).toEqual(['d-4', 'd-3']);
      });

      test('keeps hooks and deliveries to their tenant, and the hook index maps ids to tenants until the tenant is deleted', async () => {
        const a = await dataOf();
        const b = await dataOf('dedicated');
        await a.hooks.create(hookInput('h'));
        await a.hooks.recordDelivery(delivery('d', 'h', at(1)));
        expect(await b.hooks.get('h')).toBeUndefined();
        expect((await b.hooks.list({})).items).toEqual([]);
        expect(await b.hooks.getInboxEntry('h', 'msg-d')).toBeUndefined();
        expect((await b.hooks.listDeliveries('h', {})).items).toEqual([]);
        expect(await b.hooks.listUnstartedDeliveries(at(5), 10)).toEqual([]);
        await expectAppError(b.hooks.recordDelivery(delivery('e', 'h', at(1))), 'WEBHOOK.NOT_FOUND');
        expect(await b.hooks.delete('h')).toBe(false);
        await b.hooks.settleDelivery('d', { runId: 'stolen', reason: null });
        expect((await a.hooks.getInboxEntry('h', 'msg-d'))?.runId).toBeNull();
        const aToken = (await a.hooks.listDeliveries('h', { limit: 1 })).continuationToken;
        expect(aToken).toBeUndefined();

        const hookId = `wh-${uid()}`;
        await store.hookIndex.put(hookId, a.tenantId);
        await store.hookIndex.put(hookId, a.tenantId);
        expect(await store.hookIndex.tenantOf(hookId)).toBe(a.tenantId);
        await expectAppError(store.hookIndex.put(hookId, b.tenantId), ErrorCodes.conflict);
        const other = `wh-${uid()}`;
        await store.hookIndex.put(other, b.tenantId);
        await store.hookIndex.delete(other);
        expect(await store.hookIndex.tenantOf(other)).toBeUndefined();
        await store.tenants.delete(a.tenantId);
        expect(await store.hookIndex.tenantOf(hookId)).toBeUndefined();
      });
    });

    describe('schedules', () => {
      type ScheduleInput = Parameters<TenantDataStore['schedules']['create']>[0];
      function scheduleInput(id: string, workflowId: string, overrides: Partial<ScheduleInput> = {}): ScheduleInput {
        return { id, workflowId, cron: '0 * * * *', timeZone: 'Europe/Berlin', input: { to: 'ops', n: 1 }, version: null, missedFirePolicy: 'skip', status: 'active', createdBy: 'user-1', ...overrides };
      }

      test('creates, gets, lists, updates and deletes schedules, with revisions and preconditions', async () => {
        const data = await dataOf();
        await data.workflows.create({ id: 'wf', name: 'wf', description: '', draft: draft('a'), createdBy: 'u' });
        await data.workflows.create({ id: 'other', name: 'other', description: '', draft: draft('b'), createdBy: 'u' });
        const created = await data.schedules.create(scheduleInput('s-b', 'wf', { version: 3, missedFirePolicy: 'runOnce' }));
        expect(created).toMatchObject<Partial<Schedule>>({
          tenantId: data.tenantId,
          id: 's-b',
          workflowId: 'wf',
          cron: '0 * * * *',
          timeZone: 'Europe/Berlin',
          input: { to: 'ops', n: 1 },
          version: 3,
          missedFirePolicy: 'runOnce',
          status: 'active',
          lastFireTime: null,
          lastRunId: null,
          lastError: null,
          createdBy: 'user-1',
          revision: 1,
        });
        expect(await data.schedules.get('s-b')).toEqual(created);
        await expectAppError(data.schedules.create(scheduleInput('s-b', 'wf')), 'SCHEDULE.ALREADY_EXISTS');
        await expectAppError(data.schedules.create(scheduleInput('s-x', 'missing')), ErrorCodes.workflowNotFound);
        await data.schedules.create(scheduleInput('s-a', 'other'));
        await data.schedules.create(scheduleInput('s-c', 'wf'));
        expect(await data.schedules.count()).toBe(3);
        const all = await readAllPages((page) => data.schedules.list(page), 2);
        expect(all.items.map((schedule) => schedule.id)).toEqual(['s-a', 's-b', 's-c']);
        expect((await data.schedules.list({ workflowId: 'wf' })).items.map((schedule) => schedule.id)).toEqual(['s-b', 's-c']);
        expect(await data.schedules.listIdsByWorkflow('wf')).toEqual(['s-b', 's-c']);

        const updated = await data.schedules.update('s-b', { cron: '*/5 * * * *', version: null, status: 'paused' }, { ifRevision: 1 });
        expect(updated).toMatchObject({ cron: '*/5 * * * *', version: null, status: 'paused', timeZone: 'Europe/Berlin', revision: 2 });
        await expectAppError(data.schedules.update('s-b', { status: 'active' }, { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        await expectAppError(data.schedules.update('nope', { status: 'active' }), 'SCHEDULE.NOT_FOUND');
        const error = { code: 'WORKFLOW.NOT_PUBLISHED', message: 'not yet', at: at(5), scheduledTime: at(4) };
        expect(await data.schedules.recordFire('s-b', { scheduledTime: at(4), runId: null, error })).toBe(true);
        expect(await data.schedules.get('s-b')).toMatchObject({ lastFireTime: null, lastRunId: null, lastError: error, revision: 2 });
        expect(await data.schedules.recordFire('s-b', { scheduledTime: at(6), runId: 'run-1', error: null })).toBe(true);
        expect(await data.schedules.get('s-b')).toMatchObject({ lastFireTime: at(6), lastRunId: 'run-1', lastError: null, revision: 2 });
        expect(await data.schedules.recordFire('nope', { scheduledTime: at(6), runId: 'run-1', error: null })).toBe(false);

        await expectAppError(data.schedules.delete('s-b', { ifRevision: 1 }), ErrorCodes.preconditionFailed);
        expect(await data.schedules.delete('s-b', { ifRevision: 2 })).toBe(true);
        expect(await data.schedules.delete('s-b')).toBe(false);
        expect(await data.schedules.get('s-b')).toBeUndefined();
      });

      test('deletes a workflow\'s schedules with the workflow, and keeps them per tenant', async () => {
        const a = await dataOf();
        const b = await dataOf('dedicated');
        for (const data of [a, b]) {
          await data.workflows.create({ id: 'wf', name: 'wf', description: '', draft: draft('a'), createdBy: 'u' });
          await data.schedules.create(scheduleInput('s-1', 'wf'));
        }
        expect(await a.workflows.delete('wf')).toBe(true);
        expect(await a.schedules.get('s-1')).toBeUndefined();
        expect(await a.schedules.count()).toBe(0);
        expect(await b.schedules.get('s-1')).toMatchObject({ tenantId: b.tenantId, workflowId: 'wf' });
      });

      test('due index: lists due slots, claims each slot once, keeps a claimed fire pending until finished or its lease expires', async () => {
        const tenant = await newTenant();
        const due = store.scheduleDue;
        const mine = async (now: string) => (await due.listDue(now, 100)).filter((row) => row.tenantId === tenant.id);
        await due.set(tenant.id, 's-1', at(60));
        await due.set(tenant.id, 's-2', at(120));
        expect(await mine(at(59))).toEqual([]);
        expect(await mine(at(60))).toEqual([{ tenantId: tenant.id, scheduleId: 's-1', nextFireTime: at(60), pending: null }]);
        expect((await mine(at(200))).map((row) => row.scheduleId)).toEqual(['s-1', 's-2']);

        const fire = { scheduledTime: at(60), missedFires: 0 };
        expect(await due.claim(tenant.id, 's-1', at(60), at(120), fire, at(360))).toBe(true);
        expect(await due.claim(tenant.id, 's-1', at(60), at(120), fire, at(360))).toBe(false);
        expect(await due.get(tenant.id, 's-1')).toEqual({ tenantId: tenant.id, scheduleId: 's-1', nextFireTime: at(120), pending: { ...fire, leaseUntil: at(360) } });
        // Pending: not due again (even though its next slot passed) until its lease expires.
        expect((await mine(at(200))).map((row) => row.scheduleId)).toEqual(['s-2']);
        expect(await due.claim(tenant.id, 's-1', at(120), at(180), null, at(400))).toBe(false);
        expect((await mine(at(360))).find((row) => row.scheduleId === 's-1')).toEqual({ tenantId: tenant.id, scheduleId: 's-1', nextFireTime: at(120), pending: { ...fire, leaseUntil: at(360) } });
        expect(await due.reclaim(tenant.id, 's-1', at(60), at(360), at(660))).toBe(true);
        expect(await due.reclaim(tenant.id, 's-1', at(60), at(360), at(660))).toBe(false);
        await due.finish(tenant.id, 's-1', at(60));
        expect(await due.get(tenant.id, 's-1')).toEqual({ tenantId: tenant.id, scheduleId: 's-1', nextFireTime: at(120), pending: null });
        // A claim without a fire (skipped slots) only moves the next slot; null: the cron never fires again.
        expect(await due.claim(tenant.id, 's-1', at(120), null, null, at(700))).toBe(true);
        expect(await due.get(tenant.id, 's-1')).toEqual({ tenantId: tenant.id, scheduleId: 's-1', nextFireTime: null, pending: null });
        expect((await mine(at(100_000))).map((row) => row.scheduleId)).toEqual(['s-2']);
        await due.remove(tenant.id, 's-2');
        await due.remove(tenant.id, 's-2');
        expect(await due.get(tenant.id, 's-2')).toBeUndefined();
        // Deleting the tenant removes its rows.
        await store.tenants.delete(tenant.id);
        expect(await due.get(tenant.id, 's-1')).toBeUndefined();
      });

      test('due index: of many concurrent claims of the same slots, exactly one per slot wins', async () => {
        const tenant = await newTenant();
        const slots = Array.from({ length: 10 }, (_, i) => `s-${i}`);
        for (const scheduleId of slots) await store.scheduleDue.set(tenant.id, scheduleId, at(60));
        const attempts = slots.flatMap((scheduleId) =>
          Array.from({ length: 8 }, () => store.scheduleDue.claim(tenant.id, scheduleId, at(60), at(120), { scheduledTime: at(60), missedFires: 0 }, at(400)).then((won) => (won ? scheduleId : null))),
        );
        const winners = (await Promise.all(attempts)).filter((won): won is string => won !== null);
        expect(winners.sort()).toEqual(slots);
      });
    });

    describe('tenant isolation', () => {
      test('two tenants with identical workflow and run ids never see, change or page into each other\'s data', async () => {
        const a = await dataOf();
        const b = await dataOf();
        // Identical ids in both tenants.
        await a.workflows.create({ id: 'wf', name: 'A', description: '', draft: draft('a1'), createdBy: 'ua' });
        await b.workflows.create({ id: 'wf', name: 'B', description: '', draft: draft('b1'), createdBy: 'ub' });
        await a.workflows.publish('wf', 'ua');
        await a.workflows.updateDraft('wf', { draft: draft('a2') });
        await a.workflows.publish('wf', 'ua');
        expect((await b.workflows.publish('wf', 'ub')).version).toBe(1);
        await a.runs.create(runInput('run-1', 'wf', at(1), { idempotencyKey: 'k' }));
        const bRun = await b.runs.create(runInput('run-1', 'wf', at(2), { idempotencyKey: 'k', input: 'b' }));
        expect(bRun.created).toBe(true);
        expect(bRun.run.input).toBe('b');
        await a.audit.append(auditInput('e-1', at(1), 'workflow.create'));
        await b.audit.append(auditInput('e-1', at(2), 'workflow.create'));

        expect((await a.workflows.get('wf'))?.name).toBe('A');
        expect((await b.workflows.get('wf'))?.name).toBe('B');
        expect((await b.workflows.getVersion('wf', 1))?.definition).toEqual(draft('b1'));
        expect(await b.workflows.getVersion('wf', 2)).toBeUndefined();
        expect((await b.workflows.listVersions('wf', {})).items.map((v) => v.version)).toEqual([1]);
        expect((await a.runs.get('run-1'))?.input).not.toBe('b');
        expect((await b.runs.get('run-1'))?.createdAt).toBe(at(2));
        expect((await b.audit.list({})).items.map((e) => [e.id, e.at])).toEqual([['e-1', at(2)]]);

        // Changes in B leave A's rows alone.
        await b.workflows.updateDraft('wf', { name: 'B2' });
        await b.runs.update('run-1', { status: 'cancelled' });
        await b.runs.putStep({ runId: 'run-1', stepId: 's', iteration: null, status: 'cancelled', attempts: 1, startedAt: null, completedAt: null, error: null, output: null, outputRef: null });
        expect((await a.workflows.get('wf'))?.name).toBe('A');
        expect((await a.runs.get('run-1'))?.status).toBe('queued');
        expect(await a.runs.listSteps('run-1')).toEqual([]);
        expect(await b.workflows.delete('wf')).toBe(true);
        expect((await a.workflows.get('wf'))?.latestVersion).toBe(2);
        expect((await a.workflows.getVersion('wf', 1))?.definition).toEqual(draft('a1'));
        await expectAppError(b.workflows.publish('wf', 'ub'), ErrorCodes.workflowNotFound);
        await expectAppError(b.workflows.updateDraft('wf', { name: 'x' }), ErrorCodes.workflowNotFound);

        // Data only A has: every method of B misses it.
        await a.workflows.create({ id: 'only-a', name: 'A only', description: '', draft: {}, createdBy: 'ua' });
        await a.workflows.publish('only-a', 'ua');
        await a.runs.create(runInput('run-a', 'only-a', at(3), { idempotencyKey: 'ka' }));
        await a.runs.putStep({ runId: 'run-a', stepId: 's', iteration: 0, status: 'running', attempts: 1, startedAt: null, completedAt: null, error: null, output: null, outputRef: null });
        expect(await b.workflows.get('only-a')).toBeUndefined();
        expect(await b.workflows.getVersion('only-a', 1)).toBeUndefined();
        expect((await b.workflows.listVersions('only-a', {})).items).toEqual([]);
        await expectAppError(b.workflows.updateDraft('only-a', { name: 'x' }), ErrorCodes.workflowNotFound);
        await expectAppError(b.workflows.publish('only-a', 'ub'), ErrorCodes.workflowNotFound);
        expect(await b.workflows.delete('only-a')).toBe(false);
        expect(await b.workflows.count()).toBe(0);
        expect((await b.workflows.list({})).items).toEqual([]);
        expect(await b.runs.get('run-a')).toBeUndefined();
        await expectAppError(b.runs.update('run-a', { status: 'running' }), ErrorCodes.runNotFound);
        await expectAppError(
          b.runs.putStep({ runId: 'run-a', stepId: 's', iteration: 0, status: 'failed', attempts: 9, startedAt: null, completedAt: null, error: null, output: null, outputRef: null }),
          ErrorCodes.runNotFound,
        );
        expect(await b.runs.listSteps('run-a')).toEqual([]);
        expect((await b.runs.list({ workflowId: 'only-a' })).items).toEqual([]);
        expect((await b.runs.list({})).items.map((r) => r.id)).toEqual(['run-1']);
        expect(await b.runs.countCreatedSince(at(0))).toBe(1);
        expect((await b.runs.create(runInput('run-b', 'only-a', at(4), { idempotencyKey: 'ka' }))).created).toBe(true);
        expect((await a.workflows.get('only-a'))?.revision).toBe(2);
        expect((await a.runs.get('run-a'))?.status).toBe('queued');
        expect((await a.runs.listSteps('run-a')).map((s) => s.status)).toEqual(['running']);
        expect(await a.runs.countCreatedSince(at(0))).toBe(2);

        // A continuation token of A is not a way into B's lists, nor B's into A's.
        for (let i = 0; i < 3; i += 1) {
          await a.workflows.create({ id: `pa-${i}`, name: 'p', description: '', draft: {}, createdBy: 'ua' });
          await b.workflows.create({ id: `pb-${i}`, name: 'p', description: '', draft: {}, createdBy: 'ub' });
        }
        const aToken = (await a.workflows.list({ limit: 1 })).continuationToken!;
        await expectAppError(b.workflows.list({ limit: 1, continuationToken: aToken }), ErrorCodes.requestInvalid);
        const aRunToken = (await a.runs.list({ limit: 1 })).continuationToken!;
        await expectAppError(b.runs.list({ limit: 1, continuationToken: aRunToken }), ErrorCodes.requestInvalid);
        const bPages = await readAllPages((page) => b.workflows.list(page), 1);
        expect(bPages.items.map((w) => w.id)).toEqual(['pb-0', 'pb-1', 'pb-2']);
        expect(bPages.items.every((w) => w.tenantId === b.tenantId)).toBe(true);
      });

      test('keeps a dedicated tenant\'s data apart from a shared tenant\'s', async () => {
        const dedicated = await dataOf('dedicated');
        const shared = await dataOf('shared');
        expect(dedicated.tenantId).not.toBe(shared.tenantId);
        await dedicated.workflows.create({ id: 'wf', name: 'Dedicated', description: '', draft: draft('d'), createdBy: 'u' });
        await shared.workflows.create({ id: 'wf', name: 'Shared', description: '', draft: draft('s'), createdBy: 'u' });
        await dedicated.workflows.publish('wf', 'u');
        await dedicated.runs.create(runInput('run-1', 'wf', at(1), { idempotencyKey: 'k' }));
        await dedicated.audit.append(auditInput('e-1', at(1), 'workflow.publish'));

        expect((await shared.workflows.get('wf'))?.name).toBe('Shared');
        expect(await shared.workflows.getVersion('wf', 1)).toBeUndefined();
        expect(await shared.runs.get('run-1')).toBeUndefined();
        expect((await shared.audit.list({})).items).toEqual([]);
        expect((await shared.runs.create(runInput('run-1', 'wf', at(2), { idempotencyKey: 'k' }))).created).toBe(true);
        expect((await dedicated.workflows.get('wf'))?.tenantId).toBe(dedicated.tenantId);
        expect((await dedicated.runs.get('run-1'))?.createdAt).toBe(at(1));

        // Deleting the shared tenant leaves the dedicated one whole, and the other way round.
        await store.tenants.delete(shared.tenantId);
        expect((await dedicated.workflows.get('wf'))?.name).toBe('Dedicated');
        const again = await store.forTenant(dedicated.tenantId);
        expect(await again.workflows.count()).toBe(1);
      });

      test('deleting a tenant removes its data (shared and dedicated)', async () => {
        for (const placement of ['shared', 'dedicated'] as const) {
          const tenant = await newTenant({ placement });
          const data = await store.forTenant(tenant.id);
          await data.workflows.create({ id: 'wf', name: 'W', description: '', draft: {}, createdBy: 'u' });
          await data.workflows.publish('wf', 'u');
          await data.runs.create(runInput('run-1', 'wf', at(1), { idempotencyKey: 'k' }));
          await data.runs.putStep({ runId: 'run-1', stepId: 's', iteration: null, status: 'running', attempts: 1, startedAt: null, completedAt: null, error: null, output: null, outputRef: null });
          await data.audit.append(auditInput('e-1', at(1), 'workflow.create'));

          expect(await store.tenants.delete(tenant.id)).toBe(true);
          await expectAppError(store.forTenant(tenant.id), ErrorCodes.tenantNotFound);

          // The same id, onboarded again, starts empty.
          await newTenant({ id: tenant.id, placement });
          const fresh = await store.forTenant(tenant.id);
          expect(await fresh.workflows.count()).toBe(0);
          expect(await fresh.workflows.getVersion('wf', 1)).toBeUndefined();
          expect(await fresh.runs.get('run-1')).toBeUndefined();
          expect(await fresh.runs.listSteps('run-1')).toEqual([]);
          expect((await fresh.audit.list({})).items).toEqual([]);
          expect((await fresh.runs.create(runInput('run-2', 'wf', at(2), { idempotencyKey: 'k' }))).created).toBe(true);
        }
      });

      test('forTenant of an unknown tenant is TENANT.NOT_FOUND', async () => {
        await expectAppError(store.forTenant(`missing-${uid()}`), ErrorCodes.tenantNotFound);
      });

      test('200 interleaved operations of two tenants each see only their own tenant', async () => {
        const a = await dataOf();
        const b = await dataOf();
        await a.workflows.create({ id: 'wf', name: 'A', description: '', draft: {}, createdBy: 'u' });
        await b.workflows.create({ id: 'wf', name: 'B', description: '', draft: {}, createdBy: 'u' });
        const seen = await Promise.all(
          Array.from({ length: 200 }, async (_, i) => {
            const data = i % 2 === 0 ? a : b;
            const [wf, page] = await Promise.all([data.workflows.get('wf'), data.workflows.list({})]);
            return [data.tenantId, wf?.tenantId, wf?.name, ...page.items.map((w) => w.tenantId)];
          }),
        );
        const leaks = seen.filter(([tenantId, wfTenant, wfName, ...listed]) => wfTenant !== tenantId || wfName !== (tenantId === a.tenantId ? 'A' : 'B') || listed.some((t) => t !== tenantId));
        expect(leaks).toEqual([]);
      }, 120_000);
    });
  });
}
