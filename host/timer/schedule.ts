import { parseDotNetTimeSpan } from '../config/timeSpan.js';
import { Cron } from 'croner';
import { TimerScheduleError } from './timerScheduleError.js';
import { assertTimeZone, localTimeZone, offsetAt, resolveWallTime, wallTimeAt } from './timeZone.js';

export { TimerScheduleError } from './timerScheduleError.js';

/**
 * A timer trigger schedule, as the Functions timer extension builds it from the `schedule` string
 * (`TimerSchedule.Create`): NCRONTAB first, then a .NET TimeSpan.
 */
export interface TimerSchedule {
  /** The expression as written (after `%Setting%` resolution). */
  readonly expression: string;
  readonly kind: 'cron' | 'timespan';
  /** `TimerInfo.Schedule.AdjustForDST`: true for cron schedules, false for TimeSpan schedules. */
  readonly adjustForDst: boolean;
  /** The IANA zone the schedule is evaluated in (used to format TimerInfo dates). */
  readonly timeZone?: string;
  /** The first occurrence strictly after `after` ({@link NEVER} when the schedule cannot occur again). */
  getNextOccurrence(after: Date): Date;
  /**
   * The monitor's auto-off rule (`TimerSchedule.Create`): the next two occurrences after `from` are under a minute
   * apart (for a TimeSpan: the interval is under a minute). The extension counts occurrences in the minute after
   * now, which agrees for every periodic schedule.
   */
  isSubMinute(from: Date): boolean;
}

/** Options for {@link parseTimerSchedule}. */
export interface TimerScheduleOptions {
  /**
   * IANA zone the schedule runs in (from WEBSITE_TIME_ZONE or TZ); the common Windows IDs are mapped too.
   * Default: the process's local zone.
   */
  timeZone?: string;
}

/**
 * What {@link TimerSchedule.getNextOccurrence} returns for a schedule that never occurs again, e.g. `0 0 0 31 2 *`
 * (a common way to park a timer). NCrontab returns `DateTime.MaxValue` there; this is 9999-12-31T23:59:59Z.
 */
export const NEVER: Date = new Date(253_402_300_799_000);

/** True for the {@link NEVER} sentinel (compared by value, since Dates are mutable). */
export function isNever(date: Date): boolean {
  return date.getTime() >= NEVER.getTime();
}

const MINUTE_MS = 60_000;

// ------------------------------------------------------------------------------------------------ NCRONTAB fields

interface FieldSpec {
  /** NCrontab's `CrontabFieldKind` name, used in messages as NCrontab does. */
  readonly kind: 'Second' | 'Minute' | 'Hour' | 'Day' | 'Month' | 'DayOfWeek';
  readonly min: number;
  readonly max: number;
  /** Highest value accepted when written explicitly (7 for day-of-week, which means Sunday). */
  readonly maxExplicit: number;
  readonly names?: readonly string[];
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const FIELDS: readonly FieldSpec[] = [
  { kind: 'Second', min: 0, max: 59, maxExplicit: 59 },
  { kind: 'Minute', min: 0, max: 59, maxExplicit: 59 },
  { kind: 'Hour', min: 0, max: 23, maxExplicit: 23 },
  { kind: 'Day', min: 1, max: 31, maxExplicit: 31 },
  { kind: 'Month', min: 1, max: 12, maxExplicit: 12, names: MONTH_NAMES },
  // NCrontab itself stops at 6; 7 for Sunday is accepted here as in Vixie cron (a superset: nothing valid on Azure
  // is rejected, and nothing that means something else on Azure is accepted).
  { kind: 'DayOfWeek', min: 0, max: 6, maxExplicit: 7, names: DAY_NAMES },
];

class FieldError extends Error {}

function parseFieldValue(text: string, spec: FieldSpec): number {
  if (text.length === 0) throw new FieldError('A crontab field value cannot be empty.');
  if (/^[0-9]/.test(text)) {
    if (!/^[0-9]+$/.test(text)) throw new FieldError(`'${text}' is not a number.`);
    return Number(text);
  }
  if (!spec.names) {
    throw new FieldError(
      `'${text}' is not a valid [${spec.kind}] crontab field value. It must be a numeric value between ${spec.min} and ${spec.max} (all inclusive).`,
    );
  }
  // NCrontab accepts any case-insensitive prefix of the English name: M, MON, Mon, Monday.
  const lower = text.toLowerCase();
  const index = spec.names.findIndex((name) => name.toLowerCase().startsWith(lower));
  if (index < 0) throw new FieldError(`'${text}' is not a known value name. Use one of the following: ${spec.names.join(', ')}.`);
  return index + spec.min;
}

function checkBounds(value: number, spec: FieldSpec): void {
  if (value < spec.min) {
    throw new FieldError(
      `${value} is lower than the minimum allowable value for the [${spec.kind}] field. Value must be between ${spec.min} and ${spec.max} (all inclusive).`,
    );
  }
  if (value > spec.maxExplicit) {
    throw new FieldError(
      `${value} is higher than the maximum allowable value for the [${spec.kind}] field. Value must be between ${spec.min} and ${spec.max} (all inclusive).`,
    );
  }
}

/** Adds one list element (`*`, `a`, `a-b`, each optionally `/step`) to `into`, with NCrontab's rules. */
function accumulateElement(element: string, spec: FieldSpec, into: Set<number>): void {
  let body = element;
  let step = 1;
  const slash = body.indexOf('/');
  if (slash > 0) {
    const stepText = body.slice(slash + 1);
    if (!/^[0-9]+$/.test(stepText)) throw new FieldError(`'${stepText}' is not a valid step.`);
    // NCrontab treats a step below 1 as 1 (so */0 means *); kept for parity.
    step = Math.max(1, Number(stepText));
    body = body.slice(0, slash);
  }
  let start: number;
  let end: number;
  if (body === '*') {
    start = spec.min;
    end = spec.max;
  } else {
    const dash = body.indexOf('-');
    if (dash > 0) {
      start = parseFieldValue(body.slice(0, dash), spec);
      end = parseFieldValue(body.slice(dash + 1), spec);
      // NCrontab swaps a reversed range (5-1 is 1-5) rather than wrapping around.
      if (start > end) [start, end] = [end, start];
    } else {
      start = parseFieldValue(body, spec);
      // `a/step` runs from a to the field's maximum, as in NCrontab.
      end = slash > 0 ? Math.max(start, spec.max) : start;
    }
    checkBounds(start, spec);
    checkBounds(end, spec);
  }
  for (let value = start; value <= end; value += step) {
    into.add(spec.kind === 'DayOfWeek' && value === 7 ? 0 : value);
  }
}

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  try {
    if (text.length === 0) throw new FieldError('A crontab field value cannot be empty.');
    // As in NCrontab, a comma at position 0 is not a list separator, so ',5' fails as a value.
    const elements = text.indexOf(',') > 0 ? text.split(',') : [text];
    for (const element of elements) accumulateElement(element, spec, values);
  } catch (error) {
    if (error instanceof FieldError) {
      throw new FieldError(`'${text}' is not a valid [${spec.kind}] crontab field expression: ${error.message}`);
    }
    throw error;
  }
  return [...values].sort((a, b) => a - b);
}

/** NCrontab's `CrontabField.Format`: `*` for the full range, `a-b` for runs of consecutive values, `,` between. */
function formatField(values: readonly number[], spec: FieldSpec): string {
  if (values.length === spec.max - spec.min + 1) return '*';
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j > i ? `${values[i]}-${values[j]}` : `${values[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

// ------------------------------------------------------------------------------------------------ cron schedule

/**
 * An NCRONTAB schedule (`CronSchedule` in the timer extension), evaluated in wall-clock time of one zone.
 *
 * The wall-clock search is croner's (AND of day-of-month and day-of-week, second precision, always strictly after
 * the base time), run in a zero-offset calendar so that it behaves exactly like NCrontab on a .NET `DateTime`. The
 * step from wall time back to an instant reproduces `CronSchedule.GetNextOccurrence` with AdjustForDST:
 *
 * - **Spring-forward gap**: the local time is read with the standard offset (what `new DateTimeOffset(local)` does
 *   for an invalid time), so an occurrence inside the gap fires the gap's length later: a daily 02:30 in Berlin
 *   fires at 03:30 CEST on that day; an hourly schedule fires at 01:00 CET, 03:00 CEST, 04:00 CEST (02:00 becomes
 *   03:00, and 03:00 does not fire twice).
 * - **Fall-back overlap**, point-in-time schedules (no `*`, `-` in the normalized second/minute/hour fields):
 *   an ambiguous occurrence reached from daylight time is moved to its daylight (first) instance; one reached from
 *   standard time (the second pass through the repeated hour, e.g. after a restart) is skipped to the next
 *   non-ambiguous occurrence. A daily 02:30 in Berlin therefore fires once, at 02:30 CEST.
 * - **Fall-back overlap**, interval schedules (a `*` or range in those fields): when either end is ambiguous and the
 *   offset changes, the result is shifted by the offset difference, so the schedule keeps running through both
 *   passes of the repeated hour: hourly fires at 01:00 EDT, 01:00 EST, 02:00 EST in New York; every 30 minutes
 *   fires 01:00 EDT, 01:30 EDT, 01:00 EST, 01:30 EST, 02:00 EST.
 *
 * Source: Azure/azure-webjobs-sdk-extensions `CronSchedule.GetNextOccurrence` and `TryAdjustAmbiguousTime`
 * (scenarios 1-3) and `CronSchedule.IsInterval`.
 */
export class CronTimerSchedule implements TimerSchedule {
  readonly kind = 'cron' as const;
  readonly adjustForDst = true;
  /** `CronSchedule.IsInterval`: chooses between the point-in-time and interval fall-back rules. */
  readonly isInterval: boolean;
  /** NCrontab's normalized form, e.g. `0 0,15,30,45 * * * *`. */
  readonly normalized: string;
  private readonly cron: Cron;

  /** Use {@link parseTimerSchedule}; this constructor expects an already validated expression. */
  constructor(
    readonly expression: string,
    readonly timeZone: string,
    fields: readonly (readonly number[])[],
    hasSeconds: boolean,
  ) {
    const formatted = fields.map((values, i) => formatField(values, FIELDS[i]!));
    // NCrontab prints no seconds for a 5-field expression, and IsInterval then looks at minutes and hours only.
    const printed = hasSeconds ? formatted : formatted.slice(1);
    this.normalized = printed.join(' ');
    this.isInterval = printed.slice(0, hasSeconds ? 3 : 2).some((part) => part.includes('*') || part.includes('-'));
    // Explicit value lists keep croner out of any syntax that differs from NCrontab; utcOffset 0 makes croner's
    // calendar the plain wall-clock calendar (its own DST handling is deliberately not used).
    this.cron = new Cron(formatted.join(' '), { utcOffset: 0, mode: '6-part', domAndDow: true });
  }

  /** NCrontab `GetNextOccurrence` on a wall time: strictly after it, at whole seconds; undefined if none. */
  private nextWallTime(wallMs: number): number | undefined {
    const next = this.cron.nextRun(new Date(wallMs));
    return next ? next.getTime() : undefined;
  }

  getNextOccurrence(after: Date): Date {
    const nowMs = after.getTime();
    if (!Number.isFinite(nowMs)) throw new TypeError(`getNextOccurrence needs a valid date for schedule '${this.expression}'.`);
    const zone = this.timeZone;
    const nowOffset = offsetAt(nowMs, zone);
    const nowWall = nowMs + nowOffset;
    const nextWall = this.nextWallTime(nowWall);
    if (nextWall === undefined) return new Date(NEVER.getTime());
    const resolved = resolveWallTime(nextWall, zone);
    let next = resolved.instant;
    const nextOffset = nextWall - next;
    const nowAmbiguous = resolveWallTime(nowWall, zone).ambiguous;
    const nextAmbiguous = resolved.ambiguous;
    if (!nowAmbiguous && !nextAmbiguous) return new Date(next);

    if (!this.isInterval && nextAmbiguous && nextOffset !== nowOffset) {
      // Scenario 1: from daylight time into the repeated hour: run on the daylight (first) instance.
      next += nextOffset - nowOffset;
    } else if (!this.isInterval && nextAmbiguous) {
      // Scenario 2: already on standard time inside the repeated hour: the daylight instance has been run, so
      // skip to the first occurrence that is not ambiguous.
      let wall: number | undefined = nextWall;
      while (wall !== undefined && resolveWallTime(wall, zone).ambiguous) wall = this.nextWallTime(wall);
      if (wall === undefined) return new Date(NEVER.getTime());
      next = resolveWallTime(wall, zone).instant;
    } else if (this.isInterval && nextOffset !== nowOffset) {
      // Scenario 3: an interval crossing the offset change keeps its spacing in absolute time.
      next += nextOffset - nowOffset;
    }
    return new Date(next);
  }

  isSubMinute(from: Date): boolean {
    // TimerSchedule.Create counts NCrontab occurrences (on local wall time) in the minute after DateTime.Now and
    // turns the monitor off for more than one. Measuring the gap between the next two occurrences gives the same
    // answer for every periodic schedule without depending on the sub-second part of "now" (with */30 seconds the
    // extension's count is 2 unless now falls exactly on a second boundary).
    const fromWall = wallTimeAt(from.getTime(), this.timeZone);
    const first = this.nextWallTime(fromWall);
    if (first === undefined) return false;
    const second = this.nextWallTime(first);
    return second !== undefined && second - first < MINUTE_MS;
  }

  /** As the extension prints it in logs: `Cron: '<normalized>'`. */
  toString(): string {
    return `Cron: '${this.normalized}'`;
  }
}

// ------------------------------------------------------------------------------------------------ TimeSpan schedule

/**
 * A constant-interval schedule (`ConstantSchedule`): the next occurrence is the base time plus the interval, in
 * absolute time (AdjustForDST false, so DST changes do not stretch or shrink it).
 */
export class ConstantTimerSchedule implements TimerSchedule {
  readonly kind = 'timespan' as const;
  readonly adjustForDst = false;

  /** Use {@link parseTimerSchedule}. */
  constructor(
    readonly expression: string,
    readonly timeZone: string,
    readonly intervalMs: number,
  ) {}

  getNextOccurrence(after: Date): Date {
    const nowMs = after.getTime();
    if (!Number.isFinite(nowMs)) throw new TypeError(`getNextOccurrence needs a valid date for schedule '${this.expression}'.`);
    return new Date(nowMs + this.intervalMs);
  }

  isSubMinute(): boolean {
    return this.intervalMs < MINUTE_MS;
  }

  /** As the extension prints it: `Constant: d.hh:mm:ss`. */
  toString(): string {
    return `Constant: ${formatTimeSpan(this.intervalMs)}`;
  }
}

function formatTimeSpan(ms: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(ms / 86_400_000);
  const hours = Math.floor(ms / 3_600_000) % 24;
  const minutes = Math.floor(ms / 60_000) % 60;
  const seconds = Math.floor(ms / 1000) % 60;
  const fraction = ms % 1000;
  return `${days > 0 ? `${days}.` : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}${fraction ? `.${String(fraction).padStart(3, '0')}0000` : ''}`;
}

// ------------------------------------------------------------------------------------------------ entry point

function invalid(expression: string, detail: string): TimerScheduleError {
  return new TimerScheduleError(
    `The schedule expression '${expression}' was not recognized as a valid cron expression or timespan string: ${detail}`,
    expression,
  );
}

/**
 * Parses a timer trigger's `schedule` as the timer extension does: an NCRONTAB expression with 6 fields
 * (`sec min hour day month day-of-week`) or 5 (seconds = 0), else a .NET TimeSpan. Throws a
 * {@link TimerScheduleError} naming the expression (or the unknown time zone).
 */
export function parseTimerSchedule(expression: string, options: TimerScheduleOptions = {}): TimerSchedule {
  const timeZone = assertTimeZone(options.timeZone ?? localTimeZone());
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw invalid(String(expression), 'the expression is empty.');
  }
  // CronSchedule.TryCreate: five tokens are minute-precision; anything else is tried with seconds (6 tokens).
  const tokens = expression.trim().split(/\s+/);
  let cronError: string | undefined;
  if (tokens.length === 5 || tokens.length === 6) {
    const hasSeconds = tokens.length === 6;
    const texts = hasSeconds ? tokens : ['0', ...tokens];
    try {
      const fields = texts.map((text, i) => parseField(text, FIELDS[i]!));
      return new CronTimerSchedule(expression, timeZone, fields, hasSeconds);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      cronError = error.message;
    }
  }
  const timeSpan = parseDotNetTimeSpan(expression);
  if ('ms' in timeSpan) return new ConstantTimerSchedule(expression, timeZone, timeSpan.ms);
  if (cronError) throw invalid(expression, cronError);
  if (tokens.length > 1) {
    throw invalid(
      expression,
      `a cron expression has 6 fields (second minute hour day month day-of-week) or 5 (minute hour day month day-of-week), not ${tokens.length}.`,
    );
  }
  throw invalid(expression, timeSpan.reason);
}
