import sql from 'mssql';
import type { EnginePool, StatementOptions, StatementResult } from './engineDriver.js';
import { CONNECT_TIMEOUT_MS, onAbort, POOL_IDLE_MS, POOL_MAX } from './engineDriver.js';
import type { TranslatedSql } from './namedParameters.js';
import type { ConnectionSettings } from './parseConnection.js';

/**
 * An mssql pool that connects to `address` (the checked IP) while TLS verifies the original hostname
 * (serverName). Encryption is on unless `encrypt=false`; the step timeout cancels the request.
 */
export function createSqlServerPool(settings: ConnectionSettings, address: string): EnginePool {
  const encrypt = settings.options.get('encrypt')?.toLowerCase() !== 'false';
  const trust = settings.options.get('trustservercertificate')?.toLowerCase() === 'true';
  const pool = new sql.ConnectionPool({
    server: address,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    ...(settings.database ? { database: settings.database } : {}),
    pool: { max: POOL_MAX, min: 0, idleTimeoutMillis: POOL_IDLE_MS },
    connectionTimeout: CONNECT_TIMEOUT_MS,
    requestTimeout: 0, // per request: cancelled by our own timer
    options: { encrypt, trustServerCertificate: trust, serverName: settings.hostname, appName: 'AutomateIQ' },
  });
  pool.on('error', () => undefined);
  let connecting: Promise<sql.ConnectionPool> | undefined;
  const connected = (): Promise<sql.ConnectionPool> => {
    connecting ??= pool.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  return {
    async run(text: TranslatedSql, options: StatementOptions): Promise<StatementResult> {
      const ready = await connected();
      const request = new sql.Request(ready);
      for (const name of text.names) request.input(name, options.parameters[name] ?? null);
      request.stream = true;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        request.cancel();
      }, Math.max(1, Math.round(options.timeoutMs)));
      const detach = onAbort(options.signal, () => request.cancel());
      try {
        return await new Promise<StatementResult>((resolve, reject) => {
          const rows: unknown[] = [];
          let truncated = false;
          request.on('row', (row: unknown) => {
            if (rows.length < options.maxRows) rows.push(row);
            else if (options.maxRows > 0) truncated = true;
          });
          request.on('error', (error: unknown) => reject(timedOut ? Object.assign(new Error('The statement timed out.'), { code: 'ETIMEOUT' }) : error));
          request.on('done', (result: { rowsAffected?: number[] }) => resolve({ rows, truncated, rowsAffected: (result.rowsAffected ?? []).reduce((a, b) => a + b, 0) }));
          void request.query(text.text);
        });
      } finally {
        clearTimeout(timer);
        detach();
      }
    },
    close: () => pool.close(),
  };
}
