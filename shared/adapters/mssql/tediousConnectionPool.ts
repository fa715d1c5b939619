import { createRequire } from 'node:module';
import sql from 'mssql';
import type * as Tedious from 'tedious';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { SqlConnection, SqlConnectionPool, SqlParams, SqlRow } from './mssqlSession.js';

/**
 * The tedious module mssql itself uses. tedious is mssql's dependency, not ours: resolving it from mssql's own
 * location gives the very module whose Connection objects mssql's pool holds (a Request from another copy of
 * tedious would not be accepted by them), without depending on how npm hoisted it.
 */
export function loadTedious(): typeof Tedious {
  return createRequire(require.resolve('mssql'))('tedious') as typeof Tedious;
}

/** Options of {@link connectTediousPool}. */
export interface TediousPoolOptions {
  /** Most connections held (default 10, mssql's default). */
  maxSize?: number;
}

/**
 * A bounded pool of tedious connections (mssql's ConnectionPool, i.e. tarn), exposed through the
 * {@link SqlConnectionPool} seam. It deliberately bypasses mssql's Request and Transaction, which acquire a
 * connection per request or transaction: the session layer must hold one connection for a whole request and
 * reset it first (see mssqlSession.ts for why and how).
 */
export async function connectTediousPool(connectionString: string, options: TediousPoolOptions = {}): Promise<SqlConnectionPool> {
  const tedious = loadTedious();
  const parsed = sql.ConnectionPool.parseConnectionString(connectionString);
  const maxSize = options.maxSize ?? parsed.pool?.max ?? 10;
  const pool = new sql.ConnectionPool({
    ...parsed,
    // Only a cheap socket check on reuse: the session layer's reset is a round trip that fails on a dead
    // connection anyway, and then closes it and tries another.
    validateConnection: 'socket',
    pool: { ...parsed.pool, min: 0, max: maxSize },
  });
  try {
    await pool.connect();
  } catch (error) {
    // The driver's message may name the server; never the credentials. Keep it as the cause.
    throw new AppError(ErrorCodes.internal, 'cannot connect to Azure SQL', { retryable: true, cause: error });
  }
  return new TediousConnectionPool(pool, tedious, maxSize);
}

class TediousConnectionPool implements SqlConnectionPool {
  private readonly raw = new WeakMap<SqlConnection, Tedious.Connection>();

  constructor(
    private readonly pool: sql.ConnectionPool,
    private readonly tedious: typeof Tedious,
    readonly maxSize: number,
  ) {}

  async acquire(): Promise<SqlConnection> {
    let connection: Tedious.Connection;
    try {
      connection = await this.pool.pool.acquire().promise;
    } catch (error) {
      throw new AppError(ErrorCodes.internal, 'no Azure SQL connection is available', { retryable: true, cause: error });
    }
    const wrapped = new TediousConnection(connection, this.tedious);
    this.raw.set(wrapped, connection);
    return wrapped;
  }

  release(connection: SqlConnection): void {
    const raw = this.raw.get(connection);
    if (raw !== undefined) this.pool.pool.release(raw);
  }

  discard(connection: SqlConnection): void {
    const raw = this.raw.get(connection);
    if (raw === undefined) return;
    // As mssql's own Transaction does with a connection it cannot trust (lib/tedious/transaction.js:70-72):
    // close it, then release it. close() marks it closed at once (tedious lib/connection.js:1030-1033, 1184),
    // and the pool's validation on the next acquire destroys a closed connection instead of lending it out
    // (mssql lib/tedious/connection-pool.js:127; tarn validates free resources on acquire).
    raw.close();
    this.pool.pool.release(raw);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** One tedious connection behind the {@link SqlConnection} seam. */
class TediousConnection implements SqlConnection {
  constructor(
    private readonly connection: Tedious.Connection,
    private readonly tedious: typeof Tedious,
  ) {}

  reset(): Promise<void> {
    return new Promise((resolve, reject) => {
      let acknowledged = false;
      const onReset = (): void => {
        acknowledged = true;
      };
      this.connection.on('resetConnection', onReset);
      this.connection.reset((error) => {
        this.connection.removeListener('resetConnection', onReset);
        if (error) reject(error);
        else if (!acknowledged) reject(new Error('the server did not acknowledge the session reset'));
        else resolve();
      });
    });
  }

  execute(text: string, params: SqlParams = {}): Promise<SqlRow[][]> {
    return new Promise((resolve, reject) => {
      const sets: SqlRow[][] = [];
      const request = new this.tedious.Request(text, (error) => (error ? reject(error) : resolve(sets)));
      request.on('columnMetadata', () => sets.push([]));
      request.on('row', (columns: unknown) => {
        const row: SqlRow = {};
        const cells = (Array.isArray(columns) ? columns : Object.values(columns as object)) as { value: unknown; metadata: { colName: string } }[];
        for (const cell of cells) row[cell.metadata.colName] = cell.value instanceof Date ? cell.value.toISOString() : cell.value;
        sets[sets.length - 1]?.push(row);
      });
      const { TYPES } = this.tedious;
      const names = Object.keys(params);
      for (const name of names) {
        const param = params[name]!;
        if (param.type === 'nvarchar') request.addParameter(name, TYPES.NVarChar, param.value, { length: param.length ?? 4000 });
        else if (param.type === 'int') request.addParameter(name, TYPES.Int, param.value);
        else request.addParameter(name, TYPES.DateTime2, param.value, { scale: 3 });
      }
      // With parameters, sp_executesql (plans are cached per statement text); without, a plain batch.
      if (names.length > 0) this.connection.execSql(request);
      else this.connection.execSqlBatch(request);
    });
  }

  begin(): Promise<void> {
    return new Promise((resolve, reject) => this.connection.beginTransaction((error) => (error ? reject(error) : resolve()), '', this.tedious.ISOLATION_LEVEL.READ_COMMITTED));
  }

  commit(): Promise<void> {
    return new Promise((resolve, reject) => this.connection.commitTransaction((error) => (error ? reject(error) : resolve())));
  }

  rollback(): Promise<void> {
    return new Promise((resolve, reject) => this.connection.rollbackTransaction((error) => (error ? reject(error) : resolve())));
  }
}
