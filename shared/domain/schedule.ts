import { Cron } from 'croner';
import { AppError } from './errors.js';
import type { JsonObject } from './json.js';
import type { TenantTier } from './tenant.js';

/**
 * Cron schedules of workflows: the pure rules (validation, fire times, DST, missed fires). The clock is always
 * an argument; nothing here reads the time.
 *
 * Cron syntax is croner's (https://croner.56k.guru), restricted to 5 fields (minute hour day-of-month month
 * day-of-week) or 6 fields (second first). The timer that fires schedules runs once a minute, so a schedule may
 * fire at most once a minute: in a 6-field expression the second field must be one number (0-59).
 *
 * Time zones and DST (croner's behaviour, which is also Vixie cron's):
 * - A local time that does not exist (the spring-forward gap) fires once, at the first valid instant after the
 *   gap: a daily 02:30 in New York fires at 03:00 EDT on the day clocks go forward.
 * - A local time that occurs twice (fall back) fires once, at its first occurrence (daylight time): a daily
 *   01:30 in New York fires at 01:30 EDT, not again at 01:30 EST.
 * - A schedule whose hour is a wildcard or step (`0 * * * *`, `*\/30 * * * *`) keeps its spacing in real time:
 *   it fires every hour (half hour) of elapsed time, including both passes through the repeated hour, and
 *   never twice for one instant.
 */

/** What happens to fire times that passed while nothing could fire them (downtime): see {@link planFire}. */
export const MISSED_FIRE_POLICIES = ['skip', 'runOnce'] as const;
export type MissedFirePolicy = (typeof MISSED_FIRE_POLICIES)[number];

export const SCHEDULE_STATUSES = ['active', 'paused', 'errored'] as const;
/**
 * `active`: fires; `paused`: by a user (`:pause`); `errored`: the scheduler could not process it (its workflow is
 * gone, its cron or zone no longer evaluates) and stopped firing it until it is updated or resumed.
 */
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/** The last problem firing a schedule (a fire that could not start its run, or why it became `errored`). */
export interface ScheduleError {
  code: string;
  message: string;
  at: string;
  /** The scheduled time of the fire that failed, if a fire failed. */
  scheduledTime: string | null;
}

/** A cron schedule that starts runs of one workflow. */
export interface Schedule {
  tenantId: string;
  id: string;
  workflowId: string;
  cron: string;
  /** IANA time zone the cron is evaluated in. */
  timeZone: string;
  /** The run input (an object); the scheduler adds {@link SCHEDULE_INPUT_KEY}. */
  input: JsonObject;
  /** A pinned published version, or null for the latest version at fire time. */
  version: number | null;
  missedFirePolicy: MissedFirePolicy;
  status: ScheduleStatus;
  /** The scheduled time of the last fire that started a run. */
  lastFireTime: string | null;
  lastRunId: string | null;
  lastError: ScheduleError | null;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  revision: number;
}

/**
 * The key under which a scheduled run's input carries its fire: `{ scheduleId, scheduledTime, missedFires }`.
 * `scheduledTime` is the slot the run is for (ISO 8601 UTC), not when it started; `missedFires` counts the earlier
 * slots this one run stands for (runOnce after downtime), 0 normally.
 */
export const SCHEDULE_INPUT_KEY = 'scheduledFire';

/** Stable error codes of schedules. */
export const ScheduleErrorCodes = {
  notFound: 'SCHEDULE.NOT_FOUND',
  exists: 'SCHEDULE.ALREADY_EXISTS',
  cronInvalid: 'SCHEDULE.CRON_INVALID',
  timeZoneInvalid: 'SCHEDULE.TIME_ZONE_INVALID',
} as const;

/** Schedules a tenant may have, by tier. */
export const MAX_SCHEDULES: Readonly<Record<TenantTier, number>> = { premium: 2_000, standard: 200, basic: 20 };

/** At most this many fire times are listed at once (`?count=`). */
export const MAX_LISTED_FIRE_TIMES = 100;

/**
 * A slot later than this when it is claimed counts as missed (downtime), not just late: the timer runs each
 * minute, so an on-time fire is claimed within about a minute of its time.
 */
export const MISSED_AFTER_MS = 2 * 60_000;

/** Missed slots counted one by one, at most (after very long downtime, `missedFires` says "at least"). */
const MAX_COUNTED_MISSES = 10_000;

const IANA_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

/** Checks an IANA time zone name (`Europe/Berlin`, `UTC`); offsets and abbreviations like `+01:00` are refused. */
export function assertTimeZone(timeZone: string): void {
  let valid = IANA_ZONE.test(timeZone);
  if (valid) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      valid = false;
    }
  }
  if (!valid) throw new AppError(ScheduleErrorCodes.timeZoneInvalid, `'${timeZone}' is not an IANA time zone (such as Europe/Berlin or UTC).`);
}

/** A validated cron expression in a time zone: the fire times of a schedule. */
export class CronSpec {
  private readonly cron: Cron;

  private constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {
    this.cron = new Cron(expression, { timezone: timeZone, paused: true, mode: fieldsOf(expression).length === 6 ? '6-part' : '5-part' });
  }

  /**
   * Parses and checks `expression` (5 or 6 fields, at most one fire a minute) in `timeZone`. Throws
   * `SCHEDULE.CRON_INVALID` or `SCHEDULE.TIME_ZONE_INVALID`.
   */
  static parse(expression: string, timeZone: string): CronSpec {
    assertTimeZone(timeZone);
    const fields = fieldsOf(expression);
    const invalid = (why: string): AppError => new AppError(ScheduleErrorCodes.cronInvalid, `Cron '${expression}' is invalid: ${why}`);
    if (fields.length !== 5 && fields.length !== 6) throw invalid(`it has ${fields.length} fields; use 5 (minute hour day month weekday) or 6 (second first).`);
    if (fields.length === 6 && !/^\d{1,2}$/.test(fields[0]!)) {
      throw invalid('the second field must be one number from 0 to 59: schedules fire at most once a minute.');
    }
    let spec: CronSpec;
    try {
      spec = new CronSpec(fields.join(' '), timeZone);
    } catch (error) {
      throw invalid((error as Error).message.replace(/^CronPattern: /, ''));
    }
    if (spec.next(new Date(0)) === undefined && spec.next(new Date(Date.UTC(2100, 0, 1))) === undefined) throw invalid('it never fires.');
    return spec;
  }

  /** The first fire time strictly after `after`, or undefined if there is none. */
  next(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined;
  }

  /** The next `count` fire times strictly after `after`. */
  nextTimes(after: Date, count: number): Date[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    return this.cron.nextRuns(count, after);
  }
}

function fieldsOf(expression: string): string[] {
  return expression.trim().split(/\s+/).filter((field) => field.length > 0);
}

/** What the scheduler does with a claimed slot: see {@link planFire}. */
export interface FirePlan {
  /** The slot to start a run for, or null when nothing fires (skipped missed slots). */
  fire: { scheduledTime: string; missedFires: number } | null;
  /** Slots that did not get a run of their own (skipped, or stood for by the one runOnce run). */
  missed: number;
  /** The next slot after `now`, or null when the cron never fires again. */
  nextFireTime: string | null;
}

/**
 * Decides what a due slot (`dueTime` <= `now`) does, and where the schedule goes next.
 *
 * Slots up to {@link MISSED_AFTER_MS} old are on time and fire. Older ones were missed (the platform was down,
 * or the tenant could not fire): under `skip` they start no run; under `runOnce` one run stands for all of them
 * (and an on-time slot among them), for the latest slot, with `missedFires` counting the others. Either way the
 * schedule then continues at its first slot after `now`, so downtime never causes a burst of runs.
 */
export function planFire(spec: CronSpec, dueTime: Date, now: Date, policy: MissedFirePolicy): FirePlan {
  let latest = dueTime;
  let slots = 1;
  // Walk the slots up to now: only after downtime is there more than one.
  for (let next = spec.next(dueTime); next !== undefined && next.getTime() <= now.getTime(); next = spec.next(next)) {
    latest = next;
    slots += 1;
    if (slots >= MAX_COUNTED_MISSES) {
      // Very long downtime of a frequent schedule: stop counting (missedFires is then a lower bound).
      latest = lastSlotAtOrBefore(spec, now) ?? latest;
      break;
    }
  }
  const nextFireTime = spec.next(latest)?.toISOString() ?? null;
  const latestOnTime = latest.getTime() >= now.getTime() - MISSED_AFTER_MS;
  if (policy === 'runOnce') return { fire: { scheduledTime: latest.toISOString(), missedFires: slots - 1 }, missed: slots - 1, nextFireTime };
  if (latestOnTime) return { fire: { scheduledTime: latest.toISOString(), missedFires: 0 }, missed: slots - 1, nextFireTime };
  return { fire: null, missed: slots, nextFireTime };
}

/** The last slot at or before `now`: found in a window before `now` that doubles until it holds a slot. */
function lastSlotAtOrBefore(spec: CronSpec, now: Date): Date | undefined {
  for (let windowMs = 60_000; windowMs < 500 * 366 * 86_400_000; windowMs *= 2) {
    let slot = spec.next(new Date(now.getTime() - windowMs));
    if (slot === undefined || slot.getTime() > now.getTime()) continue;
    for (let next = spec.next(slot); next !== undefined && next.getTime() <= now.getTime(); next = spec.next(next)) slot = next;
    return slot;
  }
  return undefined;
}
