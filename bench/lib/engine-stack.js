'use strict';
// The whole AutomateIQ stack for bench/engine.js: the real CLI (dist/host/cli.js) on the repo root as a child
// process (SQLite store, embedded Service Bus broker, Durable task hub, development-issuer tokens), and a small
// loopback HTTP client with timings. Figures only; nothing here asserts.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { DIST_HOST } = require('./common.js');
const { platformHostEnv } = require('./platformHost.js');

const AUDIENCE = 'api://automateiq';
/** The app root the CLI runs: the folder holding dist/ (the repo, or an AIQ_BENCH_DIST checkout). */
const APP_ROOT = path.resolve(DIST_HOST, '..', '..');

/**
 * Starts the host child. `cpuProfDir` runs it under `node --cpu-prof` (the profile is written when the child exits
 * after SIGTERM: the CLI shuts down and calls process.exit).
 */
async function startStack({ cpuProfDir, label = 'stack' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `aiq-bench-engine-${label}-`));
  const keyFile = path.join(dir, 'signing-key.json');
  const env = platformHostEnv(dir, keyFile);
  delete env.NODE_OPTIONS;
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const cli = path.join(DIST_HOST, 'cli.js');
  const child = spawn(process.execPath, [...nodeArgs, cli, APP_ROOT, '--port', '0', '--host', '127.0.0.1', '--state-dir', path.join(dir, 'state'), '--log-format', 'json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = { lines: 0, warnings: 0, errors: 0, samples: [] };
  let stderrTail = '';
  child.stderr.on('data', (c) => {
    stderrTail = (stderrTail + c).slice(-4000);
  });
  const baseUrl = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`host did not start in 30 s; stderr: ${stderrTail}`)), 30_000);
    const onData = (chunk) => {
      out += chunk;
      const match = /Host listening on (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
        out = '';
        child.stdout.off('data', onData);
        child.stdout.on('data', countLogs);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited (${code}); stderr: ${stderrTail}`));
    });
  });
  let partial = '';
  function countLogs(chunk) {
    const text = partial + chunk;
    const lines = text.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      if (!line) continue;
      logs.lines++;
      let level = '';
      try {
        level = String(JSON.parse(line).level || '');
      } catch {
        level = /error/i.test(line) ? 'error' : '';
      }
      if (/warn/i.test(level)) logs.warnings++;
      if (/error|fatal|critical/i.test(level)) logs.errors++;
      if (/warn|error|fatal|critical/i.test(level) && logs.samples.length < 5) logs.samples.push(line.slice(0, 300));
    }
  }
  const { signDevelopmentToken } = require(path.join(path.dirname(DIST_HOST), 'shared', 'adapters', 'devissuer', 'index.js'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const url = new URL(baseUrl);

  /** One request over node:http keep-alive; resolves { status, body, sentAt (Date.now() before send), ms }. */
  function call(method, route, token, body) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const sentAt = Date.now();
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path: route,
          headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = text;
            }
            resolve({ status: res.statusCode, body: json, sentAt, ms: performance.now() - started, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }
  async function must(method, route, token, body, ok = [200, 201, 202, 204]) {
    const r = await call(method, route, token, body);
    if (!ok.includes(r.status)) throw new Error(`${method} ${route} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
    return r;
  }

  async function stop() {
    agent.destroy();
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  function cleanup() {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  return {
    child,
    pid: child.pid,
    baseUrl,
    dir,
    keyFile,
    logs,
    call,
    must,
    stop,
    cleanup,
    token: (claims) => signDevelopmentToken({ keyFile, audience: AUDIENCE, ...claims }),
  };
}

/** CPU time (user+system, ms) of a process from /proc/<pid>/stat; NaN where /proc is unavailable. */
function processCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

module.exports = { startStack, processCpuMs, AUDIENCE, APP_ROOT };
