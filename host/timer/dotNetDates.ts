/** .NET `DateTime` defaults as the timer extension's schedule monitor treats them. */

/** `default(DateTime)`, 0001-01-01T00:00:00: what `ScheduleStatus.Last` holds before the first run. */
export const DOTNET_MIN_DATE_MS = -62_135_596_800_000;

/**
 * 0002-01-01T00:00:00Z. Anything earlier counts as "not set", as `ScheduleMonitor.DefaultDateTimeThreshold`
 * (`DefaultDateTime.AddYears(1)`) does.
 */
export const DOTNET_DEFAULT_THRESHOLD_MS = -62_104_060_800_000;

/** A fresh `default(DateTime)` (a new object each time, because Dates are mutable). */
export function dotNetMinDate(): Date {
  return new Date(DOTNET_MIN_DATE_MS);
}

/** True for a date the timer extension treats as unset (before year 2). */
export function isDotNetDefaultDate(date: Date): boolean {
  return date.getTime() < DOTNET_DEFAULT_THRESHOLD_MS;
}
