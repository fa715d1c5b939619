import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { startWalCheckpointer } from '../storage/walCheckpointer.js';
import { migrateBrokerSchema } from './brokerSchema.js';

// ---------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------

/**
 * Stable error codes, named after the Service Bus exceptions they stand for so callers can port checks
 * such as `err.code === 'MessageLockLost'` unchanged.
 */
export type ServiceBusErrorCode =
  /** The queue, topic or subscription does not exist. */
  | 'MessagingEntityNotFound'
  /** The name is already used by an entity of another kind (queues and topics share one namespace). */
  | 'MessagingEntityAlreadyExists'
  /** The lock token is unknown, belongs to another entity, or its lock expired. */
  | 'MessageLockLost'
  /** A sequence number passed to cancel or resubmit does not name a matching message. */
  | 'MessageNotFound'
  /** The operation is not valid for this entity, e.g. receiving from a topic or sending to a DLQ. */
  | 'InvalidOperation'
  /** The broker was closed. */
  | 'BrokerClosed';

/** Error thrown by the broker; check `code`, never the message text. */
export class ServiceBusError extends Error {
  override readonly name = 'ServiceBusError';
  constructor(
    readonly code: ServiceBusErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Entity settings; the names and defaults follow the Service Bus entity properties. */
export interface EntityOptions {
  /** How long a peek-lock lasts before the message becomes available again. Default 60 000. */
  lockDurationMs?: number;
  /** Deliveries after which an abandoned or lock-expired message is dead-lettered. Default 10. */
  maxDeliveryCount?: number;
  /** TTL applied when a message sets none, and the cap on the TTL it sets. Default: never expires. */
  defaultMessageTimeToLiveMs?: number;
  /** Drop messages whose MessageId was already sent within the window. Default true. Queues and topics only. */
  requiresDuplicateDetection?: boolean;
  /** Duplicate-detection window. Default 600 000 (10 minutes). */
  duplicateDetectionHistoryTimeWindowMs?: number;
  /** Dead-letter expired messages (reason `TTLExpiredException`) instead of dropping them. Default false. */
  deadLetteringOnMessageExpiration?: boolean;
}

/** Value types allowed in application properties (the JSON-safe subset of what Service Bus allows). */
export type ApplicationPropertyValue = string | number | boolean | null;

/**
 * A Service Bus correlation filter: every property that is set must equal the message's value exactly
 * (case-sensitive). A subscription without a filter receives every message (the default `TrueFilter`).
 */
export interface CorrelationFilter {
  correlationId?: string;
  subject?: string;
  applicationProperties?: Record<string, string | number | boolean>;
}

/** Options for {@link SqliteBroker.ensureSubscription}. */
export interface SubscriptionOptions extends EntityOptions {
  filter?: CorrelationFilter;
}

/** A message to send. */
export interface OutgoingMessage {
  body: Buffer;
  contentType?: string;
  /** Generated (32 hex characters) when absent. Used for duplicate detection. */
  messageId?: string;
  correlationId?: string;
  subject?: string;
  to?: string;
  replyTo?: string;
  replyToSessionId?: string;
  /** Stored and returned; session semantics (per-session FIFO and locks) are not implemented. */
  sessionId?: string;
  partitionKey?: string;
  applicationProperties?: Record<string, ApplicationPropertyValue>;
  /** When in the future, the message stays invisible (state `scheduled`) until then. */
  scheduledEnqueueTimeUtc?: Date;
  /** Capped by the entity's `defaultMessageTimeToLiveMs`. Counted from the (scheduled) enqueue time. */
  timeToLiveMs?: number;
}

/** Lifecycle state of a stored message. A locked message is still `active`. */
export type MessageState = 'active' | 'scheduled' | 'deadLettered';

/** A message as stored by the broker, returned by receive and peek. */
export interface BrokeredMessage extends OutgoingMessage {
  messageId: string;
  /** Always present, empty when the sender set none. */
  applicationProperties: Record<string, ApplicationPropertyValue>;
  sequenceNumber: number;
  /** When the message became (or will become, if scheduled) available. */
  enqueuedTimeUtc: Date;
  /** `undefined` when the message never expires. */
  expiresAtUtc: Date | undefined;
  deliveryCount: number;
  /** Set by receive (peek-lock) only. */
  lockToken?: string;
  /** Set by receive only; updated in place by the receiver's automatic lock renewal. */
  lockedUntilUtc?: Date;
  /** Path of the entity the message was dead-lettered from. */
  deadLetterSource?: string;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  state: MessageState;
}

/** Message counts of an entity. For a topic, the sums over its subscriptions. */
export interface EntityRuntimeProperties {
  /** Active messages, locked ones included. */
  activeMessageCount: number;
  scheduledMessageCount: number;
  deadLetterMessageCount: number;
  /** Messages currently locked by a receiver (main queue and DLQ). */
  lockedMessageCount: number;
}

/** Kind of a messaging entity. */
export type EntityKind = 'queue' | 'topic' | 'subscription';

/** One entity as listed by {@link SqliteBroker.listEntities}. */
export interface EntityInfo {
  /** Canonical path: `queue`, `topic` or `topic/Subscriptions/sub`, in the casing it was created with. */
  path: string;
  kind: EntityKind;
}

/** Options for {@link SqliteBroker.open}. */
export interface BrokerOpenOptions {
  /** SQLite file path, or `':memory:'`. */
  file: string;
  /**
   * `NORMAL` (default) survives a process crash; `FULL` also survives power loss, at the cost of an
   * fsync per commit.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Clock in epoch milliseconds; injectable for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * Default true: locks held by a previous process are released on open, which counts as a delivery
   * (messages already at maxDeliveryCount are dead-lettered). False keeps them until they expire.
   */
  releaseLocksOnOpen?: boolean;
}

/** Events emitted by {@link SqliteBroker}. */
export interface SqliteBrokerEvents {
  /**
   * Messages may have become receivable on `entityPath` (a canonical queue or subscription path, or one of
   * those + `/$DeadLetterQueue`). Emitted asynchronously (next tick), coalesced per path.
   */
  available: [entityPath: string];
  /** A background sweep failed (e.g. the database was busy); it is retried. Only emitted when listened to. */
  error: [error: unknown];
}

// ---------------------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------------------

const DEFAULTS = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  requiresDuplicateDetection: true,
  duplicateDetectionHistoryTimeWindowMs: 600_000,
  deadLetteringOnMessageExpiration: false,
} as const;

/** Suffix that turns a queue or subscription path into its dead-letter queue's path. */
export const DEAD_LETTER_QUEUE_SUFFIX = '/$DeadLetterQueue';
const DLQ_SUFFIX = DEAD_LETTER_QUEUE_SUFFIX;
const SUBSCRIPTIONS_SEGMENT = '/Subscriptions/';

const STATE_ACTIVE = 0;
const STATE_SCHEDULED = 1;
const STATE_DEAD_LETTERED = 2;
const STATE_NAMES: Record<number, MessageState> = { 0: 'active', 1: 'scheduled', 2: 'deadLettered' };

/** setTimeout cannot wait longer than this (about 24.8 days); the timer simply re-arms. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** Back-off before retrying a failed background sweep. */
const SWEEP_RETRY_MS = 1_000;
/** Lock release at open treats every lock as expired. */
const END_OF_TIME = Number.MAX_SAFE_INTEGER;

const MAX_MESSAGE_ID_LENGTH = 128;
const QUEUE_OR_TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,259}$/;
const SUBSCRIPTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

const STRING_PROPERTIES = [
  'contentType',
  'correlationId',
  'subject',
  'to',
  'replyTo',
  'replyToSessionId',
  'sessionId',
  'partitionKey',
] as const;
type StringProperty = (typeof STRING_PROPERTIES)[number];

/** Message properties kept in the `props` JSON column (everything not needed by SQL). */
type StoredProps = { [K in StringProperty]?: string } & {
  applicationProperties?: Record<string, ApplicationPropertyValue>;
  scheduledEnqueueTimeUtc?: number;
};

interface Entity {
  id: number;
  key: string;
  path: string;
  kind: EntityKind;
  topicId: number | null;
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number | null;
  requiresDuplicateDetection: boolean;
  duplicateWindowMs: number;
  deadLetterOnExpiration: boolean;
  filter: CorrelationFilter | null;
}

interface EntityRow {
  id: number;
  path_key: string;
  path: string;
  kind: EntityKind;
  topic_id: number | null;
  lock_duration_ms: number;
  max_delivery_count: number;
  default_ttl_ms: number | null;
  requires_duplicate_detection: number;
  duplicate_window_ms: number;
  dead_letter_on_expiration: number;
  filter: string | null;
}

interface MessageRow {
  id: number;
  state: number;
  seq: number;
  message_id: string;
  enqueued_at: number;
  ttl_ms: number | null;
  expires_at: number | null;
  delivery_count: number;
  lock_token: string | null;
  locked_until: number | null;
  dl_source: string | null;
  dl_reason: string | null;
  dl_description: string | null;
  props: string | null;
  body: Buffer;
}

interface LockedRow {
  id: number;
  entity_id: number;
  state: number;
  delivery_count: number;
  locked_until: number;
  expires_at: number | null;
  props: string | null;
}

interface PreparedMessage {
  messageId: string;
  props: string | null;
  applicationProperties: Record<string, ApplicationPropertyValue> | undefined;
  correlationId: string | undefined;
  subject: string | undefined;
  scheduledAt: number | undefined;
  ttlMs: number | undefined;
  body: Buffer;
}

/** Resolved receive-side path: the entity plus which sub-queue. */
interface ResolvedPath {
  entity: Entity;
  deadLetter: boolean;
}

const MESSAGE_COLUMNS = `id, state, seq, message_id, enqueued_at, ttl_ms, expires_at, delivery_count, lock_token,
  locked_until, dl_source, dl_reason, dl_description, props, body`;

function lockLost(lockToken: string): ServiceBusError {
  return new ServiceBusError(
    'MessageLockLost',
    `The lock supplied (${lockToken}) is invalid. Either the lock expired, or the message has already been removed from the entity.`,
  );
}

function minDefined(...values: Array<number | null | undefined>): number | undefined {
  let result: number | undefined;
  for (const v of values) if (v !== null && v !== undefined && (result === undefined || v < result)) result = v;
  return result;
}

function matchesFilter(filter: CorrelationFilter | null, message: PreparedMessage): boolean {
  if (!filter) return true;
  if (filter.correlationId !== undefined && filter.correlationId !== message.correlationId) return false;
  if (filter.subject !== undefined && filter.subject !== message.subject) return false;
  if (filter.applicationProperties) {
    for (const [key, value] of Object.entries(filter.applicationProperties)) {
      if (message.applicationProperties?.[key] !== value) return false;
    }
  }
  return true;
}

function checkApplicationProperties(properties: Record<string, unknown>, what: string): void {
  for (const [key, value] of Object.entries(properties)) {
    const ok =
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new TypeError(`${what} '${key}' must be a string, finite number, boolean or null.`);
  }
}

function checkPositiveInteger(value: number | undefined, name: string, allowZero = false): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}.`);
  }
}

function checkEntityOptions(options: EntityOptions): void {
  checkPositiveInteger(options.lockDurationMs, 'lockDurationMs');
  checkPositiveInteger(options.maxDeliveryCount, 'maxDeliveryCount');
  checkPositiveInteger(options.defaultMessageTimeToLiveMs, 'defaultMessageTimeToLiveMs');
  checkPositiveInteger(options.duplicateDetectionHistoryTimeWindowMs, 'duplicateDetectionHistoryTimeWindowMs', true);
}

function entityFromRow(row: EntityRow): Entity {
  return {
    id: row.id,
    key: row.path_key,
    path: row.path,
    kind: row.kind,
    topicId: row.topic_id,
    lockDurationMs: row.lock_duration_ms,
    maxDeliveryCount: row.max_delivery_count,
    defaultTtlMs: row.default_ttl_ms,
    requiresDuplicateDetection: row.requires_duplicate_detection === 1,
    duplicateWindowMs: row.duplicate_window_ms,
    deadLetterOnExpiration: row.dead_letter_on_expiration === 1,
    filter: row.filter ? (JSON.parse(row.filter) as CorrelationFilter) : null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Broker
// ---------------------------------------------------------------------------------------------------------

/**
 * An embedded Service Bus broker persisted in SQLite: queues, topics with filtered subscriptions,
 * peek-lock with renewable locks, delivery counts and dead-lettering, scheduled messages, TTL and
 * duplicate detection.
 *
 * One process owns the file (the broker caches entities and the sequence counter in memory). All calls
 * are synchronous; every state change is committed before the call returns. Time-based transitions
 * (scheduled messages becoming due, locks and TTLs expiring) are applied lazily by every operation and
 * eagerly by one unref'd timer armed for the earliest due time, which emits `'available'` so receivers
 * never poll.
 */
export class SqliteBroker extends EventEmitter<SqliteBrokerEvents> {
  /**
   * Opens (creating or migrating) the broker database.
   * @throws Error when the file has a newer schema version or cannot be opened.
   */
  static open(options: BrokerOpenOptions): SqliteBroker {
    const synchronous = options.synchronous ?? 'NORMAL';
    if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
      throw new RangeError(`synchronous must be 'NORMAL' or 'FULL', got ${String(synchronous)}.`);
    }
    const db = new Database(options.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma('busy_timeout = 5000');
      migrateBrokerSchema(db);
      return new SqliteBroker(db, options.now ?? Date.now, options.releaseLocksOnOpen ?? true);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** The broker's clock (epoch ms), shared with receivers so lock renewal uses the same time base. */
  readonly now: () => number;

  private readonly db: Database.Database;
  private readonly entitiesByKey = new Map<string, Entity>();
  private readonly entitiesById = new Map<number, Entity>();
  private nextSequenceNumber: number;
  private closed = false;

  /** Lower bound of the earliest scheduled time, lock expiry or TTL expiry in the store. */
  private nextDueAt = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  private readonly pendingAvailable = new Set<string>();
  private readonly checkpointer;
  private flushQueued = false;
  private readonly lastDuplicatePrune = new Map<number, number>();

  private readonly stmt;
  private readonly sendTransaction;

  private constructor(db: Database.Database, now: () => number, releaseLocksOnOpen: boolean) {
    super();
    this.checkpointer = startWalCheckpointer(db);
    this.db = db;
    this.now = now;
    // Lock tokens are GUIDs like in Service Bus; generated in SQL so receive is a single UPDATE … RETURNING.
    db.function('sb_lock_token', { deterministic: false }, () => randomUUID());
    this.stmt = this.prepareStatements();
    this.sendTransaction = db.transaction(
      (entity: Entity, targets: Entity[], messages: PreparedMessage[], now: number) =>
        this.sendInTransaction(entity, targets, messages, now),
    );

    for (const row of this.stmt.allEntities.all()) this.cacheEntity(entityFromRow(row));
    this.nextSequenceNumber = this.stmt.getNextSequence.get()!;

    if (releaseLocksOnOpen) db.transaction(() => this.expireLocks(END_OF_TIME))();
    this.sweep(this.now());
    // Receivers attached right after open must learn about the backlog.
    for (const entity of this.entitiesById.values()) {
      if (entity.kind === 'topic') continue;
      if (this.stmt.hasReady.get(entity.id, STATE_ACTIVE)) this.markAvailable(entity.path);
      if (this.stmt.hasReady.get(entity.id, STATE_DEAD_LETTERED)) this.markAvailable(entity.path + DLQ_SUFFIX);
    }
  }

  private prepareStatements() {
    const db = this.db;
    return {
      allEntities: db.prepare<[], EntityRow>('SELECT * FROM entities ORDER BY id'),
      insertEntity: db.prepare<
        [
          {
            key: string;
            path: string;
            kind: EntityKind;
            topicId: number | null;
            lockDurationMs: number;
            maxDeliveryCount: number;
            defaultTtlMs: number | null;
            requiresDuplicateDetection: number;
            duplicateWindowMs: number;
            deadLetterOnExpiration: number;
            filter: string | null;
          },
        ],
        EntityRow
      >(
        `INSERT INTO entities (path_key, path, kind, topic_id, lock_duration_ms, max_delivery_count, default_ttl_ms,
           requires_duplicate_detection, duplicate_window_ms, dead_letter_on_expiration, filter)
         VALUES (@key, @path, @kind, @topicId, @lockDurationMs, @maxDeliveryCount, @defaultTtlMs,
           @requiresDuplicateDetection, @duplicateWindowMs, @deadLetterOnExpiration, @filter)
         ON CONFLICT (path_key) DO UPDATE SET
           lock_duration_ms = excluded.lock_duration_ms, max_delivery_count = excluded.max_delivery_count,
           default_ttl_ms = excluded.default_ttl_ms, requires_duplicate_detection = excluded.requires_duplicate_detection,
           duplicate_window_ms = excluded.duplicate_window_ms, dead_letter_on_expiration = excluded.dead_letter_on_expiration,
           filter = excluded.filter
         RETURNING *`,
      ),
      getNextSequence: db.prepare<[], number>(`SELECT value FROM meta WHERE key = 'next_sequence_number'`).pluck(),
      setNextSequence: db.prepare<[number]>(`UPDATE meta SET value = ? WHERE key = 'next_sequence_number'`),

      // Upsert that only "wins" when the id is new or its previous sighting left the window; RETURNING
      // yields no row for a duplicate. One statement per message instead of a read and a write.
      recordMessageId: db.prepare<[{ entityId: number; messageId: string; now: number; cutoff: number }], number>(
        `INSERT INTO duplicate_detection (entity_id, message_id, seen_at) VALUES (@entityId, @messageId, @now)
         ON CONFLICT (entity_id, message_id) DO UPDATE SET seen_at = excluded.seen_at WHERE seen_at <= @cutoff
         RETURNING 1`,
      ).pluck(),
      pruneMessageIds: db.prepare<[number, number]>(
        'DELETE FROM duplicate_detection WHERE entity_id = ? AND seen_at <= ?',
      ),
      insertMessage: db.prepare<
        [
          {
            entityId: number;
            state: number;
            seq: number;
            messageId: string;
            enqueuedAt: number;
            scheduledAt: number | null;
            ttlMs: number | null;
            expiresAt: number | null;
            props: string | null;
            body: Buffer;
          },
        ]
      >(
        `INSERT INTO messages (entity_id, state, seq, message_id, enqueued_at, scheduled_at, ttl_ms, expires_at, props, body)
         VALUES (@entityId, @state, @seq, @messageId, @enqueuedAt, @scheduledAt, @ttlMs, @expiresAt, @props, @body)`,
      ),

      receive: db.prepare<[{ entityId: number; state: number; max: number; lockedUntil: number }], MessageRow>(
        `UPDATE messages
            SET lock_token = sb_lock_token(), locked_until = @lockedUntil, delivery_count = delivery_count + 1
          WHERE id IN (SELECT id FROM messages
                        WHERE entity_id = @entityId AND state = @state AND lock_token IS NULL
                        ORDER BY seq LIMIT @max)
          RETURNING ${MESSAGE_COLUMNS}`,
      ),
      complete: db.prepare<[{ token: string; entityId: number; state: number; now: number }]>(
        `DELETE FROM messages
          WHERE lock_token = @token AND entity_id = @entityId AND state = @state AND locked_until > @now`,
      ),
      renewLock: db.prepare<[{ token: string; entityId: number; state: number; now: number; lockedUntil: number }]>(
        `UPDATE messages SET locked_until = @lockedUntil
          WHERE lock_token = @token AND entity_id = @entityId AND state = @state AND locked_until > @now`,
      ),
      getLocked: db.prepare<[string], LockedRow>(
        `SELECT id, entity_id, state, delivery_count, locked_until, expires_at, props
           FROM messages WHERE lock_token = ?`,
      ),
      unlock: db.prepare<[{ id: number; props: string | null }]>(
        `UPDATE messages SET lock_token = NULL, locked_until = NULL, props = coalesce(@props, props) WHERE id = @id`,
      ),
      deadLetterLocked: db.prepare<
        [{ id: number; props: string | null; source: string; reason: string | null; description: string | null }]
      >(
        `UPDATE messages
            SET state = ${STATE_DEAD_LETTERED}, lock_token = NULL, locked_until = NULL, props = coalesce(@props, props),
                dl_source = @source, dl_reason = @reason, dl_description = @description
          WHERE id = @id`,
      ),

      // Two index ranges merged in seq order, so a peek does not sort the whole backlog.
      peekMain: db.prepare<[{ entityId: number; from: number; max: number }], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE entity_id = @entityId AND state = ${STATE_ACTIVE} AND seq >= @from
         UNION ALL
         SELECT ${MESSAGE_COLUMNS} FROM messages WHERE entity_id = @entityId AND state = ${STATE_SCHEDULED} AND seq >= @from
         ORDER BY seq LIMIT @max`,
      ),
      peekDeadLetter: db.prepare<[{ entityId: number; from: number; max: number }], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages
          WHERE entity_id = @entityId AND state = ${STATE_DEAD_LETTERED} AND seq >= @from
          ORDER BY seq LIMIT @max`,
      ),
      hasReady: db.prepare<[number, number], number>(
        'SELECT 1 FROM messages WHERE entity_id = ? AND state = ? AND lock_token IS NULL LIMIT 1',
      ).pluck(),
      counts: db.prepare<[number], { state: number; n: number; locked: number }>(
        `SELECT state, count(*) AS n, count(lock_token) AS locked FROM messages WHERE entity_id = ? GROUP BY state`,
      ),
      cancelScheduled: db.prepare<[number, number]>(
        `DELETE FROM messages WHERE entity_id = ? AND state = ${STATE_SCHEDULED} AND seq = ?`,
      ),
      deadLettersForResubmit: db.prepare<[number], { id: number; seq: number; ttl_ms: number | null }>(
        `SELECT id, seq, ttl_ms FROM messages
          WHERE entity_id = ? AND state = ${STATE_DEAD_LETTERED} AND lock_token IS NULL ORDER BY seq`,
      ),
      resubmit: db.prepare<[{ id: number; seq: number; now: number; expiresAt: number | null }]>(
        `UPDATE messages
            SET state = ${STATE_ACTIVE}, seq = @seq, enqueued_at = @now, expires_at = @expiresAt, delivery_count = 0,
                dl_source = NULL, dl_reason = NULL, dl_description = NULL
          WHERE id = @id`,
      ),
      purgeMain: db.prepare<[number]>(
        `DELETE FROM messages WHERE entity_id = ? AND state IN (${STATE_ACTIVE}, ${STATE_SCHEDULED})`,
      ),
      purgeDeadLetter: db.prepare<[number]>(
        `DELETE FROM messages WHERE entity_id = ? AND state = ${STATE_DEAD_LETTERED}`,
      ),

      // --- time-based sweep; each uses one of the partial indexes ---
      activateScheduled: db.prepare<[number], { entity_id: number }>(
        `UPDATE messages SET state = ${STATE_ACTIVE}, scheduled_at = NULL
          WHERE state = ${STATE_SCHEDULED} AND scheduled_at <= ? RETURNING entity_id`,
      ),
      // An expired lock counts as a delivery (already counted at receive); at the limit it dead-letters.
      expireLocksToDeadLetter: db.prepare<[number], { entity_id: number }>(
        `UPDATE messages
            SET state = ${STATE_DEAD_LETTERED}, lock_token = NULL, locked_until = NULL,
                dl_source = (SELECT path FROM entities e WHERE e.id = messages.entity_id),
                dl_reason = 'MaxDeliveryCountExceeded',
                dl_description = 'Message could not be consumed after ' || delivery_count || ' delivery attempts.'
          WHERE lock_token IS NOT NULL AND locked_until <= ? AND state = ${STATE_ACTIVE}
            AND delivery_count >= (SELECT max_delivery_count FROM entities e WHERE e.id = messages.entity_id)
          RETURNING entity_id`,
      ),
      releaseExpiredLocks: db.prepare<[number], { entity_id: number; state: number }>(
        `UPDATE messages SET lock_token = NULL, locked_until = NULL
          WHERE lock_token IS NOT NULL AND locked_until <= ? RETURNING entity_id, state`,
      ),
      // INDEXED BY: with an IN (entities) term the planner would rather scan every active message.
      dropExpired: db.prepare<[number]>(
        `DELETE FROM messages INDEXED BY messages_ttl
          WHERE state = ${STATE_ACTIVE} AND lock_token IS NULL AND expires_at <= ?
            AND (SELECT dead_letter_on_expiration FROM entities e WHERE e.id = messages.entity_id) = 0`,
      ),
      deadLetterExpired: db.prepare<[number], { entity_id: number }>(
        `UPDATE messages INDEXED BY messages_ttl
            SET state = ${STATE_DEAD_LETTERED},
                dl_source = (SELECT path FROM entities e WHERE e.id = messages.entity_id),
                dl_reason = 'TTLExpiredException',
                dl_description = 'The message expired and was dead lettered.'
          WHERE state = ${STATE_ACTIVE} AND lock_token IS NULL AND expires_at <= ?
            AND (SELECT dead_letter_on_expiration FROM entities e WHERE e.id = messages.entity_id) = 1
          RETURNING entity_id`,
      ),
      nextScheduled: db.prepare<[], number | null>(
        `SELECT min(scheduled_at) FROM messages WHERE state = ${STATE_SCHEDULED}`,
      ).pluck(),
      nextLockExpiry: db.prepare<[], number | null>(
        'SELECT min(locked_until) FROM messages WHERE lock_token IS NOT NULL',
      ).pluck(),
      nextTtlExpiry: db.prepare<[], number | null>(
        `SELECT min(expires_at) FROM messages
          WHERE state = ${STATE_ACTIVE} AND lock_token IS NULL AND expires_at IS NOT NULL`,
      ).pluck(),
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // Entity management
  // ------------------------------------------------------------------------------------------------------

  /**
   * Creates the queue, or updates the options given (omitted options keep their current values).
   * @throws ServiceBusError `MessagingEntityAlreadyExists` when a topic has that name.
   */
  ensureQueue(name: string, options: EntityOptions = {}): void {
    this.ensureEntity('queue', name, null, options, undefined);
  }

  /**
   * Creates the topic, or updates the options given. Topics hold no messages themselves: a send is copied
   * to every subscription whose filter matches (and dropped when none does). `lockDurationMs`,
   * `maxDeliveryCount` and `deadLetteringOnMessageExpiration` of a topic are not used; its TTL caps its
   * subscriptions' and its duplicate detection applies to sends.
   */
  ensureTopic(name: string, options: EntityOptions = {}): void {
    this.ensureEntity('topic', name, null, options, undefined);
  }

  /**
   * Creates the subscription `topic/Subscriptions/subscription`, or updates the options given. A `filter`
   * replaces the current one; omitting it keeps it. Duplicate detection options are ignored (the topic's apply).
   * @throws ServiceBusError `MessagingEntityNotFound` when the topic does not exist.
   */
  ensureSubscription(topic: string, subscription: string, options: SubscriptionOptions = {}): void {
    this.checkOpen();
    const topicEntity = this.entitiesByKey.get(topic.toLowerCase());
    if (!topicEntity || topicEntity.kind !== 'topic') {
      throw new ServiceBusError('MessagingEntityNotFound', `Topic '${topic}' was not found.`);
    }
    if (!SUBSCRIPTION_NAME.test(subscription)) {
      throw new TypeError(
        `Invalid subscription name '${subscription}': use 1-50 letters, digits, '.', '-' or '_', starting with a letter or digit.`,
      );
    }
    if (options.filter) {
      checkApplicationProperties(options.filter.applicationProperties ?? {}, 'Filter property');
    }
    this.ensureEntity(
      'subscription',
      `${topicEntity.path}${SUBSCRIPTIONS_SEGMENT}${subscription}`,
      topicEntity.id,
      options,
      options.filter,
    );
  }

  private ensureEntity(
    kind: EntityKind,
    path: string,
    topicId: number | null,
    options: EntityOptions,
    filter: CorrelationFilter | undefined,
  ): void {
    this.checkOpen();
    if (kind !== 'subscription') {
      const lower = path.toLowerCase();
      if (
        !QUEUE_OR_TOPIC_NAME.test(path) ||
        path.endsWith('/') ||
        lower.includes(SUBSCRIPTIONS_SEGMENT.toLowerCase()) ||
        lower.includes('//')
      ) {
        throw new TypeError(
          `Invalid ${kind} name '${path}': use 1-260 letters, digits, '.', '-', '_' or '/', starting with a letter or digit.`,
        );
      }
    }
    checkEntityOptions(options);
    const key = path.toLowerCase();
    const existing = this.entitiesByKey.get(key);
    if (existing && existing.kind !== kind) {
      throw new ServiceBusError(
        'MessagingEntityAlreadyExists',
        `Cannot create ${kind} '${path}': a ${existing.kind} named '${existing.path}' already exists.`,
      );
    }
    const defaultTtl = options.defaultMessageTimeToLiveMs ?? existing?.defaultTtlMs ?? null;
    const nextFilter = filter !== undefined ? filter : (existing?.filter ?? null);
    const row = this.stmt.insertEntity.get({
      key,
      path: existing?.path ?? path,
      kind,
      topicId,
      lockDurationMs: options.lockDurationMs ?? existing?.lockDurationMs ?? DEFAULTS.lockDurationMs,
      maxDeliveryCount: options.maxDeliveryCount ?? existing?.maxDeliveryCount ?? DEFAULTS.maxDeliveryCount,
      defaultTtlMs: defaultTtl,
      requiresDuplicateDetection:
        (options.requiresDuplicateDetection ??
          existing?.requiresDuplicateDetection ??
          DEFAULTS.requiresDuplicateDetection)
          ? 1
          : 0,
      duplicateWindowMs:
        options.duplicateDetectionHistoryTimeWindowMs ??
        existing?.duplicateWindowMs ??
        DEFAULTS.duplicateDetectionHistoryTimeWindowMs,
      deadLetterOnExpiration:
        (options.deadLetteringOnMessageExpiration ??
          existing?.deadLetterOnExpiration ??
          DEFAULTS.deadLetteringOnMessageExpiration)
          ? 1
          : 0,
      filter: nextFilter ? JSON.stringify(nextFilter) : null,
    })!;
    this.cacheEntity(entityFromRow(row));
  }

  private cacheEntity(entity: Entity): void {
    this.entitiesByKey.set(entity.key, entity);
    this.entitiesById.set(entity.id, entity);
  }

  /** Lists every queue, topic and subscription, ordered by path. */
  listEntities(): EntityInfo[] {
    this.checkOpen();
    return [...this.entitiesById.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((e) => ({ path: e.path, kind: e.kind }));
  }

  /**
   * The canonical spelling of an entity path (as emitted by `'available'`), e.g. `orders/$deadletterqueue`
   * → `Orders/$DeadLetterQueue`.
   * @throws ServiceBusError `MessagingEntityNotFound`.
   */
  getEntityPath(entityPath: string): string {
    this.checkOpen();
    const { entity, deadLetter } = this.resolve(entityPath);
    return deadLetter ? entity.path + DLQ_SUFFIX : entity.path;
  }

  // ------------------------------------------------------------------------------------------------------
  // Messages
  // ------------------------------------------------------------------------------------------------------

  /**
   * Sends messages to a queue or topic in one transaction. Returns their sequence numbers in order, with -1
   * for messages dropped as duplicates. A topic copies each message to every subscription whose filter
   * matches; the copies share the sequence number.
   * @throws ServiceBusError `MessagingEntityNotFound`, or `InvalidOperation` for a subscription or DLQ path.
   * @throws TypeError / RangeError for an invalid message; then nothing is sent.
   */
  send(entity: string, messages: OutgoingMessage[]): number[] {
    this.checkOpen();
    const target = this.resolveSendTarget(entity);
    if (!Array.isArray(messages)) throw new TypeError('messages must be an array.');
    if (messages.length === 0) return [];
    const prepared = messages.map((m, i) => this.prepareOutgoing(m, i));
    const targets =
      target.kind === 'queue'
        ? [target]
        : [...this.entitiesById.values()].filter((e) => e.topicId === target.id);
    return this.sendTransaction(target, targets, prepared, this.now());
  }

  private sendInTransaction(entity: Entity, targets: Entity[], messages: PreparedMessage[], now: number): number[] {
    const sequenceNumbers: number[] = [];
    if (entity.requiresDuplicateDetection) this.pruneDuplicateHistory(entity, now);
    const cutoff = now - entity.duplicateWindowMs;
    for (const message of messages) {
      if (
        entity.requiresDuplicateDetection &&
        this.stmt.recordMessageId.get({ entityId: entity.id, messageId: message.messageId, now, cutoff }) ===
          undefined
      ) {
        sequenceNumbers.push(-1);
        continue;
      }
      const seq = this.nextSequenceNumber++;
      sequenceNumbers.push(seq);
      const scheduled = message.scheduledAt !== undefined && message.scheduledAt > now;
      // Service Bus counts TTL from when a scheduled message is enqueued, not from when it was sent.
      const enqueuedAt = scheduled ? message.scheduledAt! : now;
      for (const target of targets) {
        if (target.kind === 'subscription' && !matchesFilter(target.filter, message)) continue;
        const ttl = minDefined(
          message.ttlMs,
          entity.defaultTtlMs,
          target === entity ? undefined : target.defaultTtlMs,
        );
        const expiresAt = ttl === undefined ? null : enqueuedAt + ttl;
        this.stmt.insertMessage.run({
          entityId: target.id,
          state: scheduled ? STATE_SCHEDULED : STATE_ACTIVE,
          seq,
          messageId: message.messageId,
          enqueuedAt,
          scheduledAt: scheduled ? enqueuedAt : null,
          ttlMs: ttl ?? null,
          expiresAt,
          props: message.props,
          body: message.body,
        });
        if (scheduled) this.noteDue(enqueuedAt);
        else this.markAvailable(target.path);
        if (expiresAt !== null) this.noteDue(expiresAt);
      }
    }
    this.stmt.setNextSequence.run(this.nextSequenceNumber);
    return sequenceNumbers;
  }

  /** Forget message ids older than the window, at most every tenth of a window (and ≤ once a minute). */
  private pruneDuplicateHistory(entity: Entity, now: number): void {
    const last = this.lastDuplicatePrune.get(entity.id);
    if (last !== undefined && now - last < Math.min(60_000, entity.duplicateWindowMs / 10)) return;
    this.lastDuplicatePrune.set(entity.id, now);
    this.stmt.pruneMessageIds.run(entity.id, now - entity.duplicateWindowMs);
  }

  private prepareOutgoing(message: OutgoingMessage, index: number): PreparedMessage {
    const where = `messages[${index}]`;
    // Accept any Uint8Array (callers often hold one) but store and return Buffers.
    const raw: unknown = message?.body;
    if (!(raw instanceof Uint8Array)) throw new TypeError(`${where}.body must be a Buffer.`);
    const body = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const messageId = message.messageId ?? randomUUID().replace(/-/g, '');
    if (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > MAX_MESSAGE_ID_LENGTH) {
      throw new TypeError(`${where}.messageId must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters.`);
    }
    if (message.timeToLiveMs !== undefined) checkPositiveInteger(message.timeToLiveMs, `${where}.timeToLiveMs`);
    let scheduledAt: number | undefined;
    if (message.scheduledEnqueueTimeUtc !== undefined) {
      scheduledAt = message.scheduledEnqueueTimeUtc instanceof Date ? message.scheduledEnqueueTimeUtc.getTime() : NaN;
      if (!Number.isFinite(scheduledAt)) throw new TypeError(`${where}.scheduledEnqueueTimeUtc must be a valid Date.`);
    }
    const props: StoredProps = {};
    let hasProps = false;
    for (const key of STRING_PROPERTIES) {
      const value = message[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new TypeError(`${where}.${key} must be a string.`);
      props[key] = value;
      hasProps = true;
    }
    const applicationProperties = message.applicationProperties;
    if (applicationProperties !== undefined) {
      checkApplicationProperties(applicationProperties, `${where} application property`);
      if (Object.keys(applicationProperties).length > 0) {
        props.applicationProperties = applicationProperties;
        hasProps = true;
      }
    }
    if (scheduledAt !== undefined) {
      props.scheduledEnqueueTimeUtc = scheduledAt;
      hasProps = true;
    }
    return {
      messageId,
      props: hasProps ? JSON.stringify(props) : null,
      applicationProperties,
      correlationId: message.correlationId,
      subject: message.subject,
      scheduledAt,
      ttlMs: message.timeToLiveMs,
      body,
    };
  }

  /**
   * Peek-lock receive: locks up to `maxMessages` available messages, oldest (lowest sequence number) first,
   * and increments their delivery count. Scheduled-not-due and locked messages are skipped; expired ones
   * are dropped or dead-lettered first. Returns an empty array when nothing is available.
   * @param entityPath a queue, `topic/Subscriptions/sub`, or either + `/$DeadLetterQueue`.
   * @throws ServiceBusError `MessagingEntityNotFound`, or `InvalidOperation` for a topic.
   */
  receive(entityPath: string, maxMessages: number): BrokeredMessage[] {
    this.checkOpen();
    checkPositiveInteger(maxMessages, 'maxMessages');
    const { entity, deadLetter } = this.resolveReceivable(entityPath);
    const now = this.now();
    this.sweepIfDue(now);
    const state = deadLetter ? STATE_DEAD_LETTERED : STATE_ACTIVE;
    const lockedUntil = now + entity.lockDurationMs;
    const rows = this.stmt.receive.all({ entityId: entity.id, state, max: maxMessages, lockedUntil });
    if (rows.length === 0) return [];
    this.noteDue(lockedUntil);
    // RETURNING does not promise an order.
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((row) => this.toMessage(row, true));
  }

  /**
   * Completes (removes) a locked message.
   * @throws ServiceBusError `MessageLockLost` when the lock expired, was settled or belongs elsewhere.
   */
  complete(entityPath: string, lockToken: string): void {
    this.checkOpen();
    const { entity, deadLetter } = this.resolveReceivable(entityPath);
    const changes = this.stmt.complete.run({
      token: String(lockToken),
      entityId: entity.id,
      state: deadLetter ? STATE_DEAD_LETTERED : STATE_ACTIVE,
      now: this.now(),
    }).changes;
    if (changes === 0) throw lockLost(lockToken);
  }

  /**
   * Completes several locked messages in one transaction (one commit instead of one per message), as a
   * receiver does for the handlers that finished in the same turn of the event loop.
   * @returns per token, in order: `undefined` when completed, else the `MessageLockLost` error.
   */
  completeMany(entityPath: string, lockTokens: readonly string[]): Array<ServiceBusError | undefined> {
    this.checkOpen();
    const { entity, deadLetter } = this.resolveReceivable(entityPath);
    const state = deadLetter ? STATE_DEAD_LETTERED : STATE_ACTIVE;
    const now = this.now();
    return this.db.transaction(() =>
      lockTokens.map((token) =>
        this.stmt.complete.run({ token: String(token), entityId: entity.id, state, now }).changes === 0
          ? lockLost(token)
          : undefined,
      ),
    )();
  }

  /**
   * Releases the lock so the message can be received again, optionally merging `propertiesToModify` into
   * its application properties. A main-queue message whose delivery count reached maxDeliveryCount is
   * dead-lettered instead (reason `MaxDeliveryCountExceeded`).
   * @throws ServiceBusError `MessageLockLost`.
   */
  abandon(
    entityPath: string,
    lockToken: string,
    propertiesToModify?: Record<string, ApplicationPropertyValue>,
  ): void {
    this.checkOpen();
    if (propertiesToModify) checkApplicationProperties(propertiesToModify, 'Property to modify');
    const resolved = this.resolveReceivable(entityPath);
    const { entity, deadLetter } = resolved;
    const now = this.now();
    this.db.transaction(() => {
      const row = this.getLockedRow(resolved, lockToken, now);
      const props = propertiesToModify ? mergeProperties(row.props, propertiesToModify) : null;
      if (!deadLetter && row.delivery_count >= entity.maxDeliveryCount) {
        this.stmt.deadLetterLocked.run({
          id: row.id,
          props,
          source: entity.path,
          reason: 'MaxDeliveryCountExceeded',
          description: `Message could not be consumed after ${row.delivery_count} delivery attempts.`,
        });
        this.markAvailable(entity.path + DLQ_SUFFIX);
      } else {
        this.stmt.unlock.run({ id: row.id, props });
        if (!deadLetter && row.expires_at !== null) this.noteDue(row.expires_at);
        this.markAvailable(deadLetter ? entity.path + DLQ_SUFFIX : entity.path);
      }
    })();
  }

  /**
   * Moves a locked message to the entity's dead-letter queue.
   * @throws ServiceBusError `MessageLockLost`, or `InvalidOperation` for a message received from a DLQ.
   */
  deadLetter(entityPath: string, lockToken: string, reason?: string, description?: string): void {
    this.checkOpen();
    const resolved = this.resolveReceivable(entityPath);
    if (resolved.deadLetter) {
      throw new ServiceBusError('InvalidOperation', 'A message in a dead-letter queue cannot be dead-lettered.');
    }
    const now = this.now();
    this.db.transaction(() => {
      const row = this.getLockedRow(resolved, lockToken, now);
      this.stmt.deadLetterLocked.run({
        id: row.id,
        props: null,
        source: resolved.entity.path,
        reason: reason ?? null,
        description: description ?? null,
      });
    })();
    this.markAvailable(resolved.entity.path + DLQ_SUFFIX);
  }

  /**
   * Extends the lock by the entity's lock duration from now, and returns the new expiry.
   * @throws ServiceBusError `MessageLockLost`.
   */
  renewLock(entityPath: string, lockToken: string): Date {
    this.checkOpen();
    const { entity, deadLetter } = this.resolveReceivable(entityPath);
    const now = this.now();
    const lockedUntil = now + entity.lockDurationMs;
    const changes = this.stmt.renewLock.run({
      token: String(lockToken),
      entityId: entity.id,
      state: deadLetter ? STATE_DEAD_LETTERED : STATE_ACTIVE,
      now,
      lockedUntil,
    }).changes;
    if (changes === 0) throw lockLost(lockToken);
    return new Date(lockedUntil);
  }

  /**
   * Returns messages in sequence order without locking them; the main path includes scheduled and locked
   * messages. Peeked messages carry no lock token.
   * @param options.maxMessages default 1, like Service Bus peek.
   */
  peek(entityPath: string, options: { fromSequenceNumber?: number; maxMessages?: number } = {}): BrokeredMessage[] {
    this.checkOpen();
    const maxMessages = options.maxMessages ?? 1;
    checkPositiveInteger(maxMessages, 'maxMessages');
    const { entity, deadLetter } = this.resolveReceivable(entityPath);
    this.sweepIfDue(this.now());
    const statement = deadLetter ? this.stmt.peekDeadLetter : this.stmt.peekMain;
    return statement
      .all({ entityId: entity.id, from: options.fromSequenceNumber ?? 0, max: maxMessages })
      .map((row) => this.toMessage(row, false));
  }

  /**
   * Cancels scheduled messages of a queue or topic (on a topic: every subscription's copy). Atomic: when
   * any sequence number is not a pending scheduled message, nothing is cancelled.
   * @throws ServiceBusError `MessageNotFound` listing the missing sequence numbers.
   */
  cancelScheduledMessages(entity: string, sequenceNumbers: number[]): void {
    this.checkOpen();
    const target = this.resolveSendTarget(entity);
    this.sweepIfDue(this.now());
    const targets =
      target.kind === 'queue'
        ? [target]
        : [...this.entitiesById.values()].filter((e) => e.topicId === target.id);
    this.db.transaction(() => {
      const missing: number[] = [];
      for (const seq of sequenceNumbers) {
        let removed = 0;
        for (const t of targets) removed += this.stmt.cancelScheduled.run(t.id, seq).changes;
        if (removed === 0) missing.push(seq);
      }
      if (missing.length > 0) {
        throw new ServiceBusError(
          'MessageNotFound',
          `Scheduled messages not found in '${target.path}'. Missing sequence numbers: ${missing.join(', ')}.`,
        );
      }
    })();
  }

  /**
   * Moves dead-lettered messages back to their entity as new messages: new sequence number, delivery count
   * 0, dead-letter fields cleared, TTL restarted. Locked dead letters are skipped. Bypasses duplicate
   * detection (the MessageId is unchanged).
   * @param entityPath the source queue or subscription (a `/$DeadLetterQueue` suffix is tolerated).
   * @param sequenceNumbers the dead letters to move; all when omitted. Numbers that name no unlocked dead
   *   letter are ignored (the returned count tells how many moved), so a retried request is harmless.
   * @returns how many were moved.
   */
  resubmitDeadLetters(entityPath: string, sequenceNumbers?: number[]): number {
    this.checkOpen();
    const { entity } = this.resolveReceivable(entityPath);
    const now = this.now();
    this.sweepIfDue(now);
    const moved = this.db.transaction(() => {
      let rows = this.stmt.deadLettersForResubmit.all(entity.id);
      if (sequenceNumbers) {
        const wanted = new Set(sequenceNumbers);
        rows = rows.filter((r) => wanted.has(r.seq));
      }
      for (const row of rows) {
        const expiresAt = row.ttl_ms === null ? null : now + row.ttl_ms;
        this.stmt.resubmit.run({ id: row.id, seq: this.nextSequenceNumber++, now, expiresAt });
        if (expiresAt !== null) this.noteDue(expiresAt);
      }
      if (rows.length > 0) this.stmt.setNextSequence.run(this.nextSequenceNumber);
      return rows.length;
    })();
    if (moved > 0) this.markAvailable(entity.path);
    return moved;
  }

  /**
   * Removes every message of the path, locked and scheduled ones included; a DLQ path empties the DLQ only.
   * @returns the number of messages removed.
   */
  purge(entityPath: string): number {
    this.checkOpen();
    const { entity, deadLetter } = this.resolveReceivable(entityPath);
    return (deadLetter ? this.stmt.purgeDeadLetter : this.stmt.purgeMain).run(entity.id).changes;
  }

  /** Message counts; a DLQ path reports its entity's counts, a topic the sums over its subscriptions. */
  getRuntimeProperties(entityPath: string): EntityRuntimeProperties {
    this.checkOpen();
    const { entity } = this.resolve(entityPath);
    this.sweepIfDue(this.now());
    const entities =
      entity.kind === 'topic' ? [...this.entitiesById.values()].filter((e) => e.topicId === entity.id) : [entity];
    const result: EntityRuntimeProperties = {
      activeMessageCount: 0,
      scheduledMessageCount: 0,
      deadLetterMessageCount: 0,
      lockedMessageCount: 0,
    };
    for (const e of entities) {
      for (const { state, n, locked } of this.stmt.counts.all(e.id)) {
        if (state === STATE_ACTIVE) result.activeMessageCount += n;
        else if (state === STATE_SCHEDULED) result.scheduledMessageCount += n;
        else result.deadLetterMessageCount += n;
        result.lockedMessageCount += locked;
      }
    }
    return result;
  }

  /**
   * Applies time-based transitions now (scheduled messages becoming due, expired locks and TTLs) and
   * re-arms the timer. Every operation does this lazily already; useful with an injected clock.
   */
  processDueMessages(): void {
    this.checkOpen();
    this.sweep(this.now());
  }

  /** Stops the timer and closes the database. Idempotent; other calls then throw `BrokerClosed`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingAvailable.clear();
    this.checkpointer.stop();
    this.db.close();
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ------------------------------------------------------------------------------------------------------
  // Helpers
  // ------------------------------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new ServiceBusError('BrokerClosed', 'The Service Bus broker is closed.');
  }

  private resolve(entityPath: string): ResolvedPath {
    if (typeof entityPath !== 'string') throw new TypeError('entityPath must be a string.');
    let key = entityPath.toLowerCase();
    const deadLetter = key.endsWith(DLQ_SUFFIX.toLowerCase());
    if (deadLetter) key = key.slice(0, -DLQ_SUFFIX.length);
    const entity = this.entitiesByKey.get(key);
    if (!entity) throw new ServiceBusError('MessagingEntityNotFound', `Messaging entity '${entityPath}' was not found.`);
    if (deadLetter && entity.kind === 'topic') {
      throw new ServiceBusError('MessagingEntityNotFound', `Topic '${entity.path}' has no dead-letter queue.`);
    }
    return { entity, deadLetter };
  }

  private resolveReceivable(entityPath: string): ResolvedPath {
    const resolved = this.resolve(entityPath);
    if (resolved.entity.kind === 'topic') {
      throw new ServiceBusError(
        'InvalidOperation',
        `'${resolved.entity.path}' is a topic; receive from one of its subscriptions ('${resolved.entity.path}${SUBSCRIPTIONS_SEGMENT}<name>').`,
      );
    }
    return resolved;
  }

  private resolveSendTarget(entityPath: string): Entity {
    const { entity, deadLetter } = this.resolve(entityPath);
    if (deadLetter || entity.kind === 'subscription') {
      throw new ServiceBusError(
        'InvalidOperation',
        `Cannot send to '${entityPath}': send to a queue or topic.`,
      );
    }
    return entity;
  }

  private getLockedRow({ entity, deadLetter }: ResolvedPath, lockToken: string, now: number): LockedRow {
    const row = this.stmt.getLocked.get(String(lockToken));
    if (
      !row ||
      row.entity_id !== entity.id ||
      row.state !== (deadLetter ? STATE_DEAD_LETTERED : STATE_ACTIVE) ||
      row.locked_until <= now
    ) {
      throw lockLost(lockToken);
    }
    return row;
  }

  private toMessage(row: MessageRow, withLock: boolean): BrokeredMessage {
    const props = row.props ? (JSON.parse(row.props) as StoredProps) : {};
    const message: BrokeredMessage = {
      body: row.body,
      messageId: row.message_id,
      applicationProperties: props.applicationProperties ?? {},
      sequenceNumber: row.seq,
      enqueuedTimeUtc: new Date(row.enqueued_at),
      expiresAtUtc: row.expires_at === null ? undefined : new Date(row.expires_at),
      deliveryCount: row.delivery_count,
      state: STATE_NAMES[row.state]!,
    };
    for (const key of STRING_PROPERTIES) {
      const value = props[key];
      if (value !== undefined) message[key] = value;
    }
    if (props.scheduledEnqueueTimeUtc !== undefined) {
      message.scheduledEnqueueTimeUtc = new Date(props.scheduledEnqueueTimeUtc);
    }
    if (row.ttl_ms !== null) message.timeToLiveMs = row.ttl_ms;
    if (withLock && row.lock_token !== null && row.locked_until !== null) {
      message.lockToken = row.lock_token;
      message.lockedUntilUtc = new Date(row.locked_until);
    }
    if (row.dl_source !== null) message.deadLetterSource = row.dl_source;
    if (row.dl_reason !== null) message.deadLetterReason = row.dl_reason;
    if (row.dl_description !== null) message.deadLetterErrorDescription = row.dl_description;
    return message;
  }

  // ------------------------------------------------------------------------------------------------------
  // Time-based transitions
  // ------------------------------------------------------------------------------------------------------

  private sweepIfDue(now: number): void {
    if (now >= this.nextDueAt) this.sweep(now);
  }

  /** Applies every transition due at `now` in one transaction, then recomputes the next due time. */
  private sweep(now: number): void {
    this.db.transaction(() => {
      for (const { entity_id } of this.stmt.activateScheduled.all(now)) this.markEntityAvailable(entity_id, false);
      this.expireLocks(now);
      this.stmt.dropExpired.run(now);
      for (const { entity_id } of this.stmt.deadLetterExpired.all(now)) this.markEntityAvailable(entity_id, true);
    })();
    this.nextDueAt = minDefined(
      this.stmt.nextScheduled.get(),
      this.stmt.nextLockExpiry.get(),
      this.stmt.nextTtlExpiry.get(),
    ) ?? Infinity;
    this.arm();
  }

  /** Releases locks that expired by `now`; each counted as a delivery, so at the limit it dead-letters. */
  private expireLocks(now: number): void {
    for (const { entity_id } of this.stmt.expireLocksToDeadLetter.all(now)) this.markEntityAvailable(entity_id, true);
    for (const { entity_id, state } of this.stmt.releaseExpiredLocks.all(now)) {
      this.markEntityAvailable(entity_id, state === STATE_DEAD_LETTERED);
    }
  }

  /** Lowers the next due time if needed and makes sure the timer fires by then. */
  private noteDue(at: number): void {
    if (at < this.nextDueAt) {
      this.nextDueAt = at;
      this.arm();
    }
  }

  private arm(): void {
    if (this.closed || this.nextDueAt === Infinity) return;
    if (this.timer && this.timerAt <= this.nextDueAt) return;
    this.startTimer(this.nextDueAt - this.now());
    this.timerAt = this.nextDueAt;
  }

  private startTimer(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimer, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
    // The broker must never keep the process alive on its own.
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    try {
      this.sweepIfDue(this.now());
      this.arm();
    } catch (error) {
      if (this.listenerCount('error') > 0) this.emit('error', error);
      this.startTimer(SWEEP_RETRY_MS);
      this.timerAt = this.now() + SWEEP_RETRY_MS;
    }
  };

  private markEntityAvailable(entityId: number, deadLetter: boolean): void {
    const entity = this.entitiesById.get(entityId);
    if (entity) this.markAvailable(deadLetter ? entity.path + DLQ_SUFFIX : entity.path);
  }

  /** Queues an `'available'` event; emitted on the next tick so listeners never re-enter a transaction. */
  private markAvailable(path: string): void {
    this.pendingAvailable.add(path);
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(this.flushAvailable);
  }

  private readonly flushAvailable = (): void => {
    this.flushQueued = false;
    if (this.closed) return;
    const paths = [...this.pendingAvailable];
    this.pendingAvailable.clear();
    for (const path of paths) this.emit('available', path);
  };
}

function mergeProperties(
  propsJson: string | null,
  changes: Record<string, ApplicationPropertyValue>,
): string {
  const props = propsJson ? (JSON.parse(propsJson) as StoredProps) : {};
  props.applicationProperties = { ...props.applicationProperties, ...changes };
  return JSON.stringify(props);
}
