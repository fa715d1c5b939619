import type Database from 'better-sqlite3';

/**
 * Schema migrations for the SQLite Service Bus broker, applied in order and tracked with
 * `PRAGMA user_version`. Index `i` migrates a file from version `i` to `i + 1`; never edit a
 * released step, append a new one instead.
 *
 * Layout notes (why it looks like this):
 * - `messages.state` is 0 active, 1 scheduled, 2 dead-lettered. A lock does not change the state; it is
 *   the pair `lock_token`/`locked_until`, so a locked message still counts as active like in Service Bus.
 * - `messages_by_entity (entity_id, state, seq)` serves receive (oldest unlocked first), peek, counts and
 *   purge. Locked rows are skipped during the receive scan; there are at most as many as messages in flight.
 * - The partial indexes hold only the rows the time-based sweep needs (locks, scheduled, expiring), so
 *   finding the next due time is an O(1) index probe and costs nothing for plain messages.
 * - `body` is the last column so the small columns stay on the row's first page.
 * - Topic messages are stored once per matching subscription and share the sequence number the topic
 *   assigned, so sequence numbers come from one broker-wide counter in `meta`.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('next_sequence_number', 1);

  CREATE TABLE entities (
    id                           INTEGER PRIMARY KEY,
    path_key                     TEXT NOT NULL UNIQUE,
    path                         TEXT NOT NULL,
    kind                         TEXT NOT NULL CHECK (kind IN ('queue', 'topic', 'subscription')),
    topic_id                     INTEGER REFERENCES entities (id),
    lock_duration_ms             INTEGER NOT NULL,
    max_delivery_count           INTEGER NOT NULL,
    default_ttl_ms               INTEGER,
    requires_duplicate_detection INTEGER NOT NULL,
    duplicate_window_ms          INTEGER NOT NULL,
    dead_letter_on_expiration    INTEGER NOT NULL,
    filter                       TEXT
  );

  CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    entity_id      INTEGER NOT NULL,
    state          INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    message_id     TEXT NOT NULL,
    enqueued_at    INTEGER NOT NULL,
    scheduled_at   INTEGER,
    ttl_ms         INTEGER,
    expires_at     INTEGER,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    lock_token     TEXT,
    locked_until   INTEGER,
    dl_source      TEXT,
    dl_reason      TEXT,
    dl_description TEXT,
    props          TEXT,
    body           BLOB NOT NULL
  );
  CREATE INDEX messages_by_entity ON messages (entity_id, state, seq);
  CREATE UNIQUE INDEX messages_by_lock_token ON messages (lock_token) WHERE lock_token IS NOT NULL;
  CREATE INDEX messages_lock_expiry ON messages (locked_until) WHERE lock_token IS NOT NULL;
  CREATE INDEX messages_schedule ON messages (scheduled_at) WHERE state = 1;
  CREATE INDEX messages_ttl ON messages (expires_at)
    WHERE state = 0 AND lock_token IS NULL AND expires_at IS NOT NULL;

  CREATE TABLE duplicate_detection (
    entity_id  INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (entity_id, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX duplicate_detection_by_time ON duplicate_detection (entity_id, seen_at);
  `,
];

/** The schema version this code writes; files with a higher version are refused. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to {@link SCHEMA_VERSION}, each step in its own transaction so a crash mid-way
 * leaves the file at the previous version.
 * @throws Error when the file was written by a newer schema version.
 */
export function migrateBrokerSchema(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `Service Bus broker database has schema version ${current}, newer than this code supports (${SCHEMA_VERSION}).`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
