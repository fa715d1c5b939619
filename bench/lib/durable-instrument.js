'use strict';
// Bench-only instrumentation of a running OrchestrationEngine: counts (and times, with a monotonic clock) the
// TaskHubStore calls the engine makes, and notes when each instance is created and when it reaches a terminal
// status. Nothing here changes what the engine does; the wrappers add two performance.now() calls per store call.
//
// It reaches the engine's store through `engine.store` (a TypeScript-private field, a plain property at run time).

const fs = require('node:fs');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const STALL_MS = 2;
const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);
const WRITES = ['commit', 'createInstance', 'completeWorkItems', 'leaseWorkItems', 'enqueue', 'deleteInbox'];
const READS = ['getInstance', 'visibleInbox', 'getHistoryJson', 'readyInstances', 'nextVisibleAt', 'nextLeaseExpiry'];

/** Machine-wide CPU time (ms) from /proc/stat: busy (everything but idle and iowait) and total; undefined elsewhere. */
function systemCpu() {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((sum, v) => sum + v, 0);
    const idle = fields[3] + fields[4];
    return { busyMs: (total - idle) * 10, totalMs: total * 10 };
  } catch {
    return undefined;
  }
}

function newCounters() {
  return {
    calls: Object.fromEntries([...WRITES, ...READS].map((name) => [name, 0])),
    ms: Object.fromEntries([...WRITES, ...READS].map((name) => [name, 0])),
    maxMs: Object.fromEntries([...WRITES, ...READS].map((name) => [name, 0])),
    completedItems: 0,
    /** Store calls slower than STALL_MS (WAL checkpoints, I/O stalls, preemption), and their total time. */
    stalls: 0,
    stallMs: 0,
    leasedItems: 0,
    historyRowsWritten: 0,
  };
}

class EngineInstrument {
  constructor(engine) {
    this.engine = engine;
    this.store = engine.store;
    if (!this.store || typeof this.store.commit !== 'function') throw new Error('engine.store is not a TaskHubStore (the engine internals changed)');
    this.phase = undefined;
    for (const name of [...WRITES, ...READS]) this.wrap(name);
  }

  wrap(name) {
    const store = this.store;
    const original = store[name].bind(store);
    const self = this;
    store[name] = function instrumented(...args) {
      const t0 = performance.now();
      const result = original(...args);
      const t1 = performance.now();
      const phase = self.phase;
      if (phase) {
        phase.counters.calls[name]++;
        phase.counters.ms[name] += t1 - t0;
        if (t1 - t0 > phase.counters.maxMs[name]) phase.counters.maxMs[name] = t1 - t0;
        if (t1 - t0 > STALL_MS) {
          phase.counters.stalls++;
          phase.counters.stallMs += t1 - t0;
        }
        if (name === 'commit') self.onCommit(phase, args[0], t1);
        else if (name === 'createInstance') self.onCreate(phase, args[0], t0);
        else if (name === 'completeWorkItems') phase.counters.completedItems += args[0].length;
        else if (name === 'leaseWorkItems') phase.counters.leasedItems += result.length;
      }
      return result;
    };
  }

  onCreate(phase, state, t) {
    phase.created++;
    if (phase.firstCreateAt === undefined) phase.firstCreateAt = t;
    phase.lastCreateAt = t;
    phase.createdAt.set(state.instanceId, t);
  }

  onCommit(phase, change, t) {
    phase.counters.historyRowsWritten += change.appendHistory.length;
    // A terminal status with history appended is the episode that finished the instance (late messages for a
    // finished instance are consumed by a commit without history).
    if (!TERMINAL.has(change.instance.runtimeStatus) || change.appendHistory.length === 0) return;
    phase.finished++;
    if (change.instance.runtimeStatus !== 'Completed') phase.failed++;
    phase.lastFinishAt = t;
    phase.finishedAt.set(change.instanceId, t);
    if (phase.finished >= phase.expected && phase.resolve) phase.resolve();
  }

  /** Starts a measured phase that ends when `expected` instances have finished (or on timeout). */
  begin(label, expected) {
    if (this.phase) throw new Error(`phase ${this.phase.label} still open`);
    let resolve;
    const done = new Promise((r) => (resolve = r));
    // The longest stretches the event loop was blocked (one synchronous chunk of work, e.g. a WAL checkpoint).
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const phase = {
      label,
      expected,
      startedAt: performance.now(),
      created: 0,
      firstCreateAt: undefined,
      lastCreateAt: undefined,
      createdAt: new Map(),
      finished: 0,
      failed: 0,
      lastFinishAt: undefined,
      finishedAt: new Map(),
      counters: newCounters(),
      stats0: { ...this.engine.stats },
      cpu0: process.cpuUsage(),
      sys0: systemCpu(),
      elu0: performance.eventLoopUtilization(),
      resolve,
      done,
      loopDelay,
    };
    this.phase = phase;
    return phase;
  }

  /** Waits for the phase's instances (bounded) and closes it; returns the phase with its derived figures. */
  async end(phase, timeoutMs) {
    let timer;
    const timedOut = await Promise.race([
      phase.done.then(() => false),
      new Promise((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    const endedAt = performance.now();
    this.phase = undefined;
    phase.loopDelay.disable();
    // nanoseconds -> ms; the histogram's floor is its 1 ms sampling resolution.
    phase.loopDelayP99Ms = phase.loopDelay.percentile(99) / 1e6;
    phase.loopDelayMaxMs = phase.loopDelay.max / 1e6;
    const cpu = process.cpuUsage(phase.cpu0);
    const elu = performance.eventLoopUtilization(phase.elu0);
    const stats = this.engine.stats;
    phase.timedOut = timedOut;
    phase.endedAt = endedAt;
    phase.episodes = stats.episodes - phase.stats0.episodes;
    phase.activities = stats.activities - phase.stats0.activities;
    phase.historyEventsReplayed = stats.historyEventsReplayed - phase.stats0.historyEventsReplayed;
    const wallMs = endedAt - phase.startedAt;
    phase.cpuShare = (cpu.user + cpu.system) / 1000 / wallMs;
    const sys1 = systemCpu();
    // CPU used by other processes meanwhile, in cores (USER_HZ = 100 assumed; 10 ms resolution).
    phase.otherCores = phase.sys0 && sys1 ? Math.max(0, (sys1.busyMs - phase.sys0.busyMs - (cpu.user + cpu.system) / 1000) / wallMs) : NaN;
    phase.elu = elu.utilization;
    phase.maxStoreCallMs = Math.max(...Object.values(phase.counters.maxMs));
    phase.writeMs = WRITES.reduce((sum, name) => sum + phase.counters.ms[name], 0);
    phase.readMs = READS.reduce((sum, name) => sum + phase.counters.ms[name], 0);
    phase.writeTx = WRITES.reduce((sum, name) => sum + phase.counters.calls[name], 0);
    // First create -> last completion (Netherite's measure), monotonic clock.
    phase.makespanMs = phase.firstCreateAt !== undefined && phase.lastFinishAt !== undefined ? phase.lastFinishAt - phase.firstCreateAt : NaN;
    return phase;
  }

  /** Per-instance create -> finish durations of a phase, in ms. */
  static durations(phase) {
    const out = [];
    for (const [id, t] of phase.finishedAt) {
      const c = phase.createdAt.get(id);
      if (c !== undefined) out.push(t - c);
    }
    return out;
  }
}

module.exports = { EngineInstrument, TERMINAL, STALL_MS, systemCpu };
