'use strict';
// Parent side of server-child.js: starts a server in its own process and talks to it over IPC.

const { spawn } = require('node:child_process');
const path = require('node:path');

const CHILD = path.join(__dirname, 'server-child.js');
const START_TIMEOUT_MS = 30_000;

/**
 * @param {'bare'|'host'} kind
 * @param {{ appDir?: string, pinCpu?: number, execArgv?: string[] }} options
 *   pinCpu: run the child under `taskset -c <cpu>`; execArgv: extra node flags (e.g. --cpu-prof).
 */
function startServer(kind, options = {}) {
  const nodeArgs = [...(options.execArgv || []), CHILD, kind, ...(options.appDir ? [options.appDir] : [])];
  const [command, args] =
    options.pinCpu === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(options.pinCpu), process.execPath, ...nodeArgs]];
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const waiting = new Map();
  let onStopped;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} server did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited before it was ready (code ${code}, signal ${signal})`));
      for (const w of waiting.values()) w.reject(new Error(`${kind} server exited`));
    });
    child.on('message', (message) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({
          kind,
          port: message.port,
          pid: child.pid,
          info: message,
          /** CPU time (µs, cumulative), event-loop utilization since the previous call, RSS. */
          stats() {
            const id = nextId++;
            return new Promise((res, rej) => {
              waiting.set(id, { resolve: res, reject: rej });
              child.send({ type: 'stats', id });
            });
          },
          /** Stops the server; resolves with what the child reported (the host's log size) once it exited. */
          stop() {
            return new Promise((res) => {
              let reported = {};
              onStopped = (m) => (reported = m);
              child.once('exit', () => res(reported));
              child.send({ type: 'stop' });
              setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
            });
          },
        });
      } else if (message.type === 'stats') {
        const w = waiting.get(message.id);
        waiting.delete(message.id);
        if (w) w.resolve(message);
      } else if (message.type === 'stopped') {
        if (onStopped) onStopped(message);
      }
    });
  });
}

/** Runs `fn` and returns its result plus the server's CPU and event-loop figures over that span. */
async function withServerCpu(server, fn) {
  const before = await server.stats();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = await server.stats();
  const cpuMs = (after.cpuUserUs - before.cpuUserUs + after.cpuSystemUs - before.cpuSystemUs) / 1000;
  return { result, server: { cpuMs, cpuShare: cpuMs / wallMs, elu: after.elu, rss: after.rss, requests: after.requests - before.requests, totalRequests: after.requests } };
}

module.exports = { startServer, withServerCpu };
