import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { assertTimeZone, CronSpec, MISSED_AFTER_MS, planFire, ScheduleErrorCodes } from './schedule.js';

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    return error instanceof AppError ? error.code : `not an AppError: ${String(error)}`;
  }
  return undefined;
}

/** The next `count` fire times after `from` as ISO strings. */
function fires(cron: string, timeZone: string, from: string, count: number): string[] {
  return CronSpec.parse(cron, timeZone)
    .nextTimes(new Date(from), count)
    .map((time) => time.toISOString());
}

describe('cron validation', () => {
  it.each(['* * * * *', '30 2 * * *', '0 9 * * 1-5', '*/15 8-18 * * MON-FRI', '0 0 1 1 *', '0 0 L * *', '15 30 2 * * *', '0 */5 * * * *'])('accepts %s', (cron) => {
    expect(() => CronSpec.parse(cron, 'UTC')).not.toThrow();
  });

  it.each([
    ['', '0 fields'],
    ['* * * *', '4 fields'],
    ['0 0 0 * * * *', '7 fields'],
    ['@daily', 'a nickname'],
    ['61 * * * *', 'minute out of range'],
    ['* 24 * * *', 'hour out of range'],
    ['* * * 13 *', 'month out of range'],
    ['x * * * *', 'garbage'],
    ['* * * * * *', 'every second'],
    ['*/10 * * * * *', 'every 10 seconds'],
    ['0,30 * * * * *', 'twice a minute'],
    ['0 0 0 30 2 *', 'never (30 February)'],
  ])('refuses %j (%s) with SCHEDULE.CRON_INVALID', (cron) => {
    expect(codeOf(() => CronSpec.parse(cron, 'UTC'))).toBe(ScheduleErrorCodes.cronInvalid);
  });

  it.each(['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires'])('accepts the IANA zone %s', (zone) => {
    expect(() => assertTimeZone(zone)).not.toThrow();
  });

  it.each(['Mars/Olympus', '+01:00', 'CET ', '', 'Europe/', '../etc/passwd', 'Europe/Berlin/Extra/Deep'])('refuses %j with SCHEDULE.TIME_ZONE_INVALID', (zone) => {
    expect(codeOf(() => CronSpec.parse('* * * * *', zone))).toBe(ScheduleErrorCodes.timeZoneInvalid);
  });
});

describe('next fire times', () => {
  it('lists the next N in order, strictly after the reference time', () => {
    expect(fires('0 9 * * 1-5', 'UTC', '2026-11-27T09:00:00.000Z', 3)).toEqual(['2026-11-30T09:00:00.000Z', '2026-12-01T09:00:00.000Z', '2026-12-02T09:00:00.000Z']);
    expect(fires('*/20 * * * *', 'UTC', '2026-01-01T00:00:00.000Z', 4)).toEqual(['2026-01-01T00:20:00.000Z', '2026-01-01T00:40:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-01T01:20:00.000Z']);
    expect(fires('15 30 2 * * *', 'UTC', '2026-01-01T00:00:00.000Z', 2)).toEqual(['2026-01-01T02:30:15.000Z', '2026-01-02T02:30:15.000Z']);
  });

  it('evaluates the cron in the schedule time zone', () => {
    expect(fires('0 9 * * *', 'Europe/Berlin', '2026-01-10T00:00:00.000Z', 1)).toEqual(['2026-01-10T08:00:00.000Z']);
    expect(fires('0 9 * * *', 'Europe/Berlin', '2026-07-10T00:00:00.000Z', 1)).toEqual(['2026-07-10T07:00:00.000Z']);
    expect(fires('0 9 * * *', 'Australia/Sydney', '2026-07-10T00:00:00.000Z', 1)).toEqual(['2026-07-10T23:00:00.000Z']);
  });
});

describe('DST', () => {
  // 2026: New York springs forward on 8 March and falls back on 1 November; Berlin on 29 March and 25 October;
  // Sydney (southern hemisphere) springs forward on 4 October and falls back on 5 April.
  it.each([
    // A daily 02:30 does not exist on the spring-forward day: it fires once, at the first instant after the gap (03:00 daylight time).
    ['America/New_York', '2026-03-07T12:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']],
    ['Europe/Berlin', '2026-03-28T12:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['Australia/Sydney', '2026-10-03T00:00:00Z', ['2026-10-03T16:00:00.000Z', '2026-10-04T15:30:00.000Z']],
  ])('spring-forward gap in %s: 02:30 fires once, at 03:00 local', (zone, from, expected) => {
    expect(fires('30 2 * * *', zone, from, 2)).toEqual(expected);
  });

  it.each([
    // The repeated local time fires once, on its first (daylight time) occurrence; the next day is on standard time.
    ['America/New_York', '30 1 * * *', '2026-10-31T12:00:00Z', ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
    ['Europe/Berlin', '30 2 * * *', '2026-10-24T12:00:00Z', ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    ['Australia/Sydney', '30 2 * * *', '2026-04-04T00:00:00Z', ['2026-04-04T15:30:00.000Z', '2026-04-05T16:30:00.000Z']],
  ])('fall-back overlap in %s: the repeated time fires once', (zone, cron, from, expected) => {
    expect(fires(cron, zone, from, 2)).toEqual(expected);
  });

  it('keeps an hourly schedule hourly in real time across both transitions, never firing twice for one instant', () => {
    // Spring: 01:00 EST, then 03:00 EDT (02:00 does not exist), 04:00 EDT: one hour apart each.
    expect(fires('0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z', 3)).toEqual(['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']);
    // Fall: 01:00 EDT, 01:00 EST, 02:00 EST in New York; 02:00 CEST, 02:00 CET, 03:00 CET in Berlin.
    expect(fires('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z']);
    expect(fires('0 * * * *', 'Europe/Berlin', '2026-10-24T23:30:00Z', 3)).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
  });
});

describe('planFire (missed fires)', () => {
  const hourly = CronSpec.parse('0 * * * *', 'UTC');
  const due = new Date('2026-05-01T10:00:00.000Z');

  it('fires an on-time slot (claimed within a minute or two) and moves to the next slot', () => {
    for (const policy of ['skip', 'runOnce'] as const) {
      expect(planFire(hourly, due, new Date('2026-05-01T10:00:40.000Z'), policy)).toEqual({
        fire: { scheduledTime: '2026-05-01T10:00:00.000Z', missedFires: 0 },
        missed: 0,
        nextFireTime: '2026-05-01T11:00:00.000Z',
      });
    }
  });

  it('treats a slot older than the grace as missed: skip starts nothing, runOnce starts one run for it', () => {
    const now = new Date(due.getTime() + MISSED_AFTER_MS + 1000);
    expect(planFire(hourly, due, now, 'skip')).toEqual({ fire: null, missed: 1, nextFireTime: '2026-05-01T11:00:00.000Z' });
    expect(planFire(hourly, due, now, 'runOnce')).toEqual({ fire: { scheduledTime: '2026-05-01T10:00:00.000Z', missedFires: 0 }, missed: 0, nextFireTime: '2026-05-01T11:00:00.000Z' });
  });

  it('after five hours down: skip jumps to the next future slot, runOnce starts one run for the latest slot standing for all', () => {
    const now = new Date('2026-05-01T14:30:00.000Z');
    expect(planFire(hourly, due, now, 'skip')).toEqual({ fire: null, missed: 5, nextFireTime: '2026-05-01T15:00:00.000Z' });
    expect(planFire(hourly, due, now, 'runOnce')).toEqual({ fire: { scheduledTime: '2026-05-01T14:00:00.000Z', missedFires: 4 }, missed: 4, nextFireTime: '2026-05-01T15:00:00.000Z' });
  });

  it('under skip still fires the latest slot when it is on time, and skips only the older ones', () => {
    const now = new Date('2026-05-01T14:00:30.000Z');
    expect(planFire(hourly, due, now, 'skip')).toEqual({ fire: { scheduledTime: '2026-05-01T14:00:00.000Z', missedFires: 0 }, missed: 4, nextFireTime: '2026-05-01T15:00:00.000Z' });
  });

  it('stays bounded after very long downtime of a frequent schedule', () => {
    const everyMinute = CronSpec.parse('* * * * *', 'UTC');
    const now = new Date('2026-06-01T00:00:30.000Z');
    const plan = planFire(everyMinute, due, now, 'runOnce');
    expect(plan.fire?.scheduledTime).toBe('2026-06-01T00:00:00.000Z');
    expect(plan.fire!.missedFires).toBeGreaterThanOrEqual(9_999);
    expect(plan.nextFireTime).toBe('2026-06-01T00:01:00.000Z');
  });

  it('fires the spring-forward slot once and continues on local time', () => {
    const berlin = CronSpec.parse('30 2 * * *', 'Europe/Berlin');
    expect(planFire(berlin, new Date('2026-03-29T01:00:00.000Z'), new Date('2026-03-29T01:00:20.000Z'), 'skip')).toEqual({
      fire: { scheduledTime: '2026-03-29T01:00:00.000Z', missedFires: 0 },
      missed: 0,
      nextFireTime: '2026-03-30T00:30:00.000Z',
    });
  });
});
