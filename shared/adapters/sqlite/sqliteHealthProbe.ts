import type Database from 'better-sqlite3';
import type { HealthCheckResult, HealthProbe } from '../../ports/healthProbe.js';

/** Checks that the SQLite store answers a query and is in WAL mode. */
export class SqliteHealthProbe implements HealthProbe {
  readonly kind = 'sqlite';

  constructor(
    readonly name: string,
    private readonly db: () => Database.Database,
  ) {}

  async check(): Promise<HealthCheckResult> {
    try {
      const db = this.db();
      db.prepare('SELECT 1').get();
      const mode = String(db.pragma('journal_mode', { simple: true }));
      return mode === 'wal' ? { status: 'healthy' } : { status: 'unhealthy', detail: `journal_mode is ${mode}, expected wal` };
    } catch (error) {
      return { status: 'unhealthy', detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
