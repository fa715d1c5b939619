import { describe, expect, it } from 'vitest';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { createMssqlAppStoreOnPool } from './mssqlAppStore.js';
import {
  READ_ONLY_CONTEXT_KEY,
  READ_TENANT_CONTEXT_SQL,
  SET_TENANT_CONTEXT_SQL,
  type SqlConnection,
  type SqlConnectionPool,
  type SqlParams,
  type SqlRow,
  SqlSessions,
} from './mssqlSession.js';
import { loadTedious } from './tediousConnectionPool.js';

/**
 * A stand-in for SQL Server sessions behind the {@link SqlConnection} seam, for tests of the session discipline
 * without a server. It models what matters for tenant isolation: each physical connection keeps its own session
 * context; a key set with @read_only = 1 cannot be set again (Msg 15664); a reset clears the context (or, with
 * `resetClearsContext: false`, does not: the pessimistic case the session layer must also survive). Statements
 * other than the context ones are answered by `respond`, which sees the connection's context as the server would.
 */

interface FakeServerOptions {
  resetClearsContext?: boolean;
  /** Makes the n-th reset (1-based, over all connections) fail. */
  failResetNumber?: number;
  /** Answers ordinary statements; `context` is the session context of the connection running it. */
  respond?: (sql: string, params: SqlParams, context: string | null) => SqlRow[][];
  /** Wait a few event-loop turns in every call, so concurrent sessions interleave. */
  interleave?: boolean;
}

interface LoggedStatement {
  connection: number;
  sql: string;
  params: Record<string, unknown>;
  context: string | null;
}

let nextId = 0;

class FakeConnection implements SqlConnection {
  readonly id = ++nextId;
  context: string | null = null;
  readOnly = false;
  closed = false;
  readonly log: string[] = [];

  constructor(private readonly server: FakeSqlServer) {}

  async reset(): Promise<void> {
    await this.server.turn();
    this.log.push('reset');
    this.server.resets += 1;
    if (this.server.options.failResetNumber === this.server.resets) throw new Error('socket hang up');
    if (this.server.options.resetClearsContext !== false) {
      this.context = null;
      this.readOnly = false;
    }
  }

  async execute(sql: string, params: SqlParams = {}): Promise<SqlRow[][]> {
    if (this.closed) throw new Error('connection is closed');
    await this.server.turn();
    const values = Object.fromEntries(Object.entries(params).map(([name, param]) => [name, param.value]));
    this.log.push(sql);
    this.server.statements.push({ connection: this.id, sql, params: values, context: this.context });
    if (sql === SET_TENANT_CONTEXT_SQL) {
      if (this.readOnly) throw Object.assign(new Error("Cannot set key 'tenant_id' in the session context"), { number: READ_ONLY_CONTEXT_KEY });
      this.context = String(values['tenant_id']);
      this.readOnly = true;
      return [[{ tenant_id: this.server.contextReadBack(this.context) }]];
    }
    if (sql === READ_TENANT_CONTEXT_SQL) return [[{ tenant_id: this.context }]];
    return this.server.options.respond?.(sql, params, this.context) ?? [[{ seen: this.context }]];
  }

  async begin(): Promise<void> {
    this.log.push('begin');
  }

  async commit(): Promise<void> {
    this.log.push('commit');
  }

  async rollback(): Promise<void> {
    this.log.push('rollback');
    if (this.server.failRollback) throw new Error('no transaction');
  }
}

class FakeSqlServer {
  resets = 0;
  failRollback = false;
  readonly statements: LoggedStatement[] = [];
  /** Overrides what the context read-back returns (to model a server that ignores the set). */
  contextReadBack: (context: string) => string | null = (context) => context;

  constructor(readonly options: FakeServerOptions = {}) {}

  async turn(): Promise<void> {
    if (!this.options.interleave) return;
    const turns = Math.floor(Math.random() * 3);
    for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
  }

  pool(maxSize: number): FakePool {
    return new FakePool(this, maxSize);
  }
}

/** A bounded pool like tarn: reuses free connections, creates up to `maxSize`, queues beyond. */
class FakePool implements SqlConnectionPool {
  readonly created: FakeConnection[] = [];
  readonly free: FakeConnection[] = [];
  readonly inUse = new Set<FakeConnection>();
  discarded = 0;
  released = 0;
  private readonly waiting: ((connection: FakeConnection) => void)[] = [];

  constructor(
    private readonly server: FakeSqlServer,
    readonly maxSize: number,
  ) {}

  async acquire(): Promise<SqlConnection> {
    const connection = this.free.pop() ?? (this.inUse.size < this.maxSize ? this.create() : await new Promise<FakeConnection>((resolve) => this.waiting.push(resolve)));
    this.inUse.add(connection);
    return connection;
  }

  release(connection: SqlConnection): void {
    const fake = connection as FakeConnection;
    this.released += 1;
    this.inUse.delete(fake);
    this.handOver(fake);
  }

  discard(connection: SqlConnection): void {
    const fake = connection as FakeConnection;
    fake.closed = true;
    this.discarded += 1;
    this.inUse.delete(fake);
    this.handOver(undefined);
  }

  async close(): Promise<void> {}

  private create(): FakeConnection {
    const connection = new FakeConnection(this.server);
    this.created.push(connection);
    return connection;
  }

  private handOver(connection: FakeConnection | undefined): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      if (connection !== undefined) this.free.push(connection);
      return;
    }
    const given = connection ?? this.create();
    this.inUse.add(given);
    next(given);
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return error instanceof AppError ? error.code : `not an AppError: ${String(error)}`;
  }
  return undefined;
}

describe('SqlSessions: the tenant context on the connection the queries use', () => {
  it('resets the connection, sets the tenant read-only and confirms it, then runs every query on that connection', async () => {
    const server = new FakeSqlServer();
    const pool = server.pool(2);
    const sessions = new SqlSessions(pool);
    const seen = await sessions.tenant('acme', async (s) => [
      await s.query('SELECT seen FROM dbo.runs WHERE tenant_id = @tenant_id'),
      await s.query('SELECT seen FROM dbo.workflows WHERE tenant_id = @tenant_id AND id = @id', { id: { type: 'nvarchar', value: 'wf', length: 128 } }),
    ]);
    expect(seen).toEqual([[{ seen: 'acme' }], [{ seen: 'acme' }]]);
    const [connection] = pool.created;
    expect(pool.created).toHaveLength(1);
    expect(connection!.log).toEqual([
      'reset',
      SET_TENANT_CONTEXT_SQL,
      'SELECT seen FROM dbo.runs WHERE tenant_id = @tenant_id',
      'SELECT seen FROM dbo.workflows WHERE tenant_id = @tenant_id AND id = @id',
    ]);
    expect(SET_TENANT_CONTEXT_SQL).toMatch(/sp_set_session_context @key = N'tenant_id', @value = @tenant_id, @read_only = 1;/);
    expect(server.statements[0]!.params).toEqual({ tenant_id: 'acme' });
    expect(server.statements.slice(1).every((s) => s.params['tenant_id'] === 'acme' && s.context === 'acme')).toBe(true);
    expect(pool.released).toBe(1);
  });

  it('gives a control-plane session a connection confirmed to carry no tenant context', async () => {
    const server = new FakeSqlServer();
    const pool = server.pool(1);
    const sessions = new SqlSessions(pool);
    await sessions.tenant('acme', (s) => s.query('SELECT 1 FROM dbo.runs WHERE tenant_id = @tenant_id'));
    const seen = await sessions.control((s) => s.query('SELECT name FROM dbo.tenants'));
    expect(seen).toEqual([[{ seen: null }]][0]);
    expect(pool.created[0]!.log.slice(-3)).toEqual(['reset', READ_TENANT_CONTEXT_SQL, 'SELECT name FROM dbo.tenants']);
  });

  it('refuses a tenant statement that does not bind the tenant, before it reaches the connection', async () => {
    const server = new FakeSqlServer();
    const sessions = new SqlSessions(server.pool(1));
    await expect(sessions.tenant('acme', (s) => s.query('SELECT * FROM dbo.runs WHERE id = @id'))).rejects.toThrow(/not bound to the tenant/);
    expect(server.statements.map((s) => s.sql)).toEqual([SET_TENANT_CONTEXT_SQL]);
  });

  for (const resetClearsContext of [true, false]) {
    it(`keeps 200 interleaved requests of two tenants over a pool of 3 apart (reset ${resetClearsContext ? 'clears' : 'does not clear'} the context)`, async () => {
      const server = new FakeSqlServer({ resetClearsContext, interleave: true });
      const pool = server.pool(3);
      const sessions = new SqlSessions(pool);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const tenant = i % 2 === 0 ? 'tenant-a' : 'tenant-b';
          return sessions.tenant(tenant, async (s) => {
            const first = await s.query<{ seen: string | null }>('SELECT seen FROM dbo.runs WHERE tenant_id = @tenant_id');
            const second = await s.query<{ seen: string | null }>('SELECT seen FROM dbo.audit_entries WHERE tenant_id = @tenant_id');
            return [tenant, first[0]!.seen, second[0]!.seen];
          });
        }),
      );
      expect(results.filter(([tenant, first, second]) => first !== tenant || second !== tenant)).toEqual([]);
      // Every ordinary statement ran under the context of the request that issued it.
      const ordinary = server.statements.filter((s) => s.sql !== SET_TENANT_CONTEXT_SQL);
      expect(ordinary).toHaveLength(400);
      expect(ordinary.every((s) => s.context === s.params['tenant_id'])).toBe(true);
      if (resetClearsContext) {
        // Connections are reused: the reset makes that safe.
        expect(pool.created.length).toBeLessThanOrEqual(3);
        expect(pool.discarded).toBe(0);
        expect(sessions.reusesTenantConnections).toBe(true);
      } else {
        // A read-only context that survives the reset makes the next set fail (Msg 15664): that connection is
        // closed, and from then on no tenant connection goes back to the pool.
        expect(pool.discarded).toBeGreaterThan(0);
        expect(sessions.reusesTenantConnections).toBe(false);
        expect(pool.free.every((c) => c.context === null)).toBe(true);
      }
    });
  }

  it('closes a connection whose reset fails and prepares another', async () => {
    const server = new FakeSqlServer({ failResetNumber: 1 });
    const pool = server.pool(2);
    const sessions = new SqlSessions(pool);
    expect(await sessions.tenant('acme', (s) => s.query('SELECT 1 FROM dbo.runs WHERE tenant_id = @tenant_id'))).toEqual([{ seen: 'acme' }]);
    expect(pool.created[0]!.closed).toBe(true);
    expect(pool.created[0]!.log).toEqual(['reset']);
    expect(pool.created[1]!.log[1]).toBe(SET_TENANT_CONTEXT_SQL);
  });

  it('closes a connection whose context does not read back as the tenant, and fails closed when none can be prepared', async () => {
    const server = new FakeSqlServer();
    server.contextReadBack = () => 'someone-else';
    const pool = server.pool(2);
    const sessions = new SqlSessions(pool);
    let ran = false;
    const failure = sessions.tenant('acme', async () => {
      ran = true;
    });
    expect(await codeOf(failure)).toBe(ErrorCodes.internal);
    await failure.catch((error: AppError) => expect(error.retryable).toBe(true));
    expect(ran).toBe(false);
    expect(pool.discarded).toBe(3);
    expect(pool.created.every((c) => c.closed)).toBe(true);
  });

  it('does not set a tenant that is not a plausible id', async () => {
    const server = new FakeSqlServer();
    const sessions = new SqlSessions(server.pool(1));
    expect(await codeOf(sessions.tenant('x'.repeat(64), async () => undefined))).toBe(ErrorCodes.requestInvalid);
    expect(server.statements).toEqual([]);
    expect(server.resets).toBe(0);
  });

  it('returns a connection after an AppError, and closes it after any other failure or a failed rollback', async () => {
    const server = new FakeSqlServer();
    const pool = server.pool(1);
    const sessions = new SqlSessions(pool);
    await expect(sessions.tenant('acme', async () => Promise.reject(new AppError(ErrorCodes.workflowNotFound, 'no')))).rejects.toBeInstanceOf(AppError);
    expect([pool.released, pool.discarded]).toEqual([1, 0]);
    await expect(sessions.tenant('acme', async () => Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })))).rejects.toThrow('timeout');
    expect([pool.released, pool.discarded]).toEqual([1, 1]);
    server.failRollback = true;
    await expect(
      sessions.tenant('acme', (s) => s.transaction(async () => Promise.reject(new AppError(ErrorCodes.preconditionFailed, 'stale')))),
    ).rejects.toBeInstanceOf(AppError);
    expect([pool.released, pool.discarded]).toEqual([1, 2]);
    expect(pool.created.at(-1)!.log.slice(-3)).toEqual([SET_TENANT_CONTEXT_SQL, 'begin', 'rollback']);
  });
});

describe('the Azure SQL store over the session seam', () => {
  /** Answers the store's statements from a tiny in-memory registry, as the RLS policy would: by context. */
  function storeOnFake(placements: Record<string, 'shared' | 'dedicated'>, dedicatedPool?: SqlConnectionPool) {
    const respond = (sql: string, params: SqlParams, context: string | null): SqlRow[][] => {
      if (sql.startsWith('SELECT placement FROM dbo.tenants')) {
        const placement = placements[String(params['id']?.value)];
        return [placement === undefined ? [] : [{ placement }]];
      }
      if (sql.startsWith('SELECT COUNT(*) AS n FROM dbo.workflows')) return [[{ n: context === params['tenant_id']?.value ? 7 : 0 }]];
      return [[]];
    };
    const server = new FakeSqlServer({ respond });
    const pool = server.pool(2);
    return { server, pool, store: createMssqlAppStoreOnPool(pool, async (tenantId) => (placements[tenantId] === 'dedicated' ? dedicatedPool : undefined)) };
  }

  it('issues the session-context statement before any query of a tenant operation, on the same connection', async () => {
    const { server, store } = storeOnFake({ acme: 'shared' });
    const data = await store.forTenant('acme');
    expect(await data.workflows.count()).toBe(7);
    const byConnection = new Map<number, string[]>();
    for (const statement of server.statements) byConnection.set(statement.connection, [...(byConnection.get(statement.connection) ?? []), statement.sql]);
    const sequences = [...byConnection.values()];
    // Two requests (placement lookup, count) may share one pooled connection; each starts with its own context statement.
    const flat = server.statements.map((s) => s.sql);
    expect(flat).toEqual([
      READ_TENANT_CONTEXT_SQL,
      'SELECT placement FROM dbo.tenants WHERE id = @id',
      SET_TENANT_CONTEXT_SQL,
      'SELECT COUNT(*) AS n FROM dbo.workflows WHERE tenant_id = @tenant_id',
    ]);
    expect(sequences.flat().length).toBe(4);
    const count = server.statements[3]!;
    expect(count.context).toBe('acme');
    expect(count.params['tenant_id']).toBe('acme');
    expect(server.statements[2]!.connection).toBe(count.connection);
  });

  it('answers TENANT.NOT_FOUND for an unknown tenant and never serves a dedicated tenant from the shared database', async () => {
    const { server, store } = storeOnFake({ solo: 'dedicated' });
    expect(await codeOf(store.forTenant('nobody'))).toBe(ErrorCodes.tenantNotFound);
    expect(await codeOf(store.forTenant('solo'))).toBe(ErrorCodes.internal);
    expect(server.statements.some((s) => s.sql === SET_TENANT_CONTEXT_SQL)).toBe(false);
  });

  it('runs a dedicated tenant on its own pool', async () => {
    const dedicatedServer = new FakeSqlServer({ respond: (_sql, _params, context) => [[{ n: context === 'solo' ? 3 : -1 }]] });
    const dedicatedPool = dedicatedServer.pool(1);
    const { server, store } = storeOnFake({ solo: 'dedicated' }, dedicatedPool);
    expect(await (await store.forTenant('solo')).workflows.count()).toBe(3);
    expect(dedicatedServer.statements.map((s) => s.sql)).toEqual([SET_TENANT_CONTEXT_SQL, 'SELECT COUNT(*) AS n FROM dbo.workflows WHERE tenant_id = @tenant_id']);
    expect(server.statements.some((s) => s.sql.includes('dbo.workflows'))).toBe(false);
  });
});

describe('the tedious the adapter drives', () => {
  it('is the copy mssql uses, and has the reset, transaction and request API the adapter relies on', () => {
    const tedious = loadTedious();
    expect(typeof tedious.Connection.prototype.reset).toBe('function');
    expect(typeof tedious.Connection.prototype.beginTransaction).toBe('function');
    expect(typeof tedious.Connection.prototype.execSql).toBe('function');
    expect(tedious.TYPES.NVarChar.name).toBe('NVarChar');
    expect(tedious.TYPES.DateTime2.name).toBe('DateTime2');
    expect(tedious.ISOLATION_LEVEL.READ_COMMITTED).toBeDefined();
    expect(READ_ONLY_CONTEXT_KEY).toBe(15664);
  });
});
