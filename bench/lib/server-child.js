'use strict';
// A benchmark server in its own process, driven over the IPC channel by the parent (the load generator).
//
//   node bench/lib/server-child.js bare            a bare node:http server answering 'pong' (the baseline)
//   node bench/lib/server-child.js floor           node:http plus the Fetch API objects the @azure/functions v4 HTTP
//                                                  model builds per request (Request, URL query, Response, arrayBuffer)
//   node bench/lib/server-child.js host <appDir>   the embedded host running <appDir> (EmbeddedHost API)
//
// Messages: child -> parent {type:'ready', port, ...}; parent -> child {type:'stats'} (reply: CPU time, event
// loop utilization, RSS) and {type:'stop'} (the child stops its server and exits).

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { DIST_HOST } = require('./common.js');

const [kind, appDir] = process.argv.slice(2);

function send(message) {
  if (process.send) process.send(message);
}

async function startBare() {
  let requests = 0;
  // Same work as the host's ping function: answer 200 'pong' as text/plain, keep-alive as the host's server.
  const server = http.createServer({ keepAliveTimeout: 5_000, requestTimeout: 0 }, (request, response) => {
    requests++;
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('pong');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    info: {},
    requests: () => requests,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The per-request work the @azure/functions v4 HTTP model implies whatever host runs it: the library wraps the
 * request in a Fetch API `Request` (HttpRequest), parses its query, builds a `Response` from the handler's result
 * (HttpResponse) and reads it back with `arrayBuffer()` (toRpcHttp). No host, no invocation pipeline: a floor for
 * the host's cost per request on this Node version.
 */
async function startFloor() {
  let requests = 0;
  const server = http.createServer({ keepAliveTimeout: 5_000, requestTimeout: 0 }, (request, response) => {
    requests++;
    (async () => {
      const headers = {};
      for (let i = 0; i < request.rawHeaders.length; i += 2) headers[request.rawHeaders[i].toLowerCase()] = request.rawHeaders[i + 1];
      const url = `http://${request.headers.host}${request.url}`;
      const req = new Request(url, { method: request.method, headers });
      void new URL(req.url).searchParams;
      const res = new Response('pong', {});
      const outHeaders = {};
      for (const [key, value] of res.headers.entries()) outHeaders[key] = value;
      const body = Buffer.from(await res.arrayBuffer());
      response.writeHead(res.status, { ...outHeaders, 'content-length': body.length });
      response.end(body);
    })().catch((error) => {
      response.statusCode = 500;
      response.end(String(error));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    info: {},
    requests: () => requests,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function startHost() {
  const { EmbeddedHost } = require(path.join(DIST_HOST, 'index.js'));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-host-'));
  const logFile = path.join(stateDir, 'host.log');
  const logDestination = fs.createWriteStream(logFile);
  const host = new EmbeddedHost({ appDir, port: 0, stateDir, logFormat: 'json', logDestination });
  await host.start();
  return {
    port: Number(new URL(host.baseUrl).port),
    info: { stateDir, logFile, functions: host.functionTable().map((row) => row.name) },
    // Invocations started (HTTP requests to functions plus queue-triggered runs).
    requests: () => host.status().invocations.started,
    stop: async () => {
      await host.stop();
      await new Promise((resolve) => logDestination.end(resolve));
      let logBytes = 0;
      try {
        logBytes = fs.statSync(logFile).size;
      } catch {
        // no log written
      }
      fs.rmSync(stateDir, { recursive: true, force: true });
      return { logBytes };
    },
  };
}

async function main() {
  const starters = { bare: startBare, floor: startFloor, host: startHost };
  if (!starters[kind]) throw new Error(`Unknown server kind '${kind}' (expected ${Object.keys(starters).join(', ')})`);
  const server = await starters[kind]();
  let eluMark = performance.eventLoopUtilization();
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      const elu = performance.eventLoopUtilization(eluMark);
      eluMark = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      send({ type: 'stats', id: message.id, requests: server.requests(), cpuUserUs: cpu.user, cpuSystemUs: cpu.system, elu: elu.utilization, rss: process.memoryUsage().rss });
    } else if (message.type === 'stop') {
      const result = (await server.stop()) || {};
      send({ type: 'stopped', ...result });
      process.disconnect?.();
      // --cpu-prof writes its profile on a normal exit, which process.exit() is.
      process.exit(0);
    }
  });
  send({ type: 'ready', kind, port: server.port, pid: process.pid, ...server.info });
}

main().catch((error) => {
  process.stderr.write(`server-child (${kind}) failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
