import { describe, expect, it } from 'vitest';
import {
  ConstantTimerSchedule,
  CronTimerSchedule,
  isNever,
  NEVER,
  parseTimerSchedule,
  TimerScheduleError,
  type TimerSchedule,
} from './schedule.js';
import { parseDotNetTimeSpan } from '../config/timeSpan.js';
import { formatDotNetDateTime } from './timerInfo.js';
import { localTimeZone, resolveWallTime, timerTimeZoneFromSettings, utcFromFields } from './timeZone.js';

/** The next `count` occurrences after `from`, as ISO strings. */
function occurrences(schedule: TimerSchedule, from: string, count: number): string[] {
  const result: string[] = [];
  let cursor = new Date(from);
  for (let i = 0; i < count; i++) {
    cursor = schedule.getNextOccurrence(cursor);
    result.push(cursor.toISOString());
  }
  return result;
}

const utc = (expression: string) => parseTimerSchedule(expression, { timeZone: 'UTC' });

// 2026-01-01 is a Thursday.
const NCRONTAB_VECTORS: ReadonlyArray<readonly [expression: string, from: string, expected: readonly string[]]> = [
  // seconds
  ['* * * * * *', '2026-01-01T00:00:00.500Z', ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']],
  ['*/15 * * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T00:00:15.000Z', '2026-01-01T00:00:30.000Z', '2026-01-01T00:00:45.000Z', '2026-01-01T00:01:00.000Z']],
  ['30 * * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T00:00:30.000Z', '2026-01-01T00:01:30.000Z']],
  ['0 * * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T00:01:00.000Z']],
  ['5-10 0 0 * * *', '2026-01-01T00:00:07Z', ['2026-01-01T00:00:08.000Z', '2026-01-01T00:00:09.000Z', '2026-01-01T00:00:10.000Z', '2026-01-02T00:00:05.000Z']],
  ['59 59 23 31 12 *', '2026-12-31T23:59:58Z', ['2026-12-31T23:59:59.000Z', '2027-12-31T23:59:59.000Z']],
  // minutes, hours, ranges, steps, lists
  ['0 */5 * * * *', '2026-01-01T00:03:00Z', ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z']],
  ['0 0 * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z']],
  ['0 30 9 * * *', '2026-01-01T10:00:00Z', ['2026-01-02T09:30:00.000Z', '2026-01-03T09:30:00.000Z']],
  ['0 0 9-17 * * *', '2026-01-01T17:30:00Z', ['2026-01-02T09:00:00.000Z', '2026-01-02T10:00:00.000Z']],
  ['0 0 9-17/4 * * *', '2026-01-01T00:00:00Z', ['2026-01-01T09:00:00.000Z', '2026-01-01T13:00:00.000Z', '2026-01-01T17:00:00.000Z', '2026-01-02T09:00:00.000Z']],
  ['0 15,45 * * * *', '2026-01-01T00:20:00Z', ['2026-01-01T00:45:00.000Z', '2026-01-01T01:15:00.000Z']],
  ['0 0 10/6 * * *', '2026-01-01T11:00:00Z', ['2026-01-01T16:00:00.000Z', '2026-01-01T22:00:00.000Z', '2026-01-02T10:00:00.000Z']],
  ['0 0,30 9 * * *', '2026-01-01T09:10:00Z', ['2026-01-01T09:30:00.000Z', '2026-01-02T09:00:00.000Z']],
  ['  0  0  0  *  *  *  ', '2026-01-01T00:00:00Z', ['2026-01-02T00:00:00.000Z']],
  // days and month ends
  ['0 0 0 1 * *', '2026-01-15T00:00:00Z', ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']],
  ['0 0 0 31 * *', '2026-01-31T00:00:00Z', ['2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z', '2026-07-31T00:00:00.000Z']],
  ['0 0 0 30 * *', '2026-01-30T00:00:00Z', ['2026-03-30T00:00:00.000Z', '2026-04-30T00:00:00.000Z']],
  ['0 0 0 28-31 2 *', '2027-02-27T00:00:00Z', ['2027-02-28T00:00:00.000Z', '2028-02-28T00:00:00.000Z', '2028-02-29T00:00:00.000Z', '2029-02-28T00:00:00.000Z']],
  ['0 0 0 29 2 *', '2026-01-01T00:00:00Z', ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']],
  ['0 0 12 * 2 *', '2028-02-28T13:00:00Z', ['2028-02-29T12:00:00.000Z', '2029-02-01T12:00:00.000Z']],
  ['0 0 0 31 12 *', '2026-12-31T00:00:00Z', ['2027-12-31T00:00:00.000Z']],
  // months and names
  ['0 0 0 * JAN *', '2026-02-01T00:00:00Z', ['2027-01-01T00:00:00.000Z', '2027-01-02T00:00:00.000Z']],
  ['0 0 0 1 JAN-MAR *', '2026-03-15T00:00:00Z', ['2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z']],
  ['0 0 0 1 */3 *', '2026-01-15T00:00:00Z', ['2026-04-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']],
  ['0 0 0 1 jan,jul *', '2026-01-15T00:00:00Z', ['2026-07-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']],
  ['0 0 0 * * Monday', '2026-01-01T00:00:00Z', ['2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z']],
  ['0 0 0 * * Tu', '2026-01-01T00:00:00Z', ['2026-01-06T00:00:00.000Z']],
  ['0 0 0 * * SUN', '2026-01-01T00:00:00Z', ['2026-01-04T00:00:00.000Z']],
  ['0 0 0 * * MON-FRI', '2026-01-02T12:00:00Z', ['2026-01-05T00:00:00.000Z', '2026-01-06T00:00:00.000Z']],
  // day of week numbers, 0 and 7 = Sunday
  ['0 0 0 * * 0', '2026-01-01T00:00:00Z', ['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z']],
  ['0 0 0 * * 7', '2026-01-01T00:00:00Z', ['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z']],
  ['0 0 0 * * 5-7', '2026-01-01T00:00:00Z', ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z', '2026-01-09T00:00:00.000Z']],
  ['0 0 0 * * 1-5', '2026-01-02T12:00:00Z', ['2026-01-05T00:00:00.000Z']],
  ['0 0 0 * * 6,0', '2026-01-01T00:00:00Z', ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z', '2026-01-10T00:00:00.000Z']],
  // NCrontab swaps a reversed range: 5-1 is 1-5
  ['0 0 0 * * 5-1', '2026-01-03T00:00:00Z', ['2026-01-05T00:00:00.000Z']],
  // day-of-month AND day-of-week
  ['0 0 0 13 * 5', '2026-01-01T00:00:00Z', ['2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z']],
  ['0 0 0 1 * MON', '2026-01-01T00:00:00Z', ['2026-06-01T00:00:00.000Z']],
  ['0 0 0 29 2 1', '2026-01-01T00:00:00Z', ['2044-02-29T00:00:00.000Z']],
  // five fields: seconds are 0
  ['*/5 * * * *', '2026-01-01T00:03:30Z', ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z']],
  ['30 9 * * 1-5', '2026-01-01T10:00:00Z', ['2026-01-02T09:30:00.000Z', '2026-01-05T09:30:00.000Z']],
  ['0 0 1 1 *', '2026-01-01T00:00:00Z', ['2027-01-01T00:00:00.000Z']],
  ['* * * * *', '2026-01-01T00:00:59.999Z', ['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']],
  // strictly after the base time, even when it is an occurrence
  ['0 0 0 * * *', '2026-01-01T00:00:00.000Z', ['2026-01-02T00:00:00.000Z']],
];

describe('NCRONTAB schedules', () => {
  it.each(NCRONTAB_VECTORS)('%s after %s', (expression, from, expected) => {
    const schedule = utc(expression);
    expect(schedule.kind).toBe('cron');
    expect(schedule.adjustForDst).toBe(true);
    expect(occurrences(schedule, from, expected.length)).toEqual(expected);
  });

  it('has at least 40 vectors', () => {
    expect(NCRONTAB_VECTORS.length).toBeGreaterThanOrEqual(40);
  });

  it.each([
    ['0 0 0 30 2 *'],
    ['0 0 0 31 4 *'],
    ['0 0 0 31 2,4,6,9,11 *'],
  ])('%s never occurs (parked timer) and returns NEVER', (expression) => {
    const next = utc(expression).getNextOccurrence(new Date('2026-01-01T00:00:00Z'));
    expect(isNever(next)).toBe(true);
    expect(next.getTime()).toBe(NEVER.getTime());
  });

  it.each([
    ['0 30 2 * * *', false, '0 30 2 * * *'],
    ['0 0 * * * *', true, '0 0 * * * *'],
    ['0 */15 * * * *', true, '0 0,15,30,45 * * * *'],
    ['0 0 */2 * * *', false, '0 0 0,2,4,6,8,10,12,14,16,18,20,22 * * *'],
    ['0 0 1-3 * * *', true, '0 0 1-3 * * *'],
    ['0 0 1,2 * * *', true, '0 0 1-2 * * *'],
    ['0 0,30 9 * * *', false, '0 0,30 9 * * *'],
    ['30 9 * * *', false, '30 9 * * *'],
    ['* 30 2 * * *', true, '* 30 2 * * *'],
    ['0 0 0 * * 7', false, '0 0 0 * * 0'],
    ['0 0 0 * * MON-FRI', false, '0 0 0 * * 1-5'],
  ])('%s: isInterval %s, normalized %s (as NCrontab ToString)', (expression, isInterval, normalized) => {
    const schedule = utc(expression) as CronTimerSchedule;
    expect(schedule).toBeInstanceOf(CronTimerSchedule);
    expect(schedule.isInterval).toBe(isInterval);
    expect(schedule.normalized).toBe(normalized);
    expect(String(schedule)).toBe(`Cron: '${normalized}'`);
  });

  it.each([
    ['*/10 * * * * *', '2026-01-01T00:00:00Z', true],
    ['*/30 * * * * *', '2026-01-01T00:00:00Z', true],
    ['0 * * * * *', '2026-01-01T00:00:00Z', false],
    ['* * * * *', '2026-01-01T00:00:00Z', false],
    ['0 0 * * * *', '2026-01-01T00:00:00Z', false],
    ['*/30 * * * * *', '2026-01-01T00:00:00.250Z', true],
    ['0,30 * * * * *', '2026-01-01T00:00:10Z', true],
    ['0,59 * * * * *', '2026-01-01T00:00:10Z', true],
    // Measured between the next two occurrences: a burst of two runs 30 s apart counts wherever "now" is.
    ['0,30 0 12 * * *', '2026-01-01T11:00:00Z', true],
    ['0 0,30 12 * * *', '2026-01-01T11:00:00Z', false],
  ])('%s isSubMinute from %s: %s', (expression, from, expected) => {
    expect(utc(expression).isSubMinute(new Date(from))).toBe(expected);
  });
});

describe('invalid schedules', () => {
  it.each([
    ['', /'' was not recognized .*empty/],
    ['   ', /was not recognized .*empty/],
    ['0 0 0 * * * *', /'0 0 0 \* \* \* \*' was not recognized.*6 fields .* not 7/],
    ['0 0 *', /not 3/],
    ['61 * * * * *', /'61' is not a valid \[Second\] crontab field expression: 61 is higher than the maximum allowable value for the \[Second\] field\. Value must be between 0 and 59/],
    ['0 60 * * * *', /\[Minute\].*60 is higher than the maximum/],
    ['0 0 24 * * *', /\[Hour\].*24 is higher than the maximum/],
    ['0 0 0 0 * *', /\[Day\].*0 is lower than the minimum allowable value for the \[Day\] field/],
    ['0 0 0 32 * *', /\[Day\].*32 is higher/],
    ['0 0 0 * 13 *', /\[Month\].*13 is higher/],
    ['0 0 0 * 0 *', /\[Month\].*0 is lower/],
    ['0 0 0 * * 8', /\[DayOfWeek\].*8 is higher/],
    ['0 0 0 * FOO *', /'FOO' is not a known value name\. Use one of the following: January, February/],
    ['0 0 0 * * MONX', /'MONX' is not a known value name/],
    ['0 0 0 L * *', /'L' is not a valid \[Day\] crontab field value\. It must be a numeric value between 1 and 31/],
    ['0 0 0 * * 1-', /\[DayOfWeek\].*cannot be empty/],
    ['0 0 0 1,,2 * *', /\[Day\].*cannot be empty/],
    ['0 0 0 * * ,1', /\[DayOfWeek\]/],
    ['*/x * * * * *', /'x' is not a valid step/],
    ['1-2-3 * * * * *', /'2-3' is not a number/],
    ['5a * * * * *', /'5a' is not a number/],
    ['abc', /'abc' was not recognized as a valid cron expression or timespan string: it is not a TimeSpan/],
    ['25:61:00', /hours below 24 and minutes and seconds below 60/],
    ['-00:05:00', /cannot be negative/],
    ['00:00:00', /longer than zero/],
    ['0', /longer than zero/],
  ])('%j is rejected: %s', (expression, message) => {
    let caught: unknown;
    try {
      parseTimerSchedule(expression, { timeZone: 'UTC' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TimerScheduleError);
    expect((caught as TimerScheduleError).message).toMatch(message);
    expect((caught as TimerScheduleError).expression).toBe(expression);
    if (expression.trim()) expect((caught as Error).message).toContain(`'${expression}'`);
  });

  it('rejects an unknown time zone, naming it', () => {
    expect(() => parseTimerSchedule('0 0 * * * *', { timeZone: 'Mars/Olympus_Mons' })).toThrow(TimerScheduleError);
    expect(() => parseTimerSchedule('0 0 * * * *', { timeZone: 'Mars/Olympus_Mons' })).toThrow(/time zone 'Mars\/Olympus_Mons'/);
  });
});

describe('TimeSpan schedules', () => {
  it.each([
    ['00:05:00', 300_000],
    ['01:00:00', 3_600_000],
    ['00:00:30', 30_000],
    ['23:59:59', 86_399_000],
    ['1.00:00:00', 86_400_000],
    ['2.03:04:05', ((2 * 24 + 3) * 60 + 4) * 60_000 + 5000],
    ['1.02:03', (26 * 60 + 3) * 60_000],
    ['1:02:03:04', ((24 + 2) * 60 + 3) * 60_000 + 4000],
    ['00:30', 1_800_000],
    ['00:00:01.5', 1500],
    ['1.00:00:00.25', 86_400_250],
    ['5', 5 * 86_400_000],
    // .NET reads an hh:mm:ss whose hours overflow as d:hh:mm: "25:00:00" is 25 days, not 25 hours.
    ['25:00:00', 25 * 86_400_000],
    [' 00:10:00 ', 600_000],
  ])('%j is %d ms', (expression, ms) => {
    expect(parseDotNetTimeSpan(expression)).toEqual({ ms });
    const schedule = parseTimerSchedule(expression, { timeZone: 'UTC' });
    expect(schedule).toBeInstanceOf(ConstantTimerSchedule);
    expect(schedule.kind).toBe('timespan');
    expect(schedule.adjustForDst).toBe(false);
    expect(schedule.getNextOccurrence(new Date('2026-01-01T00:00:00.123Z')).getTime()).toBe(Date.parse('2026-01-01T00:00:00.123Z') + ms);
  });

  it('is an absolute interval across DST changes', () => {
    const schedule = parseTimerSchedule('01:00:00', { timeZone: 'Europe/Berlin' });
    // 00:30Z is 01:30 CET; an hour later is 03:30 CEST (wall clock jumped two hours).
    expect(schedule.getNextOccurrence(new Date('2026-03-29T00:30:00Z')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('is sub-minute below one minute only', () => {
    expect(parseTimerSchedule('00:00:59', { timeZone: 'UTC' }).isSubMinute(new Date())).toBe(true);
    expect(parseTimerSchedule('00:01:00', { timeZone: 'UTC' }).isSubMinute(new Date())).toBe(false);
  });

  it('prints as the extension does', () => {
    expect(String(parseTimerSchedule('1.02:03:04', { timeZone: 'UTC' }))).toBe('Constant: 1.02:03:04');
    expect(String(parseTimerSchedule('00:00:01.5', { timeZone: 'UTC' }))).toBe('Constant: 00:00:01.5000000');
  });
});

describe('time zones', () => {
  it('defaults to the process zone', () => {
    const schedule = parseTimerSchedule('0 0 * * * *') as CronTimerSchedule;
    expect(schedule.timeZone).toBe(localTimeZone());
  });

  it('accepts the common Windows zone IDs that WEBSITE_TIME_ZONE takes on Windows plans', () => {
    expect((parseTimerSchedule('0 0 9 * * *', { timeZone: 'W. Europe Standard Time' }) as CronTimerSchedule).timeZone).toBe('Europe/Berlin');
    const eastern = parseTimerSchedule('0 0 9 * * *', { timeZone: 'Eastern Standard Time' });
    expect(eastern.getNextOccurrence(new Date('2026-07-01T00:00:00Z')).toISOString()).toBe('2026-07-01T13:00:00.000Z');
    expect(() => parseTimerSchedule('0 0 9 * * *', { timeZone: 'Mid-Atlantic Dreaming Time' })).toThrow(/'Mid-Atlantic Dreaming Time'/);
  });

  it('reads WEBSITE_TIME_ZONE before TZ', () => {
    expect(timerTimeZoneFromSettings({ WEBSITE_TIME_ZONE: 'Europe/Berlin', TZ: 'UTC' })).toBe('Europe/Berlin');
    expect(timerTimeZoneFromSettings({ TZ: 'America/New_York' })).toBe('America/New_York');
    expect(timerTimeZoneFromSettings({ WEBSITE_TIME_ZONE: ' ' })).toBeUndefined();
  });

  it('evaluates wall-clock time in the zone', () => {
    const schedule = parseTimerSchedule('0 0 9 * * *', { timeZone: 'Asia/Kolkata' });
    expect(schedule.getNextOccurrence(new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T03:30:00.000Z');
  });

  it('classifies gap and overlap wall times as .NET does', () => {
    const gap = resolveWallTime(utcFromFields(2026, 3, 29, 2, 30), 'Europe/Berlin');
    expect(gap).toEqual({ instant: Date.parse('2026-03-29T01:30:00Z'), ambiguous: false, invalid: true });
    const overlap = resolveWallTime(utcFromFields(2026, 10, 25, 2, 30), 'Europe/Berlin');
    // Ambiguous: standard time (the second pass) is the one .NET's GetUtcOffset picks.
    expect(overlap).toEqual({ instant: Date.parse('2026-10-25T01:30:00Z'), ambiguous: true, invalid: false });
    const normal = resolveWallTime(utcFromFields(2026, 7, 1, 12), 'Europe/Berlin');
    expect(normal).toEqual({ instant: Date.parse('2026-07-01T10:00:00Z'), ambiguous: false, invalid: false });
  });
});

/** Occurrences rendered in the zone, which is how the DST expectations read naturally. */
function local(schedule: TimerSchedule, from: string, count: number, zone: string): string[] {
  return occurrences(schedule, from, count).map((iso) => formatDotNetDateTime(new Date(iso), zone));
}

describe('DST in Europe/Berlin (2026: spring forward 29 March 02:00 CET, fall back 25 October 03:00 CEST)', () => {
  const zone = 'Europe/Berlin';
  const at = (expression: string) => parseTimerSchedule(expression, { timeZone: zone });

  it('daily 02:30 in the spring-forward gap fires once, an hour late, at 03:30 CEST', () => {
    expect(local(at('0 30 2 * * *'), '2026-03-28T01:30:00Z', 3, zone)).toEqual([
      '2026-03-29T03:30:00+02:00',
      '2026-03-30T02:30:00+02:00',
      '2026-03-31T02:30:00+02:00',
    ]);
  });

  it('daily 02:30 on the fall-back day fires once, on the daylight (first) pass', () => {
    expect(local(at('0 30 2 * * *'), '2026-10-24T00:30:00Z', 3, zone)).toEqual([
      '2026-10-25T02:30:00+02:00',
      '2026-10-26T02:30:00+01:00',
      '2026-10-27T02:30:00+01:00',
    ]);
  });

  it('daily 02:30 started during the second (standard) pass skips it, assuming the first pass ran', () => {
    expect(local(at('0 30 2 * * *'), '2026-10-25T01:15:00Z', 1, zone)).toEqual(['2026-10-26T02:30:00+01:00']);
  });

  it('daily 02:30 started during the first (daylight) pass fires on that pass', () => {
    expect(local(at('0 30 2 * * *'), '2026-10-25T00:15:00Z', 1, zone)).toEqual(['2026-10-25T02:30:00+02:00']);
  });

  it('hourly across spring forward: 02:00 becomes 03:00 CEST and 03:00 does not fire twice', () => {
    expect(local(at('0 0 * * * *'), '2026-03-28T23:30:00Z', 3, zone)).toEqual([
      '2026-03-29T01:00:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-29T04:00:00+02:00',
    ]);
  });

  it('hourly across fall back fires every absolute hour, both 02:00s included', () => {
    expect(local(at('0 0 * * * *'), '2026-10-24T23:30:00Z', 4, zone)).toEqual([
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T02:00:00+01:00',
      '2026-10-25T03:00:00+01:00',
      '2026-10-25T04:00:00+01:00',
    ]);
  });

  it('half-hourly across spring forward skips the missing hour', () => {
    expect(local(at('0 */30 * * * *'), '2026-03-28T23:45:00Z', 4, zone)).toEqual([
      '2026-03-29T01:00:00+01:00',
      '2026-03-29T01:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-29T03:30:00+02:00',
    ]);
  });

  it('half-hourly across fall back runs through both passes of the repeated hour', () => {
    expect(local(at('0 */30 * * * *'), '2026-10-24T23:45:00Z', 5, zone)).toEqual([
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T02:30:00+02:00',
      '2026-10-25T02:00:00+01:00',
      '2026-10-25T02:30:00+01:00',
      '2026-10-25T03:00:00+01:00',
    ]);
  });
});

describe('DST in America/New_York (2026: spring forward 8 March 02:00 EST, fall back 1 November 02:00 EDT)', () => {
  const zone = 'America/New_York';
  const at = (expression: string) => parseTimerSchedule(expression, { timeZone: zone });

  it('daily 02:30 in the spring-forward gap fires at 03:30 EDT', () => {
    expect(local(at('0 30 2 * * *'), '2026-03-07T07:30:00Z', 3, zone)).toEqual([
      '2026-03-08T03:30:00-04:00',
      '2026-03-09T02:30:00-04:00',
      '2026-03-10T02:30:00-04:00',
    ]);
  });

  it('daily 02:30 on the fall-back day is not ambiguous in New York and fires once', () => {
    expect(local(at('0 30 2 * * *'), '2026-10-31T06:30:00Z', 2, zone)).toEqual(['2026-11-01T02:30:00-05:00', '2026-11-02T02:30:00-05:00']);
  });

  it('daily 01:30 (ambiguous) on the fall-back day fires once, at 01:30 EDT', () => {
    expect(local(at('0 30 1 * * *'), '2026-10-31T05:30:00Z', 3, zone)).toEqual([
      '2026-11-01T01:30:00-04:00',
      '2026-11-02T01:30:00-05:00',
      '2026-11-03T01:30:00-05:00',
    ]);
  });

  it('hourly across fall back fires at 01:00 EDT and again at 01:00 EST', () => {
    for (const expression of ['0 0 * * * *', '0 * * * *']) {
      expect(local(at(expression), '2026-11-01T03:30:00Z', 4, zone)).toEqual([
        '2026-11-01T00:00:00-04:00',
        '2026-11-01T01:00:00-04:00',
        '2026-11-01T01:00:00-05:00',
        '2026-11-01T02:00:00-05:00',
      ]);
    }
  });

  it('half-hourly across fall back: 01:00-4, 01:30-4, 01:00-5, 01:30-5, 02:00-5 (the sequence CronSchedule documents)', () => {
    expect(local(at('0 */30 * * * *'), '2026-11-01T04:45:00Z', 5, zone)).toEqual([
      '2026-11-01T01:00:00-04:00',
      '2026-11-01T01:30:00-04:00',
      '2026-11-01T01:00:00-05:00',
      '2026-11-01T01:30:00-05:00',
      '2026-11-01T02:00:00-05:00',
    ]);
  });

  it('hourly across spring forward: 01:00 EST, then 03:00 EDT', () => {
    expect(local(at('0 0 * * * *'), '2026-03-08T05:30:00Z', 3, zone)).toEqual([
      '2026-03-08T01:00:00-05:00',
      '2026-03-08T03:00:00-04:00',
      '2026-03-08T04:00:00-04:00',
    ]);
  });

  it('half-hourly across spring forward: 01:30 EST, then 03:00 EDT', () => {
    expect(local(at('0 */30 * * * *'), '2026-03-08T06:15:00Z', 3, zone)).toEqual([
      '2026-03-08T01:30:00-05:00',
      '2026-03-08T03:00:00-04:00',
      '2026-03-08T03:30:00-04:00',
    ]);
  });
});
