import type { ScheduleStatus } from './scheduleMonitor.js';
import type { TimerSchedule } from './schedule.js';
import { DOTNET_DEFAULT_THRESHOLD_MS } from './dotNetDates.js';
import { assertTimeZone, localTimeZone, wallTimeAt } from './timeZone.js';

export { DOTNET_DEFAULT_THRESHOLD_MS, DOTNET_MIN_DATE_MS, dotNetMinDate, isDotNetDefaultDate } from './dotNetDates.js';

/**
 * The `TimerInfo` the host sends as the timer trigger's input (`{json: ...}`), as Newtonsoft serializes it:
 * PascalCase, dates as local round-trip strings with the zone's offset. The library camelCases it for the function.
 */
export interface TimerInfoPayload {
  Schedule: { AdjustForDST: boolean };
  /** null when the schedule monitor is off (`useMonitor: false`, or automatically for sub-minute schedules). */
  ScheduleStatus: { Last: string; Next: string; LastUpdated: string } | null;
  IsPastDue: boolean;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * Formats a date as Newtonsoft writes a local .NET `DateTime` (`yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz`): wall time in the
 * zone, fraction without trailing zeros and omitted when zero, and the zone's offset (`+00:00` in UTC, never `Z`),
 * e.g. `2026-11-27T10:55:16.021+01:00`.
 *
 * A date before year 2 (`default(DateTime)`) is written `0001-01-01T00:00:00+00:00` in every zone: that is the
 * value in Azure's default UTC zone; .NET would write `DateTime.MinValue.ToLocalTime()` elsewhere, which carries
 * no information either.
 */
export function formatDotNetDateTime(date: Date, timeZone?: string): string {
  const instant = date.getTime();
  if (!Number.isFinite(instant)) throw new TypeError('formatDotNetDateTime needs a valid date.');
  if (instant < DOTNET_DEFAULT_THRESHOLD_MS) return '0001-01-01T00:00:00+00:00';
  const zone = timeZone === undefined ? localTimeZone() : assertTimeZone(timeZone);
  const wall = new Date(wallTimeAt(instant, zone));
  const offsetMinutes = Math.round((wall.getTime() - instant) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  const ms = wall.getUTCMilliseconds();
  const fraction = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`;
  return (
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}${fraction}` +
    `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`
  );
}

/**
 * Builds the trigger payload (`new TimerInfo(schedule, status, isPastDue)`). Pass `null`/undefined status when the
 * monitor is off, and for manual runs from the admin endpoint, which get a fresh `TimerInfo` without a status.
 */
export function buildTimerInfoPayload(
  schedule: Pick<TimerSchedule, 'adjustForDst'>,
  status: ScheduleStatus | null | undefined,
  isPastDue: boolean,
  timeZone?: string,
): TimerInfoPayload {
  return {
    Schedule: { AdjustForDST: schedule.adjustForDst },
    ScheduleStatus: status
      ? {
          Last: formatDotNetDateTime(status.last, timeZone),
          Next: formatDotNetDateTime(status.next, timeZone),
          LastUpdated: formatDotNetDateTime(status.lastUpdated, timeZone),
        }
      : null,
    IsPastDue: isPastDue,
  };
}
