'use strict';
// HTTP/1.1 load generators, no dependencies:
//
// - 'raw'   autocannon-style: N keep-alive TCP connections (node:net), each sending one request and waiting for
//           the whole response before the next (no pipelining). The request bytes are prebuilt and responses are
//           parsed just enough to find their end (Content-Length or chunked) and check status and body. Cheap per
//           request, so the generator is less likely than the server to be the bottleneck.
// - 'agent' node:http client with a keep-alive Agent (maxSockets = concurrency), the same closed loop. Costs more
//           CPU per request in the generator; kept as a cross-check.
//
// Both are closed loops at fixed concurrency for a fixed duration (and at most maxRequests). Latency = time from
// writing the request to receiving the last byte of the response, per request, in milliseconds.

const http = require('node:http');
const net = require('node:net');

const CRLF_CRLF = Buffer.from('\r\n\r\n');

function buildRequest({ host, port, method, path, body }) {
  const payload = body ? Buffer.from(body) : Buffer.alloc(0);
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}:${port}`, 'Connection: keep-alive'];
  if (method !== 'GET' && method !== 'HEAD') lines.push(`Content-Length: ${payload.length}`);
  if (payload.length) lines.push('Content-Type: application/octet-stream');
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
}

/**
 * Finds the end of one HTTP/1.1 response at the start of `buf`. Returns undefined when incomplete, else
 * { end, status, body, close }.
 */
function parseResponse(buf) {
  const headerEnd = buf.indexOf(CRLF_CRLF);
  if (headerEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  let contentLength = -1;
  let chunked = false;
  let close = false;
  let lineStart = head.indexOf('\r\n') + 2;
  while (lineStart > 1 && lineStart < head.length) {
    let lineEnd = head.indexOf('\r\n', lineStart);
    if (lineEnd < 0) lineEnd = head.length;
    const colon = head.indexOf(':', lineStart);
    if (colon > 0 && colon < lineEnd) {
      const name = head.slice(lineStart, colon).toLowerCase();
      if (name === 'content-length') contentLength = Number(head.slice(colon + 1, lineEnd).trim());
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(head.slice(colon + 1, lineEnd));
      else if (name === 'connection') close = /close/i.test(head.slice(colon + 1, lineEnd));
    }
    lineStart = lineEnd + 2;
  }
  const bodyStart = headerEnd + 4;
  if (chunked) {
    const parts = [];
    let pos = bodyStart;
    for (;;) {
      const sizeEnd = buf.indexOf('\r\n', pos, 'latin1');
      if (sizeEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', pos, sizeEnd), 16);
      if (size === 0) {
        // No trailers expected: the last chunk is followed by an empty line.
        if (buf.length < sizeEnd + 4) return undefined;
        return { end: sizeEnd + 4, status, body: Buffer.concat(parts), close };
      }
      if (buf.length < sizeEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(sizeEnd + 2, sizeEnd + 2 + size));
      pos = sizeEnd + 2 + size + 2;
    }
  }
  const length = contentLength < 0 ? 0 : contentLength;
  if (buf.length < bodyStart + length) return undefined;
  return { end: bodyStart + length, status, body: buf.subarray(bodyStart, bodyStart + length), close };
}

/**
 * Closed-loop load. Options: port, host (127.0.0.1), method (GET), path, body, concurrency, durationMs,
 * maxRequests (default unlimited), expectStatus (200), expectBody (string, optional), client ('raw'|'agent').
 * Resolves { requests, errors, durationMs, rps, latenciesMs (array), generatorCpuMs }.
 */
function runClosedLoop(options) {
  return (options.client || 'raw') === 'agent' ? runAgentLoop(options) : runRawLoop(options);
}

function makeRecorder(options) {
  const expectStatus = options.expectStatus ?? 200;
  const expectBody = options.expectBody === undefined ? undefined : Buffer.from(options.expectBody);
  const maxRequests = options.maxRequests ?? Infinity;
  const latenciesMs = [];
  const state = { started: 0, completed: 0, errors: 0, firstError: undefined, stopAt: 0, stopped: false };
  return {
    state,
    latenciesMs,
    canStart() {
      if (state.stopped) return false;
      if (state.started >= maxRequests || performance.now() >= state.stopAt) {
        state.stopped = true;
        return false;
      }
      state.started++;
      return true;
    },
    record(t0, status, body) {
      const now = performance.now();
      state.completed++;
      if (status !== expectStatus || (expectBody && !expectBody.equals(body))) {
        state.errors++;
        if (!state.firstError) state.firstError = `status ${status} body ${String(body).slice(0, 200)}`;
      } else {
        latenciesMs.push(now - t0);
      }
    },
    fail(error) {
      state.errors++;
      if (!state.firstError) state.firstError = String(error && error.message ? error.message : error);
    },
  };
}

function runRawLoop(options) {
  const host = options.host || '127.0.0.1';
  const request = buildRequest({ host, port: options.port, method: options.method || 'GET', path: options.path, body: options.body });
  const recorder = makeRecorder(options);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  recorder.state.stopAt = t0 + options.durationMs;
  let active = 0;

  return new Promise((resolve) => {
    const finish = () => {
      const durationMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const ok = recorder.latenciesMs.length;
      resolve({
        requests: recorder.state.completed,
        ok,
        errors: recorder.state.errors,
        firstError: recorder.state.firstError,
        durationMs,
        rps: ok / (durationMs / 1000),
        latenciesMs: recorder.latenciesMs,
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
      });
    };

    const connect = () => {
      active++;
      const socket = net.connect({ host, port: options.port });
      socket.setNoDelay(true);
      let buffer = undefined;
      let sentAt = 0;
      let inFlight = false;
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        socket.destroy();
        active--;
        if (active === 0) finish();
      };
      const next = () => {
        if (!recorder.canStart()) return end();
        inFlight = true;
        sentAt = performance.now();
        socket.write(request);
      };
      socket.on('connect', next);
      socket.on('data', (chunk) => {
        buffer = buffer ? Buffer.concat([buffer, chunk]) : chunk;
        const response = parseResponse(buffer);
        if (!response) return;
        buffer = response.end < buffer.length ? buffer.subarray(response.end) : undefined;
        inFlight = false;
        recorder.record(sentAt, response.status, response.body);
        if (response.close) {
          // The server closes this connection: open another one in its place.
          done = true;
          socket.destroy();
          active--;
          if (!recorder.state.stopped) connect();
          else if (active === 0) finish();
          return;
        }
        next();
      });
      socket.on('error', (error) => {
        if (inFlight) recorder.fail(error);
        end();
      });
      socket.on('close', () => {
        if (!done && inFlight) recorder.fail(new Error('connection closed mid-response'));
        end();
      });
    };
    for (let i = 0; i < options.concurrency; i++) connect();
  });
}

function runAgentLoop(options) {
  const host = options.host || '127.0.0.1';
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const recorder = makeRecorder(options);
  const body = options.body ? Buffer.from(options.body) : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  recorder.state.stopAt = t0 + options.durationMs;

  return new Promise((resolve) => {
    let active = options.concurrency;
    const loopDone = () => {
      if (--active > 0) return;
      agent.destroy();
      const durationMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const ok = recorder.latenciesMs.length;
      resolve({
        requests: recorder.state.completed,
        ok,
        errors: recorder.state.errors,
        firstError: recorder.state.firstError,
        durationMs,
        rps: ok / (durationMs / 1000),
        latenciesMs: recorder.latenciesMs,
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
      });
    };
    const next = () => {
      if (!recorder.canStart()) return loopDone();
      const sentAt = performance.now();
      const req = http.request(
        { host, port: options.port, method: options.method || 'GET', path: options.path, agent, headers: body ? { 'content-length': body.length } : {} },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            recorder.record(sentAt, res.statusCode, Buffer.concat(chunks));
            next();
          });
          res.on('error', (error) => {
            recorder.fail(error);
            next();
          });
        },
      );
      req.on('error', (error) => {
        recorder.fail(error);
        next();
      });
      req.end(body);
    };
    for (let i = 0; i < options.concurrency; i++) next();
  });
}

/**
 * Open loop: sends `count` requests at a fixed `rate` (per second) regardless of how fast the answers come,
 * over a pool of keep-alive raw connections (a new one is opened when all are busy, up to maxConnections).
 * Resolves { sent, ok, errors, latenciesMs, durationMs, behind } where behind counts ticks that found no free
 * connection under the cap (then the request waits for one).
 */
function runOpenLoop(options) {
  const host = options.host || '127.0.0.1';
  const request = buildRequest({ host, port: options.port, method: options.method || 'GET', path: options.path, body: options.body });
  const recorder = makeRecorder({ ...options, maxRequests: Infinity });
  recorder.state.stopAt = Infinity;
  const maxConnections = options.maxConnections ?? 64;
  const idle = [];
  const pending = [];
  let connections = 0;
  let sent = 0;
  let answered = 0;
  let behind = 0;
  const t0 = performance.now();
  const intervalMs = 1000 / options.rate;

  return new Promise((resolve) => {
    const maybeDone = () => {
      if (answered < options.count) return;
      for (const c of idle) c.destroy();
      resolve({
        sent,
        ok: recorder.latenciesMs.length,
        errors: recorder.state.errors,
        firstError: recorder.state.firstError,
        latenciesMs: recorder.latenciesMs,
        durationMs: performance.now() - t0,
        behind,
      });
    };
    const openConnection = () => {
      connections++;
      const socket = net.connect({ host, port: options.port });
      socket.setNoDelay(true);
      let buffer;
      socket.on('connect', () => release(socket));
      socket.on('data', (chunk) => {
        buffer = buffer ? Buffer.concat([buffer, chunk]) : chunk;
        const response = parseResponse(buffer);
        if (!response) return;
        buffer = undefined;
        answered++;
        recorder.record(socket.sentAt, response.status, response.body);
        if (response.close) {
          socket.destroy();
          connections--;
        } else release(socket);
        maybeDone();
      });
      socket.on('error', (error) => {
        if (socket.sentAt) {
          recorder.fail(error);
          answered++;
        }
        connections--;
        maybeDone();
      });
    };
    const dispatch = (socket) => {
      socket.sentAt = performance.now();
      socket.write(request);
    };
    const release = (socket) => {
      socket.sentAt = 0;
      if (pending.length) {
        pending.shift();
        dispatch(socket);
      } else idle.push(socket);
    };
    const tick = () => {
      const due = Math.min(options.count, Math.floor((performance.now() - t0) / intervalMs) + 1);
      while (sent < due) {
        sent++;
        const socket = idle.pop();
        if (socket) dispatch(socket);
        else {
          pending.push(true);
          if (connections < maxConnections) openConnection();
          else behind++;
        }
      }
      if (sent < options.count) setTimeout(tick, Math.max(0, t0 + sent * intervalMs - performance.now()));
    };
    tick();
  });
}

module.exports = { runClosedLoop, runOpenLoop, parseResponse, buildRequest };
