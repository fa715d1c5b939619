import type Database from 'better-sqlite3';

/**
 * Moves WAL checkpoints off the commit path. SQLite's automatic checkpoint runs inside whichever commit crosses
 * the threshold and blocks the event loop for milliseconds (measured: the broker's p99 enqueue→trigger latency);
 * here a passive checkpoint runs from a timer instead (often, so each one copies few pages and blocks briefly),
 * and a truncating one when the database closes.
 */
export function startWalCheckpointer(db: Database.Database, intervalMs = 200): { stop(): void } {
  db.pragma('wal_autocheckpoint = 0');
  const timer = setInterval(() => {
    if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (db.open) db.pragma('wal_checkpoint(TRUNCATE)');
    },
  };
}
