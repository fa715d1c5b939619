import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startWalCheckpointer } from '../storage/walCheckpointer.js';
import type { InstanceQuery, InstanceRecord, RuntimeStatus } from './taskHubClient.js';

/** One message addressed to an instance: a history event waiting to be delivered in an episode. */
export interface InboxMessage {
  id: number;
  instanceId: string;
  /** The execution it belongs to; null for client-raised events that survive continue-as-new. */
  executionId: string | null;
  eventJson: string;
  /** Epoch ms at which it becomes deliverable (timers: FireAt). */
  visibleAt: number;
}

export interface NewInboxMessage {
  instanceId: string;
  executionId: string | null;
  eventJson: string;
  visibleAt: number;
}

/** Work that runs outside the orchestrator: an activity invocation or an HTTP request (callHttp). */
export interface WorkItem {
  id: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  kind: 'activity' | 'http';
  name: string;
  /** Activity input as the action carried it (JSON), or the HTTP request (JSON). */
  payload: string | null;
  dequeueCount: number;
}

export type NewWorkItem = Omit<WorkItem, 'id' | 'dequeueCount'>;

/** The stored state of an instance beyond what the API shows. */
export interface InstanceState extends InstanceRecord {
  parentExecutionId: string | null;
  parentName: string | null;
  parentTaskId: number | null;
  nextSequenceNumber: number;
  lastEpisodeTimestamp: number;
}

/** Everything one episode (or one client operation) writes, committed in one transaction. */
export interface EpisodeCommit {
  instanceId: string;
  /** The instance row after the episode (created when absent). */
  instance: InstanceState;
  /** History events appended to the current execution, serialized. */
  appendHistory: readonly string[];
  /** Replace the execution's history first (continue-as-new, or an instance id reused). */
  resetHistory?: boolean;
  consumedInbox: readonly number[];
  newInbox: readonly NewInboxMessage[];
  newWorkItems: readonly NewWorkItem[];
  /** Other instances created in the same transaction (sub-orchestrations). */
  createInstances?: readonly InstanceState[];
}

const SCHEMA_VERSION = 1;

interface InstanceRow {
  instance_id: string;
  name: string;
  version: string;
  execution_id: string;
  runtime_status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  created_time: number;
  last_updated_time: number;
  parent_instance_id: string | null;
  parent_execution_id: string | null;
  parent_name: string | null;
  parent_task_id: number | null;
  next_seq: number;
  last_episode_ts: number;
}

function toState(row: InstanceRow): InstanceState {
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
    parentInstanceId: row.parent_instance_id,
    parentExecutionId: row.parent_execution_id,
    parentName: row.parent_name,
    parentTaskId: row.parent_task_id,
    nextSequenceNumber: row.next_seq,
    lastEpisodeTimestamp: row.last_episode_ts,
  };
}

function toRow(state: InstanceState): InstanceRow {
  return {
    instance_id: state.instanceId,
    name: state.name,
    version: state.version,
    execution_id: state.executionId,
    runtime_status: state.runtimeStatus,
    input: state.input,
    output: state.output,
    custom_status: state.customStatus,
    created_time: state.createdTime.getTime(),
    last_updated_time: state.lastUpdatedTime.getTime(),
    parent_instance_id: state.parentInstanceId,
    parent_execution_id: state.parentExecutionId,
    parent_name: state.parentName,
    parent_task_id: state.parentTaskId,
    next_seq: state.nextSequenceNumber,
    last_episode_ts: state.lastEpisodeTimestamp,
  };
}

const TERMINAL_SQL = "('Completed','Failed','Terminated','Canceled')";

/**
 * The task hub's durable state in one SQLite file (WAL): instances, per-execution history (append-only),
 * the inbox (messages and timers, by visibility time) and work items (activities, HTTP calls) with leases.
 * Every episode is committed in one transaction, so a crash at any instant either keeps or loses the whole
 * episode, which is then replayed deterministically.
 */
export class TaskHubStore {
  readonly db: Database.Database;
  readonly #statements;
  readonly #checkpointer: { stop(): void };

  private constructor(file: string, synchronous: 'FULL' | 'NORMAL') {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${synchronous}`);
    this.db.pragma('busy_timeout = 5000');
    this.#checkpointer = startWalCheckpointer(this.db);
    this.migrate();
    const db = this.db;
    this.#statements = {
      getInstance: db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE instance_id = ?'),
      upsertInstance: db.prepare(
        `INSERT INTO instances (instance_id, name, version, execution_id, runtime_status, input, output, custom_status, created_time, last_updated_time,
           parent_instance_id, parent_execution_id, parent_name, parent_task_id, next_seq, last_episode_ts)
         VALUES (@instance_id, @name, @version, @execution_id, @runtime_status, @input, @output, @custom_status, @created_time, @last_updated_time,
           @parent_instance_id, @parent_execution_id, @parent_name, @parent_task_id, @next_seq, @last_episode_ts)
         ON CONFLICT(instance_id) DO UPDATE SET name = excluded.name, version = excluded.version, execution_id = excluded.execution_id,
           runtime_status = excluded.runtime_status, input = excluded.input, output = excluded.output, custom_status = excluded.custom_status,
           created_time = excluded.created_time, last_updated_time = excluded.last_updated_time, parent_instance_id = excluded.parent_instance_id,
           parent_execution_id = excluded.parent_execution_id, parent_name = excluded.parent_name, parent_task_id = excluded.parent_task_id,
           next_seq = excluded.next_seq, last_episode_ts = excluded.last_episode_ts`,
      ),
      history: db.prepare<[string], { event_json: string }>('SELECT event_json FROM history WHERE instance_id = ? ORDER BY position'),
      historyCount: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM history WHERE instance_id = ?'),
      appendHistory: db.prepare('INSERT INTO history (instance_id, position, event_json) VALUES (?, ?, ?)'),
      deleteHistory: db.prepare('DELETE FROM history WHERE instance_id = ?'),
      visibleInbox: db.prepare<[string, number], { id: number; instance_id: string; execution_id: string | null; event_json: string; visible_at: number }>(
        'SELECT id, instance_id, execution_id, event_json, visible_at FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY id',
      ),
      deleteInbox: db.prepare('DELETE FROM inbox WHERE id = ?'),
      insertInbox: db.prepare('INSERT INTO inbox (instance_id, execution_id, event_json, visible_at) VALUES (?, ?, ?, ?)'),
      readyInstances: db.prepare<[number], { instance_id: string }>('SELECT DISTINCT instance_id FROM inbox WHERE visible_at <= ?'),
      nextVisible: db.prepare<[number], { t: number | null }>('SELECT MIN(visible_at) AS t FROM inbox WHERE visible_at > ?'),
      insertWorkItem: db.prepare('INSERT INTO work_items (instance_id, execution_id, task_id, kind, name, payload, locked_until, dequeue_count) VALUES (?, ?, ?, ?, ?, ?, 0, 0)'),
      leaseWorkItems: db.prepare<[number, number, number], { id: number; instance_id: string; execution_id: string; task_id: number; kind: 'activity' | 'http'; name: string; payload: string | null; dequeue_count: number }>(
        `UPDATE work_items SET locked_until = ?, dequeue_count = dequeue_count + 1
         WHERE id IN (SELECT id FROM work_items WHERE locked_until <= ? ORDER BY id LIMIT ?)
         RETURNING id, instance_id, execution_id, task_id, kind, name, payload, dequeue_count`,
      ),
      deleteWorkItem: db.prepare('DELETE FROM work_items WHERE id = ?'),
      nextLeaseExpiry: db.prepare<[number], { t: number | null }>('SELECT MIN(locked_until) AS t FROM work_items WHERE locked_until > ?'),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
      deleteInboxOf: db.prepare('DELETE FROM inbox WHERE instance_id = ?'),
      deleteWorkOf: db.prepare('DELETE FROM work_items WHERE instance_id = ?'),
    };
    // Leases belong to the process that took them; a new process starts with none (the work runs again).
    this.db.prepare('UPDATE work_items SET locked_until = 0 WHERE locked_until > 0').run();
  }

  /** Opens (or creates) the task hub file. */
  static open(file: string, options: { synchronous?: 'FULL' | 'NORMAL' } = {}): TaskHubStore {
    return new TaskHubStore(file, options.synchronous ?? 'NORMAL');
  }

  private migrate(): void {
    const version = Number(this.db.pragma('user_version', { simple: true }));
    if (version >= SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS instances (
        instance_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL DEFAULT '',
        execution_id TEXT NOT NULL,
        runtime_status TEXT NOT NULL,
        input TEXT, output TEXT, custom_status TEXT,
        created_time INTEGER NOT NULL,
        last_updated_time INTEGER NOT NULL,
        parent_instance_id TEXT, parent_execution_id TEXT, parent_name TEXT, parent_task_id INTEGER,
        next_seq INTEGER NOT NULL DEFAULT 0,
        last_episode_ts INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS instances_by_created ON instances (created_time, instance_id);
      CREATE TABLE IF NOT EXISTS history (
        instance_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        event_json TEXT NOT NULL,
        PRIMARY KEY (instance_id, position)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL,
        execution_id TEXT,
        event_json TEXT NOT NULL,
        visible_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, visible_at, id);
      CREATE INDEX IF NOT EXISTS inbox_by_visibility ON inbox (visible_at);
      CREATE TABLE IF NOT EXISTS work_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        task_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        payload TEXT,
        locked_until INTEGER NOT NULL,
        dequeue_count INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS work_items_by_lease ON work_items (locked_until, id);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  getInstance(instanceId: string): InstanceState | undefined {
    const row = this.#statements.getInstance.get(instanceId);
    return row ? toState(row) : undefined;
  }

  /** The serialized history events of the instance's current execution, oldest first. */
  getHistoryJson(instanceId: string): string[] {
    return this.#statements.history.all(instanceId).map((row) => row.event_json);
  }

  visibleInbox(instanceId: string, now: number): InboxMessage[] {
    return this.#statements.visibleInbox.all(instanceId, now).map((row) => ({
      id: row.id,
      instanceId: row.instance_id,
      executionId: row.execution_id,
      eventJson: row.event_json,
      visibleAt: row.visible_at,
    }));
  }

  readyInstances(now: number): string[] {
    return this.#statements.readyInstances.all(now).map((row) => row.instance_id);
  }

  /** The earliest time after `now` at which an inbox message becomes visible (a timer), if any. */
  nextVisibleAt(now: number): number | undefined {
    return this.#statements.nextVisible.get(now)?.t ?? undefined;
  }

  /** Commits an episode (or a client operation) atomically. */
  commit(change: EpisodeCommit): void {
    this.#commit(change);
  }

  readonly #commit = (change: EpisodeCommit): void => {
    this.db.transaction(() => {
      const s = this.#statements;
      if (change.resetHistory) s.deleteHistory.run(change.instanceId);
      if (change.appendHistory.length > 0) {
        let position = change.resetHistory ? 0 : s.historyCount.get(change.instanceId)!.n;
        for (const event of change.appendHistory) s.appendHistory.run(change.instanceId, position++, event);
      }
      for (const id of change.consumedInbox) s.deleteInbox.run(id);
      s.upsertInstance.run(toRow(change.instance));
      for (const created of change.createInstances ?? []) {
        s.deleteHistory.run(created.instanceId);
        s.upsertInstance.run(toRow(created));
      }
      for (const message of change.newInbox) s.insertInbox.run(message.instanceId, message.executionId, message.eventJson, message.visibleAt);
      for (const item of change.newWorkItems) s.insertWorkItem.run(item.instanceId, item.executionId, item.taskId, item.kind, item.name, item.payload);
    })();
  };

  /** Adds messages outside an episode (client events, activity results are added with {@link completeWorkItem}). */
  enqueue(messages: readonly NewInboxMessage[]): void {
    this.db.transaction(() => {
      for (const message of messages) this.#statements.insertInbox.run(message.instanceId, message.executionId, message.eventJson, message.visibleAt);
    })();
  }

  /** Removes messages without an episode (they were addressed to an instance that no longer exists). */
  deleteInbox(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.#statements.deleteInbox.run(id);
    })();
  }

  /** Takes up to `max` unleased work items, leasing them until `leaseUntil`. */
  leaseWorkItems(now: number, leaseUntil: number, max: number): WorkItem[] {
    return this.#statements.leaseWorkItems.all(leaseUntil, now, max).map((row) => ({
      id: row.id,
      instanceId: row.instance_id,
      executionId: row.execution_id,
      taskId: row.task_id,
      kind: row.kind,
      name: row.name,
      payload: row.payload,
      dequeueCount: row.dequeue_count,
    }));
  }

  /** The earliest lease expiry after `now` (work to pick up again), if any. */
  nextLeaseExpiry(now: number): number | undefined {
    return this.#statements.nextLeaseExpiry.get(now)?.t ?? undefined;
  }

  /** Records work items' results: each completion goes to the inbox and its work item is removed, atomically. */
  completeWorkItems(results: ReadonlyArray<{ workItemId: number; completion: NewInboxMessage }>): void {
    this.db.transaction(() => {
      for (const { workItemId, completion } of results) {
        const removed = this.#statements.deleteWorkItem.run(workItemId).changes;
        // A work item already completed (by an earlier lease holder) must not deliver twice.
        if (removed === 1) this.#statements.insertInbox.run(completion.instanceId, completion.executionId, completion.eventJson, completion.visibleAt);
      }
    })();
  }

  /** Creates or replaces an instance with its first message (startNew). */
  createInstance(state: InstanceState, firstMessage: NewInboxMessage): void {
    this.db.transaction(() => {
      const s = this.#statements;
      s.deleteHistory.run(state.instanceId);
      s.deleteInboxOf.run(state.instanceId);
      s.deleteWorkOf.run(state.instanceId);
      s.upsertInstance.run(toRow(state));
      s.insertInbox.run(firstMessage.instanceId, firstMessage.executionId, firstMessage.eventJson, firstMessage.visibleAt);
    })();
  }

  /** Deletes a finished instance with its history and messages; returns 1 when deleted. */
  purge(instanceId: string): number {
    return this.db.transaction(() => {
      const s = this.#statements;
      const deleted = this.db.prepare(`DELETE FROM instances WHERE instance_id = ? AND runtime_status IN ${TERMINAL_SQL}`).run(instanceId).changes;
      if (deleted) {
        s.deleteHistory.run(instanceId);
        s.deleteInboxOf.run(instanceId);
        s.deleteWorkOf.run(instanceId);
      }
      return deleted;
    })();
  }

  /** The ids of finished instances matching a filter (purge by filter). */
  finishedInstanceIds(query: Pick<InstanceQuery, 'createdTimeFrom' | 'createdTimeTo' | 'runtimeStatus'>): string[] {
    const { where, params } = this.filter({ ...query });
    return this.db
      .prepare<unknown[], { instance_id: string }>(`SELECT instance_id FROM instances WHERE runtime_status IN ${TERMINAL_SQL}${where ? ` AND ${where}` : ''}`)
      .all(...params)
      .map((row) => row.instance_id);
  }

  private filter(query: InstanceQuery): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (query.createdTimeFrom) {
      clauses.push('created_time >= ?');
      params.push(query.createdTimeFrom.getTime());
    }
    if (query.createdTimeTo) {
      clauses.push('created_time <= ?');
      params.push(query.createdTimeTo.getTime());
    }
    if (query.runtimeStatus && query.runtimeStatus.length > 0) {
      clauses.push(`runtime_status IN (${query.runtimeStatus.map(() => '?').join(',')})`);
      params.push(...query.runtimeStatus);
    }
    if (query.instanceIdPrefix) {
      // Range scan instead of LIKE so that '%' and '_' in ids are literal.
      clauses.push('instance_id >= ? AND instance_id < ?');
      params.push(query.instanceIdPrefix, `${query.instanceIdPrefix}\uffff`);
    }
    return { where: clauses.join(' AND '), params };
  }

  /** One page of instances ordered by (created time, id); the token encodes the last row of the page. */
  listInstances(query: InstanceQuery): { instances: InstanceState[]; continuationToken: string | undefined } {
    const top = Math.min(Math.max(query.top ?? 100, 1), 1000);
    const { where, params } = this.filter(query);
    const clauses = where ? [where] : [];
    if (query.continuationToken) {
      const [created, id] = JSON.parse(Buffer.from(query.continuationToken, 'base64url').toString('utf8')) as [number, string];
      clauses.push('(created_time > ? OR (created_time = ? AND instance_id > ?))');
      params.push(created, created, id);
    }
    const rows = this.db
      .prepare<unknown[], InstanceRow>(`SELECT * FROM instances${clauses.length ? ` WHERE ${clauses.join(' AND ')}` : ''} ORDER BY created_time, instance_id LIMIT ?`)
      .all(...params, top + 1);
    const page = rows.slice(0, top).map(toState);
    const last = page.at(-1);
    const continuationToken = rows.length > top && last ? Buffer.from(JSON.stringify([last.createdTime.getTime(), last.instanceId])).toString('base64url') : undefined;
    return { instances: page, continuationToken };
  }

  close(): void {
    this.#checkpointer.stop();
    if (this.db.open) this.db.close();
  }
}
