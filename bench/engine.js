#!/usr/bin/env node
'use strict';
// Workflow engine benchmark: AutomateIQ end to end on the embedded host, side by side with the bare Durable task
// hub measured in the same invocation. Figures and ratios only; nothing is asserted.
//
//   node bench/engine.js [--quick] [--rounds N] [--latency-runs 100] [--post-concurrency 64] [--foreach-runs 2]
//        [--foreach-concurrency 50] [--profile auto|on|off] [--json out.json]
//
// AIQ_BENCH_DIST=<dir> runs another build (see bench/lib/common.js), e.g. a clean `git archive HEAD` compiled in /tmp.
//
// Process model: the platform runs as a child process, the real CLI (dist/host/cli.js on the app root; SQLite app
// store, embedded Service Bus broker and Durable task hub, development-issuer tokens), with
// AzureFunctionsJobHost__logging__logLevel__default=Warning (no per-invocation information logs). This process only
// sends loopback HTTP requests (node:http keep-alive agent). The bare baseline is bench/durable.js's P2 (HelloSequence5
// via engine.startNew() on test/fixtures/bench-durable-app, in its own process, no HTTP), run as a child of this
// invocation before the stack starts, so nothing overlaps.
//
// Phases (stack):
//   warm-up      50 HelloSequence5 runs + one 100-item forEach, untimed.
//   latency      --latency-runs HelloSequence5 runs one at a time on an otherwise idle system: POST, then GET the run
//                every 20 ms until it ends. First-step latency = step s1's startedAt (stored, host wall clock) minus
//                Date.now() just before the POST was written (this process, wall clock): the same clock, one
//                machine, ms resolution. Split into POST -> run createdAt (API), createdAt -> run startedAt
//                (queue + dispatch + orchestration start), startedAt -> s1 startedAt (planner + activity dispatch).
//   throughput   N = 200 and 1,000 HelloSequence5 runs: N POSTs (--post-concurrency in flight), then the list API is
//                polled (status=queued / status=running, limit=1, every 50 ms) until both are empty; makespan = first
//                POST sent -> last stored completedAt. The first-step latency of an even sample (100 runs) of each
//                batch is the "under load" figure. Host CPU from /proc/<pid>/stat.
//   forEach      one run of a forEach over a 1,000-item input list (concurrency --foreach-concurrency, at most
//                LIMITS.maxConcurrency), a core.noop per item; makespan = POST sent -> run completedAt.
//   profile      (full mode when the stack is far below the bare hub, or --profile on) a second host child under
//                node --cpu-prof runs one N=1,000 batch; self time by owner, file and function (bench/lib/cpuprofile.js).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const common = require('./lib/common.js');
const { startStack, APP_ROOT } = require('./lib/engine-stack.js');
const workload = require('./lib/engine-workload.js');
const { runBareP2 } = require('./lib/engine-bare.js');
const { summarizeProfile, printProfileSummary } = require('./lib/cpuprofile.js');
const { systemCpu } = require('./lib/durable-instrument.js');

const opts = common.parseArgs({
  quick: false,
  rounds: 0,
  latencyRuns: 0,
  postConcurrency: 64,
  foreachRuns: 0,
  foreachConcurrency: 0,
  profile: 'auto',
  json: '',
});
const Q = opts.quick;
const SIZES = [200, 1000];
const CONFIG = {
  rounds: opts.rounds || (Q ? 1 : 3),
  bareRounds: Q ? 1 : 3,
  latencyRuns: opts.latencyRuns || (Q ? 30 : 100),
  foreachRuns: opts.foreachRuns || (Q ? 1 : 2),
  postConcurrency: opts.postConcurrency,
  batchTimeoutMs: Q ? 30_000 : 60_000,
};

const fmt = {
  ms: (n) => (Number.isFinite(n) && n >= 100 ? common.fmtInt(n) : common.fmtMs(n)),
  int: common.fmtInt,
  rate: (n) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : 'n/a'),
  pct: common.fmtPct,
};

function stats(values) {
  return common.summarize(values.filter(Number.isFinite));
}

function latencyRows(label, list) {
  const total = stats(list.map((l) => l.total));
  const parts = ['toCreated', 'createdToStarted', 'startedToStep1'].map((k) => stats(list.map((l) => l[k])));
  return [label, String(total.count), fmt.ms(total.p50), fmt.ms(total.p90), fmt.ms(total.p99), fmt.ms(total.max), ...parts.map((p) => `${fmt.ms(p.p50)} / ${fmt.ms(p.p99)}`)];
}

async function main() {
  common.requireBuild();
  const startedAt = performance.now();
  const load0 = os.loadavg();
  const sys0 = systemCpu();
  console.log(`Workflow engine benchmark${Q ? ' (--quick)' : ''}: node bench/engine.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  const facts = common.printMachineFacts();
  console.log(`Load average at start: ${load0.map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
  const { LIMITS } = require(path.join(APP_ROOT, 'dist', 'shared', 'domain', 'workflow-language', 'constants.js'));
  const forEachConcurrency = Math.min(opts.foreachConcurrency || 50, LIMITS.maxConcurrency);
  const forEachItems = Math.min(1000, LIMITS.maxForEachItems);
  const results = { facts, quick: Q, config: { ...CONFIG, forEachConcurrency, forEachItems } };

  // ---------------------------------------------------------------- bare task hub (same invocation, before the stack)
  const bare = await runBareP2({ sizes: SIZES, rounds: CONFIG.bareRounds });
  results.bare = bare;
  console.log(`\nBARE  Durable task hub alone: ${bare.command} (child of this run, ${fmt.int(bare.wallMs)} ms; its ${(bare.loadLine || 'load average n/a').replace(/ \(.*$/, '').replace(/^L/, 'l')})`);
  console.log('      HelloSequence5 via engine.startNew() in the host process: no HTTP, no app store, no queue, no workflow planner; the median of');
  console.log(`      ${CONFIG.bareRounds} round(s) per size; task hub journal_mode=${bare.durability.journalMode}, synchronous=${bare.durability.synchronous}`);
  for (const b of bare.p2) console.log(`      ×${fmt.int(b.runs)}: ${fmt.rate(b.runsPerSec)} runs/s, makespan ${fmt.int(b.makespanMs)} ms, process CPU ${fmt.ms(b.cpuMsPerRun)} ms per run`);

  // ---------------------------------------------------------------- the stack
  const stack = await startStack({ label: 'main' });
  console.log(`\nSTACK  ${path.relative(process.cwd(), path.join(path.dirname(common.DIST_HOST), 'host', 'cli.js')) || 'dist/host/cli.js'} ${APP_ROOT} --port 0 --host 127.0.0.1 --log-format json (child pid ${stack.pid}, ${stack.baseUrl})`);
  console.log('       env AZURE_FUNCTIONS_ENVIRONMENT=Development, AzureFunctionsJobHost__logging__logLevel__default=Warning, AIQ_SQLITE_PATH / AIQ_DEDICATED_TENANT_DIR /');
  console.log('       AIQ_DEV_ISSUER_KEY_FILE in a temp folder, REDIS_URL unset (in-memory rate limiter)');
  let ctx;
  try {
    ctx = await workload.onboard(stack, { forEachConcurrency });
    console.log(`       tenant '${ctx.tenant}' tier ${ctx.tier}, quotas ${JSON.stringify(ctx.quotas)}; workflows '${workload.HS5}' (5 sequential core.noop) and '${workload.FOREACH}' (forEach over inputs.items, concurrency ${forEachConcurrency} = LIMITS.maxConcurrency ${LIMITS.maxConcurrency}, core.noop)`);

    const w0 = performance.now();
    const warm = await workload.batch(stack, ctx, { runs: 50, postConcurrency: CONFIG.postConcurrency, timeoutMs: CONFIG.batchTimeoutMs, sampleLatency: 0 });
    const warmFe = await workload.forEachRun(stack, ctx, { items: 100, timeoutMs: CONFIG.batchTimeoutMs });
    console.log(`       warm-up (untimed): 50 HelloSequence5 (${warm.succeeded} succeeded) + one 100-item forEach (${warmFe.status}), ${fmt.int(performance.now() - w0)} ms`);

    // Idle, sequential first-step latency.
    const seq = await workload.sequentialLatency(stack, ctx, { count: CONFIG.latencyRuns, pollMs: 20 });
    results.latencyIdle = seq;

    // Throughput, sizes interleaved per round.
    results.stack = {};
    for (let r = 0; r < CONFIG.rounds; r++) {
      for (const runs of SIZES) {
        const b = await workload.batch(stack, ctx, { runs, postConcurrency: CONFIG.postConcurrency, timeoutMs: Math.max(CONFIG.batchTimeoutMs, runs * 60), sampleLatency: 100 });
        (results.stack[runs] ||= []).push(b);
        console.log(
          `       round ${r + 1}, ×${fmt.int(runs)}: ${b.succeeded}/${runs} succeeded${b.timedOut ? ' (TIMED OUT)' : ''}; POSTs ${fmt.int(b.submitMs)} ms (${fmt.rate(b.acceptedPerSec)} accepted/s, ` +
            `statuses ${JSON.stringify(b.postStatuses)}); makespan ${fmt.int(b.makespanMs)} ms => ${fmt.rate(b.runsPerSec)} runs/s; host CPU ${fmt.ms(b.hostCpuMsPerRun)} ms/run (${fmt.pct(b.hostCpuShare)} of one core), client CPU ${fmt.pct(b.clientCpuShare)}`,
        );
      }
    }

    // forEach makespan.
    results.forEach = [];
    for (let i = 0; i < CONFIG.foreachRuns; i++) results.forEach.push(await workload.forEachRun(stack, ctx, { items: forEachItems, timeoutMs: Q ? 40_000 : 90_000 }));
  } finally {
    await stack.stop();
    results.stackLog = { ...stack.logs };
    stack.cleanup();
  }

  // ---------------------------------------------------------------- tables
  const median = (list) => [...list].sort((a, b) => a.runsPerSec - b.runsPerSec)[(list.length - 1) >> 1];
  console.log(`\nHelloSequence5 throughput, same invocation (stack: the median of ${CONFIG.rounds} round(s); bare: the median of ${CONFIG.bareRounds})`);
  const rows = [['N', 'bare runs/s', 'stack runs/s', 'stack/bare', 'bare CPU ms/run', 'host CPU ms/run', 'CPU ratio', 'stack makespan ms', 'POST phase ms', 'run p50 / p99 ms (created->completed)']];
  results.comparison = [];
  for (const runs of SIZES) {
    const s = median(results.stack[runs]);
    const b = bare.p2.find((x) => x.runs === runs);
    const runMs = stats(s.runMs);
    rows.push([
      fmt.int(runs),
      fmt.rate(b.runsPerSec),
      fmt.rate(s.runsPerSec),
      fmt.pct(s.runsPerSec / b.runsPerSec),
      fmt.ms(b.cpuMsPerRun),
      fmt.ms(s.hostCpuMsPerRun),
      `${(s.hostCpuMsPerRun / b.cpuMsPerRun).toFixed(1)}×`,
      fmt.int(s.makespanMs),
      fmt.int(s.submitMs),
      `${fmt.ms(runMs.p50)} / ${fmt.ms(runMs.p99)}`,
    ]);
    results.comparison.push({ runs, bareRunsPerSec: b.runsPerSec, stackRunsPerSec: s.runsPerSec, ratio: s.runsPerSec / b.runsPerSec, bareCpuMsPerRun: b.cpuMsPerRun, hostCpuMsPerRun: s.hostCpuMsPerRun });
  }
  common.printTable(rows);
  console.log('  stack = HTTP POST -> app store insert -> Service Bus queue -> dispatch trigger -> orchestration -> 5 core.noop steps -> finalize (status in the app store).');
  console.log('  bare = the same 5-activity orchestration shape on the task hub alone, started in-process (bench/durable.js P2). CPU: bare = its whole process; host = the host child.');

  console.log(`\nFirst-step latency: step s1 startedAt (host wall clock) - Date.now() before the POST (this process, wall clock), ms; same machine clock, ms resolution`);
  const lrows = [['condition', 'n', 'p50', 'p90', 'p99', 'max', 'POST->created p50/p99', 'created->run started p50/p99', 'run started->s1 p50/p99']];
  lrows.push(latencyRows(`idle, ${CONFIG.latencyRuns} sequential runs`, results.latencyIdle.latency));
  for (const runs of SIZES) {
    const all = results.stack[runs].flatMap((b) => b.latency);
    lrows.push(latencyRows(`under load: batch ×${fmt.int(runs)} (sample of 100 per round)`, all));
  }
  common.printTable(lrows);
  const idle = stats(results.latencyIdle.latency.map((l) => l.total));
  const idlePost = stats(results.latencyIdle.postMs);
  console.log(`  idle POST round trip (202): p50 ${fmt.ms(idlePost.p50)} / p99 ${fmt.ms(idlePost.p99)} ms; whole run (POST -> completedAt) p50 ${fmt.ms(stats(results.latencyIdle.latency.map((l) => l.runMs)).p50)} ms`);
  console.log(`  brief accepts 100-500 ms; our target p99 < 50 ms on the embedded host: idle p99 = ${fmt.ms(idle.p99)} ms (${idle.p99 < 50 ? 'under' : 'over'} 50 ms)`);

  console.log(`\nforEach over ${fmt.int(forEachItems)} items (concurrency ${forEachConcurrency}, core.noop), one run at a time`);
  const frows = [['run', 'status', 'makespan ms (POST->completed)', 'created->completed', 'POST->1st iteration', '1st->last iteration', 'last iteration->completed', 'iterations/s', 'host CPU ms']];
  results.forEach.forEach((f, i) =>
    frows.push([
      String(i + 1),
      f.status,
      fmt.int(f.makespanMs),
      fmt.int(f.createdToCompletedMs),
      fmt.int(f.toFirstIterationMs),
      fmt.int(f.firstToLastIterationMs),
      fmt.int(f.lastIterationToCompletedMs),
      fmt.rate((f.iterationRows / f.makespanMs) * 1000),
      fmt.int(f.hostCpuMs),
    ]),
  );
  common.printTable(frows);

  // ---------------------------------------------------------------- profile
  const worst = Math.min(...results.comparison.map((c) => c.ratio));
  const doProfile = opts.profile === 'on' || (opts.profile === 'auto' && !Q && worst < 0.5);
  if (doProfile) {
    const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-engine-prof-'));
    const pstack = await startStack({ label: 'prof', cpuProfDir: profDir });
    let pb;
    try {
      const pctx = await workload.onboard(pstack, { forEachConcurrency });
      await workload.batch(pstack, pctx, { runs: 50, postConcurrency: CONFIG.postConcurrency, timeoutMs: CONFIG.batchTimeoutMs, sampleLatency: 0 });
      pb = await workload.batch(pstack, pctx, { runs: 1000, postConcurrency: CONFIG.postConcurrency, timeoutMs: 120_000, sampleLatency: 0 });
    } finally {
      await pstack.stop();
      pstack.cleanup();
    }
    const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f))[0];
    console.log(
      `\nPROFILE  where the host's time goes: a second host child under node --cpu-prof (start-up, onboarding and a 50-run warm-up included), one batch of 1,000 HelloSequence5:` +
        ` ${pb ? `${fmt.rate(pb.runsPerSec)} runs/s under the profiler` : 'n/a'}; profile ${file || '(none written)'}`,
    );
    if (file) {
      const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { root: APP_ROOT, distRoot: path.dirname(common.DIST_HOST), top: 20 });
      results.profile = { file, summary };
      console.log('  (µs/req below = µs per HelloSequence5 run: 1,050 runs, with their POSTs and the bench\'s list/GET polls)');
      printProfileSummary({ ...summary, owners: summary.owners.slice(0, 15) }, { requests: 1050 });
    }
  } else {
    console.log(`\nPROFILE  skipped (${Q ? '--quick' : opts.profile === 'off' ? '--profile off' : `stack/bare ${fmt.pct(worst)} ≥ 50 %`}; --profile on forces it)`);
  }

  // ---------------------------------------------------------------- summary
  console.log('\nSummary (figures, not assertions):');
  for (const c of results.comparison)
    console.log(`  HelloSequence5 ×${fmt.int(c.runs)} through the stack: ${fmt.rate(c.stackRunsPerSec)} runs/s vs bare task hub ${fmt.rate(c.bareRunsPerSec)} runs/s = ${fmt.pct(c.ratio)}; host CPU ${fmt.ms(c.hostCpuMsPerRun)} vs ${fmt.ms(c.bareCpuMsPerRun)} ms per run`);
  console.log(`  First-step latency idle p50 ${fmt.ms(idle.p50)} / p99 ${fmt.ms(idle.p99)} ms (target p99 < 50 ms; brief accepts 100-500 ms)`);
  for (const runs of SIZES) {
    const s = stats(results.stack[runs].flatMap((b) => b.latency).map((l) => l.total));
    console.log(`  First-step latency under load (×${fmt.int(runs)} batch) p50 ${fmt.ms(s.p50)} / p99 ${fmt.ms(s.p99)} ms`);
  }
  const fm = stats(results.forEach.map((f) => f.makespanMs));
  console.log(`  forEach ${fmt.int(forEachItems)} items, concurrency ${forEachConcurrency}: makespan ${results.forEach.map((f) => fmt.int(f.makespanMs)).join(', ')} ms (median ${fmt.int(fm.p50)})`);
  console.log(`  Host log at Warning or above on stdout: ${results.stackLog.lines} lines (${results.stackLog.warnings} warn, ${results.stackLog.errors} error)${results.stackLog.samples.length ? '\n    ' + results.stackLog.samples.join('\n    ') : ''}`);
  const sys1 = systemCpu();
  const wall = performance.now() - startedAt;
  console.log(`Load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; machine busy ${sys0 && sys1 ? fmt.pct((sys1.busyMs - sys0.busyMs) / wall / facts.cpus) : 'n/a'} of ${facts.cpus} cores over the run; total ${(wall / 1000).toFixed(1)} s`);
  if (opts.json) {
    for (const list of Object.values(results.stack)) for (const b of list) delete b.postMs;
    common.writeJson(opts.json, results);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
