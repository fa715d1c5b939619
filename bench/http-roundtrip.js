#!/usr/bin/env node
'use strict';
// HTTP round trips/s of a trivial function through the embedded host (GET /api/ping -> { body: 'pong' }),
// against a bare node:http server answering 'pong', measured side by side in one run.
//
// Processes: each server runs in its own child process (bench/lib/server-child.js); this process is only the
// load generator. With --pin the generator is pinned to CPU 0 and the servers to CPU 1 (taskset), so on a
// 2-core machine each side owns one core; without it the OS schedules all three processes freely.
//
// Per concurrency level: both servers are warmed up, then measured in alternating rounds (bare, host, bare, host,
// ...) with the same closed-loop generator; the reported figure is the median over rounds. Also reported: the
// server's CPU time per request (independent of the generator's speed) and the generator's CPU share, which says
// whether the generator rather than the server was the bottleneck.
//
//   node bench/http-roundtrip.js [--concurrency 32,64] [--duration-ms 4000] [--warmup-ms 2000] [--rounds 3]
//        [--client raw|agent] [--agent-check] [--pin] [--cpu-prof] [--json out.json]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const common = require('./lib/common.js');
const { runClosedLoop } = require('./lib/loadgen.js');
const { startServer, withServerCpu } = require('./lib/servers.js');
const { summarizeProfile, printProfileSummary } = require('./lib/cpuprofile.js');

const TARGET_RATIO = 0.6;

const opts = common.parseArgs({
  concurrency: [32, 64],
  durationMs: 4000,
  warmupMs: 2000,
  rounds: 3,
  maxRequests: 2_000_000,
  client: 'raw',
  agentCheck: true,
  pin: false,
  cpuProf: false,
  json: '',
});

async function measure(server, concurrency, client, durationMs) {
  const { result, server: serverCpu } = await withServerCpu(server, () =>
    runClosedLoop({ port: server.port, path: server.kind === 'host' ? '/api/ping' : '/ping', concurrency, durationMs, maxRequests: opts.maxRequests, expectBody: 'pong', client }),
  );
  const lat = common.summarize(result.latenciesMs);
  return {
    rps: result.rps,
    ok: result.ok,
    errors: result.errors,
    firstError: result.firstError,
    p50: lat.p50,
    p99: lat.p99,
    max: lat.max,
    serverCpuUsPerReq: (serverCpu.cpuMs * 1000) / Math.max(1, result.ok),
    serverCpuShare: serverCpu.cpuShare,
    serverElu: serverCpu.elu,
    serverTotalRequests: serverCpu.totalRequests,
    generatorCpuShare: result.generatorCpuMs / result.durationMs,
  };
}

function pickMedian(rounds) {
  // The round with the median req/s, so its latency and CPU figures belong to the same run.
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  return { ...sorted[(sorted.length - 1) >> 1], rpsAll: rounds.map((r) => Math.round(r.rps)) };
}

async function main() {
  common.requireBuild();
  const facts = common.printMachineFacts();
  if (opts.pin) {
    require('node:child_process').execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  }
  console.log(
    `\nHTTP round trip: GET /api/ping (embedded host, app test/fixtures/bench-app, host.json logging.logLevel.default = "Warning",` +
      ` JSON logs to a file) vs GET /ping on a bare node:http server answering 'pong'.`,
  );
  console.log(
    `Each server in its own child process; this process generates load (${opts.client} client, keep-alive, closed loop, no pipelining)` +
      `${opts.pin ? '; generator pinned to CPU 0, servers to CPU 1 (taskset)' : '; no CPU pinning'}.`,
  );
  console.log(`Per concurrency: ${opts.warmupMs} ms warm-up per server, then ${opts.rounds} alternating rounds of ${opts.durationMs} ms; median round shown.\n`);

  // --cpu-prof profiles both servers (each over its whole lifetime), so their profiles can be compared.
  const profDirs = {};
  const profArgs = (kind) => {
    if (!opts.cpuProf) return [];
    profDirs[kind] = fs.mkdtempSync(path.join(os.tmpdir(), `aiq-bench-prof-${kind}-`));
    return ['--cpu-prof', '--cpu-prof-dir', profDirs[kind]];
  };
  const pinCpu = opts.pin ? 1 : undefined;
  const bare = await startServer('bare', { pinCpu, execArgv: profArgs('bare') });
  const host = await startServer('host', { pinCpu, appDir: common.BENCH_APP, execArgv: profArgs('host') });

  const results = [];
  const served = {};
  try {
    const clients = [{ client: opts.client, levels: opts.concurrency }];
    if (opts.agentCheck && opts.client !== 'agent') clients.push({ client: 'agent', levels: [opts.concurrency[0]] });
    for (const { client, levels } of clients) {
      for (const concurrency of levels) {
        for (const server of [bare, host]) await measure(server, concurrency, client, opts.warmupMs);
        const rounds = { bare: [], host: [] };
        for (let r = 0; r < opts.rounds; r++) {
          for (const server of [bare, host]) {
            const m = await measure(server, concurrency, client, opts.durationMs);
            rounds[server.kind].push(m);
            served[server.kind] = m.serverTotalRequests;
          }
        }
        const row = { client, concurrency, bare: pickMedian(rounds.bare), host: pickMedian(rounds.host) };
        row.ratio = row.host.rps / row.bare.rps;
        results.push(row);
        process.stderr.write(`  done: ${client} c=${concurrency}: host ${Math.round(row.host.rps)} req/s, bare ${Math.round(row.bare.rps)} req/s\n`);
      }
    }
  } finally {
    await bare.stop();
    const stopped = await host.stop();
    if (stopped.logBytes !== undefined) console.log(`Host log written during the run: ${stopped.logBytes} bytes.`);
  }

  const rows = [['client', 'conc', 'server', 'req/s (median)', 'rounds req/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU µs/req', 'server CPU', 'server loop busy', 'generator CPU', 'errors']];
  for (const r of results) {
    for (const kind of ['bare', 'host']) {
      const m = r[kind];
      rows.push([
        r.client,
        String(r.concurrency),
        kind,
        common.fmtInt(m.rps),
        m.rpsAll.join(' / '),
        common.fmtMs(m.p50),
        common.fmtMs(m.p99),
        common.fmtMs(m.max),
        m.serverCpuUsPerReq.toFixed(1),
        common.fmtPct(m.serverCpuShare),
        common.fmtPct(m.serverElu),
        common.fmtPct(m.generatorCpuShare),
        String(m.errors) + (m.firstError ? ` (${m.firstError})` : ''),
      ]);
    }
  }
  common.printTable(rows, { rightAlignFrom: 3 });

  console.log('\nHost / bare (target: host req/s >= 60 % of bare):');
  const ratioRows = [['client', 'conc', 'req/s ratio', 'vs target', 'p50 host/bare', 'p99 host/bare', 'CPU/req bare/host']];
  for (const r of results) {
    ratioRows.push([
      r.client,
      String(r.concurrency),
      common.fmtPct(r.ratio),
      r.ratio >= TARGET_RATIO ? 'meets' : 'BELOW',
      `${(r.host.p50 / r.bare.p50).toFixed(2)}x`,
      `${(r.host.p99 / r.bare.p99).toFixed(2)}x`,
      common.fmtPct(r.bare.serverCpuUsPerReq / r.host.serverCpuUsPerReq),
    ]);
  }
  common.printTable(ratioRows, { rightAlignFrom: 2 });
  console.log(
    '  "server CPU" is process CPU time / wall time (all threads: > 100 % means GC or libuv threads on the other core);\n' +
      '  "server loop busy" is the main thread\'s event-loop utilization (100 % = saturated); "generator CPU" likewise\n' +
      '  for this process: near 100 % means the generator, not the server, limited the rate.',
  );
  console.log(
    '  "CPU/req bare/host" is the efficiency figure that does not depend on the generator: the bare server\'s CPU\n' +
      '  time per request divided by the host\'s (100 % = as cheap as bare node:http).',
  );

  const profiles = {};
  for (const [kind, dir] of Object.entries(profDirs)) {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (!files.length) continue;
    const file = path.join(dir, files[0]);
    profiles[kind] = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { root: common.REPO_ROOT });
    console.log(`\n${kind} server CPU profile (node --cpu-prof, whole process lifetime incl. start-up and idle rounds): ${file}`);
    printProfileSummary(profiles[kind], { requests: served[kind] });
  }

  common.writeJson(opts.json, { machine: facts, options: opts, results, targetRatio: TARGET_RATIO, profiles });
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
