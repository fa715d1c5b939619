import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteAppStore } from '../../shared/adapters/sqlite/index.js';
import type { RequestContext } from '../../shared/application/requestContext.js';
import {
  createSchedule,
  deleteSchedule,
  FIRE_LEASE_MS,
  fireDueSchedules,
  type SchedulerTick,
  setScheduleEnabled,
} from '../../shared/application/scheduleUseCases.js';
import { deleteWorkflow } from '../../shared/application/workflowUseCases.js';
import type { Run } from '../../shared/domain/run.js';
import { DEFAULT_QUOTAS, type Tenant } from '../../shared/domain/tenant.js';
import type { AppStore, TenantDataStore } from '../../shared/ports/appStore.js';

/**
 * The scheduler's decisions, driven with an injected clock against the real SQLite store (no mocks): each tick
 * is `fireDueSchedules` at a chosen time, as the `scheduler` timer calls it every minute.
 */

const T = (iso: string): Date => new Date(iso);

let dir: string;
let store: AppStore;
let tenant: Tenant;
let data: TenantDataStore;
const opened: AppStore[] = [];

function openStore(): AppStore {
  const opened_ = createSqliteAppStore({ file: path.join(dir, 'app.db'), dedicatedDirectory: path.join(dir, 'tenants') });
  opened.push(opened_);
  return opened_;
}

function ctx(now: Date): RequestContext {
  return { principal: { subject: 'admin-1', name: 'Ada', roles: ['Tenant.Admin'], tenantId: tenant.id }, correlationId: 'test', now };
}

interface TickLog {
  dispatched: Run[];
  warnings: string[];
  errors: string[];
}

async function tick(now: Date, log: TickLog = { dispatched: [], warnings: [], errors: [] }, on: AppStore = store, dispatch?: (run: Run) => void): Promise<SchedulerTick & TickLog> {
  const result = await fireDueSchedules({
    store: on,
    now: () => now,
    dispatch: (_tenant, run) => {
      dispatch?.(run);
      log.dispatched.push(run);
    },
    warn: (message) => log.warnings.push(message),
    error: (message) => log.errors.push(message),
  });
  return { ...result, ...log };
}

async function runsOf(scheduleId?: string): Promise<Run[]> {
  const runs = (await data.runs.list({ limit: 100 })).items.filter((run) => run.trigger.kind === 'schedule');
  return scheduleId === undefined ? runs : runs.filter((run) => run.trigger.source === scheduleId);
}

async function schedule(body: Record<string, unknown>, now = T('2026-05-01T09:30:00Z')) {
  return createSchedule(ctx(now), tenant, { workflowId: 'wf', cron: '0 * * * *', timeZone: 'UTC', ...body }, { data, due: store.scheduleDue });
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-scheduler-'));
  store = openStore();
  tenant = await store.tenants.create({ id: 'acme', name: 'Acme', tier: 'standard', status: 'active', quotas: { ...DEFAULT_QUOTAS.standard }, entraTenantId: null, placement: 'shared', egress: null, eventSources: [] });
  data = await store.forTenant('acme');
  await data.workflows.create({ id: 'wf', name: 'wf', description: '', draft: { schemaVersion: 1, name: 'wf', steps: [] }, createdBy: 'u' });
  await data.workflows.publish('wf', 'u');
});

afterEach(async () => {
  for (const each of opened.splice(0)) await each.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('scheduler tick', () => {
  it('fires a due slot once, through startRun, with trigger schedule, the scheduled time in the input and a (schedule, slot) idempotency key', async () => {
    const created = await schedule({ id: 'hourly', input: { to: 'ops' } });
    expect((await store.scheduleDue.get('acme', 'hourly'))?.nextFireTime).toBe('2026-05-01T10:00:00.000Z');
    expect((await tick(T('2026-05-01T09:59:59Z'))).claimed).toBe(0);

    const first = await tick(T('2026-05-01T10:00:01Z'));
    expect(first).toMatchObject({ claimed: 1, started: 1, skipped: 0, failed: 0, errored: 0 });
    const runs = await runsOf('hourly');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      workflowId: 'wf',
      workflowVersion: 1,
      status: 'queued',
      trigger: { kind: 'schedule', source: created.id },
      input: { to: 'ops', scheduledFire: { scheduleId: 'hourly', scheduledTime: '2026-05-01T10:00:00.000Z', missedFires: 0 } },
      idempotencyKey: 'schedule:hourly:2026-05-01T10:00:00.000Z',
    });
    expect(first.dispatched.map((run) => run.id)).toEqual([runs[0]!.id]);
    expect(await data.schedules.get('hourly')).toMatchObject({ lastFireTime: '2026-05-01T10:00:00.000Z', lastRunId: runs[0]!.id, lastError: null, revision: 1 });
    expect(await store.scheduleDue.get('acme', 'hourly')).toMatchObject({ nextFireTime: '2026-05-01T11:00:00.000Z', pending: null });

    // Later ticks within the hour find nothing; the next slot fires at 11:00.
    expect((await tick(T('2026-05-01T10:01:00Z'))).claimed).toBe(0);
    expect((await tick(T('2026-05-01T11:00:00Z'))).started).toBe(1);
    expect((await runsOf('hourly')).map((run) => (run.input as { scheduledFire: { scheduledTime: string } }).scheduledFire.scheduledTime).sort()).toEqual([
      '2026-05-01T10:00:00.000Z',
      '2026-05-01T11:00:00.000Z',
    ]);
  });

  it('never fires a slot twice with concurrent schedulers on two stores sharing the database', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
    for (const id of ids) await schedule({ id });
    const other = openStore();
    const now = T('2026-05-01T10:00:02Z');
    const ticks = await Promise.all([tick(now), tick(now, undefined, other), tick(now), tick(now, undefined, other)]);
    expect(ticks.reduce((sum, each) => sum + each.claimed, 0)).toBe(ids.length);
    expect(ticks.reduce((sum, each) => sum + each.dispatched.length, 0)).toBe(ids.length);
    const runs = await runsOf();
    expect(runs.map((run) => run.trigger.source).sort()).toEqual(ids);
  });

  it('handles more due schedules than one batch (100) in one tick, up to the tier\'s schedule quota', async () => {
    for (let i = 0; i < 150; i += 1) await schedule({ id: `b-${String(i).padStart(3, '0')}` });
    const result = await tick(T('2026-05-01T10:00:00Z'));
    expect(result).toMatchObject({ claimed: 150, started: 150 });
    expect((await data.runs.list({ limit: 100 })).continuationToken).toBeDefined();
    for (let i = 150; i < 200; i += 1) await schedule({ id: `b-${i}` });
    await expect(schedule({ id: 'one-too-many' })).rejects.toMatchObject({ code: 'QUOTA.EXCEEDED' });
  });

  describe('missed fires after downtime (the last tick ran before 10:00; the next one at 14:30)', () => {
    it('skip: starts nothing for the missed slots and continues at the next future slot', async () => {
      await schedule({ id: 'skipper', missedFirePolicy: 'skip' });
      const result = await tick(T('2026-05-01T14:30:00Z'));
      expect(result).toMatchObject({ claimed: 1, started: 0, skipped: 5 });
      expect(await runsOf('skipper')).toEqual([]);
      expect((await store.scheduleDue.get('acme', 'skipper'))?.nextFireTime).toBe('2026-05-01T15:00:00.000Z');
      expect((await tick(T('2026-05-01T15:00:00Z'))).started).toBe(1);
    });

    it('runOnce: starts one run for all missed slots, for the latest, counting the others', async () => {
      await schedule({ id: 'catchup', missedFirePolicy: 'runOnce' });
      const result = await tick(T('2026-05-01T14:30:00Z'));
      expect(result).toMatchObject({ claimed: 1, started: 1, skipped: 0 });
      const runs = await runsOf('catchup');
      expect(runs).toHaveLength(1);
      expect((runs[0]!.input as Record<string, unknown>)['scheduledFire']).toEqual({ scheduleId: 'catchup', scheduledTime: '2026-05-01T14:00:00.000Z', missedFires: 4 });
      expect((await store.scheduleDue.get('acme', 'catchup'))?.nextFireTime).toBe('2026-05-01T15:00:00.000Z');
    });
  });

  it('does not fire paused schedules, and a resumed one continues from its next slot without catching up', async () => {
    await schedule({ id: 'p' });
    await setScheduleEnabled(ctx(T('2026-05-01T09:40:00Z')), 'acme', 'p', false, undefined, { data, due: store.scheduleDue });
    expect(await store.scheduleDue.get('acme', 'p')).toBeUndefined();
    expect((await tick(T('2026-05-01T10:00:00Z'))).claimed).toBe(0);
    await setScheduleEnabled(ctx(T('2026-05-01T12:10:00Z')), 'acme', 'p', true, undefined, { data, due: store.scheduleDue });
    expect((await store.scheduleDue.get('acme', 'p'))?.nextFireTime).toBe('2026-05-01T13:00:00.000Z');
    expect((await tick(T('2026-05-01T12:10:30Z'))).claimed).toBe(0);
    expect((await tick(T('2026-05-01T13:00:00Z'))).started).toBe(1);
    expect(await runsOf('p')).toHaveLength(1);
  });

  it('keeps firing a schedule whose delete was refused (stale If-Match), and repairs a lost due entry on resume', async () => {
    await schedule({ id: 'keep' });
    const deps = { data, due: store.scheduleDue };
    await expect(deleteSchedule('acme', 'keep', 7, deps)).rejects.toMatchObject({ code: 'REQUEST.PRECONDITION_FAILED' });
    expect((await store.scheduleDue.get('acme', 'keep'))?.nextFireTime).toBe('2026-05-01T10:00:00.000Z');
    // A crash between writing the row and the due entry leaves an active schedule without one; resume puts it back.
    await store.scheduleDue.remove('acme', 'keep');
    await setScheduleEnabled(ctx(T('2026-05-01T10:20:00Z')), 'acme', 'keep', true, undefined, deps);
    expect((await store.scheduleDue.get('acme', 'keep'))?.nextFireTime).toBe('2026-05-01T11:00:00.000Z');
    // Resuming an active schedule with its entry in place leaves its next slot alone.
    await store.scheduleDue.set('acme', 'keep', '2026-05-01T10:00:00.000Z');
    await setScheduleEnabled(ctx(T('2026-05-01T10:00:20Z')), 'acme', 'keep', true, undefined, deps);
    expect((await tick(T('2026-05-01T10:00:30Z'))).started).toBe(1);
    await deleteSchedule('acme', 'keep', undefined, deps);
    expect(await store.scheduleDue.get('acme', 'keep')).toBeUndefined();
    expect(await data.schedules.get('keep')).toBeUndefined();
  });

  it('lets a suspended tenant\'s slots pass without runs, and fires again once it is active', async () => {
    await schedule({ id: 'sus' });
    await store.tenants.update('acme', { status: 'suspended' });
    expect(await tick(T('2026-05-01T10:00:00Z'))).toMatchObject({ claimed: 1, started: 0, skipped: 1 });
    await store.tenants.update('acme', { status: 'active' });
    expect(await tick(T('2026-05-01T11:00:00Z'))).toMatchObject({ claimed: 1, started: 1 });
    expect((await runsOf('sus')).map((run) => (run.input as { scheduledFire: { scheduledTime: string } }).scheduledFire.scheduledTime)).toEqual(['2026-05-01T11:00:00.000Z']);
  });

  it('finishes a fire whose scheduler died after claiming it, once its lease expires', async () => {
    await schedule({ id: 'crash' });
    // A scheduler claimed the 10:00 slot and died before starting the run.
    expect(await store.scheduleDue.claim('acme', 'crash', '2026-05-01T10:00:00.000Z', '2026-05-01T11:00:00.000Z', { scheduledTime: '2026-05-01T10:00:00.000Z', missedFires: 0 }, '2026-05-01T10:05:00.000Z')).toBe(true);
    expect((await tick(T('2026-05-01T10:01:00Z'))).claimed).toBe(0);
    expect(await runsOf('crash')).toEqual([]);
    const recovered = await tick(T('2026-05-01T10:05:00Z'));
    expect(recovered.started).toBe(1);
    expect((await runsOf('crash')).map((run) => run.idempotencyKey)).toEqual(['schedule:crash:2026-05-01T10:00:00.000Z']);
    expect(await store.scheduleDue.get('acme', 'crash')).toMatchObject({ nextFireTime: '2026-05-01T11:00:00.000Z', pending: null });
  });

  it('does not start a second run when a scheduler died after creating the run but before finishing the fire', async () => {
    await schedule({ id: 'late' });
    const dying = await tick(T('2026-05-01T10:00:00Z'), undefined, store, () => {
      throw new Error('host lost');
    });
    expect(dying.errors.join('\n')).toMatch(/host lost/);
    expect(await runsOf('late')).toHaveLength(1);
    expect((await store.scheduleDue.get('acme', 'late'))?.pending?.scheduledTime).toBe('2026-05-01T10:00:00.000Z');
    const recovered = await tick(new Date(Date.parse('2026-05-01T10:00:00Z') + FIRE_LEASE_MS));
    // The same run again (idempotency key), dispatched again because it is still queued.
    expect(recovered.dispatched.map((run) => run.id)).toEqual((await runsOf('late')).map((run) => run.id));
    expect(await runsOf('late')).toHaveLength(1);
    expect((await store.scheduleDue.get('acme', 'late'))?.pending).toBeNull();
  });

  it('marks a schedule it cannot evaluate errored, and goes on with the others in the same tick', async () => {
    await schedule({ id: 'a-broken' });
    await schedule({ id: 'b-fine' });
    await data.schedules.update('a-broken', { cron: 'not a cron' });
    const result = await tick(T('2026-05-01T10:00:00Z'));
    expect(result).toMatchObject({ claimed: 1, started: 1, errored: 1 });
    expect(await data.schedules.get('a-broken')).toMatchObject({ status: 'errored', lastError: { code: 'SCHEDULE.CRON_INVALID' } });
    expect(await store.scheduleDue.get('acme', 'a-broken')).toBeUndefined();
    expect(await runsOf('b-fine')).toHaveLength(1);
  });

  it('records a fire that cannot start its run as the schedule\'s lastError, and keeps the schedule going', async () => {
    await data.workflows.create({ id: 'draft-only', name: 'd', description: '', draft: { schemaVersion: 1, name: 'd', steps: [] }, createdBy: 'u' });
    await schedule({ id: 'unpublished', workflowId: 'draft-only' });
    expect(await tick(T('2026-05-01T10:00:00Z'))).toMatchObject({ claimed: 1, started: 0, failed: 1 });
    expect(await data.schedules.get('unpublished')).toMatchObject({
      status: 'active',
      lastFireTime: null,
      lastError: { code: 'WORKFLOW.NOT_PUBLISHED', scheduledTime: '2026-05-01T10:00:00.000Z' },
    });
    expect(await store.scheduleDue.get('acme', 'unpublished')).toMatchObject({ nextFireTime: '2026-05-01T11:00:00.000Z', pending: null });
    await data.workflows.publish('draft-only', 'u');
    expect(await tick(T('2026-05-01T11:00:00Z'))).toMatchObject({ started: 1 });
    expect((await data.schedules.get('unpublished'))?.lastError).toBeNull();
  });

  it('forgets the schedules of a deleted workflow, and drops due entries whose schedule is gone', async () => {
    await schedule({ id: 'gone' });
    await deleteWorkflow('wf', undefined, { data, scheduleDue: store.scheduleDue });
    expect(await store.scheduleDue.get('acme', 'gone')).toBeUndefined();
    // An entry left behind (a crash between the two writes) is dropped when it comes due.
    await store.scheduleDue.set('acme', 'orphan', '2026-05-01T10:00:00.000Z');
    expect(await tick(T('2026-05-01T10:00:00Z'))).toMatchObject({ claimed: 0, started: 0 });
    expect(await store.scheduleDue.get('acme', 'orphan')).toBeUndefined();
  });

  it('fires a New York 01:30 schedule once on the fall-back day, ticking every minute through both passes', async () => {
    await schedule({ id: 'ny', cron: '30 1 * * *', timeZone: 'America/New_York' }, T('2026-10-31T12:00:00Z'));
    // Fall back: 01:30 happens twice on 1 November; ticks every minute through both passes fire it once.
    let started = 0;
    for (let at = Date.parse('2026-11-01T05:00:00Z'); at <= Date.parse('2026-11-01T07:00:00Z'); at += 60_000) started += (await tick(new Date(at))).started;
    expect(started).toBe(1);
    expect((await runsOf('ny')).map((run) => (run.input as { scheduledFire: { scheduledTime: string } }).scheduledFire.scheduledTime)).toEqual(['2026-11-01T05:30:00.000Z']);
  });
});
