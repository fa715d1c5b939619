import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimerSchedule, type TimerSchedule } from './schedule.js';
import { InMemoryScheduleMonitorStore, type ScheduleMonitorStore, type ScheduleStatus } from './scheduleMonitor.js';
import { DOTNET_MIN_DATE_MS, dotNetMinDate, type TimerInfoPayload } from './timerInfo.js';
import {
  computeRetryDelayMs,
  MAX_TIMER_DELAY_MS,
  TimerListener,
  type TimerClock,
  type TimerListenerOptions,
  type TimerLogLevel,
  type TimerRetryContext,
} from './timerListener.js';

/** Lets promise chains and setImmediate callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A manual clock: timers fire only when the test advances time, in due order. */
class FakeClock implements TimerClock {
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  readonly delays: number[] = [];

  constructor(
    public time: number,
    /** Fire every timer this many ms early, to imitate timer skew. */
    private readonly earlyMs = 0,
  ) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    if (!(ms >= 0 && ms <= MAX_TIMER_DELAY_MS)) throw new Error(`a timer of ${ms} ms would overflow`);
    this.delays.push(ms);
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms - this.earlyMs), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      let dueId: number | undefined;
      let due: { at: number; fn: () => void } | undefined;
      for (const [id, timer] of this.timers) {
        if (timer.at <= target && (!due || timer.at < due.at)) {
          dueId = id;
          due = timer;
        }
      }
      if (!due || dueId === undefined) break;
      this.timers.delete(dueId);
      this.time = Math.max(this.time, due.at);
      due.fn();
      await settle();
    }
    this.time = target;
    await settle();
  }

  async advanceTo(iso: string): Promise<void> {
    await this.advance(Date.parse(iso) - this.time);
  }
}

interface Call {
  at: string;
  payload: TimerInfoPayload;
  context: TimerRetryContext | undefined;
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A store that counts its I/O. */
class CountingStore implements ScheduleMonitorStore {
  readonly inner = new InMemoryScheduleMonitorStore();
  gets = 0;
  updates = 0;
  failUpdates = false;
  failGets = false;

  async get(name: string): Promise<ScheduleStatus | undefined> {
    this.gets++;
    if (this.failGets) throw new Error('storage offline');
    return this.inner.get(name);
  }

  async update(name: string, status: ScheduleStatus): Promise<void> {
    this.updates++;
    if (this.failUpdates) throw new Error('disk full');
    await this.inner.update(name, status);
  }
}

interface Harness {
  clock: FakeClock;
  store: CountingStore;
  calls: Call[];
  logs: Array<[TimerLogLevel, string]>;
  listener: TimerListener;
  maxActive: () => number;
}

function harness(
  expression: string,
  options: Partial<TimerListenerOptions> & { start?: string; behaviour?: (callNumber: number) => Promise<void> | void; clock?: FakeClock; store?: CountingStore } = {},
): Harness {
  const clock = options.clock ?? new FakeClock(Date.parse(options.start ?? '2026-01-01T10:30:00Z'));
  const store = options.store ?? new CountingStore();
  const calls: Call[] = [];
  const logs: Array<[TimerLogLevel, string]> = [];
  let active = 0;
  let maxActive = 0;
  const schedule: TimerSchedule = options.schedule ?? parseTimerSchedule(expression, { timeZone: 'UTC' });
  const listener = new TimerListener({
    name: 'sweep',
    monitor: store,
    clock,
    random: () => 0.5,
    log: (level, message) => logs.push([level, message]),
    ...options,
    schedule,
    invoke: async (payload, context) => {
      calls.push({ at: new Date(clock.now()).toISOString(), payload, context });
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await options.behaviour?.(calls.length);
      } finally {
        active--;
      }
    },
  });
  return { clock, store, calls, logs, listener, maxActive: () => maxActive };
}

const status = (last: string | Date, next: string, lastUpdated: string | Date): ScheduleStatus => ({
  last: typeof last === 'string' ? new Date(last) : last,
  next: new Date(next),
  lastUpdated: typeof lastUpdated === 'string' ? new Date(lastUpdated) : lastUpdated,
});

const DEFAULT = '0001-01-01T00:00:00+00:00';

let unhandled = 0;
const onUnhandled = () => {
  unhandled++;
};

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toBe(0);
});

describe('TimerListener startup', () => {
  it('runs once with IsPastDue true when the recorded Next has passed, then follows the schedule', async () => {
    const h = harness('0 0 * * * *');
    await h.store.inner.update('sweep', status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z'));
    await h.listener.start();
    expect(h.calls).toHaveLength(0); // start() does not wait for the startup run
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.payload).toEqual({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: '2026-01-01T08:00:00+00:00', Next: '2026-01-01T09:00:00+00:00', LastUpdated: '2026-01-01T08:00:00+00:00' },
      IsPastDue: true,
    });
    expect(h.calls[0]!.context).toBeUndefined();
    // After the past-due run, the status is computed from the run time.
    expect(await h.store.inner.get('sweep')).toEqual(status('2026-01-01T10:30:00Z', '2026-01-01T11:00:00Z', '2026-01-01T10:30:00Z'));
    expect(h.listener.nextOccurrence?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
    expect(h.logs.some(([level, message]) => level === 'information' && /past due/.test(message))).toBe(true);

    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]!.at).toBe('2026-01-01T11:00:00.000Z');
    expect(h.calls[1]!.payload.IsPastDue).toBe(false);
    expect(h.calls[1]!.payload.ScheduleStatus).toEqual({
      Last: '2026-01-01T10:30:00+00:00',
      Next: '2026-01-01T11:00:00+00:00',
      LastUpdated: '2026-01-01T10:30:00+00:00',
    });
    await h.listener.stop();
  });

  it('runs once on startup with runOnStartup, with the first-run status', async () => {
    const h = harness('0 0 * * * *', { runOnStartup: true });
    await h.listener.start();
    // The initial status is recorded at start, before any run.
    expect(await h.store.inner.get('sweep')).toEqual(status(dotNetMinDate(), '2026-01-01T11:00:00Z', '2026-01-01T10:30:00Z'));
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.payload).toEqual({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: DEFAULT, Next: '2026-01-01T11:00:00+00:00', LastUpdated: DEFAULT },
      IsPastDue: false,
    });
    expect(await h.store.inner.get('sweep')).toEqual(status('2026-01-01T10:30:00Z', '2026-01-01T11:00:00Z', '2026-01-01T10:30:00Z'));
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T10:30:00.000Z', '2026-01-01T11:00:00.000Z']);
    await h.listener.stop();
  });

  it('makes a single startup run when both past due and runOnStartup', async () => {
    const h = harness('0 0 * * * *', { runOnStartup: true });
    await h.store.inner.update('sweep', status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z'));
    await h.listener.start();
    await h.clock.advance(60_000);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.payload.IsPastDue).toBe(true);
    await h.listener.stop();
  });

  it('does not run at startup when nothing is due', async () => {
    const h = harness('0 0 * * * *');
    await h.store.inner.update('sweep', status('2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', '2026-01-01T10:00:00Z'));
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T10:59:59Z');
    expect(h.calls).toHaveLength(0);
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    expect(h.calls).toHaveLength(1);
    await h.listener.stop();
  });

  it('does not treat a changed schedule as past due, and rewrites the status', async () => {
    const h = harness('0 30 * * * *', { start: '2026-01-01T10:10:00Z' });
    await h.store.inner.update('sweep', status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z'));
    await h.listener.start();
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(0);
    expect(await h.store.inner.get('sweep')).toEqual(status(dotNetMinDate(), '2026-01-01T10:30:00Z', '2026-01-01T10:10:00Z'));
    await h.clock.advanceTo('2026-01-01T10:30:00Z');
    expect(h.calls[0]!.payload.ScheduleStatus).toEqual({ Last: DEFAULT, Next: '2026-01-01T10:30:00+00:00', LastUpdated: '2026-01-01T10:10:00+00:00' });
    await h.listener.stop();
  });

  it('starts without the status when the store cannot be read', async () => {
    const store = new CountingStore();
    store.failGets = true;
    const h = harness('0 0 * * * *', { store });
    await h.listener.start();
    expect(h.logs.some(([level, message]) => level === 'error' && /could not be read.*storage offline/.test(message))).toBe(true);
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    expect(h.calls).toHaveLength(1);
    await h.listener.stop();
  });

  it('refuses a second start', async () => {
    const h = harness('0 0 * * * *');
    await h.listener.start();
    await expect(h.listener.start()).rejects.toThrow(/already been started/);
    await h.listener.stop();
  });

  it('logs the next occurrences in the timer zone', async () => {
    const h = harness('0 0 * * * *', { schedule: parseTimerSchedule('0 0 * * * *', { timeZone: 'Europe/Berlin' }) });
    await h.listener.start();
    const listing = h.logs.find(([, message]) => message.startsWith('The next 5 occurrences'));
    expect(listing?.[1]).toContain("'sweep' schedule (Cron: '0 0 * * * *')");
    expect(listing?.[1]).toContain('2026-01-01T12:00:00+01:00');
    await h.listener.stop();
  });
});

describe('TimerListener runs', () => {
  it('persists {Last: occurrence, Next, LastUpdated} after every run', async () => {
    const h = harness('0 */20 * * * *', { start: '2026-01-01T10:05:00Z' });
    await h.listener.start();
    for (const [occurrence, next] of [
      ['2026-01-01T10:20:00Z', '2026-01-01T10:40:00Z'],
      ['2026-01-01T10:40:00Z', '2026-01-01T11:00:00Z'],
      ['2026-01-01T11:00:00Z', '2026-01-01T11:20:00Z'],
    ] as const) {
      await h.clock.advanceTo(occurrence);
      expect(await h.store.inner.get('sweep')).toEqual(status(occurrence, next, occurrence));
    }
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T10:20:00.000Z', '2026-01-01T10:40:00.000Z', '2026-01-01T11:00:00.000Z']);
    await h.listener.stop();
  });

  it('books a run that fires a moment early at its occurrence, so it does not repeat', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T10:30:00Z'), 2);
    const h = harness('0 0 * * * *', { clock });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:30:00Z');
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T10:59:59.998Z']);
    expect(await h.store.inner.get('sweep')).toEqual(status('2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T11:00:00Z'));
    await h.listener.stop();
  });

  it('never overlaps: an occurrence that passes during a long run fires once, right after it', async () => {
    const slow = deferred();
    const h = harness('0 0 * * * *', { behaviour: (n) => (n === 1 ? slow.promise : undefined) });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T13:30:00Z');
    expect(h.calls).toHaveLength(1); // 12:00 and 13:00 passed while the 11:00 run was still going
    slow.resolve();
    await h.clock.advance(0);
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-01T13:30:00.000Z']);
    expect(h.calls[1]!.payload.ScheduleStatus?.Next).toBe('2026-01-01T12:00:00+00:00');
    expect(await h.store.inner.get('sweep')).toEqual(status('2026-01-01T13:30:00Z', '2026-01-01T14:00:00Z', '2026-01-01T13:30:00Z'));
    await h.clock.advanceTo('2026-01-01T14:00:00Z');
    expect(h.calls).toHaveLength(3);
    expect(h.maxActive()).toBe(1);
    await h.listener.stop();
  });

  it('chains waits longer than the Node timer limit', async () => {
    const h = harness('0 0 0 1 1 *');
    await h.listener.start();
    expect(h.listener.nextOccurrence?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    await h.clock.advanceTo('2026-12-31T23:59:59Z');
    expect(h.calls).toHaveLength(0);
    await h.clock.advanceTo('2027-01-01T00:00:00Z');
    expect(h.calls.map((call) => call.at)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(Math.max(...h.clock.delays)).toBe(MAX_TIMER_DELAY_MS);
    await h.listener.stop();
  });

  it('arms nothing for a schedule that never occurs', async () => {
    const h = harness('0 0 0 31 2 *');
    await h.listener.start();
    expect(h.clock.pending).toBe(0);
    expect(h.logs.some(([, message]) => /will not fire again/.test(message))).toBe(true);
    await h.listener.stop();
  });

  it('survives a function that throws synchronously, a failing store and a failing logger', async () => {
    const store = new CountingStore();
    store.failUpdates = true;
    const clock = new FakeClock(Date.parse('2026-01-01T10:30:00Z'));
    let invocations = 0;
    const listener = new TimerListener({
      name: 'fragile',
      schedule: parseTimerSchedule('0 0 * * * *', { timeZone: 'UTC' }),
      monitor: store,
      clock,
      invoke: () => {
        invocations++;
        throw new Error('sync failure');
      },
      log: () => {
        throw new Error('logger down');
      },
    });
    await listener.start();
    await clock.advanceTo('2026-01-01T12:00:00Z');
    expect(invocations).toBe(2);
    expect(listener.nextOccurrence?.toISOString()).toBe('2026-01-01T13:00:00.000Z');
    await listener.stop();
  });

  it('parks a timer whose next occurrence cannot be computed instead of re-firing at once', async () => {
    const real = parseTimerSchedule('0 0 * * * *', { timeZone: 'UTC' });
    let computations = 0;
    const flaky: TimerSchedule = {
      expression: 'flaky',
      kind: 'cron',
      adjustForDst: true,
      timeZone: 'UTC',
      isSubMinute: () => false,
      getNextOccurrence: (after) => {
        computations++;
        if (computations > 6) throw new Error('calendar exploded'); // start + the 5 logged occurrences pass
        return real.getNextOccurrence(after);
      },
    };
    const h = harness('unused', { schedule: flaky });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T15:00:00Z');
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pending).toBe(0);
    expect(h.logs.some(([level, message]) => level === 'error' && /could not be computed.*calendar exploded/.test(message))).toBe(true);
    await h.listener.stop();
  });

  it('rejects an unknown time zone when it is created', () => {
    expect(() => harness('0 0 * * * *', { timeZone: 'Atlantis/Capital' })).toThrow(/'Atlantis\/Capital'/);
  });

  it('logs a failed run without a retry policy and goes on', async () => {
    const h = harness('0 0 * * * *', { behaviour: () => Promise.reject(new Error('boom')) });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T12:00:00Z');
    expect(h.calls).toHaveLength(2);
    expect(h.calls.every((call) => call.context === undefined)).toBe(true);
    expect(h.logs.filter(([level, message]) => level === 'error' && /failed: boom/.test(message))).toHaveLength(2);
    await h.listener.stop();
  });
});

describe('TimerListener retries', () => {
  it('fixedDelay: retries maxRetryCount times at the fixed interval, with the retry context, then goes on', async () => {
    const h = harness('0 0 * * * *', {
      retry: { strategy: 'fixedDelay', maxRetryCount: 2, delayIntervalMs: 5000 },
      behaviour: () => Promise.reject(new Error('boom')),
    });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:01:00Z');
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-01T11:00:05.000Z', '2026-01-01T11:00:10.000Z']);
    expect(h.calls.map((call) => [call.context?.retryCount, call.context?.maxRetryCount])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    expect(h.calls[0]!.context?.exception).toBeUndefined();
    expect(h.calls[1]!.context?.exception?.message).toBe('boom');
    expect(h.calls[1]!.context?.exception?.stackTrace).toContain('boom');
    expect(h.logs.some(([level, message]) => level === 'error' && /failed after 2 retries: boom/.test(message))).toBe(true);
    // The same TimerInfo is sent on every attempt, and the status is written once the retries are over.
    expect(new Set(h.calls.map((call) => JSON.stringify(call.payload))).size).toBe(1);
    expect(await h.store.inner.get('sweep')).toEqual(status('2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T11:00:00Z'));
    await h.clock.advanceTo('2026-01-01T12:00:00Z');
    expect(h.calls).toHaveLength(4);
    await h.listener.stop();
  });

  it('exponentialBackoff: min(max, min * 2^(n-1))', async () => {
    const h = harness('0 0 * * * *', {
      retry: { strategy: 'exponentialBackoff', maxRetryCount: 4, minimumIntervalMs: 1000, maximumIntervalMs: 5000 },
      behaviour: () => Promise.reject(new Error('still down')),
    });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:01:00Z');
    const times = h.calls.map((call) => Date.parse(call.at));
    expect(times.slice(1).map((time, i) => time - times[i]!)).toEqual([1000, 2000, 4000, 5000]);
    expect(h.calls.map((call) => call.context?.retryCount)).toEqual([0, 1, 2, 3, 4]);
    await h.listener.stop();
  });

  it('stops retrying once a retry succeeds', async () => {
    const h = harness('0 0 * * * *', {
      retry: { strategy: 'fixedDelay', maxRetryCount: 5, delayIntervalMs: 1000 },
      behaviour: (n) => (n === 1 ? Promise.reject(new Error('transient')) : undefined),
    });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:30:00Z');
    expect(h.calls).toHaveLength(2);
    expect(h.logs.some(([level]) => level === 'error')).toBe(false);
    expect(h.logs.some(([, message]) => /succeeded on retry 1/.test(message))).toBe(true);
    await h.listener.stop();
  });

  it('maxRetryCount -1 retries until the listener stops', async () => {
    const h = harness('0 0 * * * *', {
      retry: { strategy: 'fixedDelay', maxRetryCount: -1, delayIntervalMs: 1000 },
      behaviour: () => Promise.reject(new Error('never works')),
    });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:00:10Z');
    expect(h.calls).toHaveLength(11);
    expect(h.calls[10]!.context).toMatchObject({ retryCount: 10, maxRetryCount: -1 });
    await h.listener.stop();
    await h.clock.advance(3_600_000);
    expect(h.calls).toHaveLength(11);
    expect(h.clock.pending).toBe(0);
  });

  it('validates the policy', () => {
    expect(() => harness('0 0 * * * *', { retry: { strategy: 'fixedDelay', maxRetryCount: 3 } })).toThrow(/fixedDelay needs delayInterval/);
    expect(() => harness('0 0 * * * *', { retry: { strategy: 'fixedDelay', maxRetryCount: -2, delayIntervalMs: 1 } })).toThrow(/maxRetryCount/);
    expect(() =>
      harness('0 0 * * * *', { retry: { strategy: 'exponentialBackoff', maxRetryCount: 1, minimumIntervalMs: 5000, maximumIntervalMs: 1000 } }),
    ).toThrow(/maximumInterval is shorter/);
  });

  it('computeRetryDelayMs keeps the jitter small and within [minimum, maximum]', () => {
    const policy = { strategy: 'exponentialBackoff', maxRetryCount: 10, minimumIntervalMs: 1000, maximumIntervalMs: 5000 } as const;
    expect([1, 2, 3, 4, 10].map((n) => computeRetryDelayMs(policy, n, () => 0.5))).toEqual([1000, 2000, 4000, 5000, 5000]);
    for (const random of [0, 0.25, 0.75, 0.9999]) {
      const second = computeRetryDelayMs(policy, 2, () => random);
      expect(second).toBeGreaterThanOrEqual(1800);
      expect(second).toBeLessThanOrEqual(2200);
      expect(computeRetryDelayMs(policy, 1, () => random)).toBeGreaterThanOrEqual(1000);
      expect(computeRetryDelayMs(policy, 10, () => random)).toBeLessThanOrEqual(5000);
    }
    expect(computeRetryDelayMs(policy, 2, () => 0)).toBe(1800);
    expect(computeRetryDelayMs({ strategy: 'fixedDelay', maxRetryCount: 1, delayIntervalMs: 750 }, 7)).toBe(750);
  });
});

describe('TimerListener stop', () => {
  it('waits for the run in progress, records its status, and arms nothing more', async () => {
    const slow = deferred();
    const h = harness('0 0 * * * *', { behaviour: () => slow.promise });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    expect(h.calls).toHaveLength(1);
    let stopped = false;
    const stopping = h.listener.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    slow.resolve();
    await stopping;
    expect(stopped).toBe(true);
    expect(await h.store.inner.get('sweep')).toEqual(status('2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T11:00:00Z'));
    expect(h.clock.pending).toBe(0);
    expect(h.listener.nextOccurrence).toBeUndefined();
    await h.clock.advanceTo('2026-01-01T15:00:00Z');
    expect(h.calls).toHaveLength(1);
  });

  it('cancels a pending retry at once', async () => {
    const h = harness('0 0 * * * *', {
      retry: { strategy: 'fixedDelay', maxRetryCount: 3, delayIntervalMs: 60_000 },
      behaviour: () => Promise.reject(new Error('boom')),
    });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    await h.listener.stop();
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pending).toBe(0);
    expect(h.logs.some(([, message]) => /cancelled because its listener is stopping/.test(message))).toBe(true);
  });

  it('is harmless before start and when repeated', async () => {
    const h = harness('0 0 * * * *');
    await h.listener.stop();
    await h.listener.stop();
    await expect(h.listener.start()).rejects.toThrow();
  });
});

describe('TimerListener fireNow', () => {
  it('runs with a fresh TimerInfo and leaves the schedule alone', async () => {
    const h = harness('0 0 * * * *');
    await h.listener.start();
    const before = await h.store.inner.get('sweep');
    await h.clock.advanceTo('2026-01-01T10:40:00Z');
    await h.listener.fireNow();
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.payload).toEqual({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false });
    expect(await h.store.inner.get('sweep')).toEqual(before);
    expect(h.listener.nextOccurrence?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T10:40:00.000Z', '2026-01-01T11:00:00.000Z']);
    expect(h.calls[1]!.payload.ScheduleStatus?.Last).toBe(DEFAULT);
    await h.listener.stop();
  });

  it('queues behind a scheduled run instead of overlapping it', async () => {
    const slow = deferred();
    const h = harness('0 0 * * * *', { behaviour: (n) => (n === 1 ? slow.promise : undefined) });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    const manual = h.listener.fireNow();
    await h.clock.advance(1000);
    expect(h.calls).toHaveLength(1);
    slow.resolve();
    await manual;
    expect(h.calls).toHaveLength(2);
    expect(h.maxActive()).toBe(1);
    await h.listener.stop();
  });

  it('applies the retry policy and never rejects', async () => {
    const h = harness('0 0 * * * *', {
      retry: { strategy: 'fixedDelay', maxRetryCount: 1, delayIntervalMs: 10 },
      behaviour: () => Promise.reject(new Error('manual failure')),
    });
    await h.listener.start();
    const manual = h.listener.fireNow();
    await h.clock.advance(10);
    await expect(manual).resolves.toBeUndefined();
    expect(h.calls.map((call) => call.context?.retryCount)).toEqual([0, 1]);
    await h.listener.stop();
  });

  it('does nothing after stop', async () => {
    const h = harness('0 0 * * * *');
    await h.listener.start();
    await h.listener.stop();
    await h.listener.fireNow();
    expect(h.calls).toHaveLength(0);
    expect(h.logs.some(([level, message]) => level === 'warning' && /not run manually/.test(message))).toBe(true);
  });
});

describe('TimerListener schedule monitor', () => {
  it.each([
    ['*/10 * * * * *', undefined],
    ['*/10 * * * * *', true],
    ['00:00:30', undefined],
  ])('is off for %s (useMonitor %s): ScheduleStatus null, no store I/O', async (expression, useMonitor) => {
    const h = harness(expression, { ...(useMonitor === undefined ? {} : { useMonitor }), start: '2026-01-01T10:30:00Z' });
    await h.listener.start();
    expect(h.listener.monitorEnabled).toBe(false);
    await h.clock.advance(30_000);
    expect(h.calls.length).toBeGreaterThanOrEqual(1);
    for (const call of h.calls) expect(call.payload.ScheduleStatus).toBeNull();
    expect(h.store.gets + h.store.updates).toBe(0);
    await h.listener.stop();
  });

  it('runs every 10 seconds without the monitor', async () => {
    const h = harness('*/10 * * * * *');
    await h.listener.start();
    await h.clock.advance(30_000);
    expect(h.calls.map((call) => call.at)).toEqual(['2026-01-01T10:30:10.000Z', '2026-01-01T10:30:20.000Z', '2026-01-01T10:30:30.000Z']);
    await h.listener.stop();
  });

  it('is off with useMonitor false even for an hourly schedule', async () => {
    const h = harness('0 0 * * * *', { useMonitor: false });
    await h.store.inner.update('sweep', status('2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', '2026-01-01T08:00:00Z'));
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T11:00:00Z');
    // No past-due run (the monitor is not consulted), and no status in the payload.
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.payload).toEqual({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false });
    expect(h.store.gets + h.store.updates).toBe(0);
    await h.listener.stop();
  });

  it('is on by default for a schedule of a minute or more', async () => {
    const h = harness('0 * * * * *');
    await h.listener.start();
    expect(h.listener.monitorEnabled).toBe(true);
    await h.clock.advance(60_000);
    expect(h.calls[0]!.payload.ScheduleStatus).not.toBeNull();
    expect((await h.store.inner.get('sweep'))?.last.getTime()).not.toBe(DOTNET_MIN_DATE_MS);
    await h.listener.stop();
  });

  it('keeps going when the status cannot be saved', async () => {
    const store = new CountingStore();
    store.failUpdates = true;
    const h = harness('0 0 * * * *', { store });
    await h.listener.start();
    await h.clock.advanceTo('2026-01-01T12:00:00Z');
    expect(h.calls).toHaveLength(2);
    expect(h.logs.some(([level, message]) => level === 'error' && /could not be saved: disk full/.test(message))).toBe(true);
    await h.listener.stop();
  });
});

describe('TimerListener with the system clock', () => {
  it('runs on startup and stops cleanly', async () => {
    const calls: TimerInfoPayload[] = [];
    let done!: () => void;
    const ran = new Promise<void>((resolve) => {
      done = resolve;
    });
    const listener = new TimerListener({
      name: 'real',
      schedule: parseTimerSchedule('0 0 0 1 1 *', { timeZone: 'UTC' }),
      monitor: new InMemoryScheduleMonitorStore(),
      runOnStartup: true,
      invoke: async (payload) => {
        calls.push(payload);
        done();
      },
      log: () => undefined,
    });
    await listener.start();
    await ran;
    await listener.stop();
    expect(calls).toHaveLength(1);
  });
});
