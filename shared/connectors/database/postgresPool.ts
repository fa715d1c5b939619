import pg from 'pg';
import type { EnginePool, StatementOptions, StatementResult } from './engineDriver.js';
import { CONNECT_TIMEOUT_MS, onAbort, POOL_IDLE_MS, POOL_MAX } from './engineDriver.js';
import type { TranslatedSql } from './namedParameters.js';
import type { ConnectionSettings } from './parseConnection.js';
import { truthy } from './parseConnection.js';
import { isIP } from 'node:net';

/** A pg pool that connects to `address` (the checked IP), TLS-verifying the original hostname when ssl is asked for. */
export function createPostgresPool(settings: ConnectionSettings, address: string): EnginePool {
  const sslmode = settings.options.get('sslmode');
  const sslWanted = truthy(settings.options.get('ssl')) || (sslmode !== undefined && sslmode !== 'disable' && sslmode !== 'prefer' && sslmode !== 'allow');
  const pool = new pg.Pool({
    host: address,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    ...(settings.database ? { database: settings.database } : {}),
    max: POOL_MAX,
    idleTimeoutMillis: POOL_IDLE_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'AutomateIQ',
    ...(sslWanted ? { ssl: { rejectUnauthorized: sslmode !== 'no-verify', ...(isIP(settings.hostname) ? {} : { servername: settings.hostname }) } } : {}),
  });
  pool.on('error', () => undefined); // an idle client's error: the client is dropped, the next call reconnects

  return {
    async run(sql: TranslatedSql, options: StatementOptions): Promise<StatementResult> {
      const client = await pool.connect();
      let released = false;
      const release = (destroy: boolean): void => {
        if (released) return;
        released = true;
        client.release(destroy);
      };
      const detach = onAbort(options.signal, () => release(true));
      try {
        await client.query(`SET statement_timeout = ${Math.max(1, Math.round(options.timeoutMs))}`);
        const result = await new Promise<StatementResult>((resolve, reject) => {
          const rows: unknown[] = [];
          let truncated = false;
          const query = new pg.Query(sql.text, sql.values);
          query.on('row', (row: unknown) => {
            if (rows.length < options.maxRows) rows.push(row);
            else if (options.maxRows > 0) truncated = true;
          });
          query.on('error', reject);
          query.on('end', (res: { rowCount?: number | null } | undefined) => resolve({ rows, truncated, rowsAffected: res?.rowCount ?? 0 }));
          client.query(query);
        });
        release(false);
        return result;
      } catch (error) {
        const fatal = options.signal.aborted || !(typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code));
        release(fatal);
        throw error;
      } finally {
        detach();
      }
    },
    close: () => pool.end(),
  };
}
