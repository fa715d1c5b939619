#!/usr/bin/env node
'use strict';
// The embedded Service Bus broker (SQLite, WAL) measured three ways in one run:
//
//  (a) enqueue -> trigger latency
//      - direct: SqliteBroker + startReceiver in this process; one message at a time (send, wait until the handler
//        started, send the next), stamped just before send() and read at the start of the handler.
//      - through the host (its own child process, broker opened by the host with synchronous = NORMAL): an HTTP
//        function stamps a message and sends it through a Service Bus output binding; a serviceBusQueue function
//        records how long after the stamp it started (both readings in the host process, monotonic clock).
//        Open loop at a fixed request rate, then a closed loop at fixed concurrency for throughput.
//  (b) messages/s for send + receive + complete of N messages of S bytes, synchronous NORMAL and FULL:
//      one message per call (a transaction per send, per receive, per complete), batches (send/receive/complete
//      `--batch` at a time), and the receiver the host uses (startReceiver) draining a prefilled queue.
//  (c) the raw SQLite transaction rate of the same write shapes with better-sqlite3 directly (same pragmas, same
//      disk, same run): a minimal table (INSERT, UPDATE-lock, DELETE), and the broker's own schema and SQL without
//      the broker's JavaScript (so minimal vs broker-SQL is the cost of the schema: indexes, duplicate detection,
//      sequence counter; broker-SQL vs broker API is the cost of the broker's JavaScript). Reported: our rate as a
//      fraction of each.
//
//   node bench/broker.js [--messages 10000] [--size 1024] [--batch 100] [--modes NORMAL,FULL]
//        [--latency-count 2000] [--host-rate 200] [--host-count 1000] [--host-closed-count 5000]
//        [--host-concurrency 16] [--repeats 3] [--phase-cap-ms 60000] [--skip-host] [--json out.json]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const common = require('./lib/common.js');
const { runClosedLoop, runOpenLoop } = require('./lib/loadgen.js');
const { startServer, withServerCpu } = require('./lib/servers.js');

const opts = common.parseArgs({
  messages: 10_000,
  size: 1024,
  batch: 100,
  modes: ['NORMAL', 'FULL'],
  latencyCount: 2000,
  hostRate: 200,
  hostCount: 1000,
  hostClosedCount: 5000,
  hostConcurrency: 16,
  receiverConcurrency: 16,
  repeats: 3,
  phaseCapMs: 60_000,
  skipHost: false,
  json: '',
});

common.requireBuild();
const Database = require(path.join(common.REPO_ROOT, 'node_modules', 'better-sqlite3'));
const { SqliteBroker } = require(path.join(common.DIST_HOST, 'servicebus', 'broker.js'));
const { startReceiver } = require(path.join(common.DIST_HOST, 'servicebus', 'receiver.js'));
const { MIGRATIONS } = require(path.join(common.DIST_HOST, 'servicebus', 'brokerSchema.js'));

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-broker-'));
let fileCounter = 0;
function freshFile(tag) {
  return path.join(workDir, `${tag}-${++fileCounter}.db`);
}
function removeDb(file) {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

const BODY = crypto.randomBytes(opts.size);
const QUEUE = 'bench';

/** Runs body(i) for i < n, stopping early once capMs elapsed (checked every 64 iterations). Returns how many ran. */
function loopCapped(n, capMs, body) {
  const stopAt = performance.now() + capMs;
  let i = 0;
  for (; i < n; i++) {
    if ((i & 63) === 0 && performance.now() > stopAt) break;
    body(i);
  }
  return i;
}

function result(name, messages, sendMs, consumeMs, transactions) {
  return {
    name,
    messages,
    transactions,
    sendMs,
    consumeMs,
    sendRate: (messages / sendMs) * 1000,
    consumeRate: (messages / consumeMs) * 1000,
    rate: (messages / (sendMs + consumeMs)) * 1000,
    txRate: (transactions / (sendMs + consumeMs)) * 1000,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// (c) the disk and raw SQLite
// ---------------------------------------------------------------------------------------------------------------

/** fdatasync of a 4 KiB overwrite, for ~1 s: the cost a FULL commit cannot avoid. */
function measureFsync() {
  const file = path.join(workDir, 'fsync.bin');
  const fd = fs.openSync(file, 'w');
  const page = Buffer.alloc(4096, 7);
  const latencies = [];
  const stopAt = performance.now() + 1000;
  try {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      fs.writeSync(fd, page, 0, page.length, 0);
      fs.fdatasyncSync(fd);
      latencies.push(performance.now() - t0);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return { perSecond: latencies.length, ...common.summarize(latencies) };
}

function openRaw(file, mode) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${mode}`);
  return db;
}

/**
 * Minimal queue table: a transaction per INSERT batch, per lock batch (UPDATE ... RETURNING the oldest unlocked rows)
 * and per DELETE batch (by rowid). `sendPer` / `consumePer` rows per transaction (1 = one transaction per operation).
 */
function rawMinimal(mode, n, sendPer, consumePer = sendPer) {
  const file = freshFile('raw-min');
  const db = openRaw(file, mode);
  try {
    db.exec('CREATE TABLE q (id INTEGER PRIMARY KEY, lock_token TEXT, locked_until INTEGER, body BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO q (body) VALUES (?)');
    const lock = db.prepare(
      `UPDATE q SET lock_token = ?, locked_until = ? WHERE id IN (SELECT id FROM q WHERE lock_token IS NULL ORDER BY id LIMIT ?)
       RETURNING id, lock_token, body`,
    );
    const remove = db.prepare('DELETE FROM q WHERE id = ?');
    const sendTx = db.transaction((k) => {
      for (let j = 0; j < k; j++) insert.run(BODY);
    });
    const completeTx = db.transaction((rows) => {
      for (const row of rows) remove.run(row.id);
    });
    let t0 = performance.now();
    const sentBatches = loopCapped(Math.ceil(n / sendPer), opts.phaseCapMs, (i) =>
      sendPer === 1 ? insert.run(BODY) : sendTx(Math.min(sendPer, n - i * sendPer)),
    );
    const sent = Math.min(n, sentBatches * sendPer);
    const sendMs = performance.now() - t0;
    t0 = performance.now();
    let consumed = 0;
    let consumeTx = 0;
    while (consumed < sent) {
      const rows = lock.all(crypto.randomUUID(), Date.now() + 60_000, consumePer);
      if (rows.length === 0) break;
      if (rows.length === 1) remove.run(rows[0].id);
      else completeTx(rows);
      consumed += rows.length;
      consumeTx += 2;
    }
    const consumeMs = performance.now() - t0;
    const label = sendPer === consumePer ? `${sendPer}/tx` : `send ${sendPer}/tx, lock+delete ${consumePer}/tx`;
    return result(`raw SQLite, minimal table, ${label}`, consumed, sendMs, consumeMs, Math.ceil(sent / sendPer) + consumeTx);
  } finally {
    db.close();
    removeDb(file);
  }
}

/** The broker's schema and SQL statements (copied from host/servicebus/broker.ts), run without the broker's JS. */
function rawBrokerSql(mode, n, per = 1) {
  const file = freshFile('raw-sql');
  const db = openRaw(file, mode);
  try {
    for (const migration of MIGRATIONS) db.exec(migration);
    db.function('sb_lock_token', { deterministic: false }, () => crypto.randomUUID());
    db.prepare(
      `INSERT INTO entities (path_key, path, kind, topic_id, lock_duration_ms, max_delivery_count, default_ttl_ms,
         requires_duplicate_detection, duplicate_window_ms, dead_letter_on_expiration, filter)
       VALUES ('bench', 'bench', 'queue', NULL, 60000, 10, NULL, 1, 600000, 0, NULL)`,
    ).run();
    const recordMessageId = db
      .prepare(
        `INSERT INTO duplicate_detection (entity_id, message_id, seen_at) VALUES (@entityId, @messageId, @now)
         ON CONFLICT (entity_id, message_id) DO UPDATE SET seen_at = excluded.seen_at WHERE seen_at <= @cutoff
         RETURNING 1`,
      )
      .pluck();
    const insertMessage = db.prepare(
      `INSERT INTO messages (entity_id, state, seq, message_id, enqueued_at, scheduled_at, ttl_ms, expires_at, props, body)
       VALUES (@entityId, 0, @seq, @messageId, @now, NULL, NULL, NULL, NULL, @body)`,
    );
    const setNextSequence = db.prepare(`UPDATE meta SET value = ? WHERE key = 'next_sequence_number'`);
    const receive = db.prepare(
      `UPDATE messages
          SET lock_token = sb_lock_token(), locked_until = @lockedUntil, delivery_count = delivery_count + 1
        WHERE id IN (SELECT id FROM messages
                      WHERE entity_id = @entityId AND state = 0 AND lock_token IS NULL
                      ORDER BY seq LIMIT @max)
        RETURNING id, state, seq, message_id, enqueued_at, ttl_ms, expires_at, delivery_count, lock_token,
          locked_until, dl_source, dl_reason, dl_description, props, body`,
    );
    const complete = db.prepare(
      `DELETE FROM messages WHERE lock_token = @token AND entity_id = @entityId AND state = 0 AND locked_until > @now`,
    );
    let seq = 1;
    const send = db.transaction((k) => {
      const now = Date.now();
      for (let j = 0; j < k; j++) {
        const messageId = crypto.randomUUID().replace(/-/g, '');
        recordMessageId.get({ entityId: 1, messageId, now, cutoff: now - 600_000 });
        insertMessage.run({ entityId: 1, seq: seq++, messageId, now, body: BODY });
      }
      setNextSequence.run(seq);
    });
    const completeAll = db.transaction((rows, now) => {
      for (const row of rows) complete.run({ token: row.lock_token, entityId: 1, now });
    });
    let t0 = performance.now();
    const sentBatches = loopCapped(Math.ceil(n / per), opts.phaseCapMs, (i) => send(Math.min(per, n - i * per)));
    const sent = Math.min(n, sentBatches * per);
    const sendMs = performance.now() - t0;
    t0 = performance.now();
    let consumed = 0;
    while (consumed < sent) {
      const rows = receive.all({ entityId: 1, lockedUntil: Date.now() + 60_000, max: per });
      if (rows.length === 0) break;
      if (rows.length === 1) complete.run({ token: rows[0].lock_token, entityId: 1, now: Date.now() });
      else completeAll(rows, Date.now());
      consumed += rows.length;
    }
    const consumeMs = performance.now() - t0;
    return result(`raw SQLite, broker's schema + SQL, ${per}/tx`, consumed, sendMs, consumeMs, Math.ceil(sent / per) * 3);
  } finally {
    db.close();
    removeDb(file);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (b) the broker
// ---------------------------------------------------------------------------------------------------------------

function openBroker(mode, tag) {
  const file = freshFile(tag);
  const broker = SqliteBroker.open({ file, synchronous: mode });
  broker.ensureQueue(QUEUE);
  return { broker, file };
}

/** send/receive/complete through the broker API, `per` messages per call (1 = a transaction per operation). */
function brokerCalls(mode, n, per) {
  const { broker, file } = openBroker(mode, `broker-${per}`);
  try {
    const batchMessages = Array.from({ length: per }, () => ({ body: BODY }));
    let t0 = performance.now();
    const sentBatches = loopCapped(Math.ceil(n / per), opts.phaseCapMs, (i) => {
      const k = Math.min(per, n - i * per);
      broker.send(QUEUE, k === per ? batchMessages : batchMessages.slice(0, k));
    });
    const sent = Math.min(n, sentBatches * per);
    const sendMs = performance.now() - t0;
    t0 = performance.now();
    let consumed = 0;
    while (consumed < sent) {
      const messages = broker.receive(QUEUE, per);
      if (messages.length === 0) break;
      if (per === 1) broker.complete(QUEUE, messages[0].lockToken);
      else {
        const errors = broker.completeMany(QUEUE, messages.map((m) => m.lockToken));
        if (errors.some((e) => e !== undefined)) throw new Error('completeMany reported lost locks');
      }
      consumed += messages.length;
    }
    const consumeMs = performance.now() - t0;
    const left = broker.getRuntimeProperties(QUEUE).activeMessageCount;
    if (left !== sent - consumed) throw new Error(`broker left ${left} messages, expected ${sent - consumed}`);
    const label = per === 1 ? 'broker API, 1 message per call' : `broker API, ${per} per call (send, receive, completeMany)`;
    return result(label, consumed, sendMs, consumeMs, Math.ceil(sent / per) * 3);
  } finally {
    broker.close();
    removeDb(file);
  }
}

/**
 * The host's consumer: prefill with one send per message (timed as the send phase), then drain with startReceiver
 * (peek-lock, no-op async handler, completions of one event-loop turn batched by the receiver).
 */
async function brokerReceiver(mode, n) {
  const { broker, file } = openBroker(mode, 'broker-receiver');
  try {
    const message = [{ body: BODY }];
    let t0 = performance.now();
    const sent = loopCapped(n, opts.phaseCapMs, () => broker.send(QUEUE, message));
    const sendMs = performance.now() - t0;
    let handled = 0;
    let resolveDone;
    const done = new Promise((resolve) => (resolveDone = resolve));
    const errors = [];
    t0 = performance.now();
    const receiver = startReceiver(broker, QUEUE, {
      maxConcurrentCalls: opts.receiverConcurrency,
      handler: async () => {
        if (++handled === sent) resolveDone();
      },
      onError: (error) => errors.push(error),
    });
    const cap = setTimeout(resolveDone, opts.phaseCapMs);
    await done;
    clearTimeout(cap);
    await receiver.stop(); // resolves once every in-flight handler settled, i.e. was completed
    const consumeMs = performance.now() - t0;
    const left = broker.getRuntimeProperties(QUEUE).activeMessageCount;
    if (errors.length) throw new Error(`receiver reported ${errors.length} errors: ${errors[0]}`);
    // Transactions: sends + receives (one per pump, unknown) + completion batches (unknown): not reported.
    return {
      ...result(`startReceiver (maxConcurrentCalls ${opts.receiverConcurrency}) draining; sends 1 per call`, sent - left, sendMs, consumeMs, NaN),
      leftOver: left,
    };
  } finally {
    broker.close();
    removeDb(file);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (a) latency
// ---------------------------------------------------------------------------------------------------------------

/**
 * One message in flight at a time: stamp, send, wait for the handler, repeat. With `checkpointOff` (a diagnostic)
 * SQLite's WAL auto-checkpoint is disabled through the broker's private database handle, to show how much of the
 * tail is the checkpoint that SQLite runs inside the committing call, i.e. on the event loop.
 */
async function directLatency(mode, count, { checkpointOff = false } = {}) {
  const { broker, file } = openBroker(mode, 'latency');
  if (checkpointOff) {
    if (!broker.db || typeof broker.db.pragma !== 'function') return undefined;
    broker.db.pragma('wal_autocheckpoint = 0');
  }
  const latencies = [];
  let wake;
  const receiver = startReceiver(broker, QUEUE, {
    maxConcurrentCalls: opts.receiverConcurrency,
    handler: async (message) => {
      latencies.push(performance.now() - message.body.readDoubleLE(0));
      wake();
    },
  });
  try {
    const warmup = Math.min(200, count);
    for (let i = 0; i < count + warmup; i++) {
      const handled = new Promise((resolve) => (wake = resolve));
      const body = Buffer.alloc(opts.size);
      body.writeDoubleLE(performance.now(), 0);
      broker.send(QUEUE, [{ body }]);
      await handled;
    }
    latencies.splice(0, warmup);
    return common.summarize(latencies);
  } finally {
    await receiver.stop();
    broker.close();
    removeDb(file);
  }
}

async function getJson(url, method = 'GET') {
  const response = await fetch(url, { method });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
  return response.json();
}

/** Waits until the trigger function has recorded `expected` messages, then reads and resets the readings. */
async function collectTriggerReadings(baseUrl, expected, timeoutMs = 60_000) {
  const stopAt = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await getJson(`${baseUrl}/api/latencies`).then((r) => ({ count: r.count }));
    if (count >= expected || Date.now() > stopAt) break;
    await common.sleep(50);
  }
  return getJson(`${baseUrl}/api/latencies`, 'DELETE');
}

async function hostLatency() {
  const host = await startServer('host', { appDir: common.BENCH_APP });
  const baseUrl = `http://127.0.0.1:${host.port}`;
  try {
    const post = { port: host.port, method: 'POST', path: '/api/enqueue', expectStatus: 202, expectBody: 'queued' };
    // Warm-up: JIT, prepared statements, connections.
    await runClosedLoop({ ...post, concurrency: 8, durationMs: 60_000, maxRequests: 500 });
    await collectTriggerReadings(baseUrl, 500);

    const open = await runOpenLoop({ ...post, rate: opts.hostRate, count: opts.hostCount });
    const openReadings = await collectTriggerReadings(baseUrl, opts.hostCount);

    const closed = await withServerCpu(host, async () => {
      const load = await runClosedLoop({ ...post, concurrency: opts.hostConcurrency, durationMs: 120_000, maxRequests: opts.hostClosedCount });
      const readings = await collectTriggerReadings(baseUrl, load.ok);
      return { load, readings };
    });
    const { load, readings } = closed.result;
    const triggerSpanMs = readings.lastStartedAt - readings.firstStartedAt;
    return {
      open: {
        rate: opts.hostRate,
        sent: open.sent,
        errors: open.errors,
        http: common.summarize(open.latenciesMs),
        trigger: common.summarize(openReadings.latenciesMs),
        triggered: openReadings.count,
      },
      closed: {
        concurrency: opts.hostConcurrency,
        requests: load.ok,
        errors: load.errors,
        firstError: load.firstError,
        httpRps: load.rps,
        http: common.summarize(load.latenciesMs),
        trigger: common.summarize(readings.latenciesMs),
        triggered: readings.count,
        triggerRate: ((readings.count - 1) / triggerSpanMs) * 1000,
        // Invocations = HTTP + trigger (+ a few polls); CPU over the whole closed loop.
        hostCpuUsPerMessage: (closed.server.cpuMs * 1000) / Math.max(1, readings.count),
        hostCpuShare: closed.server.cpuShare,
      },
    };
  } finally {
    await host.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------

function latencyRow(label, mode, load, s) {
  return [label, mode, load, common.fmtInt(s.count), common.fmtMs(s.p50), common.fmtMs(s.p90), common.fmtMs(s.p99), common.fmtMs(s.max)];
}

async function main() {
  const facts = common.printMachineFacts();
  console.log(
    `\nEmbedded Service Bus broker (SQLite WAL via better-sqlite3), ${opts.messages.toLocaleString('en-US')} messages of ${opts.size} B per throughput scenario;` +
      ` database files in ${os.tmpdir()}. Queue defaults (duplicate detection on, lock 60 s).`,
  );
  console.log('Direct scenarios run in this process; the host scenario runs the host in a child process and drives it over HTTP from here.\n');

  const fsync = measureFsync();
  console.log(
    `Disk: fdatasync of a 4 KiB overwrite: ${common.fmtInt(fsync.perSecond)}/s, p50 ${common.fmtMs(fsync.p50)} ms, p99 ${common.fmtMs(fsync.p99)} ms` +
      ' (what one FULL commit must wait for).\n',
  );

  // (a) latency
  const latency = { direct: {} };
  for (const mode of opts.modes) {
    latency.direct[mode] = await directLatency(mode, opts.latencyCount);
    process.stderr.write(`  done: direct latency ${mode}\n`);
  }
  latency.directNoCheckpoint = await directLatency(opts.modes[0], opts.latencyCount, { checkpointOff: true });
  if (!opts.skipHost) {
    latency.host = await hostLatency();
    process.stderr.write('  done: host latency\n');
  }

  // (b) + (c) throughput: broker and raw scenarios interleaved, each repeated; the median (by end-to-end rate) is kept.
  const throughput = {};
  const scenarios = {
    brokerSingle: (mode, n) => brokerCalls(mode, n, 1),
    rawSingle: (mode, n) => rawMinimal(mode, n, 1),
    rawBrokerSql: (mode, n) => rawBrokerSql(mode, n, 1),
    brokerBatch: (mode, n) => brokerCalls(mode, n, opts.batch),
    rawBatch: (mode, n) => rawMinimal(mode, n, opts.batch),
    rawBrokerSqlBatch: (mode, n) => rawBrokerSql(mode, n, opts.batch),
    brokerReceiver: (mode, n) => brokerReceiver(mode, n),
    rawReceiverShape: (mode, n) => rawMinimal(mode, n, 1, opts.receiverConcurrency),
  };
  for (const mode of opts.modes) {
    const runs = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
    for (let rep = 0; rep < opts.repeats; rep++) {
      for (const [key, run] of Object.entries(scenarios)) runs[key].push(await run(mode, opts.messages));
    }
    throughput[mode] = {};
    for (const [key, list] of Object.entries(runs)) {
      const sorted = [...list].sort((a, b) => a.rate - b.rate);
      throughput[mode][key] = { ...sorted[(sorted.length - 1) >> 1], rates: list.map((r) => Math.round(r.rate)) };
    }
    process.stderr.write(`  done: throughput ${mode}\n`);
  }

  // ---- report
  console.log('(a) Enqueue -> trigger latency (ms)');
  const latRows = [['path', 'sync', 'load', 'n', 'p50', 'p90', 'p99', 'max']];
  for (const mode of opts.modes) {
    latRows.push(latencyRow('direct: send() -> handler start', mode, '1 in flight', latency.direct[mode]));
  }
  if (latency.directNoCheckpoint) {
    latRows.push(latencyRow('direct, WAL auto-checkpoint off (diagnostic)', opts.modes[0], '1 in flight', latency.directNoCheckpoint));
  }
  if (latency.host) {
    const { open, closed } = latency.host;
    latRows.push(latencyRow('host: HTTP fn output -> SB trigger start', 'NORMAL', `open loop ${open.rate}/s`, open.trigger));
    latRows.push(latencyRow('host: HTTP fn output -> SB trigger start', 'NORMAL', `closed loop c=${closed.concurrency}`, closed.trigger));
    latRows.push(latencyRow('host: HTTP POST round trip (client)', 'NORMAL', `open loop ${open.rate}/s`, open.http));
    latRows.push(latencyRow('host: HTTP POST round trip (client)', 'NORMAL', `closed loop c=${closed.concurrency}`, closed.http));
  }
  common.printTable(latRows, { rightAlignFrom: 3 });
  if (latency.directNoCheckpoint) {
    console.log(
      '  Diagnostic row: the same direct run with PRAGMA wal_autocheckpoint = 0 (set on the broker\'s private handle, bench\n' +
        '  only). The difference in the tail is SQLite\'s automatic WAL checkpoint (every 1000 WAL pages), which runs\n' +
        '  synchronously inside the commit that crosses the threshold, on the event loop.',
    );
  }
  if (latency.host) {
    const { open, closed } = latency.host;
    console.log(
      '  Host path: stamped in the HTTP function (performance.now) before it returns; includes the library building the\n' +
        '  HTTP response, the output binding\'s send (one SQLite commit), the broker\'s "available" signal, the receiver\'s\n' +
        '  receive (one commit) and the trigger invocation, up to the first line of the queue-triggered function.',
    );
    console.log(
      `  Closed loop: ${common.fmtInt(closed.requests)} POSTs at c=${closed.concurrency}: ${common.fmtInt(closed.httpRps)} HTTP req/s,` +
        ` ${common.fmtInt(closed.triggerRate)} triggers/s; host CPU ${common.fmtPct(closed.hostCpuShare)} of a core,` +
        ` ${closed.hostCpuUsPerMessage.toFixed(0)} µs per message (HTTP invocation + send + receive + trigger invocation + complete).` +
        ` Triggered ${closed.triggered}/${closed.requests}; open loop triggered ${open.triggered}/${open.sent}; HTTP errors ${open.errors + closed.errors}.`,
    );
  }

  console.log(`\n(b) Broker throughput and (c) raw SQLite, ${opts.messages.toLocaleString('en-US')} × ${opts.size} B, median of ${opts.repeats}`);
  const rows = [['sync', 'scenario', 'msgs', 'tx', 'send msg/s', 'recv+complete msg/s', 'end-to-end msg/s', 'tx/s', 'end-to-end, all runs']];
  const order = ['brokerSingle', 'rawSingle', 'rawBrokerSql', 'brokerBatch', 'rawBatch', 'rawBrokerSqlBatch', 'brokerReceiver', 'rawReceiverShape'];
  for (const mode of opts.modes) {
    for (const key of order) {
      const r = throughput[mode][key];
      rows.push([
        mode,
        r.name,
        common.fmtInt(r.messages),
        Number.isFinite(r.transactions) ? common.fmtInt(r.transactions) : '-',
        common.fmtInt(r.sendRate),
        common.fmtInt(r.consumeRate),
        common.fmtInt(r.rate),
        Number.isFinite(r.txRate) ? common.fmtInt(r.txRate) : '-',
        r.rates.join(' / '),
      ]);
    }
  }
  common.printTable(rows, { rightAlignFrom: 2 });
  console.log(
    `  end-to-end msg/s = messages / (send phase + receive-and-complete phase), phases one after the other; each scenario\n` +
      `  ran ${opts.repeats} times interleaved with the others, the run with the median end-to-end rate is shown.`,
  );

  console.log('\nBroker as a fraction of raw SQLite (same shape, same mode, same disk, same run):');
  const effRows = [['sync', 'broker', 'raw reference', 'broker msg/s', 'raw msg/s', 'fraction']];
  const eff = [];
  for (const mode of opts.modes) {
    const t = throughput[mode];
    for (const [b, r] of [
      ['brokerSingle', 'rawSingle'],
      ['brokerSingle', 'rawBrokerSql'],
      ['brokerBatch', 'rawBatch'],
      ['brokerBatch', 'rawBrokerSqlBatch'],
      ['brokerReceiver', 'rawReceiverShape'],
    ]) {
      const fraction = t[b].rate / t[r].rate;
      eff.push({ mode, broker: t[b].name, raw: t[r].name, fraction });
      effRows.push([mode, t[b].name, t[r].name, common.fmtInt(t[b].rate), common.fmtInt(t[r].rate), common.fmtPct(fraction)]);
    }
  }
  common.printTable(effRows, { rightAlignFrom: 3 });
  console.log(
    `  The receiver is compared with the raw shape it approaches at best: one INSERT per transaction, then locks and\n` +
      `  deletes of up to ${opts.receiverConcurrency} rows (maxConcurrentCalls) per transaction; it batches completions of handlers that finish\n` +
      '  in the same event-loop turn, and receives as many messages as it has free handler slots.',
  );

  common.writeJson(opts.json, { machine: facts, options: opts, fsync, latency, throughput, efficiency: eff });
}

main()
  .catch((error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(workDir, { recursive: true, force: true }));
