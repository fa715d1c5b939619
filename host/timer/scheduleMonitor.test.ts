import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTimerSchedule } from './schedule.js';
import {
  checkPastDue,
  FileScheduleMonitorStore,
  InMemoryScheduleMonitorStore,
  reconcileScheduleStatus,
  statusFileName,
  type ScheduleStatus,
} from './scheduleMonitor.js';
import { dotNetMinDate, DOTNET_MIN_DATE_MS } from './timerInfo.js';

const d = (iso: string) => new Date(iso);
const status = (last: string | Date, next: string, lastUpdated: string | Date): ScheduleStatus => ({
  last: typeof last === 'string' ? d(last) : last,
  next: d(next),
  lastUpdated: typeof lastUpdated === 'string' ? d(lastUpdated) : lastUpdated,
});

describe('FileScheduleMonitorStore', () => {
  let directory: string;
  let warnings: string[];
  let store: FileScheduleMonitorStore;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'timer-monitor-'));
    warnings = [];
    store = new FileScheduleMonitorStore(path.join(directory, 'timers'), { onWarning: (message) => warnings.push(message) });
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('round-trips a status through one PascalCase JSON file per timer', async () => {
    const written = status('2026-01-01T10:00:00.123Z', '2026-01-01T11:00:00Z', '2026-01-01T10:00:00.123Z');
    await store.update('nightlySweep', written);
    expect(await store.get('nightlySweep')).toEqual(written);
    const text = await readFile(store.filePath('nightlySweep'), 'utf8');
    expect(JSON.parse(text)).toEqual({ Last: '2026-01-01T10:00:00.123Z', Next: '2026-01-01T11:00:00.000Z', LastUpdated: '2026-01-01T10:00:00.123Z' });
    expect(await readdir(path.join(directory, 'timers'))).toEqual(['nightlySweep.status.json']);
  });

  it('keeps default(DateTime) for a timer that never ran', async () => {
    await store.update('fresh', status(dotNetMinDate(), '2026-01-01T11:00:00Z', '2026-01-01T10:00:00Z'));
    const read = await store.get('fresh');
    expect(read?.last.getTime()).toBe(DOTNET_MIN_DATE_MS);
  });

  it('returns undefined for a missing status without a warning', async () => {
    expect(await store.get('unknown')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it.each([
    ['not JSON', '{"Last": "2026-01-0', /not valid JSON/],
    ['wrong shape', '{"last":"2026-01-01T00:00:00Z"}', /does not hold Last, Next and LastUpdated/],
    ['bad date', '{"Last":"yesterday","Next":"2026-01-01T00:00:00Z","LastUpdated":"2026-01-01T00:00:00Z"}', /does not hold/],
    ['null', 'null', /does not hold/],
  ])('treats a corrupt file (%s) as missing and warns', async (_label, content, warning) => {
    await mkdir(path.join(directory, 'timers'), { recursive: true });
    await writeFile(store.filePath('broken'), content);
    expect(await store.get('broken')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(warning);
    expect(warnings[0]).toContain("'broken'");
  });

  it('treats an unreadable status (a directory in its place) as missing and warns', async () => {
    await mkdir(store.filePath('weird'), { recursive: true });
    expect(await store.get('weird')).toBeUndefined();
    expect(warnings[0]).toMatch(/could not be read/);
  });

  it('survives a throwing warning sink', async () => {
    const quiet = new FileScheduleMonitorStore(directory, {
      onWarning: () => {
        throw new Error('sink down');
      },
    });
    await writeFile(quiet.filePath('x'), '{');
    await expect(quiet.get('x')).resolves.toBeUndefined();
  });

  it('writes atomically: concurrent readers never see a partial file and no temporary files remain', async () => {
    await store.update('busy', status('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z'));
    const writes = Array.from({ length: 40 }, (_, i) => {
      const hour = String(i % 24).padStart(2, '0');
      return store.update('busy', status(`2026-01-02T${hour}:00:00Z`, `2026-01-02T${hour}:30:00Z`, `2026-01-02T${hour}:00:00Z`));
    });
    const reads = Array.from({ length: 40 }, () => store.get('busy'));
    await Promise.all(writes);
    const seen = await Promise.all(reads);
    for (const value of seen) expect(value).toBeDefined();
    expect(warnings).toEqual([]);
    expect(await readdir(path.join(directory, 'timers'))).toEqual(['busy.status.json']);
    const final = await store.get('busy');
    expect(final!.next.getTime() - final!.last.getTime()).toBe(30 * 60_000);
  });

  it('ignores a temporary file left by a crashed write', async () => {
    await store.update('crash', status('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z'));
    await writeFile(path.join(directory, 'timers', '.crash.status.json.123.abc.tmp'), '{"Last":');
    expect((await store.get('crash'))?.next.toISOString()).toBe('2026-01-01T01:00:00.000Z');
  });

  it('rejects a failed write and leaves no temporary file behind', async () => {
    const blocked = path.join(directory, 'blocked');
    await writeFile(blocked, 'a file where the directory should be');
    const failing = new FileScheduleMonitorStore(blocked);
    await expect(failing.update('t', status('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z'))).rejects.toThrow();
    expect(await readdir(directory)).toEqual(['blocked']);
  });

  it('uses safe, distinct file names inside its directory', () => {
    const names = ['a/b', 'a%2Fb', '..', '.', 'Functions.My Timer', 'ünï', '', 'x'.repeat(500), 'x'.repeat(499) + 'y'];
    const files = names.map(statusFileName);
    expect(new Set(files).size).toBe(names.length);
    for (const file of files) {
      expect(file).toMatch(/^[A-Za-z0-9_%~-]+\.status\.json$/);
      expect(file.length).toBeLessThanOrEqual(140);
      expect(path.dirname(store.filePath(file))).toBe(path.join(directory, 'timers'));
    }
    expect(statusFileName('a/b')).toBe('a%2Fb.status.json');
  });
});

describe('InMemoryScheduleMonitorStore', () => {
  it('stores copies', async () => {
    const store = new InMemoryScheduleMonitorStore();
    const value = status('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z');
    await store.update('t', value);
    value.next.setTime(0);
    expect((await store.get('t'))?.next.toISOString()).toBe('2026-01-01T01:00:00.000Z');
  });
});

describe('checkPastDue / reconcileScheduleStatus (ScheduleMonitor.CheckPastDueAsync)', () => {
  const hourly = parseTimerSchedule('0 0 * * * *', { timeZone: 'UTC' });

  it('initializes a timer without a status: not past due, {default, next, now} to persist', () => {
    const now = d('2026-01-01T10:20:00Z');
    expect(checkPastDue(now, hourly, undefined)).toBe(0);
    const check = reconcileScheduleStatus(now, hourly, undefined);
    expect(check.changed).toBe(true);
    expect(check.status).toEqual(status(dotNetMinDate(), '2026-01-01T11:00:00Z', '2026-01-01T10:20:00Z'));
  });

  it('is not past due before the recorded next occurrence', () => {
    const recorded = status('2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', '2026-01-01T10:00:00Z');
    const check = reconcileScheduleStatus(d('2026-01-01T10:59:59Z'), hourly, recorded);
    expect(check).toEqual({ pastDueMs: 0, status: recorded, changed: false });
  });

  it('is past due by the time since the recorded next occurrence', () => {
    const recorded = status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z');
    expect(checkPastDue(d('2026-01-01T10:30:00Z'), hourly, recorded)).toBe(90 * 60_000);
    expect(checkPastDue(d('2026-01-01T09:00:00Z'), hourly, recorded)).toBe(0);
  });

  it('uses LastUpdated when the timer never ran', () => {
    const recorded = status(dotNetMinDate(), '2026-01-01T08:00:00Z', '2026-01-01T07:10:00Z');
    const check = reconcileScheduleStatus(d('2026-01-01T09:00:00Z'), hourly, recorded);
    expect(check.changed).toBe(false);
    expect(check.pastDueMs).toBe(60 * 60_000);
  });

  it('treats a changed schedule whose expected occurrence passed as not past due, recomputed from now', () => {
    // Recorded under an hourly schedule; the app now says "at half past".
    const recorded = status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z');
    const halfPast = parseTimerSchedule('0 30 * * * *', { timeZone: 'UTC' });
    const now = d('2026-01-01T10:10:00Z');
    expect(checkPastDue(now, halfPast, recorded)).toBe(0);
    const check = reconcileScheduleStatus(now, halfPast, recorded);
    expect(check.changed).toBe(true);
    expect(check.status).toEqual(status(dotNetMinDate(), '2026-01-01T10:30:00Z', '2026-01-01T10:10:00Z'));
  });

  it('keeps a changed schedule whose expected occurrence is still ahead, dated from Last', () => {
    const recorded = status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z');
    const evenHours = parseTimerSchedule('0 0 */2 * * *', { timeZone: 'UTC' });
    const check = reconcileScheduleStatus(d('2026-01-01T08:30:00Z'), evenHours, recorded);
    expect(check).toEqual({ pastDueMs: 0, changed: true, status: status(dotNetMinDate(), '2026-01-01T10:00:00Z', '2026-01-01T08:00:00Z') });
  });

  it('recomputes from now when neither Last nor LastUpdated is set', () => {
    const recorded = status(dotNetMinDate(), '2026-01-01T05:00:00Z', dotNetMinDate());
    const check = reconcileScheduleStatus(d('2026-01-01T09:15:00Z'), hourly, recorded);
    expect(check.changed).toBe(true);
    expect(check.pastDueMs).toBe(0);
    expect(check.status.next.toISOString()).toBe('2026-01-01T10:00:00.000Z');
  });

  it('works for TimeSpan schedules', () => {
    const every5 = parseTimerSchedule('00:05:00', { timeZone: 'UTC' });
    const recorded = status('2026-01-01T10:00:00.250Z', '2026-01-01T10:05:00.250Z', '2026-01-01T10:00:00.250Z');
    expect(checkPastDue(d('2026-01-01T10:06:00.250Z'), every5, recorded)).toBe(60_000);
  });
});
