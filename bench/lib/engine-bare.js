'use strict';
// The bare task hub baseline of bench/engine.js: bench/durable.js's P2 phase (HelloSequence5 started with
// engine.startNew() on test/fixtures/bench-durable-app, host in that process, no HTTP, no app store, no queue), run
// as a child process of this invocation so both figures come from one run of bench/engine.js on the same machine.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO_ROOT } = require('./common.js');

/** Runs `node bench/durable.js --only p2 --p2-runs <sizes> --rounds <rounds> --json <tmp>`; resolves its P2 figures. */
async function runBareP2({ sizes, rounds, timeoutMs = 120_000 }) {
  const jsonFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-engine-bare-')), 'durable.json');
  const args = [path.join(REPO_ROOT, 'bench', 'durable.js'), '--only', 'p2', '--p2-runs', sizes.join(','), '--rounds', String(rounds), '--json', jsonFile];
  const command = `node ${path.relative(REPO_ROOT, args[0])} ${args.slice(1, -1).join(' ')} <tmp>.json`;
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const wallMs = performance.now() - started;
  if (code !== 0 || !fs.existsSync(jsonFile)) throw new Error(`${command} exited ${code}\n${stderr.slice(-2000)}\n${stdout.slice(-2000)}`);
  const results = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  fs.rmSync(path.dirname(jsonFile), { recursive: true, force: true });
  const p2 = results.p2.map((b) => ({
    runs: b.runs,
    runsPerSec: b.runsPerSec,
    makespanMs: b.makespanMs,
    submitMs: b.submitMs,
    completed: b.completed,
    cpuShare: b.cpuShare,
    cpuMsPerRun: (b.cpuShare * b.makespanMs) / b.runs,
    runMs: b.runMs,
    episodesPerSec: b.episodesPerSec,
  }));
  const loadLine = (/Load average at start: .*/.exec(stdout) || [''])[0];
  return { command, wallMs, p2, durability: results.durability, hostLog: results.hostLog, loadLine };
}

module.exports = { runBareP2 };
