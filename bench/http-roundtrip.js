#!/usr/bin/env node
'use strict';
// HTTP round trips/s of a trivial function through the embedded host (GET /api/ping -> { body: 'pong' }),
// against a bare node:http server answering 'pong', measured side by side in one run. A third server, 'floor',
// does only what the @azure/functions v4 HTTP model makes any host do per request (Fetch API Request/Response),
// to show how much of the gap is the programming model rather than the host.
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
//        [--client raw|agent] [--agent-check=false] [--floor=false] [--wakeup-check=false] [--pin] [--cpu-prof]
//        [--json out.json]

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
  floor: true,
  wakeupCheck: true,
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

const DESCRIPTIONS = {
  bare: "bare node:http answering 'pong' (the baseline)",
  floor: 'node:http + the Fetch API objects @azure/functions builds per request (Request, URL, Response, arrayBuffer): no host',
  host: 'embedded host, GET /api/ping -> { body: \'pong\' } (test/fixtures/bench-app)',
};

async function main() {
  common.requireBuild();
  const facts = common.printMachineFacts();
  if (opts.pin) {
    require('node:child_process').execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  }
  const kinds = opts.floor ? ['bare', 'floor', 'host'] : ['bare', 'host'];
  console.log('\nHTTP round trip, one GET per request; servers:');
  for (const kind of kinds) console.log(`  ${kind.padEnd(5)}  ${DESCRIPTIONS[kind]}`);
  console.log('  The host fixture sets host.json logging.logLevel.default = "Warning" (no per-invocation information logs); JSON logs go to a file.');
  console.log(
    `Each server in its own child process; this process only generates load (${opts.client} client: keep-alive, closed loop, no pipelining)` +
      `${opts.pin ? '; generator pinned to CPU 0, servers to CPU 1 (taskset)' : '; no CPU pinning (OS scheduler)'}.`,
  );
  console.log(`Per concurrency: ${opts.warmupMs} ms warm-up per server, then ${opts.rounds} rounds of ${opts.durationMs} ms alternating between servers; the median round is shown.\n`);

  // --cpu-prof profiles every server (each over its whole lifetime), so their profiles can be compared.
  const profDirs = {};
  const profArgs = (kind) => {
    if (!opts.cpuProf) return [];
    profDirs[kind] = fs.mkdtempSync(path.join(os.tmpdir(), `aiq-bench-prof-${kind}-`));
    return ['--cpu-prof', '--cpu-prof-dir', profDirs[kind]];
  };
  const pinCpu = opts.pin ? 1 : undefined;
  const servers = [];
  for (const kind of kinds) {
    servers.push(await startServer(kind, { pinCpu, execArgv: profArgs(kind), ...(kind === 'host' ? { appDir: common.BENCH_APP } : {}) }));
  }

  const results = [];
  const served = {};
  let wakeup;
  try {
    const clients = [{ client: opts.client, levels: opts.concurrency }];
    if (opts.agentCheck && opts.client !== 'agent') clients.push({ client: 'agent', levels: [opts.concurrency[0]] });
    for (const { client, levels } of clients) {
      for (const concurrency of levels) {
        for (const server of servers) await measure(server, concurrency, client, opts.warmupMs);
        const rounds = Object.fromEntries(kinds.map((k) => [k, []]));
        for (let r = 0; r < opts.rounds; r++) {
          for (const server of servers) {
            const m = await measure(server, concurrency, client, opts.durationMs);
            rounds[server.kind].push(m);
            served[server.kind] = m.serverTotalRequests;
          }
        }
        const row = { client, concurrency };
        for (const kind of kinds) row[kind] = pickMedian(rounds[kind]);
        row.ratio = row.host.rps / row.bare.rps;
        results.push(row);
        process.stderr.write(`  done: ${client} c=${concurrency}: ${kinds.map((k) => `${k} ${Math.round(row[k].rps)}`).join(', ')} req/s\n`);
      }
    }
    if (opts.wakeupCheck) {
      // Context for the server CPU figures: the same bare server when the generator mostly waits (concurrency 1).
      const bare = servers[0];
      wakeup = await measure(bare, 1, opts.client, Math.min(2000, opts.durationMs));
      served.bare = wakeup.serverTotalRequests;
    }
  } finally {
    for (const server of servers) {
      const stopped = await server.stop();
      if (stopped.logBytes !== undefined) console.log(`Host log written during the run: ${stopped.logBytes} bytes.`);
    }
  }

  const rows = [['client', 'conc', 'server', 'req/s (median)', 'rounds req/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU µs/req', 'server CPU', 'server loop busy', 'generator CPU', 'errors']];
  for (const r of results) {
    for (const kind of kinds) {
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
  console.log(
    '  server CPU = the server process\'s CPU time / wall time (all threads; > 100 % = GC or libuv threads on the other core);\n' +
      '  server loop busy = its main thread\'s event-loop utilization (100 % = saturated); generator CPU = the same\n' +
      '  for this process (near 100 % would mean the generator, not the server, capped the rate).',
  );

  console.log(`\nHost vs bare (target: host req/s >= ${TARGET_RATIO * 100} % of bare)${opts.floor ? ', and vs the Fetch-API floor' : ''}:`);
  const ratioRows = [['client', 'conc', 'host/bare req/s', 'vs target', 'p50 host/bare', 'p99 host/bare', 'CPU/req bare/host', ...(opts.floor ? ['floor/bare req/s', 'host/floor req/s'] : [])]];
  for (const r of results) {
    ratioRows.push([
      r.client,
      String(r.concurrency),
      common.fmtPct(r.ratio),
      r.ratio >= TARGET_RATIO ? 'meets' : 'BELOW',
      `${(r.host.p50 / r.bare.p50).toFixed(2)}x`,
      `${(r.host.p99 / r.bare.p99).toFixed(2)}x`,
      common.fmtPct(r.bare.serverCpuUsPerReq / r.host.serverCpuUsPerReq),
      ...(opts.floor ? [common.fmtPct(r.floor.rps / r.bare.rps), common.fmtPct(r.host.rps / r.floor.rps)] : []),
    ]);
  }
  common.printTable(ratioRows, { rightAlignFrom: 2 });
  console.log(
    '  CPU/req bare/host = the bare server\'s CPU time per request / the host\'s (100 % = as cheap as bare node:http);\n' +
      '  unlike req/s it does not depend on how fast the generator is.',
  );
  if (wakeup) {
    console.log(
      `\nContext: the bare server at concurrency 1 (generator mostly idle): ${common.fmtInt(wakeup.rps)} req/s, ` +
        `${wakeup.serverCpuUsPerReq.toFixed(1)} µs server CPU/req (vs ${results[0].bare.serverCpuUsPerReq.toFixed(1)} at c=${results[0].concurrency}).\n` +
        '  On this VM a socket write that must wake an idle peer process costs tens of µs (in the profile: native writev),\n' +
        '  so a slow server also pays more per response in the kernel than a fast one whose generator never sleeps.',
    );
  }

  const profiles = {};
  for (const [kind, dir] of Object.entries(profDirs)) {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (!files.length) continue;
    const file = path.join(dir, files[0]);
    profiles[kind] = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { root: common.REPO_ROOT, distRoot: path.dirname(common.DIST_HOST) });
    console.log(`\n${kind} server CPU profile (node --cpu-prof, whole process lifetime incl. start-up and idle rounds): ${file}`);
    printProfileSummary(profiles[kind], { requests: served[kind] });
  }

  common.writeJson(opts.json, { machine: facts, options: opts, results, wakeup, targetRatio: TARGET_RATIO, profiles });
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
