import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens (creating if needed) a SQLite database the way every AutomateIQ SQLite adapter uses it: WAL, so
 * readers never block the writer; NORMAL synchronous (durable against process crashes, see
 * docs/operations.md); a busy timeout instead of immediate SQLITE_BUSY; foreign keys on.
 */
export function openSqliteDatabase(file: string): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
