import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/hostProcess.js';
import { type Platform, sampleDefinition, startPlatform } from './platform.js';

/**
 * Schedules end to end on the embedded host: the API, and the real `scheduler` timer firing runs. The timer
 * ticks every 2 seconds here (AIQ_SCHEDULER_TICK, honoured in Development only) instead of every minute, and
 * schedules use a 6-field cron naming the second of their slot, so a fire is seen seconds after its slot.
 */
const TICK = { AIQ_SCHEDULER_TICK: '*/2 * * * * *' };

type Json = Record<string, any>;

/** A 6-field UTC cron firing once a day at the second `secondsFromNow` from now (rounded up to a whole second). */
function cronAt(secondsFromNow: number): { cron: string; slot: string } {
  const slot = new Date(Math.ceil((Date.now() + secondsFromNow * 1000) / 1000) * 1000);
  return { cron: `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`, slot: slot.toISOString() };
}

async function setUpTenant(platform: Platform, tenantId: string): Promise<string> {
  const admin = await platform.token('Platform.Admin');
  expect((await platform.call('POST', '/api/tenants', { token: admin, body: { id: tenantId, name: tenantId, tier: 'standard' } })).status).toBe(201);
  const token = await platform.token('Tenant.Admin', tenantId);
  expect((await platform.call('POST', `/api/tenants/${tenantId}/workflows`, { token, body: { id: 'wf', name: 'wf', definition: sampleDefinition() } })).status).toBe(201);
  expect((await platform.call('POST', `/api/tenants/${tenantId}/workflows/wf/versions`, { token })).status).toBe(201);
  return token;
}

async function scheduleRuns(platform: Platform, tenantId: string, token: string): Promise<Json[]> {
  const response = await platform.call('GET', `/api/tenants/${tenantId}/runs?limit=100`, { token });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Json[] }).items.filter((run) => run.trigger.kind === 'schedule');
}

async function create(platform: Platform, tenantId: string, token: string, body: Json): Promise<Json> {
  const response = await platform.call('POST', `/api/tenants/${tenantId}/schedules`, { token, body: { workflowId: 'wf', timeZone: 'UTC', ...body } });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Json;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('schedules API and scheduler on one host', () => {
  let platform: Platform;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    platform = await startPlatform(TICK);
    admin = await setUpTenant(platform, 'acme');
    user = await platform.token('Tenant.User', 'acme');
    await setUpTenant(platform, 'other');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const problem = async (response: Response): Promise<[number, string]> => [response.status, ((await response.json()) as { code: string }).code];

  it('creates, reads, lists, updates, pauses, resumes and deletes a schedule, audited, with next fire times', async () => {
    const response = await platform.call('POST', '/api/tenants/acme/schedules', {
      token: admin,
      body: { id: 'nightly', workflowId: 'wf', cron: '30 2 * * *', timeZone: 'Europe/Berlin', input: { report: 'daily' }, missedFirePolicy: 'runOnce' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/api/tenants/acme/schedules/nightly');
    expect(response.headers.get('etag')).toBe('"r1"');
    const created = (await response.json()) as Json;
    expect(created).toMatchObject({ id: 'nightly', workflowId: 'wf', cron: '30 2 * * *', timeZone: 'Europe/Berlin', version: null, missedFirePolicy: 'runOnce', status: 'active', enabled: true, etag: '"r1"' });
    expect(Date.parse(created['nextFireTime'])).toBeGreaterThan(Date.now());

    const got = await platform.call('GET', '/api/tenants/acme/schedules/nightly?count=3', { token: user });
    expect(got.status).toBe(200);
    const fireTimes = ((await got.json()) as Json)['nextFireTimes'] as string[];
    expect(fireTimes).toHaveLength(3);
    for (const time of fireTimes) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(time));
      // 02:30 Berlin time, except on a spring-forward day (03:00, the first instant after the gap).
      expect(['02:30', '03:00']).toContain(local);
    }
    expect(await problem(await platform.call('GET', '/api/tenants/acme/schedules/nightly?count=101', { token: user }))).toEqual([400, 'REQUEST.INVALID']);
    expect(await problem(await platform.call('GET', '/api/tenants/acme/schedules/nightly?count=0', { token: user }))).toEqual([400, 'REQUEST.INVALID']);
    const list = (await (await platform.call('GET', '/api/tenants/acme/schedules?workflowId=wf', { token: user })).json()) as Json;
    expect(list['items'].map((item: Json) => item['id'])).toContain('nightly');

    // Writes need Tenant.Admin; other tenants see nothing.
    expect(await problem(await platform.call('POST', '/api/tenants/acme/schedules/nightly:pause', { token: user }))).toEqual([403, 'AUTH.FORBIDDEN']);
    const otherToken = await platform.token('Tenant.Admin', 'other');
    expect((await platform.call('GET', '/api/tenants/acme/schedules/nightly', { token: otherToken })).status).toBe(404);
    expect(await problem(await platform.call('GET', '/api/tenants/other/schedules/nightly', { token: otherToken }))).toEqual([404, 'SCHEDULE.NOT_FOUND']);

    expect(await problem(await platform.call('PATCH', '/api/tenants/acme/schedules/nightly', { token: admin, body: { cron: '0 3 * * *' } }))).toEqual([428, 'REQUEST.PRECONDITION_REQUIRED']);
    const patched = await platform.call('PATCH', '/api/tenants/acme/schedules/nightly', { token: admin, body: { cron: '0 3 * * *' }, headers: { 'if-match': '"r1"' } });
    expect(patched.status).toBe(200);
    expect((await patched.json()) as Json).toMatchObject({ cron: '0 3 * * *', timeZone: 'Europe/Berlin', input: { report: 'daily' }, etag: '"r2"' });
    expect(await problem(await platform.call('PATCH', '/api/tenants/acme/schedules/nightly', { token: admin, body: { cron: '0 4 * * *' }, headers: { 'if-match': '"r1"' } }))).toEqual([412, 'REQUEST.PRECONDITION_FAILED']);

    const paused = (await (await platform.call('POST', '/api/tenants/acme/schedules/nightly:pause', { token: admin })).json()) as Json;
    expect(paused).toMatchObject({ status: 'paused', enabled: false, nextFireTime: null });
    const resumed = (await (await platform.call('POST', '/api/tenants/acme/schedules/nightly:resume', { token: admin })).json()) as Json;
    expect(resumed).toMatchObject({ status: 'active', enabled: true });
    expect(resumed['nextFireTime']).not.toBeNull();

    expect((await platform.call('DELETE', '/api/tenants/acme/schedules/nightly', { token: admin })).status).toBe(204);
    expect((await platform.call('DELETE', '/api/tenants/acme/schedules/nightly', { token: admin })).status).toBe(204);
    expect(await problem(await platform.call('GET', '/api/tenants/acme/schedules/nightly', { token: admin }))).toEqual([404, 'SCHEDULE.NOT_FOUND']);

    const audit = (await (await platform.call('GET', '/api/tenants/acme/audit?limit=100', { token: admin })).json()) as { items: Json[] };
    const actions = audit.items.filter((entry) => entry['target'].type === 'schedule').map((entry) => `${entry['action']}:${entry['outcome']}`);
    expect(actions).toEqual(expect.arrayContaining(['schedule.create:success', 'schedule.update:success', 'schedule.update:failure', 'schedule.pause:success', 'schedule.resume:success', 'schedule.delete:success']));
  });

  it.each([
    [{ cron: '* * * *' }, 400, 'SCHEDULE.CRON_INVALID'],
    [{ cron: '*/10 * * * * *' }, 400, 'SCHEDULE.CRON_INVALID'],
    [{ cron: '0 25 * * *' }, 400, 'SCHEDULE.CRON_INVALID'],
    [{ timeZone: 'Mars/Olympus' }, 400, 'SCHEDULE.TIME_ZONE_INVALID'],
    [{ timeZone: '+02:00' }, 400, 'SCHEDULE.TIME_ZONE_INVALID'],
    [{ workflowId: 'missing' }, 404, 'WORKFLOW.NOT_FOUND'],
    [{ version: 7 }, 404, 'WORKFLOW.VERSION_NOT_FOUND'],
    [{ missedFirePolicy: 'always' }, 400, 'REQUEST.INVALID'],
    [{ input: [1, 2] }, 400, 'REQUEST.INVALID'],
    [{ id: 'Bad Id' }, 400, 'REQUEST.INVALID'],
  ])('refuses %j with %d %s (problem+json)', async (change, status, code) => {
    const response = await platform.call('POST', '/api/tenants/acme/schedules', { token: admin, body: { workflowId: 'wf', cron: '0 * * * *', timeZone: 'UTC', ...change } });
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await problem(response)).toEqual([status, code]);
  });

  it('fires a schedule due within seconds exactly once, as a run with trigger schedule that runs to completion', async () => {
    const { cron, slot } = cronAt(6);
    const schedule = await create(platform, 'acme', admin, { id: 'soon', cron, input: { greeting: 'hi' } });
    expect(schedule['nextFireTime']).toBe(slot);
    const run = await eventually(async () => (await scheduleRuns(platform, 'acme', admin)).find((each) => each.trigger.source === 'soon'), 30_000, 250);
    expect(run).toMatchObject({ workflowId: 'wf', trigger: { kind: 'schedule', source: 'soon' }, input: { greeting: 'hi', scheduledFire: { scheduleId: 'soon', scheduledTime: slot, missedFires: 0 } } });
    expect(Date.parse(run.createdAt)).toBeGreaterThanOrEqual(Date.parse(slot));
    const finished = await eventually(async () => {
      const body = (await (await platform.call('GET', `/api/tenants/acme/runs/${run.id}`, { token: admin })).json()) as Json;
      return body['status'] === 'succeeded' ? body : undefined;
    }, 30_000, 250);
    expect(finished['status']).toBe('succeeded');
    // Several more ticks pass: still exactly one run for the slot.
    await sleep(5_000);
    expect((await scheduleRuns(platform, 'acme', admin)).filter((each) => each.trigger.source === 'soon')).toHaveLength(1);
    expect((await (await platform.call('GET', '/api/tenants/acme/schedules/soon', { token: admin })).json()) as Json).toMatchObject({ lastFireTime: slot, lastRunId: run.id, lastError: null });
  }, 60_000);

  it('does not fire a paused schedule', async () => {
    const { cron } = cronAt(5);
    await create(platform, 'acme', admin, { id: 'quiet', cron, enabled: false });
    await sleep(9_000);
    expect((await scheduleRuns(platform, 'acme', admin)).filter((each) => each.trigger.source === 'quiet')).toEqual([]);
  }, 30_000);
});

describe('missed fires after a stopped host', () => {
  let platform: Platform | undefined;
  afterEach(async () => {
    await platform?.stop();
  });

  it('runOnce starts one run for the slots missed while the host was down; skip starts none', async () => {
    platform = await startPlatform(TICK);
    const token = await setUpTenant(platform, 'acme');
    // Daily at the minute five hours ago: the slots of the last three days and today's have all passed.
    const past = new Date(Date.now() - 5 * 3600_000);
    const cron = `0 ${past.getUTCMinutes()} ${past.getUTCHours()} * * *`;
    await create(platform, 'acme', token, { id: 'catch-up', cron, missedFirePolicy: 'runOnce' });
    await create(platform, 'acme', token, { id: 'skipper', cron, missedFirePolicy: 'skip' });
    const dir = platform.dir;
    await platform.stop();

    // While the host is down, their next fire moves three days back (as if the host had been stopped then).
    const today = new Date(Date.UTC(past.getUTCFullYear(), past.getUTCMonth(), past.getUTCDate(), past.getUTCHours(), past.getUTCMinutes()));
    const threeDaysAgo = new Date(today.getTime() - 3 * 86_400_000).toISOString();
    const db = new Database(path.join(dir, 'app.db'));
    try {
      expect(db.prepare("UPDATE schedule_due SET next_fire_at = ? WHERE tenant_id = 'acme'").run(threeDaysAgo).changes).toBe(2);
    } finally {
      db.close();
    }

    platform = await startPlatform(TICK, { dir });
    const runs = await eventually(async () => {
      const found = await scheduleRuns(platform!, 'acme', token);
      return found.length > 0 ? found : undefined;
    }, 30_000, 250);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: { kind: 'schedule', source: 'catch-up' }, input: { scheduledFire: { scheduleId: 'catch-up', scheduledTime: today.toISOString(), missedFires: 3 } } });
    // The skip schedule was claimed too (its next fire is tomorrow's slot), without a run.
    const tomorrow = new Date(today.getTime() + 86_400_000).toISOString();
    await eventually(async () => {
      const readonly = new Database(path.join(dir, 'app.db'), { readonly: true });
      try {
        const rows = readonly.prepare("SELECT schedule_id, next_fire_at FROM schedule_due WHERE tenant_id = 'acme' ORDER BY schedule_id").all() as Array<{ schedule_id: string; next_fire_at: string }>;
        return rows.every((row) => row.next_fire_at === tomorrow) && rows.length === 2 ? rows : undefined;
      } finally {
        readonly.close();
      }
    }, 15_000, 250);
    await sleep(4_000);
    expect((await scheduleRuns(platform, 'acme', token)).map((run) => run.trigger.source)).toEqual(['catch-up']);
  }, 90_000);
});

describe('two hosts on the same database', () => {
  let first: Platform | undefined;
  let second: Platform | undefined;
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('start one run per slot while both schedulers claim the same due schedules', async () => {
    // Both hosts tick every second, at the same instants, over the same SQLite files.
    const fast = { AIQ_SCHEDULER_TICK: '* * * * * *' };
    first = await startPlatform(fast);
    const token = await setUpTenant(first, 'acme');
    second = await startPlatform(fast, { dir: first.dir });
    const { cron, slot } = cronAt(8);
    const ids = Array.from({ length: 12 }, (_, i) => `twin-${String(i).padStart(2, '0')}`);
    for (const id of ids) await create(first, 'acme', token, { id, cron });
    const runs = await eventually(async () => {
      const found = await scheduleRuns(second!, 'acme', token);
      return found.length >= ids.length ? found : undefined;
    }, 40_000, 250);
    await sleep(4_000);
    const all = await scheduleRuns(first, 'acme', token);
    expect(all.length).toBe(runs.length);
    expect(all.map((run) => run.trigger.source).sort()).toEqual(ids);
    for (const run of all) expect(run.input.scheduledFire.scheduledTime).toBe(slot);
  }, 90_000);
});
