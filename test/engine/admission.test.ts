import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../api/platform.js';

/**
 * Platform admission end to end: with one slot (AIQ_MAX_ACTIVE_RUNS=1) held by a run that waits for an event,
 * runs of four tenants queue up; when the slot frees, they start one by one in admission order — premium
 * first though queued last, then the standard tenants alternating, then basic — each through its tier queue.
 */
describe('platform admission under saturation', () => {
  let platform: Platform;
  let admin: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startPlatform({ AIQ_MAX_ACTIVE_RUNS: '1' });
    admin = await platform.token('Platform.Admin');
    const tenants = [
      ['holder', 'standard'],
      ['low', 'basic'],
      ['mid-a', 'standard'],
      ['mid-b', 'standard'],
      ['top', 'premium'],
    ] as const;
    for (const [id, tier] of tenants) {
      expect((await platform.call('POST', '/api/tenants', { token: admin, body: { id, name: id, tier } })).status).toBe(201);
      tokens[id] = await platform.token('Tenant.Admin', id);
      const definition =
        id === 'holder'
          ? { schemaVersion: 1, name: 'Hold', steps: [{ id: 'hold', type: 'waitForEvent', event: 'release', timeoutSeconds: 120 }] }
          : { schemaVersion: 1, name: 'Quick', steps: [{ id: 'quick', type: 'action', connector: 'core', action: 'noop', inputs: {} }] };
      expect((await platform.call('POST', `/api/tenants/${id}/workflows`, { token: tokens[id], body: { id: 'wf', name: 'wf', definition } })).status).toBe(201);
      expect((await platform.call('POST', `/api/tenants/${id}/workflows/wf/versions`, { token: tokens[id] })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function start(tenantId: string): Promise<string> {
    const response = await platform.call('POST', `/api/tenants/${tenantId}/workflows/wf/runs`, { token: tokens[tenantId], body: {} });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  async function run(tenantId: string, runId: string): Promise<Record<string, any>> {
    return (await (await platform.call('GET', `/api/tenants/${tenantId}/runs/${runId}`, { token: tokens[tenantId] })).json()) as Record<string, any>;
  }

  async function admission(): Promise<{ capacity: number; admitted: number; waiting: Record<string, number> }> {
    const response = await platform.call('GET', '/api/platform/admission', { token: admin });
    expect(response.status).toBe(200);
    return (await response.json()) as { capacity: number; admitted: number; waiting: Record<string, number> };
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('starts premium runs first, then standard tenants in turn, then basic, once a slot frees', async () => {
    const holder = await start('holder');
    await until('the holder to hold the slot', async () => ((await run('holder', holder))['status'] === 'running' ? true : undefined));
    expect(await admission()).toMatchObject({ capacity: 1, admitted: 1 });

    // Queued in the worst order for the premium tenant: lower tiers first, one standard tenant's burst before the other's.
    const queued: Array<[string, string]> = [];
    for (const tenantId of ['low', 'low', 'mid-a', 'mid-a', 'mid-a', 'mid-b', 'mid-b', 'top', 'top']) queued.push([tenantId, await start(tenantId)]);
    const waiting = await until('every run to reach the admission list', async () => {
      const state = await admission();
      return state.waiting['premium']! + state.waiting['standard']! + state.waiting['basic']! === queued.length ? state : undefined;
    });
    expect(waiting).toMatchObject({ admitted: 1, waiting: { premium: 2, standard: 5, basic: 2 } });
    for (const [tenantId, runId] of queued) expect((await run(tenantId, runId))['status']).toBe('queued');

    // The step may not wait yet (404 EVENT.NOT_EXPECTED until it does).
    await until('the holder to take its event', async () => ((await platform.call('POST', `/api/tenants/holder/runs/${holder}/events/release`, { token: tokens['holder'], body: {} })).status === 202 ? true : undefined));
    const finished = await until('every queued run to finish', async () => {
      const runs: Array<Record<string, any>> = await Promise.all(queued.map(async ([tenantId, runId]) => ({ ...(await run(tenantId, runId)), tenantId })));
      return runs.every((r) => r['status'] === 'succeeded') ? runs : undefined;
    });
    const order = [...finished].sort((a, b) => String(a['startedAt']).localeCompare(String(b['startedAt']))).map((r) => r['tenantId']);
    expect(order).toEqual(['top', 'top', 'mid-a', 'mid-b', 'mid-a', 'mid-b', 'mid-a', 'low', 'low']);
    // One slot: each run started after the one before it had ended.
    const byStart = [...finished].sort((a, b) => String(a['startedAt']).localeCompare(String(b['startedAt'])));
    for (let i = 1; i < byStart.length; i++) expect(byStart[i]!['startedAt'] >= byStart[i - 1]!['completedAt']).toBe(true);
    expect(await admission()).toMatchObject({ admitted: 0, waiting: { premium: 0, standard: 0, basic: 0 } });
  }, 90_000);

  it('a cancelled queued run gives up its place; the API refuses the admission view to tenant admins', async () => {
    const holder = await start('holder');
    await until('the holder to hold the slot', async () => ((await admission()).admitted === 1 ? true : undefined));
    const first = await start('mid-a');
    const second = await start('mid-a');
    await until('both to wait', async () => ((await admission()).waiting['standard'] === 2 ? true : undefined));
    expect((await platform.call('POST', `/api/tenants/mid-a/runs/${first}:cancel`, { token: tokens['mid-a'] })).status).toBe(200);
    expect((await admission()).waiting['standard']).toBe(1);
    expect((await platform.call('POST', `/api/tenants/holder/runs/${holder}:cancel`, { token: tokens['holder'] })).status).toBe(200);
    const done = await until('the second run to finish', async () => {
      const r = await run('mid-a', second);
      return r['status'] === 'succeeded' ? r : undefined;
    });
    expect(done['status']).toBe('succeeded');
    expect((await run('mid-a', first))['status']).toBe('cancelled');
    const forbidden = await platform.call('GET', '/api/platform/admission', { token: tokens['mid-a'] });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
  }, 60_000);
});
