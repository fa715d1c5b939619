import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseConnector, type DatabaseConnector } from '../../shared/connectors/database/databaseConnector.js';
import { ConnectorError, ConnectorRegistry, type ActionContext } from '../../shared/connectors/sdk.js';
import type { JsonValue } from '../../shared/domain/json.js';
import { ValidationError } from '../../shared/domain/errors.js';

/**
 * Runs against the real PostgreSQL and MariaDB servers of the dev/CI environment (required: these tests fail when
 * the servers are unreachable). SQL Server runs only when AZURE_SQL_CONNECTION_STRING is set.
 */
const pgHost = process.env['PGHOST'] ?? '127.0.0.1';
const pgPort = Number(process.env['PGPORT'] ?? 5432);
const pgUser = process.env['PGUSER'] ?? 'postgres';
const pgPassword = process.env['PGPASSWORD'] ?? '';
const pgDatabase = process.env['PGDATABASE'] ?? 'test';
const myHost = process.env['MYSQL_HOST'] ?? '127.0.0.1';
const myPort = Number(process.env['MYSQL_PORT'] ?? 3306);
const myUser = process.env['MYSQL_USER'] ?? 'root';
const myPassword = process.env['MYSQL_PASSWORD'] ?? '';
const myDatabase = process.env['MYSQL_DATABASE'] ?? 'test';

const auth = (user: string, password: string): string => `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`;
const hostPart = (host: string): string => (net.isIPv6(host) ? `[${host}]` : host);

const engines = [
  { engine: 'postgres' as const, connection: `postgres://${auth(pgUser, pgPassword)}@${hostPart(pgHost)}:${pgPort}/${pgDatabase}`, host: pgHost, port: pgPort, scheme: 'postgres' },
  { engine: 'mysql' as const, connection: `mysql://${auth(myUser, myPassword)}@${hostPart(myHost)}:${myPort}/${myDatabase}`, host: myHost, port: myPort, scheme: 'mysql' },
];

const allowHosts = [...new Set(['127.0.0.1', pgHost, myHost])];

/** A port on 127.0.0.1 nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let refusedPort = 0;
let connector: DatabaseConnector;
let registry: ConnectorRegistry;

beforeAll(async () => {
  refusedPort = await closedPort();
  connector = createDatabaseConnector({ egress: { allowHosts, allowPorts: [pgPort, myPort, refusedPort] } });
  registry = new ConnectorRegistry([connector]);
});

afterAll(async () => {
  await connector?.close();
});

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  return { tenantId: 't1', runId: 'r1', stepId: 's1', signal: new AbortController().signal, log: () => undefined, ...overrides };
}

async function call(
  action: 'query' | 'execute',
  input: Record<string, JsonValue>,
  target: DatabaseConnector = connector,
  ctx: ActionContext = context(),
): Promise<Record<string, JsonValue>> {
  registry.validateInput('database', action, input);
  const definition = target.actions.find((candidate) => candidate.name === action)!;
  return (await (definition.run as (input: unknown, context: ActionContext) => Promise<JsonValue>)(input, ctx)) as Record<string, JsonValue>;
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    return error as ConnectorError;
  }
  throw new Error('expected a failure');
}

const tableName = (): string => `aiq_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

describe.each(engines)('database connector: $engine', ({ engine, connection, host, scheme }) => {
  async function withTable(body: (table: string) => Promise<void>): Promise<void> {
    const table = tableName();
    await call('execute', { engine, connection, sql: `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, active BOOLEAN, score INTEGER)` });
    try {
      await body(table);
    } finally {
      await call('execute', { engine, connection, sql: `DROP TABLE ${table}` });
    }
  }

  it('creates and inserts with named parameters (rowsAffected), then queries with parameters', async () => {
    await withTable(async (table) => {
      const inserted = await call('execute', {
        engine,
        connection,
        sql: `INSERT INTO ${table} (id, name, active, score) VALUES (@id, @name, @active, @score)`,
        parameters: { id: 1, name: 'Ada', active: true, score: null },
      });
      expect(inserted).toEqual({ rowsAffected: 1 });
      const many = await call('execute', {
        engine,
        connection,
        sql: `INSERT INTO ${table} (id, name, active, score) VALUES (@a, @n, @t, 5), (@b, @n, @t, 7)`,
        parameters: { a: 2, b: 3, n: 'Bob', t: false },
      });
      expect(many).toEqual({ rowsAffected: 2 });

      const result = await call('query', { engine, connection, sql: `SELECT id, name, score FROM ${table} WHERE name = @name AND id >= @min ORDER BY id`, parameters: { name: 'Bob', min: 2 } });
      expect(result).toEqual({ rows: [{ id: 2, name: 'Bob', score: 5 }, { id: 3, name: 'Bob', score: 7 }], rowCount: 2, truncated: false });

      const updated = await call('execute', { engine, connection, sql: `UPDATE ${table} SET score = @score WHERE name = @name`, parameters: { score: 9, name: 'Bob' } });
      expect(updated).toEqual({ rowsAffected: 2 });

      // '@name' inside a string literal is text, not a parameter.
      const literal = await call('query', { engine, connection, sql: `SELECT '@nothing' AS tag, name FROM ${table} WHERE id = @id`, parameters: { id: 1 } });
      expect(literal['rows']).toEqual([{ tag: '@nothing', name: 'Ada' }]);
    });
  });

  it('keeps an injection attempt in a parameter as data', async () => {
    await withTable(async (table) => {
      const evil = `x'); DROP TABLE ${table}; --`;
      await call('execute', { engine, connection, sql: `INSERT INTO ${table} (id, name) VALUES (@id, @name)`, parameters: { id: 1, name: evil } });
      const found = await call('query', { engine, connection, sql: `SELECT name FROM ${table} WHERE name = @name`, parameters: { name: evil } });
      expect(found['rows']).toEqual([{ name: evil }]);
      const bypass = await call('query', { engine, connection, sql: `SELECT name FROM ${table} WHERE name = @name`, parameters: { name: `' OR '1'='1` } });
      expect(bypass['rows']).toEqual([]);
      const still = await call('query', { engine, connection, sql: `SELECT COUNT(*) AS n FROM ${table}` });
      expect(Number((still['rows'] as Array<{ n: JsonValue }>)[0]!.n)).toBe(1);
    });
  });

  it('truncates at maxRows', async () => {
    await withTable(async (table) => {
      for (let id = 1; id <= 5; id++) await call('execute', { engine, connection, sql: `INSERT INTO ${table} (id, name) VALUES (@id, @name)`, parameters: { id, name: `n${id}` } });
      const capped = await call('query', { engine, connection, sql: `SELECT id FROM ${table} ORDER BY id`, maxRows: 3 });
      expect(capped).toEqual({ rows: [{ id: 1 }, { id: 2 }, { id: 3 }], rowCount: 3, truncated: true });
      const exact = await call('query', { engine, connection, sql: `SELECT id FROM ${table} ORDER BY id`, maxRows: 5 });
      expect(exact).toMatchObject({ rowCount: 5, truncated: false });
    });
  });

  it('fails permanently with DATABASE.PARAMETER_MISSING for an @name without a parameter', async () => {
    const error = await failure(call('query', { engine, connection, sql: 'SELECT @present AS a, @absent AS b', parameters: { present: 1 } }));
    expect(error.code).toBe('DATABASE.PARAMETER_MISSING');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('@absent');
  });

  it('reports a syntax error as a permanent DATABASE.QUERY_FAILED with the database message', async () => {
    const error = await failure(call('query', { engine, connection, sql: 'SELEC 1 FRM nowhere' }));
    expect(error.code).toBe('DATABASE.QUERY_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/syntax/i);
  });

  it('reports a constraint violation as permanent', async () => {
    await withTable(async (table) => {
      await call('execute', { engine, connection, sql: `INSERT INTO ${table} (id, name) VALUES (1, 'a')` });
      const error = await failure(call('execute', { engine, connection, sql: `INSERT INTO ${table} (id, name) VALUES (@id, 'b')`, parameters: { id: 1 } }));
      expect(error.code).toBe('DATABASE.QUERY_FAILED');
      expect(error.retryable).toBe(false);
    });
  });

  it('reports connection refused (closed, allowed port) as retryable', async () => {
    const error = await failure(call('query', { engine, connection: `${scheme}://user:pw@127.0.0.1:${refusedPort}/test`, sql: 'SELECT 1' }));
    expect(error.code).toBe('DATABASE.CONNECTION_FAILED');
    expect(error.retryable).toBe(true);
  });

  it('blocks a host that is not allow-listed before connecting (SSRF.BLOCKED)', async () => {
    const strict = createDatabaseConnector({ egress: { allowPorts: [5432, 3306] } });
    let resolved = 0;
    const resolving = createDatabaseConnector({
      egress: { allowPorts: [5432, 3306] },
      resolver: async () => {
        resolved++;
        return [{ address: '10.0.0.5', family: 4 }];
      },
    });
    try {
      const loopback = await failure(call('query', { engine, connection: connection.replace(/@[^/]+\//, `@127.0.0.1:${engine === 'postgres' ? 5432 : 3306}/`), sql: 'SELECT 1' }, strict));
      expect(loopback.code).toBe('SSRF.BLOCKED');
      expect(loopback.retryable).toBe(false);
      const privateName = await failure(call('query', { engine, connection: `${scheme}://u:p@db.internal.example:${engine === 'postgres' ? 5432 : 3306}/test`, sql: 'SELECT 1' }, resolving));
      expect(privateName.code).toBe('SSRF.BLOCKED');
      expect(resolved).toBe(1);
      // A port that is not allowed is blocked even on an allow-listed host.
      const port = await failure(call('query', { engine, connection: `${scheme}://u:p@${hostPart(host)}:6543/test`, sql: 'SELECT 1' }));
      expect(port.code).toBe('SSRF.BLOCKED');
      expect(port.message).toContain('port 6543');
    } finally {
      await strict.close();
      await resolving.close();
    }
  });

  it("reaches a private server through the calling tenant's egress allow-list only, with pools never shared across tenants", async () => {
    const operatorOnly = createDatabaseConnector();
    const port = engine === 'postgres' ? pgPort : myPort;
    const tenantEgress = { allowHosts, allowPorts: [port] };
    try {
      const allowed = await call('query', { engine, connection, sql: 'SELECT 1 AS one' }, operatorOnly, context({ tenantId: 'open', egress: tenantEgress }));
      expect(allowed['rows']).toEqual([{ one: 1 }]);
      // Another tenant, same connection string, right after: the pool the first tenant opened is not its way in.
      const other = await failure(call('query', { engine, connection, sql: 'SELECT 1 AS one' }, operatorOnly, context({ tenantId: 'closed' })));
      expect(other.code).toBe('SSRF.BLOCKED');
      // The same tenant once its allow-list no longer names the server.
      const revoked = await failure(call('query', { engine, connection, sql: 'SELECT 1 AS one' }, operatorOnly, context({ tenantId: 'open', egress: { allowHosts: [], allowPorts: [port] } })));
      expect(revoked.code).toBe('SSRF.BLOCKED');
    } finally {
      await operatorOnly.close();
    }
  });

  it('never puts the connection string or password in error messages', async () => {
    const password = `S3cr3t-${randomBytes(6).toString('hex')}`;
    const user = 'aiq_no_such_user';
    for (const target of [`${scheme}://${user}:${password}@${hostPart(host)}:${engine === 'postgres' ? pgPort : myPort}/${engine === 'postgres' ? pgDatabase : myDatabase}`, `${scheme}://${user}:${password}@127.0.0.1:${refusedPort}/test`]) {
      const error = await failure(call('query', { engine, connection: target, sql: 'SELECT 1' }));
      const seen = `${error.message} ${JSON.stringify(error.details ?? null)} ${String(error.stack)}`;
      expect(seen).not.toContain(password);
      expect(seen).not.toContain(target);
    }
    const invalid = await failure(call('query', { engine, connection: `${scheme}://u:${password}@ho st/db`, sql: 'SELECT 1' }));
    expect(invalid.message).not.toContain(password);
  });

  it('rejects unknown properties and out-of-range maxRows in the schema', () => {
    expect(() => registry.validateInput('database', 'query', { engine, connection, sql: 'SELECT 1', bogus: true })).toThrow(ValidationError);
    expect(() => registry.validateInput('database', 'execute', { engine, connection, sql: 'SELECT 1', maxRows: 5 })).toThrow(ValidationError);
    expect(() => registry.validateInput('database', 'query', { engine, connection, sql: 'SELECT 1', maxRows: 10001 })).toThrow(ValidationError);
    expect(() => registry.validateInput('database', 'query', { engine, connection, sql: 'SELECT 1', parameters: { x: { nested: 1 } } })).toThrow(ValidationError);
    expect(() => registry.validateInput('database', 'query', { engine: 'oracle', connection, sql: 'SELECT 1' })).toThrow(ValidationError);
    expect(() => registry.validateInput('database', 'query', { engine, connection, sql: 'SELECT 1', parameters: { a: 1 }, maxRows: 10, timeoutSeconds: 5 })).not.toThrow();
  });

  it('times out a slow statement as retryable DATABASE.TIMEOUT', async () => {
    const sql = engine === 'postgres' ? 'SELECT pg_sleep(5)' : 'SELECT SLEEP(5)';
    const started = Date.now();
    const error = await failure(call('query', { engine, connection, sql, timeoutSeconds: 0.5 }));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(error.code).toBe('DATABASE.TIMEOUT');
    expect(error.retryable).toBe(true);
    // The pool still works afterwards.
    expect((await call('query', { engine, connection, sql: 'SELECT 1 AS one' }))['rows']).toEqual([{ one: 1 }]);
  });
});

describe.skipIf(!process.env['AZURE_SQL_CONNECTION_STRING'])('database connector: sqlserver (skipped unless AZURE_SQL_CONNECTION_STRING is set: no SQL Server in this environment)', () => {
  it('creates, inserts with named parameters, queries and drops a table', async () => {
    const connection = process.env['AZURE_SQL_CONNECTION_STRING']!;
    const url = new URL(connection);
    const sqlConnector = createDatabaseConnector({ egress: { allowHosts: [url.hostname], allowPorts: [Number(url.port || 1433)] } });
    const sqlRegistry = new ConnectorRegistry([sqlConnector]);
    const run = async (action: 'query' | 'execute', input: Record<string, JsonValue>): Promise<Record<string, JsonValue>> => {
      sqlRegistry.validateInput('database', action, input);
      const definition = sqlConnector.actions.find((candidate) => candidate.name === action)!;
      return (await (definition.run as (input: unknown, context: ActionContext) => Promise<JsonValue>)(input, context())) as Record<string, JsonValue>;
    };
    const table = tableName();
    try {
      await run('execute', { engine: 'sqlserver', connection, sql: `CREATE TABLE ${table} (id INT PRIMARY KEY, name NVARCHAR(200) NOT NULL)` });
      expect(await run('execute', { engine: 'sqlserver', connection, sql: `INSERT INTO ${table} (id, name) VALUES (@id, @name), (@id2, @name)`, parameters: { id: 1, id2: 2, name: "x'; DROP TABLE t; --" } })).toEqual({ rowsAffected: 2 });
      expect(await run('query', { engine: 'sqlserver', connection, sql: `SELECT id, name FROM ${table} WHERE id >= @min ORDER BY id`, parameters: { min: 1 }, maxRows: 1 })).toEqual({
        rows: [{ id: 1, name: "x'; DROP TABLE t; --" }],
        rowCount: 1,
        truncated: true,
      });
    } finally {
      await run('execute', { engine: 'sqlserver', connection, sql: `DROP TABLE IF EXISTS ${table}` }).catch(() => undefined);
      await sqlConnector.close();
    }
  });
});
