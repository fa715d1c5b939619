'use strict';
// The raw SQLite ceiling for the durable task hub's write shape: better-sqlite3 alone (no engine, no
// durable-functions), the task hub's own schema and pragmas, the same statements the store runs, committed
// the same way. bench/durable.js runs it in the same process and on the same file system as the host, so our
// episode rate can be stated as a fraction of it.
//
// Shapes (one HelloSequence5-like workload: windows of 1,000 instances, 6 episodes each, 4 history rows per
// episode, payloads built with the host's own history-event builders so they have the real size):
//
//   episode    one transaction = SELECT COUNT(*) history (the store's next position) + INSERT 4 history rows +
//              DELETE the consumed inbox row + UPSERT the instance row + INSERT one work item. This is the
//              transaction TaskHubStore.commit() runs for a "TaskCompleted in, next TaskScheduled out" episode.
//              (The consumed inbox rows are inserted up front, untimed.)
//   store      the same episodes through TaskHubStore.commit() itself (the store layer, no engine): the cost of
//              the store's JS on top of the raw statements.
//   step       one whole sequential step as the host does it when nothing can be batched: the episode's reads
//              (instance row, visible inbox), the episode transaction, the lease UPDATE ... RETURNING of the
//              work item (its own transaction), then the completion transaction (DELETE work item + INSERT
//              the TaskCompleted inbox row). 3 write transactions per step.
//
// Checkpoints follow the host's regime (`walAutocheckpoint`, read by bench/durable.js from the task hub's own
// connection): with SQLite's automatic checkpoint (N > 0) they run inside the commit that crosses N pages; with 0
// (the store checkpoints off the commit path, from a 1 s timer) the loop runs a PASSIVE checkpoint once a second,
// timed, as the host's event loop does.
//
// Usable alone: node bench/lib/durable-sqlite-baseline.js [durationMs] [NORMAL|FULL] [walAutocheckpoint]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { REPO_ROOT, DIST_HOST } = require('./common.js');

const Database = require(path.join(REPO_ROOT, 'node_modules', 'better-sqlite3'));

const WINDOW = 1000;
const CHECKPOINT_INTERVAL_MS = 1000;
const EPISODES_PER_INSTANCE = 6;

// The statements below are TaskHubStore's (host/durable/taskHubStore.ts), verbatim.
const SQL = {
  historyCount: 'SELECT COUNT(*) AS n FROM history WHERE instance_id = ?',
  appendHistory: 'INSERT INTO history (instance_id, position, event_json) VALUES (?, ?, ?)',
  deleteInbox: 'DELETE FROM inbox WHERE id = ?',
  insertInbox: 'INSERT INTO inbox (instance_id, execution_id, event_json, visible_at) VALUES (?, ?, ?, ?)',
  upsertInstance: `INSERT INTO instances (instance_id, name, version, execution_id, runtime_status, input, output, custom_status, created_time, last_updated_time,
           parent_instance_id, parent_execution_id, parent_name, parent_task_id, next_seq, last_episode_ts)
         VALUES (@instance_id, @name, @version, @execution_id, @runtime_status, @input, @output, @custom_status, @created_time, @last_updated_time,
           @parent_instance_id, @parent_execution_id, @parent_name, @parent_task_id, @next_seq, @last_episode_ts)
         ON CONFLICT(instance_id) DO UPDATE SET name = excluded.name, version = excluded.version, execution_id = excluded.execution_id,
           runtime_status = excluded.runtime_status, input = excluded.input, output = excluded.output, custom_status = excluded.custom_status,
           created_time = excluded.created_time, last_updated_time = excluded.last_updated_time, parent_instance_id = excluded.parent_instance_id,
           parent_execution_id = excluded.parent_execution_id, parent_name = excluded.parent_name, parent_task_id = excluded.parent_task_id,
           next_seq = excluded.next_seq, last_episode_ts = excluded.last_episode_ts`,
  insertWorkItem: 'INSERT INTO work_items (instance_id, execution_id, task_id, kind, name, payload, locked_until, dequeue_count) VALUES (?, ?, ?, ?, ?, ?, 0, 0)',
  leaseWorkItems: `UPDATE work_items SET locked_until = ?, dequeue_count = dequeue_count + 1
         WHERE id IN (SELECT id FROM work_items WHERE locked_until <= ? ORDER BY id LIMIT ?)
         RETURNING id, instance_id, execution_id, task_id, kind, name, payload, dequeue_count`,
  deleteWorkItem: 'DELETE FROM work_items WHERE id = ?',
  getInstance: 'SELECT * FROM instances WHERE instance_id = ?',
  visibleInbox: 'SELECT id, instance_id, execution_id, event_json, visible_at FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY id',
};

/** Realistic serialized events (the host's builders, IsPlayed as stored) for one step episode. */
function payloads() {
  const history = require(path.join(DIST_HOST, 'durable', 'historyEvents.js'));
  const ts = new Date().toISOString();
  const played = (event) => JSON.stringify({ ...event, IsPlayed: true });
  const completed = history.taskCompleted(ts, 3, JSON.stringify('Hello Seattle!'));
  return {
    episodeHistory: [
      played(history.orchestratorStarted(ts)),
      played(completed),
      played(history.taskScheduled(ts, 4, 'Hello', JSON.stringify(JSON.stringify('London')))),
      played(history.orchestratorCompleted(ts)),
    ],
    completionJson: JSON.stringify(completed),
    workPayload: JSON.stringify(JSON.stringify('London')),
  };
}

function instanceRow(id, executionId, seq, now) {
  return {
    instance_id: id,
    name: 'HelloSequence5',
    version: '',
    execution_id: executionId,
    runtime_status: 'Running',
    input: null,
    output: null,
    custom_status: null,
    created_time: now,
    last_updated_time: now,
    parent_instance_id: null,
    parent_execution_id: null,
    parent_name: null,
    parent_task_id: null,
    next_seq: seq,
    last_episode_ts: now,
  };
}

function instanceState(row) {
  return {
    instanceId: row.instance_id,
    name: row.name,
    version: row.version,
    executionId: row.execution_id,
    runtimeStatus: row.runtime_status,
    input: row.input,
    output: row.output,
    customStatus: row.custom_status,
    createdTime: new Date(row.created_time),
    lastUpdatedTime: new Date(row.last_updated_time),
    parentInstanceId: null,
    parentExecutionId: null,
    parentName: null,
    parentTaskId: null,
    nextSequenceNumber: row.next_seq,
    lastEpisodeTimestamp: row.last_episode_ts,
  };
}

/** A fresh task hub file with the host's schema (created by TaskHubStore itself, so the DDL is identical). */
function freshHub(dir, synchronous) {
  const { TaskHubStore } = require(path.join(DIST_HOST, 'durable', 'taskHubStore.js'));
  const file = path.join(fs.mkdtempSync(path.join(dir, 'aiq-bench-sqlite-')), 'durabletask.db');
  TaskHubStore.open(file, { synchronous }).close();
  return file;
}

function openRaw(file, synchronous, walAutocheckpoint) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  db.pragma(`wal_autocheckpoint = ${walAutocheckpoint}`);
  return db;
}

/** Once a second, a PASSIVE checkpoint when automatic checkpoints are off (what the store's timer does). */
function checkpointer(db, walAutocheckpoint) {
  if (walAutocheckpoint > 0) return () => {};
  let next = performance.now() + CHECKPOINT_INTERVAL_MS;
  return () => {
    const now = performance.now();
    if (now < next) return;
    db.pragma('wal_checkpoint(PASSIVE)');
    next = now + CHECKPOINT_INTERVAL_MS;
  };
}

function removeHub(file) {
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

/** Runs `fn(i)` until `durationMs` elapsed or `maxOps` done (`tick` every 64 ops); returns { ops, ms, perSec }. */
function timeLoop(durationMs, maxOps, fn, tick = () => {}) {
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  let i = 0;
  while (i < maxOps) {
    fn(i++);
    if ((i & 63) === 0) {
      tick();
      if (performance.now() >= deadline) break;
    }
  }
  const ms = performance.now() - t0;
  return { ops: i, ms, perSec: (i * 1000) / ms };
}

function slot(i) {
  const windowIndex = Math.floor(i / (WINDOW * EPISODES_PER_INSTANCE));
  const within = i % (WINDOW * EPISODES_PER_INSTANCE);
  const episode = Math.floor(within / WINDOW);
  const instance = within % WINDOW;
  return { id: `b${windowIndex}-${instance}`, episode };
}

/** Raw better-sqlite3, one episode transaction per iteration. */
function episodeRaw({ dir, synchronous = 'NORMAL', walAutocheckpoint = 1000, durationMs = 1000, maxOps = 200_000 }) {
  const p = payloads();
  const file = freshHub(dir, synchronous);
  const db = openRaw(file, synchronous, walAutocheckpoint);
  const s = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)]));
  // The consumed inbox rows, inserted up front (untimed): enough for the longest run.
  const estimate = Math.min(maxOps, 60_000 * Math.max(1, durationMs / 1000));
  const firstInboxId = Number(db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS n FROM inbox').get().n);
  db.transaction(() => {
    for (let i = 0; i < estimate; i++) s.insertInbox.run(slot(i).id, 'exec', p.completionJson, 0);
  })();
  const now = Date.now();
  const result = timeLoop(durationMs, estimate, (i) => {
    const { id, episode } = slot(i);
    db.transaction(() => {
      let position = s.historyCount.get(id).n;
      for (const event of p.episodeHistory) s.appendHistory.run(id, position++, event);
      s.deleteInbox.run(firstInboxId + i);
      s.upsertInstance.run(instanceRow(id, 'exec', episode + 1, now));
      s.insertWorkItem.run(id, 'exec', episode, 'activity', 'Hello', p.workPayload);
    })();
  }, checkpointer(db, walAutocheckpoint));
  db.close();
  removeHub(file);
  return result;
}

/** The same episodes through TaskHubStore.commit() (the store layer without the engine). */
function episodeStore({ dir, synchronous = 'NORMAL', durationMs = 1000, maxOps = 200_000 }) {
  // The store sets its own checkpoint regime; its timer cannot fire inside this synchronous loop, so the loop
  // runs it when the store has turned automatic checkpoints off.
  const { TaskHubStore } = require(path.join(DIST_HOST, 'durable', 'taskHubStore.js'));
  const p = payloads();
  const file = freshHub(dir, synchronous);
  const store = TaskHubStore.open(file, { synchronous });
  const estimate = Math.min(maxOps, 60_000 * Math.max(1, durationMs / 1000));
  const insert = store.db.prepare(SQL.insertInbox);
  const firstInboxId = Number(store.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS n FROM inbox').get().n);
  store.db.transaction(() => {
    for (let i = 0; i < estimate; i++) insert.run(slot(i).id, 'exec', p.completionJson, 0);
  })();
  const now = Date.now();
  const result = timeLoop(durationMs, estimate, (i) => {
    const { id, episode } = slot(i);
    store.commit({
      instanceId: id,
      instance: instanceState(instanceRow(id, 'exec', episode + 1, now)),
      appendHistory: p.episodeHistory,
      consumedInbox: [firstInboxId + i],
      newInbox: [],
      newWorkItems: [{ instanceId: id, executionId: 'exec', taskId: episode, kind: 'activity', name: 'Hello', payload: p.workPayload }],
      createInstances: [],
    });
  }, checkpointer(store.db, Number(store.db.pragma('wal_autocheckpoint', { simple: true }))));
  store.close();
  removeHub(file);
  return result;
}

/** One whole unbatched step: reads, episode tx, lease tx, completion tx (raw better-sqlite3). */
function stepRaw({ dir, synchronous = 'NORMAL', walAutocheckpoint = 1000, durationMs = 1000, maxOps = 200_000 }) {
  const p = payloads();
  const file = freshHub(dir, synchronous);
  const db = openRaw(file, synchronous, walAutocheckpoint);
  const s = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)]));
  const now = Date.now();
  // Every instance of the first window starts with its TaskCompleted message waiting (untimed).
  db.transaction(() => {
    for (let i = 0; i < WINDOW; i++) {
      s.upsertInstance.run(instanceRow(slot(i).id, 'exec', 0, now));
      s.insertInbox.run(slot(i).id, 'exec', p.completionJson, 0);
    }
  })();
  const result = timeLoop(durationMs, maxOps, (i) => {
    const { id, episode } = slot(i);
    s.getInstance.get(id);
    const inbox = s.visibleInbox.all(id, now);
    db.transaction(() => {
      let position = s.historyCount.get(id).n;
      for (const event of p.episodeHistory) s.appendHistory.run(id, position++, event);
      for (const row of inbox) s.deleteInbox.run(row.id);
      s.upsertInstance.run(instanceRow(id, 'exec', episode + 1, now));
      s.insertWorkItem.run(id, 'exec', episode, 'activity', 'Hello', p.workPayload);
    })();
    const [item] = s.leaseWorkItems.all(Number.MAX_SAFE_INTEGER, now, 1);
    db.transaction(() => {
      s.deleteWorkItem.run(item.id);
      // The next instance in the round robin (a new window's instance when this one ends) gets its message.
      s.insertInbox.run(slot(i + WINDOW).id, 'exec', p.completionJson, 0);
    })();
  }, checkpointer(db, walAutocheckpoint));
  db.close();
  removeHub(file);
  return result;
}

module.exports = { episodeRaw, episodeStore, stepRaw };

if (require.main === module) {
  const durationMs = Number(process.argv[2]) || 1000;
  const synchronous = process.argv[3] || 'NORMAL';
  const walAutocheckpoint = process.argv[4] === undefined ? 1000 : Number(process.argv[4]);
  const dir = os.tmpdir();
  for (const [name, fn] of [['episode (raw)', episodeRaw], ['episode (TaskHubStore.commit)', episodeStore], ['step (raw, 3 tx)', stepRaw]]) {
    const r = fn({ dir, synchronous, walAutocheckpoint, durationMs });
    console.log(`${name.padEnd(32)} ${synchronous}: ${Math.round(r.perSec)} /s (${r.ops} in ${r.ms.toFixed(0)} ms)`);
  }
}
