/**
 * Per-request database sessions for Azure SQL row-level security, and the guarantee that a pooled connection
 * never carries one request's tenant into another.
 *
 * What the drivers do (read in node_modules, mssql 12.7.14 / tedious 19.2.2 / tarn 3.1.2):
 * - mssql never resets a pooled connection. `grep -ri reset node_modules/mssql/lib` finds nothing; acquiring
 *   (lib/base/connection-pool.js:417-431, tarn's `acquire`) and releasing (:439-449, tarn's `release`) hand the
 *   tedious connection over as it is. The only check on reuse is `_poolValidate` (lib/tedious/connection-pool.js:
 *   126-157: closed/errored, then optionally `SELECT 1`). There is no `resetConnection` option in mssql or tedious.
 *   So SESSION_CONTEXT set on a connection survives its return to the pool: node-mssql #559 and #1483, and the
 *   103/200 cross-tenant reads Microsoft measured when context and query ran on different pooled connections.
 * - tedious can reset: `Connection#reset` (lib/connection.js:2208-2217) sets `resetConnectionOnNextRequest` and
 *   sends a batch; the next message carries it as the TDS RESETCONNECTION status bit (connection.js:2157-2160,
 *   cleared at :2170 once sent; lib/outgoing-message-stream.js:44,60; lib/packet.js:31 `RESETCONNECTION: 0x08`,
 *   :67-73). The server then runs sp_reset_connection semantics before the batch (a new logical connection,
 *   the scope of sp_set_session_context's @read_only = 1, so the key should be settable again: that part is the
 *   server's and could not be verified without one; point 5 below keeps isolation independent of it), and
 *   acknowledges with an ENVCHANGE type 18 token, which tedious turns into a `resetConnection` event
 *   (lib/token/env-change-token-parser.js:51-52, 120-121; lib/token/handler.js:166-167 and 415-416, the
 *   initial-SQL and request handlers). The reset batch re-applies tedious's session SET options (ANSI_NULLS,
 *   QUOTED_IDENTIFIER, ARITHABORT, ...: connection.js:1558-1640), which the filtered unique index needs.
 *   `resetConnectionOnNextRequest` is set nowhere else, so nothing resets unless this code asks.
 *
 * The guarantee, as implemented by {@link SqlSessions}:
 * 1. A request takes ONE connection from the pool and uses only it until it is done (no query of a request can
 *    run on a connection whose context another request set).
 * 2. Before anything else on it, the connection is reset, and the reset must be acknowledged by the server
 *    (the `resetConnection` event); otherwise the connection is closed, not reused.
 * 3. Then one batch sets the context read-only and reads it back: `sp_set_session_context @read_only = 1` and
 *    `SELECT SESSION_CONTEXT(N'tenant_id')`. Only if the read-back equals the request's tenant (or is NULL for a
 *    control-plane session) does the request's work start. If the set fails (e.g. Msg 15664, a read-only key
 *    that survived) or the value differs, the connection is closed and another one tried.
 * 4. So correctness does not rest on the pool or on the reset alone: whatever a connection carried in, a
 *    request's queries run only after the server confirmed this request's tenant on that same connection, and
 *    the context cannot be changed afterwards (read-only). A request that fails for a reason other than an
 *    AppError (its own business outcome) closes its connection instead of returning it.
 * 5. Should a server ever show that an acknowledged reset left a context behind (the set fails with Msg 15664,
 *    or a control session finds a tenant), tenant connections are no longer returned to the pool at all: every
 *    request then gets a fresh connection (slower, still correct), and only the connections already pooled can
 *    be dirty, which bounds the attempts a session setup needs.
 * The row-level security predicate fails closed, so a connection with no context reads and writes nothing.
 */
import { AppError, ErrorCodes } from '../../domain/errors.js';

/** Parameter types the store uses (mapped to tedious TYPES by the real connection). */
export type SqlParamType = 'nvarchar' | 'int' | 'datetime2';

/** One bound parameter. `length` is for nvarchar (characters; above 4000 means nvarchar(max)). */
export interface SqlParam {
  type: SqlParamType;
  value: string | number | Date | null;
  length?: number;
}

export type SqlParams = Readonly<Record<string, SqlParam>>;

/** A result row, by column name. */
export type SqlRow = Record<string, unknown>;

/** One physical connection, as the session layer needs it: the seam between this module and tedious. */
export interface SqlConnection {
  /** Resets the server session (sp_reset_connection semantics); resolves only once the server acknowledged it. */
  reset(): Promise<void>;
  /** Runs one batch with parameters; resolves with every result set. Errors carry the SQL error `number`. */
  execute(sql: string, params?: SqlParams): Promise<SqlRow[][]>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** A bounded pool of connections. */
export interface SqlConnectionPool {
  /** The most connections the pool holds: bounds how many dirty connections a session setup may meet. */
  readonly maxSize: number;
  acquire(): Promise<SqlConnection>;
  /** Returns a connection for reuse (it is reset by whoever acquires it next). */
  release(connection: SqlConnection): void;
  /** Closes a connection whose state is not known to be sound; it never serves another request. */
  discard(connection: SqlConnection): void;
  close(): Promise<void>;
}

/** The session context key the row-level security predicate reads. */
export const TENANT_CONTEXT_KEY = 'tenant_id';

/** Sets the tenant read-only and reads it back in the same batch (one round trip). */
export const SET_TENANT_CONTEXT_SQL = `EXEC sys.sp_set_session_context @key = N'tenant_id', @value = @tenant_id, @read_only = 1;
SELECT CAST(SESSION_CONTEXT(N'tenant_id') AS nvarchar(128)) AS tenant_id;`;

/** Reads the context of a control-plane session, which must have none. */
export const READ_TENANT_CONTEXT_SQL = `SELECT CAST(SESSION_CONTEXT(N'tenant_id') AS nvarchar(128)) AS tenant_id;`;

/** The SQL error number of a write the row-level security block predicate refused. */
export const RLS_BLOCKED = 33504;
/** The SQL error number of setting a session context key that is read-only. */
export const READ_ONLY_CONTEXT_KEY = 15664;

/** An nvarchar parameter; values longer than `max` characters are refused before they reach the server. */
export function nvarchar(value: string | null, max: number, field = 'value'): SqlParam {
  if (value !== null && value.length > max) throw new AppError(ErrorCodes.requestInvalid, `${field} is longer than ${max} characters`);
  return { type: 'nvarchar', value, length: max };
}

/** An nvarchar(max) parameter. */
export function ntext(value: string | null): SqlParam {
  return { type: 'nvarchar', value, length: 65535 };
}

export function int(value: number | null): SqlParam {
  return { type: 'int', value };
}

/** A datetime2(3) parameter from an ISO timestamp. */
export function timestamp(value: string | null): SqlParam {
  return { type: 'datetime2', value: value === null ? null : new Date(value) };
}

/** The SQL error number of a driver error, if it has one. */
export function sqlErrorNumber(error: unknown): number | undefined {
  const number = (error as { number?: unknown } | null)?.number;
  return typeof number === 'number' ? number : undefined;
}

/**
 * Refuses a statement on tenant data that is not bound to the tenant (the row-level security policy would stop
 * it anyway; this keeps the repository honest and the plans tenant-seeking). Exported for its test.
 */
export function assertTenantBound(sql: string): void {
  const bound = /^\s*INSERT\b/i.test(sql) ? /@tenant_id\b/.test(sql) : /\btenant_id = @tenant_id\b/.test(sql);
  if (!bound) throw new Error(`statement on tenant data is not bound to the tenant: ${sql.trim().slice(0, 80)}`);
}

/** Statements on one prepared connection. */
export class SqlSession {
  /** Set when the connection's state is uncertain (a failed rollback): it is then closed, not reused. */
  broken = false;

  constructor(protected readonly connection: SqlConnection) {}

  /** Runs a batch and returns its first result set. */
  async query<T extends SqlRow = SqlRow>(sql: string, params: SqlParams = {}): Promise<T[]> {
    const sets = await this.connection.execute(sql, params);
    return (sets[0] ?? []) as T[];
  }

  /** Runs `work` in a transaction; rolls back if it throws. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.begin();
    let result: T;
    try {
      result = await work();
    } catch (error) {
      try {
        await this.connection.rollback();
      } catch {
        this.broken = true;
      }
      throw error;
    }
    await this.connection.commit();
    return result;
  }
}

/** A session with a tenant's read-only context: every statement must also bind `@tenant_id`, which it injects. */
export class TenantSqlSession extends SqlSession {
  constructor(
    connection: SqlConnection,
    readonly tenantId: string,
  ) {
    super(connection);
  }

  override async query<T extends SqlRow = SqlRow>(sql: string, params: SqlParams = {}): Promise<T[]> {
    assertTenantBound(sql);
    return this.queryUnscoped<T>(sql, params);
  }

  /**
   * Runs a statement that relies on row-level security alone (with `@tenant_id` still bound): only for the RLS
   * self-test, which must show what the policy lets through without the repository's own filter.
   */
  async queryUnscoped<T extends SqlRow = SqlRow>(sql: string, params: SqlParams = {}): Promise<T[]> {
    return super.query<T>(sql, { ...params, tenant_id: nvarchar(this.tenantId, 63) });
  }
}

/** Opens sessions on a pool with the discipline described in the module comment. */
export class SqlSessions {
  private resetClearsContext = true;

  constructor(private readonly pool: SqlConnectionPool) {}

  /**
   * Whether connections that carried a tenant context go back to the pool: true until the server shows that its
   * reset does not clear a read-only context (point 5 of the module comment).
   */
  get reusesTenantConnections(): boolean {
    return this.resetClearsContext;
  }

  /** Runs `work` on one connection whose session context is this tenant's, set read-only and confirmed. */
  async tenant<T>(tenantId: string, work: (session: TenantSqlSession) => Promise<T>): Promise<T> {
    const connection = await this.open(tenantId);
    return this.run(connection, new TenantSqlSession(connection, tenantId), work, true);
  }

  /** Runs `work` on one connection confirmed to have no tenant context (tenant registry, migrations, checks). */
  async control<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const connection = await this.open(null);
    return this.run(connection, new SqlSession(connection), work, false);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async run<S extends SqlSession, T>(connection: SqlConnection, session: S, work: (session: S) => Promise<T>, carriesTenant: boolean): Promise<T> {
    let reusable = false;
    try {
      const result = await work(session);
      reusable = !session.broken;
      return result;
    } catch (error) {
      // An AppError is the request's own outcome (not found, precondition, ...): the connection is sound.
      // Anything else (timeouts, cancelled or broken requests) leaves its state unknown: close it.
      reusable = error instanceof AppError && !session.broken;
      throw error;
    } finally {
      // Decided at the end, not the start: a session that began before the server showed its reset to be
      // insufficient must not return its connection either.
      if (reusable && (!carriesTenant || this.resetClearsContext)) this.pool.release(connection);
      else this.pool.discard(connection);
    }
  }

  /**
   * Acquires a connection, resets it and sets (or checks the absence of) the tenant context. A connection that
   * fails any step is closed and another one tried: at most the pool's size plus one, so that even a pool full
   * of connections that cannot be cleaned ends with a fresh one.
   */
  private async open(tenantId: string | null): Promise<SqlConnection> {
    const context: SqlParams | undefined = tenantId === null ? undefined : { tenant_id: nvarchar(tenantId, 63, 'tenant id') };
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.pool.maxSize; attempt += 1) {
      const connection = await this.pool.acquire();
      let resetDone = false;
      try {
        await connection.reset();
        resetDone = true;
        const sets = context === undefined ? await connection.execute(READ_TENANT_CONTEXT_SQL) : await connection.execute(SET_TENANT_CONTEXT_SQL, context);
        const actual = sets[sets.length - 1]?.[0]?.[TENANT_CONTEXT_KEY] ?? null;
        if (actual !== tenantId) {
          if (tenantId === null) this.resetClearsContext = false;
          throw new Error(`session context is ${actual === null ? 'unset' : 'another value'} where ${tenantId === null ? 'none' : 'the tenant'} was expected`);
        }
        return connection;
      } catch (error) {
        this.pool.discard(connection);
        if (resetDone && sqlErrorNumber(error) === READ_ONLY_CONTEXT_KEY) this.resetClearsContext = false;
        lastError = error;
      }
    }
    throw new AppError(ErrorCodes.internal, 'could not prepare a database session', { retryable: true, cause: lastError });
  }
}
