import { randomUUID, createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { TimerSchedule } from './schedule.js';
import { DOTNET_DEFAULT_THRESHOLD_MS, dotNetMinDate } from './dotNetDates.js';

/**
 * The persisted state of one timer (`ScheduleStatus`): the occurrence that last ran, the one expected next, and the
 * time `next` was computed from. `last` is `default(DateTime)` (see `dotNetMinDate`) until the first run.
 */
export interface ScheduleStatus {
  last: Date;
  next: Date;
  lastUpdated: Date;
}

/** Where schedule statuses live (`ScheduleMonitor.GetStatusAsync` / `UpdateStatusAsync`). */
export interface ScheduleMonitorStore {
  /** The recorded status, or undefined if there is none (or it cannot be read). */
  get(timerName: string): Promise<ScheduleStatus | undefined>;
  update(timerName: string, status: ScheduleStatus): Promise<void>;
}

/** Options for {@link FileScheduleMonitorStore}. */
export interface FileScheduleMonitorStoreOptions {
  /** Told about a status file that exists but cannot be read or parsed (it is then treated as missing). */
  onWarning?: (message: string, error?: unknown) => void;
}

const SAFE_NAME_LIMIT = 120;

/**
 * The file name for a timer's status: letters, digits, `_` and `-` are kept, every other byte becomes `%XX` (so
 * distinct names never share a file), and long names are shortened with a hash.
 */
export function statusFileName(timerName: string): string {
  let safe = '';
  for (const byte of Buffer.from(timerName, 'utf8')) {
    const char = String.fromCharCode(byte);
    safe += /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (safe.length > SAFE_NAME_LIMIT) {
    const hash = createHash('sha256').update(timerName, 'utf8').digest('hex').slice(0, 16);
    safe = `${safe.slice(0, SAFE_NAME_LIMIT - 17)}~${hash}`;
  }
  return `${safe || '%'}.status.json`;
}

/** Reads back any date before year 2 as exactly `default(DateTime)` (`ScheduleMonitor.GetSafeStatusAsync`). */
function normalizeDefault(date: Date): Date {
  return date.getTime() < DOTNET_DEFAULT_THRESHOLD_MS ? dotNetMinDate() : date;
}

function parseStatus(json: unknown): ScheduleStatus | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const record = json as Record<string, unknown>;
  const dates: Date[] = [];
  for (const key of ['Last', 'Next', 'LastUpdated']) {
    const value = record[key];
    if (typeof value !== 'string') return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return undefined;
    dates.push(normalizeDefault(date));
  }
  const [last, next, lastUpdated] = dates as [Date, Date, Date];
  return { last, next, lastUpdated };
}

/**
 * A schedule monitor store on the local disk, one JSON file per timer (`{"Last","Next","LastUpdated"}` as ISO UTC
 * strings; Azure keeps the same shape in the blob `timers/{hostId}/{timerName}/status`).
 *
 * Writes are atomic (temporary file, fsync, rename), so a crash never leaves a half-written status. A file that
 * cannot be read or parsed is reported through `onWarning` and treated as missing: the timer then starts as new
 * instead of taking the host down, which at worst skips one past-due run.
 */
export class FileScheduleMonitorStore implements ScheduleMonitorStore {
  private readonly onWarning: ((message: string, error?: unknown) => void) | undefined;

  constructor(
    readonly directory: string,
    options: FileScheduleMonitorStoreOptions = {},
  ) {
    this.onWarning = options.onWarning;
  }

  /** The status file used for a timer. */
  filePath(timerName: string): string {
    return path.join(this.directory, statusFileName(timerName));
  }

  async get(timerName: string): Promise<ScheduleStatus | undefined> {
    const file = this.filePath(timerName);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.warn(`The schedule status of timer '${timerName}' could not be read from '${file}'; treating it as missing.`, error);
      return undefined;
    }
    let status: ScheduleStatus | undefined;
    try {
      status = parseStatus(JSON.parse(text));
    } catch (error) {
      this.warn(`The schedule status file '${file}' of timer '${timerName}' is not valid JSON; treating it as missing.`, error);
      return undefined;
    }
    if (!status) {
      this.warn(
        `The schedule status file '${file}' of timer '${timerName}' does not hold Last, Next and LastUpdated dates; treating it as missing.`,
      );
    }
    return status;
  }

  async update(timerName: string, status: ScheduleStatus): Promise<void> {
    const file = this.filePath(timerName);
    const body = `${JSON.stringify({
      Last: status.last.toISOString(),
      Next: status.next.toISOString(),
      LastUpdated: status.lastUpdated.toISOString(),
    })}\n`;
    await mkdir(this.directory, { recursive: true });
    // A unique temporary name per write lets concurrent writers race safely: the last rename wins, whole.
    const temporary = path.join(this.directory, `.${path.basename(file)}.${process.pid}.${randomUUID()}.tmp`);
    try {
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(body, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  private warn(message: string, error?: unknown): void {
    try {
      this.onWarning?.(message, error);
    } catch {
      // A failing warning sink must not turn a recoverable read into a crash.
    }
  }
}

/** A store that keeps statuses in memory, for tests and for hosts that run without persistence. */
export class InMemoryScheduleMonitorStore implements ScheduleMonitorStore {
  private readonly statuses = new Map<string, ScheduleStatus>();

  async get(timerName: string): Promise<ScheduleStatus | undefined> {
    const status = this.statuses.get(timerName);
    return status && copyStatus(status);
  }

  async update(timerName: string, status: ScheduleStatus): Promise<void> {
    this.statuses.set(timerName, copyStatus(status));
  }
}

function copyStatus(status: ScheduleStatus): ScheduleStatus {
  return { last: new Date(status.last.getTime()), next: new Date(status.next.getTime()), lastUpdated: new Date(status.lastUpdated.getTime()) };
}

/** The outcome of {@link reconcileScheduleStatus}. */
export interface PastDueCheck {
  /** How long ago the recorded next occurrence passed, in ms; 0 when not past due. */
  readonly pastDueMs: number;
  /** The status to keep: the recorded one, or a corrected/initial one when `changed`. */
  readonly status: ScheduleStatus;
  /** The status differs from what was recorded (none recorded, or the schedule changed) and should be persisted. */
  readonly changed: boolean;
}

/**
 * `ScheduleMonitor.CheckPastDueAsync` without the I/O:
 *
 * - No recorded status: the initial one is `{Last: default, Next: next after now, LastUpdated: now}`; not past due.
 * - Otherwise the expected next occurrence is recomputed from `Last` (or from `LastUpdated` if the timer never ran,
 *   or from now if neither is set). If it differs from the recorded `Next`, the schedule has changed: the status is
 *   rebuilt from it, and if that occurrence has already passed it is recomputed from now, so that a schedule change
 *   never counts as a missed run.
 * - Past due when now is after the (possibly corrected) `Next`.
 */
export function reconcileScheduleStatus(now: Date, schedule: TimerSchedule, status: ScheduleStatus | undefined): PastDueCheck {
  const nowMs = now.getTime();
  if (!status) {
    const initial = { last: dotNetMinDate(), next: schedule.getNextOccurrence(now), lastUpdated: new Date(nowMs) };
    return { pastDueMs: 0, status: initial, changed: true };
  }
  let basis: Date;
  if (status.last.getTime() > DOTNET_DEFAULT_THRESHOLD_MS) basis = status.last;
  else if (status.lastUpdated.getTime() > DOTNET_DEFAULT_THRESHOLD_MS) basis = status.lastUpdated;
  else basis = new Date(nowMs);
  let expected = schedule.getNextOccurrence(basis);
  let result = status;
  let changed = false;
  if (status.next.getTime() !== expected.getTime()) {
    if (nowMs > expected.getTime()) {
      expected = schedule.getNextOccurrence(now);
      basis = new Date(nowMs);
    }
    result = { last: dotNetMinDate(), next: expected, lastUpdated: new Date(basis.getTime()) };
    changed = true;
  }
  const pastDueMs = nowMs > result.next.getTime() ? nowMs - result.next.getTime() : 0;
  return { pastDueMs, status: result, changed };
}

/**
 * How far past due a timer is at `now`, in ms (0 if it is not), as `ScheduleMonitor.CheckPastDueAsync` decides it,
 * including the changed-schedule rule. See {@link reconcileScheduleStatus} for the status to persist.
 */
export function checkPastDue(now: Date, schedule: TimerSchedule, status: ScheduleStatus | undefined): number {
  return reconcileScheduleStatus(now, schedule, status).pastDueMs;
}
