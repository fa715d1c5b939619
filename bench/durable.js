#!/usr/bin/env node
'use strict';
// Durable Functions task hub of the embedded host: throughput and latency of orchestrations on the embedded
// SQLite store, printed side by side with the raw SQLite rate of the same write shape measured in the same run
// and with published figures of the Azure backends (docs: /work/shared/docs/performance-and-reliability.md A1,
// A5, A6). Figures only; nothing is asserted.
//
//   node bench/durable.js [--quick] [--only p1,p2,http,p3,p5,sqlite] [--cpu-prof] [--json out.json]
//        [--p2-runs 1000,10000] [--http-runs 200] [--p5-steps 1000] [--sqlite-ms 1500] [--rounds 3]
//
// AIQ_BENCH_DIST=<dir> runs another build of the host (see bench/lib/common.js), e.g. a clean checkout of HEAD
// compiled elsewhere while the working tree is mid-edit.
//
// Process model: the host runs IN THIS PROCESS (EmbeddedHost from dist/host on test/fixtures/bench-durable-app),
// and so does everything that drives it: orchestrations are started with engine.startNew() (no HTTP) except in
// the HTTP-starter phase, whose loopback fetch() client also runs here and is charged to the same CPU. The app's
// activities, the durable-functions replay, the engine and SQLite all share one event loop, as in production.
//
// Phases:
//   P1   one run of N sequential no-op activities (N = 1, 5, 20, 100), one run at a time, repeated; steps/s per
//        run and per-step latency from a monotonic clock: the fixture's `Step` activity reports to a probe this
//        script installs, so step k's latency is the time between activity k-1 and activity k starting (step 1:
//        startNew -> activity 1), i.e. one full cycle of completion commit, episode (replay + commit), lease
//        and dispatch.
//   P2   1,000 (and, without --quick, 10,000) HelloSequence5 runs (5 sequential no-op activities) created at once
//        with engine.startNew(), then first create -> last completion as Netherite measures it. runs/s; events/s
//        counted as Netherite does (10 per run = 5 TaskScheduled + 5 TaskCompleted); also the episodes/s and store
//        transactions/s behind it.
//   HTTP a smaller batch three ways, same run: engine.startNew(); one request to the app's StartBatch function,
//        which calls client.startNew() for every run at once (durable-functions sends each start to the host's
//        Durable HTTP API: how the published benchmarks start their batches); one request per run to the usual
//        HTTP starter (POST /api/orchestrators/HelloSequence5 -> client.startNew -> Durable HTTP API).
//   P3   fan-out/fan-in over N = 10, 100, 1,000 no-op activities; makespan (startNew -> completion commit).
//   P5   one run of a long sequence (1,000 steps; 300 with --quick); per-step latency at step k and its slope.
//   SQL  the raw SQLite ceiling: better-sqlite3 alone with the task hub's schema and pragmas running the
//        episode transaction (INSERT history rows + UPSERT instance + DELETE inbox + INSERT work item), the same
//        through TaskHubStore.commit(), and a whole unbatched step (reads + 3 transactions). See
//        bench/lib/durable-sqlite-baseline.js.
//
// --cpu-prof adds one profiled round of P2 (the first batch size), of the HTTP starter, of the 1,000-way fan-out and
// of the P5 sequence (node:inspector, in this process; the profiled rounds are reported apart and not in the tables),
// writes the .cpuprofile files to a temp folder and prints where the time goes (bench/lib/cpuprofile.js). The
// profiler's own Profiler.stop shows up as 'dispatch' (node:inspector). The whole process can also be profiled by
// hand: node --cpu-prof --cpu-prof-dir=<dir> bench/durable.js --only p2, then node bench/lib/cpuprofile.js <file>.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const common = require('./lib/common.js');
const { EngineInstrument, STALL_MS, systemCpu } = require('./lib/durable-instrument.js');
const baseline = require('./lib/durable-sqlite-baseline.js');
const { summarizeProfile, printProfileSummary } = require('./lib/cpuprofile.js');

const APP_DIR = path.join(common.REPO_ROOT, 'test', 'fixtures', 'bench-durable-app');
const PHASES = ['p1', 'p2', 'http', 'p3', 'p5', 'sqlite'];

const opts = common.parseArgs({
  quick: false,
  only: [''],
  cpuProf: false,
  json: '',
  p2Runs: [0],
  httpRuns: 0,
  p5Steps: 0,
  sqliteMs: 0,
  rounds: 0,
});

const Q = opts.quick;
const CONFIG = {
  p1: Q ? { 1: 10, 5: 6, 20: 3, 100: 1 } : { 1: 30, 5: 15, 20: 8, 100: 3 },
  p2Runs: opts.p2Runs.filter(Boolean).length ? opts.p2Runs.filter(Boolean) : Q ? [1000] : [1000, 10000],
  httpRuns: opts.httpRuns || (Q ? 100 : 200),
  p3: Q ? { 10: 3, 100: 2, 1000: 1 } : { 10: 5, 100: 3, 1000: 2 },
  p5Steps: opts.p5Steps || (Q ? 300 : 1000),
  sqliteMs: opts.sqliteMs || (Q ? 500 : 1500),
  rounds: opts.rounds || (Q ? 1 : 3),
  phaseTimeoutMs: Q ? 20_000 : 60_000,
};
const only = opts.only.filter(Boolean).map((s) => s.toLowerCase());
for (const p of only) if (!PHASES.includes(p)) throw new Error(`--only: unknown phase ${p} (known: ${PHASES.join(',')})`);
const enabled = (p) => only.length === 0 || only.includes(p);

// Published figures (docs A1). Per 2-core worker where stated.
const PUBLISHED = {
  netheriteEp2RunsPerSec: 170, // 1,708 ev/s / 10 events per run (Netherite docs/throughput.md, EP2, 1 node)
  netheriteEp2EventsPerSec: 1708,
  netheriteEp2Scenario: 150, // docs/scenarios.md: HelloSequence5 on one EP2 worker
  dtsEp2RunsPerSec: 127, // ~1,400 work items/s / 11 actions per run (Learn, DTS benchmarks, EP2 x1)
  mssql2vCoreRunsPerSec: 21, // durabletask-mssql docs/scaling.md
  azureStorageSequentialActPerSec: 5, // per instance (azure-docs, Azure Storage provider)
  azureStorageFanOutPerSec: 100,
  azureStorageFanInPerSec: 150,
  netheriteEp2SequentialActPerSec: 300, // sequential in one run, EP2 (docs/scenarios.md)
  targetRunsPerSec: 200,
  targetFanOut1000Ms: 3000,
};

// ------------------------------------------------------------------------------------------ host

/** Host log lines at warn or above (the fixture logs at Warning), kept to show errors after the run. */
function logSink() {
  const { Writable } = require('node:stream');
  const sink = { lines: 0, warnings: 0, errors: 0, samples: [] };
  sink.stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        sink.lines++;
        let level = '';
        try {
          level = JSON.parse(line).level;
        } catch {
          level = /error/i.test(line) ? 'error' : '';
        }
        if (level === 'warn') sink.warnings++;
        if (level === 'error' || level === 'fatal') sink.errors++;
        if ((level === 'error' || level === 'fatal' || level === 'warn') && sink.samples.length < 5) sink.samples.push(line.slice(0, 400));
      }
      cb();
    },
  });
  return sink;
}

function readHostJson() {
  const text = fs.readFileSync(path.join(APP_DIR, 'host.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  return JSON.parse(text);
}

/** The file system that holds `dir` (longest mount point prefix in /proc/mounts). */
function fileSystemOf(dir) {
  try {
    const real = fs.realpathSync(dir);
    let best = { mount: '', type: 'unknown', device: '' };
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mount, type] = line.split(' ');
      if (mount && (real === mount || real.startsWith(mount.endsWith('/') ? mount : mount + '/')) && mount.length >= best.mount.length) best = { mount, type, device };
    }
    return `${best.type} on ${best.device} (mounted at ${best.mount})`;
  } catch {
    return 'unknown';
  }
}

// ------------------------------------------------------------------------------------------ probe

/** Step activity timestamps per instance (monotonic ms), filled by the fixture's `Step` activity. */
const probe = new Map();
globalThis.__aiqDurableBenchProbe = (instanceId, index) => {
  let list = probe.get(instanceId);
  if (!list) probe.set(instanceId, (list = []));
  list.push([index, performance.now()]);
};

/** Per-step latencies of a sequential run: step 1 from create, step k from step k-1 (ms, index = k - 1). */
function stepLatencies(instanceId, createdAt) {
  const list = (probe.get(instanceId) || []).slice().sort((a, b) => a[0] - b[0]);
  const out = [];
  let previous = createdAt;
  for (const [, t] of list) {
    out.push(t - previous);
    previous = t;
  }
  return out;
}

// ------------------------------------------------------------------------------------------ helpers

const fmt = {
  int: common.fmtInt,
  ms: common.fmtMs,
  pct: common.fmtPct,
  rate: (n) => (Number.isFinite(n) ? (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)) : 'n/a'),
};

async function settle() {
  // Let timers, pending completions and the WAL settle between phases.
  await common.sleep(100);
}

let profileSession;
let profileDir;
async function profileStart() {
  if (!opts.cpuProf) return;
  const inspector = require('node:inspector');
  if (!profileSession) {
    profileSession = new inspector.Session();
    profileSession.connect();
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-durable-prof-'));
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
  }
  await post('Profiler.start');
}
function post(method, params) {
  return new Promise((resolve, reject) => profileSession.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
}
async function profileStop(label) {
  if (!opts.cpuProf) return undefined;
  const { profile } = await post('Profiler.stop');
  const file = path.join(profileDir, `${label}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  // Paths relative to the folder holding dist/ (the repo unless AIQ_BENCH_DIST points elsewhere).
  return { file, summary: summarizeProfile(profile, { root: path.resolve(common.DIST_HOST, '..', '..'), top: 20 }) };
}

// ------------------------------------------------------------------------------------------ phases

async function runSequentialOnce(engine, instrument, n, label) {
  const phase = instrument.begin(label, 1);
  const id = engine.startNew('Sequence', { input: String(n) });
  await instrument.end(phase, CONFIG.phaseTimeoutMs);
  const created = phase.createdAt.get(id);
  const latencies = stepLatencies(id, created);
  probe.delete(id);
  return { phase, id, latencies, ms: phase.makespanMs, ok: phase.finished === 1 && phase.failed === 0 && latencies.length === n };
}

async function phaseP1(engine, instrument, results) {
  console.log('\nP1  One run of N sequential no-op activities, one run at a time (engine.startNew)');
  console.log('    steps/s = N / (create -> completion commit), median over runs; step latency = time between consecutive');
  console.log('    activity starts (step 1: from create), monotonic clock, pooled over runs.');
  const rows = [['N', 'runs', 'run ms (median)', 'steps/s (median)', 'step p50 ms', 'step p99 ms', 'step max ms', `store calls >${STALL_MS} ms (slowest)`, 'loop delay max ms', 'episodes/run', 'store tx/run', 'other procs (cores)']];
  const out = [];
  for (const [nText, reps] of Object.entries(CONFIG.p1)) {
    const n = Number(nText);
    const runs = [];
    for (let r = 0; r < reps; r++) runs.push(await runSequentialOnce(engine, instrument, n, `p1-${n}`));
    const ok = runs.filter((r) => r.ok);
    const ms = common.median(ok.map((r) => r.ms));
    const lat = common.summarize(ok.flatMap((r) => r.latencies));
    const episodes = common.median(ok.map((r) => r.phase.episodes));
    const tx = common.median(ok.map((r) => r.phase.writeTx));
    const slowestStoreCall = Math.max(...ok.map((r) => r.phase.maxStoreCallMs));
    const stalls = ok.reduce((sum, r) => sum + r.phase.counters.stalls, 0);
    const loopDelayMax = Math.max(...ok.map((r) => r.phase.loopDelayMaxMs));
    const other = common.median(ok.map((r) => r.phase.otherCores));
    const row = {
      n,
      runs: ok.length,
      failedRuns: runs.length - ok.length,
      runMsMedian: ms,
      stepsPerSec: (n * 1000) / ms,
      stepP50: lat.p50,
      stepP99: lat.p99,
      stepMax: lat.max,
      slowestStoreCallMs: slowestStoreCall,
      storeStalls: stalls,
      loopDelayMaxMs: loopDelayMax,
      episodesPerRun: episodes,
      storeTxPerRun: tx,
      otherCores: other,
    };
    out.push(row);
    rows.push([
      String(n),
      `${ok.length}${runs.length > ok.length ? ` (+${runs.length - ok.length} failed)` : ''}`,
      fmt.ms(ms),
      fmt.rate(row.stepsPerSec),
      fmt.ms(lat.p50),
      fmt.ms(lat.p99),
      fmt.ms(lat.max),
      `${stalls} (${fmt.ms(slowestStoreCall)})`,
      fmt.ms(loopDelayMax),
      fmt.rate(episodes),
      fmt.rate(tx),
      Number.isFinite(other) ? other.toFixed(2) : 'n/a',
    ]);
    await settle();
  }
  common.printTable(rows);
  const n100 = out.find((r) => r.n === 100);
  console.log(
    `    Compare: DF Azure Storage ≈ ${PUBLISHED.azureStorageSequentialActPerSec} act/s per instance; Netherite EP2 ≈ ${PUBLISHED.netheriteEp2SequentialActPerSec} act/s ` +
      `sequential in one run. Ours (N=100): ${n100 ? fmt.rate(n100.stepsPerSec) : 'n/a'} steps/s.`,
  );
  results.p1 = out;
}

function describeBatch(phase, runs) {
  const durations = common.summarize(EngineInstrument.durations(phase));
  const seconds = phase.makespanMs / 1000;
  return {
    runs,
    completed: phase.finished - phase.failed,
    failed: phase.failed,
    timedOut: phase.timedOut,
    submitMs: phase.lastCreateAt - phase.firstCreateAt,
    makespanMs: phase.makespanMs,
    runsPerSec: (phase.finished - phase.failed) / seconds,
    eventsPerSec: ((phase.finished - phase.failed) * 10) / seconds,
    episodes: phase.episodes,
    episodesPerSec: phase.episodes / seconds,
    activities: phase.activities,
    historyRowsWritten: phase.counters.historyRowsWritten,
    storeWriteTx: phase.writeTx,
    storeWriteTxPerSec: phase.writeTx / seconds,
    calls: phase.counters.calls,
    completionBatchAvg: phase.counters.completedItems / Math.max(1, phase.counters.calls.completeWorkItems),
    leaseBatchAvg: phase.counters.leasedItems / Math.max(1, phase.counters.calls.leaseWorkItems),
    storeWriteShare: phase.writeMs / phase.makespanMs,
    storeReadShare: phase.readMs / phase.makespanMs,
    historyEventsReplayed: phase.historyEventsReplayed,
    cpuShare: phase.cpuShare,
    elu: phase.elu,
    otherCores: phase.otherCores,
    slowestStoreCallMs: phase.maxStoreCallMs,
    stalls: phase.counters.stalls,
    stallMs: phase.counters.stallMs,
    loopDelayP99Ms: phase.loopDelayP99Ms,
    loopDelayMaxMs: phase.loopDelayMaxMs,
    runMs: { p50: durations.p50, p99: durations.p99, max: durations.max },
  };
}

function printBatch(label, b) {
  console.log(`  ${label}`);
  console.log(
    `    ${b.completed}/${b.runs} completed${b.failed ? `, ${b.failed} FAILED` : ''}${b.timedOut ? ', TIMED OUT' : ''}; submit ${fmt.ms(b.submitMs)} ms; ` +
      `first create -> last completion ${fmt.ms(b.makespanMs)} ms`,
  );
  console.log(`    => ${fmt.rate(b.runsPerSec)} runs/s, ${fmt.int(b.eventsPerSec)} events/s (Netherite count: 10 per run), per-run latency p50 ${fmt.ms(b.runMs.p50)} / p99 ${fmt.ms(b.runMs.p99)} ms`);
  console.log(
    `    behind it: ${fmt.int(b.episodes)} episodes (${fmt.int(b.episodesPerSec)}/s), ${fmt.int(b.activities)} activities, ${fmt.int(b.historyRowsWritten)} history rows, ` +
      `${fmt.int(b.storeWriteTx)} store write calls (${fmt.int(b.storeWriteTxPerSec)}/s: ${b.calls.createInstance} create, ${b.calls.commit} episode commits, ` +
      `${b.calls.completeWorkItems} completion batches of ${b.completionBatchAvg.toFixed(1)} avg, ${b.calls.leaseWorkItems} lease calls of ${b.leaseBatchAvg.toFixed(1)} items avg)`,
  );
  console.log(
    `    time in store writes ${fmt.pct(b.storeWriteShare)} and store reads ${fmt.pct(b.storeReadShare)} of the makespan; process CPU ${fmt.pct(b.cpuShare)} of one core; ` +
      `event-loop utilization ${fmt.pct(b.elu)}; ${fmt.int(b.historyEventsReplayed)} history events handed to the orchestrators`,
  );
  console.log(`    event-loop delay p99 ${fmt.ms(b.loopDelayP99Ms)} ms, max ${fmt.ms(b.loopDelayMaxMs)} ms (longest blocked stretches: the synchronous submit loop, a WAL checkpoint, ...); store calls over ${STALL_MS} ms: ${b.stalls} (${fmt.ms(b.stallMs)} ms in all), slowest ${fmt.ms(b.slowestStoreCallMs)} ms; other processes used ${Number.isFinite(b.otherCores) ? b.otherCores.toFixed(2) : 'n/a'} of the 2 cores meanwhile`);
}

/** The round with the median of `key` (so its other figures belong to the same run), with every round's value. */
function medianRound(rounds, key) {
  const sorted = [...rounds].sort((x, y) => x[key] - y[key]);
  return { ...sorted[(sorted.length - 1) >> 1], rounds: rounds.length, [`${key}AllRounds`]: rounds.map((r) => +r[key].toFixed(1)) };
}

function roundsNote(b, key) {
  const all = b[`${key}AllRounds`];
  return all && all.length > 1 ? ` (median of ${all.length} rounds: ${all.map((v) => fmt.rate(v)).join(', ')})` : '';
}

/** One batch of `runs` HelloSequence5 created at once with engine.startNew. */
async function p2Batch(engine, instrument, runs, label) {
  const phase = instrument.begin(label, runs);
  const prefix = `${label}-`;
  for (let i = 0; i < runs; i++) engine.startNew('HelloSequence5', { instanceId: `${prefix}${String(i).padStart(6, '0')}`, input: null });
  await instrument.end(phase, Math.max(CONFIG.phaseTimeoutMs, runs * 20));
  const b = describeBatch(phase, runs);
  // Netherite's measure from the stored instance records (ms timestamps), as a cross-check of the monotonic one.
  let minCreated = Infinity;
  let maxUpdated = -Infinity;
  let token;
  do {
    const page = engine.listInstances({ instanceIdPrefix: prefix, top: 1000, continuationToken: token });
    for (const inst of page.instances) {
      minCreated = Math.min(minCreated, inst.createdTime.getTime());
      maxUpdated = Math.max(maxUpdated, inst.lastUpdatedTime.getTime());
    }
    token = page.continuationToken;
  } while (token);
  b.storedTimestampsMakespanMs = maxUpdated - minCreated;
  // Free the rows (keeps the later phases' tables small).
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
  await settle();
  return b;
}

async function phaseP2(engine, instrument, results) {
  results.p2 = [];
  for (const runs of CONFIG.p2Runs) {
    const rounds = runs <= 1000 ? CONFIG.rounds : 1;
    console.log(
      `\nP2  ${fmt.int(runs)} HelloSequence5 runs created at once (engine.startNew in one synchronous loop), first create -> last completion` +
        (rounds > 1 ? `; ${rounds} rounds, the median round shown` : ''),
    );
    const all = [];
    for (let r = 0; r < rounds; r++) all.push(await p2Batch(engine, instrument, runs, `p2-${runs}-r${r}`));
    const b = medianRound(all, 'runsPerSec');
    printBatch(`${fmt.int(runs)} × HelloSequence5 via engine.startNew${roundsNote(b, 'runsPerSec')}`, b);
    console.log(`    cross-check from the stored records: max(lastUpdatedTime) - min(createdTime) = ${fmt.int(b.storedTimestampsMakespanMs)} ms`);
    results.p2.push(b);
  }
  if (opts.cpuProf) {
    const runs = CONFIG.p2Runs[0];
    await profileStart();
    const b = await p2Batch(engine, instrument, runs, `p2-${runs}-profiled`);
    results.p2Profile = await profileStop(`p2-hellosequence5-${runs}`);
    results.p2Profiled = b;
    console.log(`  an extra PROFILED round of ${fmt.int(runs)}: ${fmt.rate(b.runsPerSec)} runs/s (not in the table)`);
  }
  const rows = [
    ['HelloSequence5 throughput', 'runs/s', 'events/s', 'source'],
    ...results.p2.map((b) => [`embedded host, ×${fmt.int(b.runs)} (this run)`, fmt.rate(b.runsPerSec), fmt.int(b.eventsPerSec), 'measured here: 2 vCPU, 1 process, SQLite WAL NORMAL']),
    ['target', String(PUBLISHED.targetRunsPerSec), fmt.int(PUBLISHED.targetRunsPerSec * 10), 'issue / docs A6'],
    ['Netherite, EP2 (2 cores), 1 node', `≈${PUBLISHED.netheriteEp2RunsPerSec}`, fmt.int(PUBLISHED.netheriteEp2EventsPerSec), 'durabletask-netherite docs/throughput.md'],
    ['Netherite, 1 EP2 worker (scenarios)', `≈${PUBLISHED.netheriteEp2Scenario}`, '', 'durabletask-netherite docs/scenarios.md'],
    ['Durable Task Scheduler, EP2 ×1', `≈${PUBLISHED.dtsEp2RunsPerSec}`, '≈1,400 items', 'Learn, DTS throughput benchmarks'],
    ['MSSQL backend, 2 vCores', `≈${PUBLISHED.mssql2vCoreRunsPerSec}`, '', 'durabletask-mssql docs/scaling.md'],
  ];
  console.log('');
  common.printTable(rows);
}

async function postJson(url) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text).id;
}

async function httpDirect(engine, instrument, runs) {
  const phase = instrument.begin('http-direct', runs);
  for (let i = 0; i < runs; i++) engine.startNew('HelloSequence5', { input: null });
  await instrument.end(phase, CONFIG.phaseTimeoutMs);
  const d = describeBatch(phase, runs);
  d.runsPerSecFromFirstRequest = d.runsPerSec;
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
  await settle();
  return d;
}

async function httpBatchStarter(host, instrument, engine, runs) {
  const phase = instrument.begin('http-batch', runs);
  const t0 = performance.now();
  const response = await fetch(`${host.baseUrl}/api/start-batch/HelloSequence5?count=${runs}`, { method: 'POST' });
  const body = await response.text();
  const respondedAt = performance.now();
  if (response.status !== 200) {
    phase.expected = 0;
    phase.resolve();
  }
  await instrument.end(phase, CONFIG.phaseTimeoutMs);
  const c = describeBatch(phase, runs);
  c.httpStatus = response.status;
  c.httpBody = response.status === 200 ? undefined : body.slice(0, 300);
  c.requestMs = respondedAt - t0;
  c.firstRequestToLastCompletionMs = phase.lastFinishAt - t0;
  c.runsPerSecFromFirstRequest = c.completed / (c.firstRequestToLastCompletionMs / 1000) || 0;
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
  await settle();
  return c;
}

async function httpStarter(host, instrument, engine, runs) {
  const url = `${host.baseUrl}/api/orchestrators/HelloSequence5`;
  const phase = instrument.begin('http', runs);
  const t0 = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: runs }, () => postJson(url)));
  const submittedAt = performance.now();
  const errors = settled.filter((x) => x.status === 'rejected');
  phase.expected = runs - errors.length;
  if (phase.finished >= phase.expected) phase.resolve();
  await instrument.end(phase, CONFIG.phaseTimeoutMs);
  const h = describeBatch(phase, runs);
  h.httpErrors = errors.length;
  h.firstHttpError = errors[0] ? String(errors[0].reason && errors[0].reason.message) : undefined;
  h.httpSubmitMs = submittedAt - t0;
  h.firstRequestToLastCompletionMs = phase.lastFinishAt - t0;
  h.runsPerSecFromFirstRequest = h.completed / (h.firstRequestToLastCompletionMs / 1000) || 0;
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
  await settle();
  return h;
}

async function phaseHttp(host, engine, instrument, results) {
  const runs = CONFIG.httpRuns;
  const rounds = CONFIG.rounds;
  console.log(`\nP2-HTTP  ${runs} HelloSequence5 runs started three ways, same host, same run: engine.startNew; one request to a`);
  console.log(`    StartBatch function that calls client.startNew ${runs} times at once; ${runs} requests to the HTTP starter, all issued at once`);
  console.log("    (fetch, loopback, in this process). client.startNew is an HTTP request to this host's Durable HTTP API (durable-functions'");
  console.log(`    axios client), so the starter costs two HTTP requests per run.${rounds > 1 ? ` ${rounds} rounds, interleaved; the median round of each shown.` : ''}`);
  const direct = [];
  const batch = [];
  const http = [];
  for (let r = 0; r < rounds; r++) {
    direct.push(await httpDirect(engine, instrument, runs));
    batch.push(await httpBatchStarter(host, instrument, engine, runs));
    http.push(await httpStarter(host, instrument, engine, runs));
  }
  const d = medianRound(direct, 'runsPerSecFromFirstRequest');
  const c = medianRound(batch, 'runsPerSecFromFirstRequest');
  const h = medianRound(http, 'runsPerSecFromFirstRequest');
  printBatch(`${runs} × HelloSequence5 via engine.startNew (the comparison)${roundsNote(d, 'runsPerSecFromFirstRequest')}`, d);
  printBatch(`${runs} × HelloSequence5 via one request to StartBatch (client.startNew × ${runs} at once -> Durable HTTP API)${roundsNote(c, 'runsPerSecFromFirstRequest')}`, c);
  console.log(
    `    StartBatch answered ${c.httpStatus}${c.httpBody ? ` ${c.httpBody}` : ''} after ${fmt.ms(c.requestMs)} ms; request -> last completion ${fmt.ms(c.firstRequestToLastCompletionMs)} ms = ` +
      `${fmt.rate(c.runsPerSecFromFirstRequest)} runs/s (vs ${fmt.rate(d.runsPerSec)} runs/s with engine.startNew: ×${(d.runsPerSec / c.runsPerSecFromFirstRequest).toFixed(2)})`,
  );
  printBatch(`${runs} × HelloSequence5 via ${runs} requests to the HTTP starter${roundsNote(h, 'runsPerSecFromFirstRequest')}`, h);
  console.log(
    `    HTTP: all ${runs} responses (202) after ${fmt.ms(h.httpSubmitMs)} ms${h.httpErrors ? `, ${h.httpErrors} ERRORS (first: ${h.firstHttpError})` : ''}; ` +
      `first request -> last completion ${fmt.ms(h.firstRequestToLastCompletionMs)} ms = ${fmt.rate(h.runsPerSecFromFirstRequest)} runs/s ` +
      `(vs ${fmt.rate(d.runsPerSec)} runs/s without HTTP: ×${(d.runsPerSec / h.runsPerSecFromFirstRequest).toFixed(2)})`,
  );
  results.http = { direct: d, batchStarter: c, http: h };
  if (opts.cpuProf) {
    await profileStart();
    const hp = await httpStarter(host, instrument, engine, runs);
    results.httpProfile = await profileStop('http-starter');
    console.log(`  an extra PROFILED round through the HTTP starter: ${fmt.rate(hp.runsPerSecFromFirstRequest)} runs/s (not above)`);
  }
}

async function phaseP3(engine, instrument, results) {
  console.log('\nP3  Fan-out/fan-in over N no-op activities (Task.all), one run at a time; makespan = create -> completion commit');
  const rows = [['N', 'runs', 'makespan ms (median)', 'min', 'max', 'activities/s', 'to 1st activity ms', 'fan-in ms', 'episodes/run', 'events replayed/run', 'loop delay max ms', 'other procs (cores)']];
  const out = [];
  for (const [nText, reps] of Object.entries(CONFIG.p3)) {
    const n = Number(nText);
    const runs = [];
    const extra = n === 1000 && opts.cpuProf ? 1 : 0;
    for (let r = 0; r < reps + extra; r++) {
      const profiled = extra === 1 && r === reps;
      if (profiled) await profileStart();
      const phase = instrument.begin(`p3-${n}`, 1);
      const id = engine.startNew('FanOutFanIn', { input: String(n) });
      await instrument.end(phase, CONFIG.phaseTimeoutMs);
      const prof = profiled ? await profileStop('p3-fanout-1000') : undefined;
      const steps = (probe.get(id) || []).map(([, t]) => t);
      probe.delete(id);
      const created = phase.createdAt.get(id);
      const firstActivity = Math.min(...steps);
      const lastActivity = Math.max(...steps);
      runs.push({
        ok: phase.finished === 1 && phase.failed === 0 && steps.length === n,
        makespanMs: phase.makespanMs,
        toFirstActivityMs: firstActivity - created,
        activitiesSpanMs: lastActivity - firstActivity,
        fanInMs: phase.lastFinishAt - lastActivity,
        episodes: phase.episodes,
        replayed: phase.historyEventsReplayed,
        otherCores: phase.otherCores,
        loopDelayMaxMs: phase.loopDelayMaxMs,
        profiled: Boolean(profiled),
        prof,
      });
      await settle();
    }
    const ok = runs.filter((r) => r.ok && !r.profiled);
    const makespans = ok.map((r) => r.makespanMs);
    const m = common.median(makespans);
    const row = {
      n,
      runs: ok.length,
      failedRuns: runs.filter((r) => !r.ok).length,
      makespanMsMedian: m,
      makespanMsMin: Math.min(...makespans),
      makespanMsMax: Math.max(...makespans),
      activitiesPerSec: (n * 1000) / m,
      toFirstActivityMs: common.median(ok.map((r) => r.toFirstActivityMs)),
      fanInMs: common.median(ok.map((r) => r.fanInMs)),
      episodesPerRun: common.median(ok.map((r) => r.episodes)),
      replayedPerRun: common.median(ok.map((r) => r.replayed)),
      otherCores: common.median(ok.map((r) => r.otherCores)),
      loopDelayMaxMs: Math.max(...ok.map((r) => r.loopDelayMaxMs)),
    };
    const profiledRun = runs.find((r) => r.profiled);
    if (profiledRun) {
      row.profiledMakespanMs = profiledRun.makespanMs;
      results.p3Profile = profiledRun.prof;
    }
    out.push(row);
    rows.push([
      String(n),
      `${ok.length}${row.failedRuns ? ` (+${row.failedRuns} failed)` : ''}${profiledRun ? ' (+1 profiled)' : ''}`,
      fmt.ms(m),
      fmt.ms(row.makespanMsMin),
      fmt.ms(row.makespanMsMax),
      fmt.rate(row.activitiesPerSec),
      fmt.ms(row.toFirstActivityMs),
      fmt.ms(row.fanInMs),
      fmt.rate(row.episodesPerRun),
      fmt.int(row.replayedPerRun),
      fmt.ms(row.loopDelayMaxMs),
      Number.isFinite(row.otherCores) ? row.otherCores.toFixed(2) : 'n/a',
    ]);
  }
  common.printTable(rows);
  console.log('    "to 1st activity" = create -> first activity starts; "fan-in" = last activity starts -> completion commit.');
  const n1000 = out.find((r) => r.n === 1000);
  console.log(
    `    Compare: target 1,000-way fan-out < ${PUBLISHED.targetFanOut1000Ms / 1000} s (ours: ${n1000 ? fmt.int(n1000.makespanMsMedian) + ' ms' : 'n/a'}); ` +
      `DF Azure Storage ≈ ${PUBLISHED.azureStorageFanOutPerSec}/s fan-out, ${PUBLISHED.azureStorageFanInPerSec}/s fan-in per instance; DF #81: 1,600-way fan-out 180-240 s.`,
  );
  if (n1000 && n1000.profiledMakespanMs) console.log(`    (the profiled 1,000-way run took ${fmt.int(n1000.profiledMakespanMs)} ms; not in the table)`);
  results.p3 = out;
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
}

/** Least-squares fit y = a + b·x. */
function linearFit(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const b = sxy / sxx;
  return { intercept: my - b * mx, slope: b, r2: (sxy * sxy) / (sxx * syy) };
}

async function phaseP5(engine, instrument, results) {
  const n = CONFIG.p5Steps;
  console.log(`\nP5  Per-step latency as history grows: one run of ${fmt.int(n)} sequential no-op steps (history +4 events per step)`);
  const run = await runSequentialOnce(engine, instrument, n, 'p5');
  const lat = run.latencies;
  const ks = [1, 10, 50, 100, 250, 500, 750, 1000, 2000, 5000, 10000].filter((k) => k <= n);
  if (!ks.includes(n)) ks.push(n);
  const rows = [['step k', 'history events at step k', 'latency ms (median of k-5..k+4)', 'mean']];
  const windows = [];
  for (const k of ks) {
    const from = Math.max(1, k - 5);
    const to = Math.min(n, k + 4);
    const slice = lat.slice(from - 1, to);
    const w = { k, historyEvents: 4 * (k - 1) + 3, medianMs: common.median(slice), meanMs: slice.reduce((s, v) => s + v, 0) / slice.length };
    windows.push(w);
    rows.push([String(k), fmt.int(w.historyEvents), fmt.ms(w.medianMs), fmt.ms(w.meanMs)]);
  }
  common.printTable(rows);
  const xs = [];
  const ys = [];
  for (let k = 2; k <= lat.length; k++) {
    xs.push(k);
    ys.push(lat[k - 1]);
  }
  const fit = linearFit(xs, ys);
  const out = {
    steps: n,
    ok: run.ok,
    runMs: run.ms,
    stepsPerSec: (n * 1000) / run.ms,
    episodes: run.phase.episodes,
    historyEventsReplayed: run.phase.historyEventsReplayed,
    slopeUsPerStep: fit.slope * 1000,
    interceptMs: fit.intercept,
    r2: fit.r2,
    windows,
    slowestStoreCallMs: run.phase.maxStoreCallMs,
    storeStalls: run.phase.counters.stalls,
    storeStallMs: run.phase.counters.stallMs,
    loopDelayMaxMs: run.phase.loopDelayMaxMs,
    otherCores: run.phase.otherCores,
  };
  console.log(
    `    linear fit over k = 2..${n}: latency ≈ ${fmt.ms(fit.intercept)} ms + ${(fit.slope * 1000).toFixed(2)} µs × k (R² ${fit.r2.toFixed(2)}), ` +
      `i.e. ${((fit.slope * 1000) / 4).toFixed(2)} µs per history event; run ${fmt.int(run.ms)} ms = ${fmt.rate(out.stepsPerSec)} steps/s overall; ` +
      `${fmt.int(out.historyEventsReplayed)} history events handed to the orchestrator in ${fmt.int(out.episodes)} episodes (quadratic in N).`,
  );
  console.log(`    event-loop delay max ${fmt.ms(out.loopDelayMaxMs)} ms; store calls over ${STALL_MS} ms: ${out.storeStalls} (${fmt.ms(out.storeStallMs)} ms in all), slowest ${fmt.ms(out.slowestStoreCallMs)} ms; other processes used ${Number.isFinite(out.otherCores) ? out.otherCores.toFixed(2) : 'n/a'} cores meanwhile.`);
  console.log('    The engine keeps histories cached in memory (always on; no switch to turn it off), so the growth is the replay that');
  console.log('    durable-functions does on every episode plus the per-episode payload, not re-reading SQLite. Compare: durable-js #221');
  console.log('    (roughly quadratic before its fix); Temporal warns at 10,240 events.');
  if (!run.ok) console.log('    NOTE: the run did not complete normally (see the host log summary).');
  results.p5 = out;
  if (opts.cpuProf) {
    await profileStart();
    const profiled = await runSequentialOnce(engine, instrument, n, 'p5-profiled');
    results.p5Profile = await profileStop(`p5-sequence-${n}`);
    console.log(`  an extra PROFILED run of the ${fmt.int(n)}-step sequence: ${fmt.int(profiled.ms)} ms (not above)`);
  }
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
}

function phaseSqlite(stateDir, durability, results) {
  const ms = CONFIG.sqliteMs;
  console.log(`\nSQL  Raw SQLite ceiling for the same write shape (better-sqlite3 ${require(path.join(common.REPO_ROOT, 'node_modules', 'better-sqlite3', 'package.json')).version}, same schema, same statements), ${ms} ms each, same file system as the task hub`);
  const dir = path.dirname(stateDir);
  const walAutocheckpoint = Number(durability.walAutocheckpoint);
  console.log(
    `    checkpoints as the host's task hub does them: ${walAutocheckpoint > 0 ? `wal_autocheckpoint=${walAutocheckpoint} (inside commits)` : 'wal_autocheckpoint=0 + a PASSIVE checkpoint once a second, timed'}`,
  );
  const r = {
    episodeNormal: baseline.episodeRaw({ dir, synchronous: 'NORMAL', walAutocheckpoint, durationMs: ms }),
    episodeStoreNormal: baseline.episodeStore({ dir, synchronous: 'NORMAL', durationMs: ms }),
    stepNormal: baseline.stepRaw({ dir, synchronous: 'NORMAL', walAutocheckpoint, durationMs: ms }),
    episodeFull: baseline.episodeRaw({ dir, synchronous: 'FULL', walAutocheckpoint, durationMs: ms }),
  };
  common.printTable([
    ['shape', 'mode', 'per second', 'µs each'],
    ['episode tx (raw): COUNT + 4 INSERT history + DELETE inbox + UPSERT instance + INSERT work item', 'WAL NORMAL', fmt.int(r.episodeNormal.perSec), (1e6 / r.episodeNormal.perSec).toFixed(0)],
    ['the same episode tx through TaskHubStore.commit()', 'WAL NORMAL', fmt.int(r.episodeStoreNormal.perSec), (1e6 / r.episodeStoreNormal.perSec).toFixed(0)],
    ['whole unbatched step (raw): 2 reads + episode tx + lease tx + completion tx', 'WAL NORMAL', fmt.int(r.stepNormal.perSec), (1e6 / r.stepNormal.perSec).toFixed(0)],
    ['episode tx (raw), for reference (the host uses NORMAL)', 'WAL FULL', fmt.int(r.episodeFull.perSec), (1e6 / r.episodeFull.perSec).toFixed(0)],
  ], { rightAlignFrom: 2 });
  results.sqlite = r;
}

// ------------------------------------------------------------------------------------------ main

async function main() {
  common.requireBuild();
  const t0 = performance.now();
  const load0 = os.loadavg();
  const sys0 = systemCpu();
  const cpu0 = process.cpuUsage();
  console.log(`Durable task hub benchmark${Q ? ' (--quick)' : ''}: node bench/durable.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  const facts = common.printMachineFacts();
  console.log(`Load average at start: ${load0.map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
  const hostJson = readHostJson();
  const dt = hostJson.extensions.durableTask;
  console.log(
    `App: ${path.relative(common.REPO_ROOT, APP_DIR)}; host.json logging.logLevel.default = ${hostJson.logging.logLevel.default} ` +
      `(set to Warning for the bench: no per-invocation information logs); durableTask maxConcurrentActivityFunctions = ${dt.maxConcurrentActivityFunctions}, ` +
      `maxConcurrentOrchestratorFunctions = ${dt.maxConcurrentOrchestratorFunctions}`,
  );
  console.log('Process model: host in-process (EmbeddedHost from dist/host); the load is driven from the same process.');

  const { EmbeddedHost } = require(path.join(common.DIST_HOST, 'index.js'));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-durable-'));
  const sink = logSink();
  const host = new EmbeddedHost({ appDir: APP_DIR, port: 0, hostname: '127.0.0.1', stateDir, logFormat: 'json', logDestination: sink.stream, auth: 'disabled' });
  await host.start();
  const engine = host.durable.engine;
  const db = engine.store.db;
  const syncNames = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  const durability = {
    journalMode: db.pragma('journal_mode', { simple: true }),
    synchronous: syncNames[db.pragma('synchronous', { simple: true })],
    walAutocheckpoint: db.pragma('wal_autocheckpoint', { simple: true }),
    pageSize: db.pragma('page_size', { simple: true }),
    file: path.join(stateDir, 'durabletask.db'),
    fileSystem: fileSystemOf(stateDir),
  };
  console.log(
    `Durability (read from the task hub's own connection): journal_mode=${durability.journalMode}, synchronous=${durability.synchronous}, ` +
      `wal_autocheckpoint=${durability.walAutocheckpoint}${durability.walAutocheckpoint === 0 ? ' (automatic checkpoints off on this connection: the store checkpoints outside commits)' : ' pages (checkpoints run inside the commit that crosses it)'}, ` +
      `page_size=${durability.pageSize}; one transaction per episode, activity completions batched per event-loop turn.`,
  );
  console.log(`  NORMAL in WAL: a kill -9 of the process loses nothing; an OS crash or power loss can lose the last commits. Task hub: ${durability.file} (${durability.fileSystem})`);
  console.log(`Host listening on ${host.baseUrl} (loopback)`);
  const instrument = new EngineInstrument(engine);
  console.log('Instrumentation: every TaskHubStore call the engine makes is counted and timed (bench/lib/durable-instrument.js, two performance.now() per call).');
  const results = { facts, durability, quick: Q, config: CONFIG, published: PUBLISHED };

  // Warm-up (untimed): JIT the engine, durable-functions and SQLite paths.
  const warm = instrument.begin('warm-up', 102);
  for (let i = 0; i < 100; i++) engine.startNew('HelloSequence5', { input: null });
  engine.startNew('Sequence', { input: '50' });
  engine.startNew('FanOutFanIn', { input: '200' });
  await instrument.end(warm, CONFIG.phaseTimeoutMs);
  for (const id of [...probe.keys()]) probe.delete(id);
  engine.purgeBy({ runtimeStatus: ['Completed', 'Failed'] });
  console.log(`Warm-up: 100 HelloSequence5 + a 50-step sequence + a 200-way fan-out, ${fmt.int(warm.endedAt - warm.startedAt)} ms, untimed.`);
  await settle();

  if (enabled('p1')) await phaseP1(engine, instrument, results);
  if (enabled('p2')) await phaseP2(engine, instrument, results);
  if (enabled('http')) await phaseHttp(host, engine, instrument, results);
  if (enabled('p3')) await phaseP3(engine, instrument, results);
  if (enabled('p5')) await phaseP5(engine, instrument, results);

  await host.stop();
  if (enabled('sqlite')) phaseSqlite(stateDir, durability, results);

  // Efficiency: our committed episodes/s against the raw rate of the same transaction.
  const p2main = results.p2 && (results.p2.find((b) => b.runs === 1000 && !b.profiled) || results.p2.find((b) => !b.profiled) || results.p2[0]);
  if (results.sqlite && p2main) {
    const s = results.sqlite;
    const b = p2main;
    const seq = results.p5 || (results.p1 && results.p1.at(-1));
    console.log('\nEfficiency (ours ÷ raw SQLite, same shape, same mode WAL NORMAL, same disk, same run):');
    common.printTable([
      ['ours', 'per second', 'raw ceiling', 'per second', 'fraction'],
      ['P2 episodes/s (HelloSequence5 ×' + b.runs + ')', fmt.int(b.episodesPerSec), 'episode tx (raw)', fmt.int(s.episodeNormal.perSec), fmt.pct(b.episodesPerSec / s.episodeNormal.perSec)],
      ['P2 steps/s (activities)', fmt.int(b.activities / (b.makespanMs / 1000)), 'whole unbatched step (raw)', fmt.int(s.stepNormal.perSec), fmt.pct(b.activities / (b.makespanMs / 1000) / s.stepNormal.perSec)],
      ...(seq ? [[`sequential steps/s (one run, ${seq.steps || seq.n} steps)`, fmt.int(seq.stepsPerSec), 'whole unbatched step (raw)', fmt.int(s.stepNormal.perSec), fmt.pct(seq.stepsPerSec / s.stepNormal.perSec)]] : []),
    ], { rightAlignFrom: 1 });
    console.log(`  In P2 the store's own write calls took ${fmt.pct(b.storeWriteShare)} of the makespan and its reads ${fmt.pct(b.storeReadShare)}: the rest is the engine, durable-functions and the host's invocation pipeline.`);
    results.efficiency = { p2EpisodesVsRaw: b.episodesPerSec / s.episodeNormal.perSec };
  }

  for (const [label, prof] of [
    ['P2 (HelloSequence5 batch)', results.p2Profile],
    ['P2-HTTP (HTTP starter batch)', results.httpProfile],
    ['P3 (1,000-way fan-out)', results.p3Profile],
    ['P5 (long sequence)', results.p5Profile],
  ]) {
    if (!prof) continue;
    console.log(`\nCPU profile of ${label}: ${prof.file}`);
    printProfileSummary(prof.summary);
  }

  console.log('\nSummary against the targets (figures, not assertions):');
  for (const b of results.p2 || []) {
    console.log(
      `  HelloSequence5 ×${fmt.int(b.runs)} via engine.startNew: ${fmt.rate(b.runsPerSec)} runs/s (target ≥ ${PUBLISHED.targetRunsPerSec}; Netherite EP2 ≈ ${PUBLISHED.netheriteEp2RunsPerSec}, ` +
        `DTS EP2 ≈ ${PUBLISHED.dtsEp2RunsPerSec}, MSSQL ≈ ${PUBLISHED.mssql2vCoreRunsPerSec})${b.profiled ? ' [profiled]' : ''}`,
    );
  }
  if (results.http) {
    const { batchStarter: c, http: h } = results.http;
    console.log(`  HelloSequence5 ×${c.runs} started over the Durable HTTP API: ${fmt.rate(c.runsPerSecFromFirstRequest)} runs/s from one StartBatch request, ${fmt.rate(h.runsPerSecFromFirstRequest)} runs/s from ${h.runs} starter requests`);
  }
  const f1000 = results.p3 && results.p3.find((r) => r.n === 1000);
  if (f1000) console.log(`  1,000-way fan-out/fan-in: ${fmt.int(f1000.makespanMsMedian)} ms (target < ${fmt.int(PUBLISHED.targetFanOut1000Ms)} ms)`);
  if (results.efficiency) console.log(`  P2 episodes/s as a fraction of the raw SQLite episode transaction rate: ${fmt.pct(results.efficiency.p2EpisodesVsRaw)}`);
  console.log(`  Host log: ${sink.lines} lines at Warning or above (${sink.warnings} warn, ${sink.errors} error)`);
  for (const line of sink.samples) console.log(`    ${line}`);
  const load1 = os.loadavg();
  const wall = performance.now() - t0;
  const sys1 = systemCpu();
  const own = process.cpuUsage(cpu0);
  const otherCores = sys0 && sys1 ? Math.max(0, (sys1.busyMs - sys0.busyMs - (own.user + own.system) / 1000) / wall) : NaN;
  results.otherCores = otherCores;
  console.log(
    `Load average at end: ${load1.map((l) => l.toFixed(2)).join(' ')}; other processes used ${Number.isFinite(otherCores) ? otherCores.toFixed(2) : 'n/a'} of ${os.cpus().length} cores ` +
      `on average during the run (from /proc/stat; near 0 means a quiet machine); total ${(wall / 1000).toFixed(1)} s`,
  );
  results.hostLog = { lines: sink.lines, warnings: sink.warnings, errors: sink.errors };
  if (opts.json) {
    for (const key of ['p2Profile', 'httpProfile', 'p3Profile', 'p5Profile']) if (results[key]) results[key] = { file: results[key].file, summary: results[key].summary };
    common.writeJson(opts.json, results);
  }
  fs.rmSync(stateDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
