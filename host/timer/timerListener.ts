import { isNever, NEVER, type TimerSchedule } from './schedule.js';
import { reconcileScheduleStatus, type ScheduleMonitorStore, type ScheduleStatus } from './scheduleMonitor.js';
import { buildTimerInfoPayload, dotNetMinDate, formatDotNetDateTime, type TimerInfoPayload } from './timerInfo.js';
import { assertTimeZone } from './timeZone.js';

/**
 * The function-level `retry` policy. In v4 the host honours it only for Timer, Event Hubs, Cosmos DB and Kafka
 * triggers, so the timer listener runs it itself.
 */
export interface TimerRetryPolicy {
  strategy: 'fixedDelay' | 'exponentialBackoff';
  /** Retries after the first attempt; -1 retries until the run succeeds or the listener stops. */
  maxRetryCount: number;
  /** fixedDelay: the wait before each retry. */
  delayIntervalMs?: number;
  /** exponentialBackoff: the first wait, and the floor of every wait. */
  minimumIntervalMs?: number;
  /** exponentialBackoff: the ceiling of every wait. */
  maximumIntervalMs?: number;
}

/** `context.retryContext` as the worker receives it (RpcRetryContext). */
export interface TimerRetryContext {
  /** 0 on the first attempt, then 1, 2, ... */
  retryCount: number;
  maxRetryCount: number;
  /** The failure that caused this retry (absent on the first attempt). */
  exception?: { message: string; stackTrace?: string; source?: string };
}

/** Time source and timer functions, injectable so tests need not wait. */
export interface TimerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Log levels the listener uses (the host maps them onto its logger). */
export type TimerLogLevel = 'debug' | 'information' | 'warning' | 'error';

/** Options for {@link TimerListener}. */
export interface TimerListenerOptions {
  /** The function name; also the key of the persisted schedule status. */
  name: string;
  schedule: TimerSchedule;
  /** Zone used to format the TimerInfo dates; default: the schedule's zone (else the process's local zone). */
  timeZone?: string;
  /**
   * `useMonitor` from the binding. undefined = on, except that a schedule firing more than once a minute always
   * runs without the monitor (TimerSchedule.Create overrides the setting there).
   */
  useMonitor?: boolean;
  runOnStartup?: boolean;
  monitor: ScheduleMonitorStore;
  retry?: TimerRetryPolicy;
  /** Runs the function. A rejection is a failed run (retried per `retry`); the listener never lets it escape. */
  invoke(payload: TimerInfoPayload, retryContext: TimerRetryContext | undefined): Promise<void>;
  log(level: TimerLogLevel, message: string): void;
  clock?: TimerClock;
  /** Source of the exponential backoff jitter, in [0, 1); default Math.random. */
  random?: () => number;
}

/** Node's timers overflow (and fire at once) above this delay, so longer waits are chained. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Share of the exponential backoff delay used as jitter, either way. */
const JITTER = 0.1;

/** The clock used when none is injected. */
export const systemTimerClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The wait before retry number `retryNumber` (1-based). fixedDelay: `delayIntervalMs`. exponentialBackoff:
 * `min(maximum, minimum * 2^(n-1))`, with up to 10% jitter either way, kept within [minimum, maximum].
 */
export function computeRetryDelayMs(policy: TimerRetryPolicy, retryNumber: number, random: () => number = Math.random): number {
  if (policy.strategy === 'fixedDelay') return Math.max(0, policy.delayIntervalMs ?? 0);
  const minimum = Math.max(0, policy.minimumIntervalMs ?? 0);
  const maximum = Math.max(minimum, policy.maximumIntervalMs ?? minimum);
  const base = Math.min(maximum, minimum * 2 ** Math.min(retryNumber - 1, 52));
  const jittered = base * (1 + (random() * 2 - 1) * JITTER);
  return Math.round(Math.min(maximum, Math.max(minimum, jittered)));
}

function validateRetryPolicy(name: string, policy: TimerRetryPolicy): void {
  const fail = (detail: string) => {
    throw new Error(`The retry policy of timer function '${name}' is invalid: ${detail}`);
  };
  if (policy.strategy !== 'fixedDelay' && policy.strategy !== 'exponentialBackoff') {
    fail(`unknown strategy '${String(policy.strategy)}' (expected 'fixedDelay' or 'exponentialBackoff').`);
  }
  if (!Number.isInteger(policy.maxRetryCount) || policy.maxRetryCount < -1) fail('maxRetryCount must be -1 (forever) or a count of 0 or more.');
  const isDelay = (value: number | undefined) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (policy.strategy === 'fixedDelay' && !isDelay(policy.delayIntervalMs)) fail('fixedDelay needs delayInterval.');
  if (policy.strategy === 'exponentialBackoff') {
    if (!isDelay(policy.minimumIntervalMs) || !isDelay(policy.maximumIntervalMs)) fail('exponentialBackoff needs minimumInterval and maximumInterval.');
    if (policy.maximumIntervalMs! < policy.minimumIntervalMs!) fail('maximumInterval is shorter than minimumInterval.');
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type FireReason = 'schedule' | 'pastDue' | 'runOnStartup';

/**
 * Runs one timer trigger, as the timer extension's `TimerListener` does:
 *
 * - At start, with the monitor on, the recorded status is read and checked (`checkPastDue`, including the
 *   changed-schedule rule); a recorded Next in the past gives one immediate run with `IsPastDue: true`. Otherwise
 *   `runOnStartup` gives one immediate run. Startup runs happen in the background, so `start()` does not wait
 *   for them (the extension schedules them on a 1 ms timer for the same reason).
 * - Then it fires at each occurrence. After every run (successful or not) the status becomes
 *   `{Last: occurrence, Next: next after it, LastUpdated: occurrence}` and is persisted when the monitor is on.
 *   A run that fires a moment early (timer skew) is booked as the scheduled occurrence, so Next never repeats.
 * - Runs never overlap: the next timer is armed only after a run has finished, so an occurrence that passed
 *   during a long run fires once, straight after it; manual runs queue behind scheduled ones and vice versa.
 * - A failed run is retried per the retry policy (with `retryContext` on every attempt once a policy exists),
 *   then logged; the schedule goes on. Nothing thrown by the function, the store or the logger escapes.
 */
export class TimerListener {
  private readonly clock: TimerClock;
  private readonly random: () => number;
  private readonly timeZone: string | undefined;
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  private useMonitor = false;
  private status: ScheduleStatus | undefined;
  private timerHandle: unknown;
  private hasTimer = false;
  private retryWait: { handle: unknown; resolve: (proceed: boolean) => void } | undefined;
  /** The invocation queue: every run chains onto it, which is what keeps runs from overlapping. */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: TimerListenerOptions) {
    if (options.retry) validateRetryPolicy(options.name, options.retry);
    this.clock = options.clock ?? systemTimerClock;
    this.random = options.random ?? Math.random;
    // Validated here so that formatting a TimerInfo can never fail later, in the middle of a run.
    const zone = options.timeZone ?? options.schedule.timeZone;
    this.timeZone = zone === undefined ? undefined : assertTimeZone(zone);
  }

  /** The occurrence the listener is waiting for (undefined before start and after stop). */
  get nextOccurrence(): Date | undefined {
    return this.state === 'started' && this.status ? new Date(this.status.next.getTime()) : undefined;
  }

  /** Whether the schedule monitor is in use (decided at start). */
  get monitorEnabled(): boolean {
    return this.useMonitor;
  }

  /** Reads the monitor, arms the timer and schedules any startup run. Resolves before that run starts. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`The timer listener for '${this.options.name}' has already been started.`);
    this.state = 'starting';
    const { name, schedule } = this.options;
    const now = new Date(this.clock.now());
    const subMinute = schedule.isSubMinute(now);
    this.useMonitor = this.options.useMonitor !== false && !subMinute;
    if (subMinute && this.options.useMonitor !== false) {
      this.log('debug', `Timer '${name}' fires more than once a minute, so its schedule monitor is off.`);
    }

    let isPastDue = false;
    if (this.useMonitor) {
      let recorded: ScheduleStatus | undefined;
      try {
        recorded = await this.options.monitor.get(name);
      } catch (error) {
        this.log('error', `The schedule status of timer '${name}' could not be read (${describeError(error)}); starting without it.`);
      }
      this.log(
        'debug',
        recorded
          ? `Timer '${name}' initial status: Last='${recorded.last.toISOString()}', Next='${recorded.next.toISOString()}', LastUpdated='${recorded.lastUpdated.toISOString()}'.`
          : `Timer '${name}' has no recorded status.`,
      );
      const check = reconcileScheduleStatus(now, schedule, recorded);
      if (check.changed) await this.persist(check.status);
      isPastDue = check.pastDueMs > 0;
      // As in TimerListener.StartAsync: a status read from the store (corrected if the schedule changed) is used
      // as is; a brand-new timer starts from {default, next, default} even though the store got LastUpdated=now.
      this.status = recorded ? check.status : this.initialStatus(now);
    } else {
      this.status = this.initialStatus(now);
    }
    if (this.state !== 'starting') return; // stop() was called while the store was being read
    this.state = 'started';
    this.logNextOccurrences(now);

    if (isPastDue) {
      this.log('information', `Timer '${name}' is past due (its recorded next occurrence was ${this.formatDate(this.status.next)}); running it now.`);
      this.arm(this.clock.now(), 'pastDue');
    } else if (this.options.runOnStartup) {
      this.log('information', `Timer '${name}' is configured to run on startup; running it now.`);
      this.arm(this.clock.now(), 'runOnStartup');
    } else {
      this.armNext();
    }
  }

  /** Cancels the next fire and any pending retry, and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    const wasRunning = this.state === 'started' || this.state === 'starting';
    this.state = 'stopped';
    this.clearTimer();
    const wait = this.retryWait;
    this.retryWait = undefined;
    if (wait) {
      this.clock.clearTimeout(wait.handle);
      wait.resolve(false);
    }
    // Runs queued after the stop see the state and return at once, so this settles.
    let observed: Promise<void>;
    do {
      observed = this.tail;
      await observed;
    } while (observed !== this.tail);
    if (wasRunning) this.log('debug', `Timer listener for '${this.options.name}' stopped.`);
  }

  /**
   * A manual run (the admin endpoint): a fresh TimerInfo (no ScheduleStatus, IsPastDue false), with the retry
   * policy, queued behind any run in progress. It does not touch the schedule or the recorded status. Resolves when
   * the run (and its retries) are over; never rejects.
   */
  async fireNow(): Promise<void> {
    if (this.state === 'stopped') {
      this.log('warning', `Timer '${this.options.name}' was not run manually: its listener has stopped.`);
      return;
    }
    await this.exclusive(async () => {
      if (this.state === 'stopped') return;
      await this.invokeWithRetry(buildTimerInfoPayload(this.options.schedule, null, false, this.timeZone));
    });
  }

  // ------------------------------------------------------------------------------------------ scheduling

  private initialStatus(now: Date): ScheduleStatus {
    return { last: dotNetMinDate(), next: this.options.schedule.getNextOccurrence(now), lastUpdated: dotNetMinDate() };
  }

  private armNext(): void {
    if (this.state !== 'started' || !this.status) return;
    const next = this.status.next;
    if (isNever(next)) {
      this.log('information', `Timer '${this.options.name}' has no further occurrences and will not fire again.`);
      return;
    }
    this.arm(next.getTime(), 'schedule');
  }

  /** Arms one timer for `targetMs`; waits beyond the Node limit are chained and re-measured against the clock. */
  private arm(targetMs: number, reason: FireReason): void {
    this.clearTimer();
    const delay = targetMs - this.clock.now();
    if (delay > MAX_TIMER_DELAY_MS) {
      this.setTimer(() => {
        if (this.state === 'started') this.arm(targetMs, reason);
      }, MAX_TIMER_DELAY_MS);
      return;
    }
    this.setTimer(() => void this.onTimer(reason), Math.max(0, delay));
  }

  private setTimer(fn: () => void, ms: number): void {
    this.hasTimer = true;
    this.timerHandle = this.clock.setTimeout(() => {
      this.hasTimer = false;
      this.timerHandle = undefined;
      fn();
    }, ms);
  }

  private clearTimer(): void {
    if (this.hasTimer) this.clock.clearTimeout(this.timerHandle);
    this.hasTimer = false;
    this.timerHandle = undefined;
  }

  private async onTimer(reason: FireReason): Promise<void> {
    try {
      const invocationTime = new Date(this.clock.now());
      await this.invokeJobFunction(invocationTime, reason);
    } catch (error) {
      this.log('error', `Error during the scheduled run of timer '${this.options.name}': ${describeError(error)}`);
    } finally {
      // Re-armed from the status the run just wrote: an occurrence that passed meanwhile fires at once.
      try {
        this.armNext();
      } catch (error) {
        this.log('error', `Timer '${this.options.name}' could not be re-armed and will not fire again: ${describeError(error)}`);
      }
    }
  }

  private invokeJobFunction(invocationTime: Date, reason: FireReason): Promise<void> {
    return this.exclusive(async () => {
      if (this.state === 'stopped' || !this.status) return;
      const { schedule } = this.options;
      const isPastDue = reason === 'pastDue';
      await this.invokeWithRetry(buildTimerInfoPayload(schedule, this.useMonitor ? this.status : null, isPastDue, this.timeZone));

      // A timer that fires slightly before its occurrence is booked at the occurrence; otherwise Next could be
      // computed as the same occurrence again, and a restart would then run it twice.
      let adjusted = invocationTime;
      if (reason === 'schedule' && this.status.next.getTime() > invocationTime.getTime()) adjusted = new Date(this.status.next.getTime());
      let next: Date;
      try {
        next = schedule.getNextOccurrence(adjusted);
      } catch (error) {
        // Keeping the old Next would re-fire at once, forever; park the timer instead.
        this.log('error', `The next occurrence of timer '${this.options.name}' could not be computed; it will not fire again: ${describeError(error)}`);
        next = new Date(NEVER.getTime());
      }
      this.status = { last: adjusted, next, lastUpdated: new Date(adjusted.getTime()) };
      if (this.useMonitor) await this.persist(this.status);
    });
  }

  private exclusive(run: () => Promise<void>): Promise<void> {
    const result = this.tail.then(run);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  // ------------------------------------------------------------------------------------------ invocation

  /** One run with its retries. Never rejects. */
  private async invokeWithRetry(payload: TimerInfoPayload): Promise<void> {
    const { name, retry } = this.options;
    let attempt = 0;
    let lastError: unknown;
    for (;;) {
      const context: TimerRetryContext | undefined = retry
        ? {
            retryCount: attempt,
            maxRetryCount: retry.maxRetryCount,
            ...(attempt > 0 ? { exception: toRetryException(lastError) } : {}),
          }
        : undefined;
      try {
        await Promise.resolve().then(() => this.options.invoke(payload, context));
        if (attempt > 0) this.log('information', `Timer function '${name}' succeeded on retry ${attempt}.`);
        return;
      } catch (error) {
        lastError = error;
      }
      if (!retry) {
        this.log('error', `Timer function '${name}' failed: ${describeError(lastError)}`);
        return;
      }
      if (this.state === 'stopped') {
        this.log('warning', `Timer function '${name}' failed (${describeError(lastError)}) and is not retried because its listener is stopping.`);
        return;
      }
      if (retry.maxRetryCount !== -1 && attempt >= retry.maxRetryCount) {
        this.log('error', `Timer function '${name}' failed after ${attempt} ${attempt === 1 ? 'retry' : 'retries'}: ${describeError(lastError)}`);
        return;
      }
      attempt += 1;
      const delay = computeRetryDelayMs(retry, attempt, this.random);
      const of = retry.maxRetryCount === -1 ? '' : ` of ${retry.maxRetryCount}`;
      this.log('warning', `Timer function '${name}' failed (${describeError(lastError)}); retry ${attempt}${of} in ${delay} ms.`);
      if (!(await this.sleep(delay))) {
        this.log('warning', `Retry ${attempt} of timer function '${name}' was cancelled because its listener is stopping.`);
        return;
      }
    }
  }

  /** Waits `ms` (chaining waits beyond the Node limit); resolves false if the listener stops first. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.state === 'stopped') {
        resolve(false);
        return;
      }
      const until = this.clock.now() + ms;
      const step = () => {
        const remaining = until - this.clock.now();
        if (remaining <= 0) {
          this.retryWait = undefined;
          resolve(this.state !== 'stopped');
          return;
        }
        const handle = this.clock.setTimeout(step, Math.min(remaining, MAX_TIMER_DELAY_MS));
        this.retryWait = { handle, resolve };
      };
      step();
    });
  }

  private async persist(status: ScheduleStatus): Promise<void> {
    try {
      await this.options.monitor.update(this.options.name, status);
      this.log(
        'debug',
        `Timer '${this.options.name}' updated status: Last='${status.last.toISOString()}', Next='${status.next.toISOString()}', LastUpdated='${status.lastUpdated.toISOString()}'.`,
      );
    } catch (error) {
      // Best effort, as StorageScheduleMonitor: a lost update at worst repeats or skips one run after a restart.
      this.log('error', `The schedule status of timer '${this.options.name}' could not be saved: ${describeError(error)}`);
    }
  }

  // ------------------------------------------------------------------------------------------ logging

  private formatDate(date: Date): string {
    try {
      return formatDotNetDateTime(date, this.timeZone);
    } catch {
      return date.toISOString();
    }
  }

  private logNextOccurrences(now: Date): void {
    try {
      const { name, schedule } = this.options;
      const lines: string[] = [];
      let cursor = now;
      for (let i = 0; i < 5; i++) {
        cursor = schedule.getNextOccurrence(cursor);
        if (isNever(cursor)) break;
        lines.push(this.formatDate(cursor));
      }
      const printed = String(schedule);
      const described = printed === '[object Object]' ? schedule.expression : printed;
      this.log(
        'information',
        lines.length > 0
          ? `The next ${lines.length} occurrences of the '${name}' schedule (${described}) will be:\n${lines.join('\n')}`
          : `The '${name}' schedule (${described}) has no future occurrences.`,
      );
    } catch (error) {
      this.log('warning', `The next occurrences of timer '${this.options.name}' could not be listed: ${describeError(error)}`);
    }
  }

  private log(level: TimerLogLevel, message: string): void {
    try {
      this.options.log(level, message);
    } catch {
      // Logging must never break the schedule.
    }
  }
}

function toRetryException(error: unknown): NonNullable<TimerRetryContext['exception']> {
  if (error instanceof Error) {
    const source = (error as { source?: unknown }).source;
    return {
      message: error.message,
      ...(error.stack ? { stackTrace: error.stack } : {}),
      ...(typeof source === 'string' ? { source } : {}),
    };
  }
  return { message: String(error) };
}
