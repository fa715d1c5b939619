import type Database from 'better-sqlite3';

/** One schema change. Versions are numbered from 1 per track and never edited once released: add a new one. */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Brings a database up to date on the given tracks (track name → its migrations), recording each applied
 * migration in `schema_migrations`. It runs in one IMMEDIATE transaction, so processes opening the same file at
 * once apply each migration once (the second waits on the write lock, then finds nothing left to do). A database
 * migrated by a newer release (a version this code does not know) is refused rather than used with a schema the
 * code does not understand.
 */
export function applySqliteMigrations(db: Database.Database, tracks: Readonly<Record<string, readonly SqliteMigration[]>>): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    track TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (track, version)
  ) STRICT`);
  const applied = db.prepare<[string], { version: number }>('SELECT version FROM schema_migrations WHERE track = ?');
  const record = db.prepare('INSERT INTO schema_migrations (track, version, name, applied_at) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const [track, known] of Object.entries(tracks)) {
      const done = new Set(applied.all(track).map((row) => row.version));
      const newest = Math.max(0, ...done);
      const newestKnown = Math.max(0, ...known.map((migration) => migration.version));
      if (newest > newestKnown) {
        throw new Error(`${db.name}: schema track ${track} is at version ${newest}, newer than this release knows (${newestKnown})`);
      }
      for (const migration of known) {
        if (done.has(migration.version)) continue;
        db.exec(migration.sql);
        record.run(track, migration.version, migration.name, new Date().toISOString());
      }
    }
  }).immediate();
}
