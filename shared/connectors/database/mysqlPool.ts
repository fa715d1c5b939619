import mysql from 'mysql2';
import type { EnginePool, StatementOptions, StatementResult } from './engineDriver.js';
import { CONNECT_TIMEOUT_MS, onAbort, POOL_IDLE_MS, POOL_MAX } from './engineDriver.js';
import type { TranslatedSql } from './namedParameters.js';
import type { ConnectionSettings } from './parseConnection.js';
import { truthy } from './parseConnection.js';
import { isIP } from 'node:net';

/** A mysql2 pool that connects to `address` (the checked IP); statements with parameters run as server-side prepared statements. */
export function createMysqlPool(settings: ConnectionSettings, address: string): EnginePool {
  const sslWanted = truthy(settings.options.get('ssl')) || truthy(settings.options.get('sslmode'));
  const pool = mysql.createPool({
    host: address,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    ...(settings.database ? { database: settings.database } : {}),
    connectionLimit: POOL_MAX,
    maxIdle: POOL_MAX,
    idleTimeout: POOL_IDLE_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    waitForConnections: true,
    multipleStatements: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    maxPreparedStatements: 256,
    ...(sslWanted ? { ssl: { rejectUnauthorized: settings.options.get('sslmode') !== 'no-verify', ...(isIP(settings.hostname) ? {} : { servername: settings.hostname }) } } : {}),
  });
  pool.on('connection', (connection) => connection.on('error', () => undefined));

  const getConnection = (): Promise<mysql.PoolConnection> =>
    new Promise((resolve, reject) => pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))));

  return {
    async run(sql: TranslatedSql, options: StatementOptions): Promise<StatementResult> {
      const connection = await getConnection();
      let done = false;
      const finish = (destroy: boolean): void => {
        if (done) return;
        done = true;
        if (destroy) connection.destroy();
        else connection.release();
      };
      const detach = onAbort(options.signal, () => finish(true));
      try {
        const result = await new Promise<StatementResult>((resolve, reject) => {
          const rows: unknown[] = [];
          let truncated = false;
          let rowsAffected = 0;
          let inResultSet = false;
          const queryOptions = { sql: sql.text, timeout: Math.max(1, Math.round(options.timeoutMs)) };
          // Text protocol only when there are no values (nothing is interpolated); prepared statements otherwise.
          const command = sql.values.length === 0 ? connection.query(queryOptions) : connection.execute(queryOptions, sql.values);
          // Prepared statements announce `fields` (undefined) even for statements without a result set.
          command.on('fields', (fields: unknown) => {
            inResultSet = Array.isArray(fields);
          });
          command.on('result', (row: unknown) => {
            if (!inResultSet) {
              rowsAffected += Number((row as { affectedRows?: unknown }).affectedRows ?? 0);
              return;
            }
            if (rows.length < options.maxRows) rows.push(row);
            else if (options.maxRows > 0) truncated = true;
          });
          command.on('error', reject);
          command.on('end', () => resolve({ rows, truncated, rowsAffected }));
        });
        finish(false);
        return result;
      } catch (error) {
        const fatal = options.signal.aborted || (error as { fatal?: unknown }).fatal === true || (error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT';
        finish(fatal);
        throw error;
      } finally {
        detach();
      }
    },
    close: () => new Promise<void>((resolve) => pool.end(() => resolve())),
  };
}
