import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteAppStore } from '../adapters/sqlite/sqliteAppStore.js';
import { DEFAULT_QUOTAS } from '../domain/tenant.js';
import type { AppStore } from '../ports/appStore.js';
import { createEventSubscription, type EventRouterDependencies, routeEvent } from './eventUseCases.js';
import type { RequestContext } from './requestContext.js';

const ACME_TOPIC = '/subscriptions/1/resourceGroups/acme/providers/Microsoft.EventGrid/topics/orders';
const PLATFORM_TOPIC = 'https://automateiq-events.localhost/api/events';

/**
 * routeEvent over the real SQLite app store: tenant resolution by source (and by the data of the platform's own
 * run events), the drop reasons, one run per matching subscription, idempotency per subscription and event id.
 */
describe('routeEvent', () => {
  let store: AppStore;
  let deps: EventRouterDependencies;
  const ctx = (): Omit<RequestContext, 'principal'> => ({ correlationId: 'c-1', now: new Date() });
  const admin = (tenantId: string): RequestContext => ({ principal: { subject: 'admin', name: 'admin', roles: ['Tenant.Admin'], tenantId }, correlationId: 'c-0', now: new Date() });
  const gridEvent = (overrides: Record<string, unknown> = {}) => ({ id: 'e-1', topic: ACME_TOPIC, subject: '/orders/1', eventType: 'Contoso.Orders.Created', eventTime: '2026-01-01T00:00:00Z', data: { n: 1 }, dataVersion: '1', ...overrides });

  beforeEach(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-route-'));
    store = createSqliteAppStore({ file: path.join(dir, 'app.db'), dedicatedDirectory: path.join(dir, 'tenants') });
    deps = {
      tenantBySource: (source) => store.tenants.getByEventSource(source),
      tenant: (tenantId) => store.tenants.get(tenantId),
      forTenant: (tenantId) => store.forTenant(tenantId),
      platformSources: [PLATFORM_TOPIC],
    };
    for (const id of ['acme', 'globex']) {
      await store.tenants.create({ id, name: id, tier: 'standard', status: 'active', quotas: { ...DEFAULT_QUOTAS.standard, maxPayloadBytes: 1024 }, entraTenantId: null, placement: 'shared', egress: null, eventSources: [] });
      const data = await store.forTenant(id);
      await data.workflows.create({ id: 'wf', name: 'wf', description: '', draft: { schemaVersion: 1, name: 'wf', steps: [{ id: 's', type: 'action', connector: 'core', action: 'noop', inputs: {} }] }, createdBy: 'u' });
      await data.workflows.publish('wf', 'u');
    }
    await store.tenants.update('acme', { eventSources: [ACME_TOPIC.toLowerCase()] });
  });

  afterEach(async () => {
    await store.close();
  });

  it("starts one run per matching subscription of the source's tenant, once per event id", async () => {
    const acme = (await store.tenants.get('acme'))!;
    const data = await store.forTenant('acme');
    const first = await createEventSubscription(admin('acme'), acme, { workflowId: 'wf', eventTypes: ['Contoso.Orders.*'] }, data);
    const second = await createEventSubscription(admin('acme'), acme, { workflowId: 'wf', eventTypes: ['Contoso.Orders.Created'], subjectBeginsWith: '/orders/' }, data);
    await createEventSubscription(admin('acme'), acme, { workflowId: 'wf', eventTypes: ['Contoso.Orders.Created'], subjectBeginsWith: '/invoices/' }, data);
    const globex = (await store.tenants.get('globex'))!;
    await createEventSubscription(admin('globex'), globex, { workflowId: 'wf', eventTypes: ['*'] }, await store.forTenant('globex'));

    const routed = await routeEvent(gridEvent(), ctx(), deps);
    if (routed.outcome !== 'routed') throw new Error(routed.detail);
    expect(routed.tenant.id).toBe('acme');
    expect(routed.results.map((result) => result.subscriptionId).sort()).toEqual([first.id, second.id].sort());
    expect(routed.results.every((result) => 'run' in result && result.created)).toBe(true);
    const again = await routeEvent(gridEvent(), ctx(), deps);
    if (again.outcome !== 'routed') throw new Error(again.detail);
    expect(again.results.every((result) => 'run' in result && !result.created)).toBe(true);
    expect((await data.runs.list({})).items).toHaveLength(2);
    expect((await (await store.forTenant('globex')).runs.list({})).items).toEqual([]);
  });

  it('drops malformed events, unknown sources, suspended tenants and oversized data', async () => {
    expect(await routeEvent({ nothing: true }, ctx(), deps)).toMatchObject({ outcome: 'dropped', reason: 'EVENT.INVALID' });
    expect(await routeEvent(gridEvent({ topic: `${ACME_TOPIC}2` }), ctx(), deps)).toMatchObject({ outcome: 'dropped', reason: 'EVENT.UNKNOWN_SOURCE' });
    expect(await routeEvent(gridEvent({ data: { blob: 'x'.repeat(2000) } }), ctx(), deps)).toMatchObject({ outcome: 'dropped', reason: 'EVENT.TOO_LARGE' });
    await store.tenants.update('acme', { status: 'suspended' });
    expect(await routeEvent(gridEvent(), ctx(), deps)).toMatchObject({ outcome: 'dropped', reason: 'EVENT.UNKNOWN_SOURCE' });
  });

  it("routes the platform's run events by their data's tenant, never a CloudEvent claiming the platform's source, and not those of event-started runs", async () => {
    const globex = (await store.tenants.get('globex'))!;
    const subscription = await createEventSubscription(admin('globex'), globex, { workflowId: 'wf', eventTypes: ['run.*'] }, await store.forTenant('globex'));
    const runEvent = (trigger: string) => gridEvent({ id: `r-${trigger}`, topic: PLATFORM_TOPIC.toUpperCase(), eventType: 'run.completed', subject: '/tenants/globex/workflows/wf/runs/r', data: { tenantId: 'globex', runId: 'r', trigger } });
    const routed = await routeEvent(runEvent('api'), ctx(), deps);
    expect(routed).toMatchObject({ outcome: 'routed', tenant: { id: 'globex' }, results: [{ subscriptionId: subscription.id }] });
    expect(await routeEvent(runEvent('event'), ctx(), deps)).toMatchObject({ outcome: 'dropped', reason: 'EVENT.CHAINED' });
    const cloud = { specversion: '1.0', id: 'c', source: PLATFORM_TOPIC, type: 'run.completed', data: { tenantId: 'globex', trigger: 'api' } };
    expect(await routeEvent(cloud, ctx(), deps)).toMatchObject({ outcome: 'dropped', reason: 'EVENT.UNKNOWN_SOURCE' });
  });

  it('throws when the store fails, so that Event Grid redelivers', async () => {
    const failing: EventRouterDependencies = { ...deps, tenantBySource: () => Promise.reject(new Error('store down')) };
    await expect(routeEvent(gridEvent(), ctx(), failing)).rejects.toThrow('store down');
  });
});
