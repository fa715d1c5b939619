import { describe, expect, it } from 'vitest';
import { parseTimerSchedule, TimerScheduleError } from './schedule.js';
import { buildTimerInfoPayload, dotNetMinDate, formatDotNetDateTime, isDotNetDefaultDate } from './timerInfo.js';

describe('formatDotNetDateTime', () => {
  it.each([
    ['2026-11-27T09:55:16.021Z', 'Europe/Berlin', '2026-11-27T10:55:16.021+01:00'],
    ['2026-11-27T10:55:16.021Z', 'UTC', '2026-11-27T10:55:16.021+00:00'],
    ['2026-07-01T10:00:00Z', 'Europe/Berlin', '2026-07-01T12:00:00+02:00'],
    ['2026-11-27T09:55:16.021Z', 'America/New_York', '2026-11-27T04:55:16.021-05:00'],
    ['2026-07-01T04:00:00.500Z', 'America/New_York', '2026-07-01T00:00:00.5-04:00'],
    ['2026-01-01T00:00:00.020Z', 'UTC', '2026-01-01T00:00:00.02+00:00'],
    ['2026-01-01T00:00:00.100Z', 'Asia/Kolkata', '2026-01-01T05:30:00.1+05:30'],
    ['2026-01-01T00:00:00Z', 'Asia/Kathmandu', '2026-01-01T05:45:00+05:45'],
    ['2026-01-01T12:00:00Z', 'America/St_Johns', '2026-01-01T08:30:00-03:30'],
    ['2026-01-01T00:00:00Z', 'Pacific/Kiritimati', '2026-01-01T14:00:00+14:00'],
    ['2026-10-25T00:30:00Z', 'Europe/Berlin', '2026-10-25T02:30:00+02:00'],
    ['2026-10-25T01:30:00Z', 'Europe/Berlin', '2026-10-25T02:30:00+01:00'],
  ])('%s in %s is %s', (iso, zone, expected) => {
    expect(formatDotNetDateTime(new Date(iso), zone)).toBe(expected);
  });

  it('writes default(DateTime) as 0001-01-01T00:00:00+00:00 in every zone', () => {
    for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York']) {
      expect(formatDotNetDateTime(dotNetMinDate(), zone)).toBe('0001-01-01T00:00:00+00:00');
    }
    expect(isDotNetDefaultDate(dotNetMinDate())).toBe(true);
    expect(isDotNetDefaultDate(new Date('0002-01-01T00:00:00Z'))).toBe(false);
  });

  it('pads early years to four digits', () => {
    expect(formatDotNetDateTime(new Date('0999-06-01T00:00:00Z'), 'UTC')).toBe('0999-06-01T00:00:00+00:00');
  });

  it('rejects an unknown zone and an invalid date', () => {
    expect(() => formatDotNetDateTime(new Date(), 'Nowhere/Special')).toThrow(TimerScheduleError);
    expect(() => formatDotNetDateTime(new Date(Number.NaN), 'UTC')).toThrow(TypeError);
  });
});

describe('buildTimerInfoPayload', () => {
  it('has the shape the worker receives (PascalCase, .NET dates)', () => {
    const schedule = parseTimerSchedule('0 54 * * * *', { timeZone: 'UTC' });
    const payload = buildTimerInfoPayload(
      schedule,
      { last: new Date('2026-11-27T10:55:16.021Z'), next: new Date('2026-11-27T11:54:16.021Z'), lastUpdated: new Date('2026-11-27T10:55:16.021Z') },
      true,
      'UTC',
    );
    expect(JSON.stringify(payload)).toBe(
      '{"Schedule":{"AdjustForDST":true},' +
        '"ScheduleStatus":{"Last":"2026-11-27T10:55:16.021+00:00","Next":"2026-11-27T11:54:16.021+00:00","LastUpdated":"2026-11-27T10:55:16.021+00:00"},' +
        '"IsPastDue":true}',
    );
  });

  it('sends ScheduleStatus null without a monitor and AdjustForDST false for a TimeSpan', () => {
    const schedule = parseTimerSchedule('00:05:00', { timeZone: 'UTC' });
    expect(buildTimerInfoPayload(schedule, null, false)).toEqual({ Schedule: { AdjustForDST: false }, ScheduleStatus: null, IsPastDue: false });
  });

  it('formats the first-run status with the default Last', () => {
    const payload = buildTimerInfoPayload(
      { adjustForDst: true },
      { last: dotNetMinDate(), next: new Date('2026-03-01T11:00:00Z'), lastUpdated: dotNetMinDate() },
      false,
      'Europe/Berlin',
    );
    expect(payload.ScheduleStatus).toEqual({
      Last: '0001-01-01T00:00:00+00:00',
      Next: '2026-03-01T12:00:00+01:00',
      LastUpdated: '0001-01-01T00:00:00+00:00',
    });
  });
});
