import { TimerScheduleError } from './timerScheduleError.js';

/**
 * Wall-clock arithmetic in an IANA time zone, built on `Intl` so that no tz database has to be shipped.
 *
 * A "wall time" here is a number of milliseconds that reads as the local date and time when interpreted as UTC
 * (e.g. 02:30 local on 2026-03-29 is `Date.UTC(2026, 2, 29, 2, 30)`). NCRONTAB works on such values, exactly as
 * NCrontab works on .NET `DateTime` values without an offset; converting back to an instant is where the time zone
 * and its DST rules come in.
 */

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The process's own zone (what .NET calls `TimeZoneInfo.Local`), honouring `TZ` as Node read it at startup. */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Windows time zone IDs, which WEBSITE_TIME_ZONE takes on Windows plans, mapped to their IANA zone (CLDR
 * windowsZones, territory "001"). Only the common ones: anything else must be given as an IANA name.
 */
const WINDOWS_TIME_ZONES: Readonly<Record<string, string>> = {
  'UTC': 'UTC',
  'GMT Standard Time': 'Europe/London',
  'Greenwich Standard Time': 'Atlantic/Reykjavik',
  'W. Europe Standard Time': 'Europe/Berlin',
  'Central Europe Standard Time': 'Europe/Budapest',
  'Romance Standard Time': 'Europe/Paris',
  'Central European Standard Time': 'Europe/Warsaw',
  'E. Europe Standard Time': 'Europe/Chisinau',
  'FLE Standard Time': 'Europe/Kiev',
  'GTB Standard Time': 'Europe/Bucharest',
  'Russian Standard Time': 'Europe/Moscow',
  'Turkey Standard Time': 'Europe/Istanbul',
  'Israel Standard Time': 'Asia/Jerusalem',
  'Egypt Standard Time': 'Africa/Cairo',
  'South Africa Standard Time': 'Africa/Johannesburg',
  'W. Central Africa Standard Time': 'Africa/Lagos',
  'Arab Standard Time': 'Asia/Riyadh',
  'Arabian Standard Time': 'Asia/Dubai',
  'Pakistan Standard Time': 'Asia/Karachi',
  'India Standard Time': 'Asia/Kolkata',
  'Nepal Standard Time': 'Asia/Kathmandu',
  'SE Asia Standard Time': 'Asia/Bangkok',
  'China Standard Time': 'Asia/Shanghai',
  'Singapore Standard Time': 'Asia/Singapore',
  'Taipei Standard Time': 'Asia/Taipei',
  'Tokyo Standard Time': 'Asia/Tokyo',
  'Korea Standard Time': 'Asia/Seoul',
  'W. Australia Standard Time': 'Australia/Perth',
  'Cen. Australia Standard Time': 'Australia/Adelaide',
  'E. Australia Standard Time': 'Australia/Brisbane',
  'AUS Eastern Standard Time': 'Australia/Sydney',
  'New Zealand Standard Time': 'Pacific/Auckland',
  'Hawaiian Standard Time': 'Pacific/Honolulu',
  'Alaskan Standard Time': 'America/Anchorage',
  'Pacific Standard Time': 'America/Los_Angeles',
  'US Mountain Standard Time': 'America/Phoenix',
  'Mountain Standard Time': 'America/Denver',
  'Central Standard Time': 'America/Chicago',
  'Central Standard Time (Mexico)': 'America/Mexico_City',
  'Canada Central Standard Time': 'America/Regina',
  'Eastern Standard Time': 'America/New_York',
  'SA Pacific Standard Time': 'America/Bogota',
  'Atlantic Standard Time': 'America/Halifax',
  'Newfoundland Standard Time': 'America/St_Johns',
  'E. South America Standard Time': 'America/Sao_Paulo',
  'Argentina Standard Time': 'America/Buenos_Aires',
};

/**
 * Returns the IANA zone to use: the name itself if `Intl` knows it, the mapped zone for a common Windows ID
 * ("W. Europe Standard Time"), else throws a {@link TimerScheduleError} naming it. Called once per schedule, so a
 * typo in WEBSITE_TIME_ZONE fails at startup instead of at the first occurrence.
 */
export function assertTimeZone(timeZone: string): string {
  const zone = WINDOWS_TIME_ZONES[timeZone] ?? timeZone;
  try {
    formatterFor(zone);
    return zone;
  } catch {
    throw new TimerScheduleError(
      `The time zone '${timeZone}' (from WEBSITE_TIME_ZONE or TZ) is not a time zone known to this Node.js runtime; use an IANA name such as 'Europe/Berlin' or 'UTC'.`,
      timeZone,
    );
  }
}

/**
 * The zone timer schedules run in, from the app settings as the Functions host reads them: `WEBSITE_TIME_ZONE`,
 * else `TZ`, else undefined (the process's local zone).
 */
export function timerTimeZoneFromSettings(settings: Readonly<Record<string, string | undefined>>): string | undefined {
  const zone = settings.WEBSITE_TIME_ZONE?.trim() || settings.TZ?.trim();
  return zone ? zone : undefined;
}

/** Builds a UTC timestamp from calendar fields; unlike `Date.UTC` it does not map years 0-99 to 1900-1999. */
export function utcFromFields(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

/** The wall time (see the module comment) that `instantMs` shows in `timeZone`, milliseconds included. */
export function wallTimeAt(instantMs: number, timeZone: string): number {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        // Some ICU versions print midnight as 24 even with h23.
        hour = Number(part.value) % 24;
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      case 'era':
        bc = part.value.startsWith('B');
        break;
      default:
        break;
    }
  }
  if (bc) year = 1 - year;
  const ms = ((instantMs % 1000) + 1000) % 1000;
  return utcFromFields(year, month, day, hour, minute, second, ms);
}

/** The zone's UTC offset at an instant, in milliseconds (positive east of Greenwich). */
export function offsetAt(instantMs: number, timeZone: string): number {
  return wallTimeAt(instantMs, timeZone) - instantMs;
}

/** How a wall time maps onto instants in a zone. */
export interface WallTimeResolution {
  /**
   * The instant .NET picks for this local time (`new DateTimeOffset(localDateTime)`, i.e. `GetUtcOffset`): the only
   * one for a normal time; the *standard-time* one (the later instant) for an ambiguous time; and for a time inside a
   * spring-forward gap, the time read with the standard (pre-transition) offset, which lands after the gap, e.g.
   * 02:30 in Berlin on the spring-forward day becomes 03:30 CEST.
   */
  readonly instant: number;
  /** The time occurs twice (fall-back overlap). */
  readonly ambiguous: boolean;
  /** The time does not occur at all (spring-forward gap). */
  readonly invalid: boolean;
}

/**
 * Maps a wall time to instants. "Standard" is taken as the smaller of the offsets around a transition, which is
 * what .NET's adjustment rules give for every zone with a conventional summer time.
 */
export function resolveWallTime(wallMs: number, timeZone: string): WallTimeResolution {
  // Offsets a day either side of the wall time bracket any transition near it (transitions are months apart).
  const offsets = new Set([offsetAt(wallMs - DAY_MS, timeZone), offsetAt(wallMs, timeZone), offsetAt(wallMs + DAY_MS, timeZone)]);
  const candidates: number[] = [];
  for (const offset of offsets) {
    const instant = wallMs - offset;
    if (wallTimeAt(instant, timeZone) === wallMs && !candidates.includes(instant)) candidates.push(instant);
  }
  if (candidates.length > 0) {
    return { instant: Math.max(...candidates), ambiguous: candidates.length > 1, invalid: false };
  }
  return { instant: wallMs - Math.min(...offsets), ambiguous: false, invalid: true };
}

/** `TimeZoneInfo.IsAmbiguousTime` for a wall time. */
export function isAmbiguousWallTime(wallMs: number, timeZone: string): boolean {
  return resolveWallTime(wallMs, timeZone).ambiguous;
}
