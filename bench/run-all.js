#!/usr/bin/env node
'use strict';
// Runs every benchmark (each in its own process, one after the other) and prints a summary. Builds nothing:
//
//   npm run build && node bench/run-all.js [--quick] [--json summary.json]
//
// --quick shortens every phase (for a smoke run; the figures are then noisier).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const common = require('./lib/common.js');

const opts = common.parseArgs({ quick: false, json: '' });

const QUICK_ARGS = {
  'http-roundtrip.js': ['--duration-ms', '1500', '--warmup-ms', '500', '--rounds', '1'],
  'broker.js': ['--messages', '2000', '--repeats', '1', '--latency-count', '300', '--host-count', '200', '--host-closed-count', '1000'],
};

function run(script, jsonFile) {
  const args = [path.join(__dirname, script), '--json', jsonFile, ...(opts.quick ? QUICK_ARGS[script] : [])];
  console.log(`\n=== node ${path.relative(common.REPO_ROOT, args[0])} ${args.slice(1).join(' ')}\n`);
  const t0 = Date.now();
  const child = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: common.REPO_ROOT });
  const seconds = (Date.now() - t0) / 1000;
  if (child.status !== 0) {
    console.log(`\n${script} failed (exit ${child.status}${child.signal ? `, signal ${child.signal}` : ''}) after ${seconds.toFixed(0)} s.`);
    return undefined;
  }
  console.log(`\n(${script}: ${seconds.toFixed(0)} s)`);
  return JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
}

function main() {
  common.requireBuild();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-all-'));
  const facts = common.printMachineFacts();
  let http;
  let broker;
  try {
    http = run('http-roundtrip.js', path.join(tmp, 'http.json'));
    broker = run('broker.js', path.join(tmp, 'broker.json'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  console.log('\n=== Summary');
  common.printMachineFacts(facts);
  if (http) {
    const target = http.targetRatio;
    console.log(`\nHTTP round trip (GET /api/ping on the host vs bare node:http; target host >= ${target * 100} % of bare):`);
    const rows = [['client', 'conc', 'bare req/s', 'host req/s', 'host/bare', 'vs target', 'host p50 ms', 'host p99 ms', 'bare p50 ms', 'bare p99 ms', ...(http.results[0].floor ? ['floor req/s', 'host/floor'] : [])]];
    for (const r of http.results) {
      rows.push([
        r.client,
        String(r.concurrency),
        common.fmtInt(r.bare.rps),
        common.fmtInt(r.host.rps),
        common.fmtPct(r.ratio),
        r.ratio >= target ? 'meets' : 'BELOW',
        common.fmtMs(r.host.p50),
        common.fmtMs(r.host.p99),
        common.fmtMs(r.bare.p50),
        common.fmtMs(r.bare.p99),
        ...(r.floor ? [common.fmtInt(r.floor.rps), common.fmtPct(r.host.rps / r.floor.rps)] : []),
      ]);
    }
    common.printTable(rows, { rightAlignFrom: 2 });
  }
  if (broker) {
    console.log('\nBroker enqueue -> trigger latency (ms):');
    const rows = [['path', 'sync', 'load', 'p50', 'p99']];
    for (const [mode, s] of Object.entries(broker.latency.direct)) rows.push(['direct (broker + receiver)', mode, '1 in flight', common.fmtMs(s.p50), common.fmtMs(s.p99)]);
    if (broker.latency.host) {
      const { open, closed } = broker.latency.host;
      rows.push(['host (HTTP fn -> SB trigger fn)', 'NORMAL', `open loop ${open.rate}/s`, common.fmtMs(open.trigger.p50), common.fmtMs(open.trigger.p99)]);
      rows.push(['host (HTTP fn -> SB trigger fn)', 'NORMAL', `closed loop c=${closed.concurrency}`, common.fmtMs(closed.trigger.p50), common.fmtMs(closed.trigger.p99)]);
    }
    common.printTable(rows, { rightAlignFrom: 3 });
    if (broker.latency.host) {
      const { closed } = broker.latency.host;
      console.log(`  Through the host at c=${closed.concurrency}: ${common.fmtInt(closed.httpRps)} HTTP req/s -> ${common.fmtInt(closed.triggerRate)} triggers/s.`);
    }
    console.log(`\nBroker throughput (${broker.options.messages} × ${broker.options.size} B, send + receive + complete) vs raw SQLite, same run:`);
    const eRows = [['sync', 'broker', 'raw reference', 'broker msg/s', 'raw msg/s', 'fraction']];
    for (const mode of Object.keys(broker.throughput)) {
      const t = broker.throughput[mode];
      for (const [b, r] of [
        ['brokerSingle', 'rawSingle'],
        ['brokerSingle', 'rawBrokerSql'],
        ['brokerBatch', 'rawBatch'],
        ['brokerBatch', 'rawBrokerSqlBatch'],
        ['brokerReceiver', 'rawReceiverShape'],
      ]) {
        eRows.push([mode, t[b].name, t[r].name, common.fmtInt(t[b].rate), common.fmtInt(t[r].rate), common.fmtPct(t[b].rate / t[r].rate)]);
      }
    }
    common.printTable(eRows, { rightAlignFrom: 3 });
    console.log(`  Disk: fdatasync ${common.fmtInt(broker.fsync.perSecond)}/s (p50 ${common.fmtMs(broker.fsync.p50)} ms).`);
  }
  common.writeJson(opts.json, { machine: facts, http, broker });
  if (!http || !broker) process.exitCode = 1;
  // The durable task hub and the management API print their own reports.
  for (const [script, args] of [
    ['durable.js', opts.quick ? ['--quick'] : []],
    ['onboarding.js', opts.quick ? ['--count', '50'] : []],
  ]) {
    console.log(`\n=== ${script}`);
    const result = require('node:child_process').spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
    if (result.status !== 0) process.exitCode = 1;
  }
}

main();
