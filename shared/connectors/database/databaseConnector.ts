/**
 * The built-in `database` connector: `query` (rows, capped at maxRows) and `execute` (rowsAffected) against
 * PostgreSQL, MySQL/MariaDB and SQL Server. The connection is a URL (a tenant secret in workflows); parameters are
 * named (`@name`) for every engine and always bound, never put into the SQL text.
 *
 * Every connection goes through the SSRF guard (addressPolicy): the port must be 80/443 or allowed by the operator,
 * the host is resolved once, every address checked, and the driver connects to the checked IP (TLS still verifies
 * the hostname). Errors: connection failures, timeouts, deadlocks and serialization failures are retryable;
 * syntax, constraint and permission errors are a permanent DATABASE.QUERY_FAILED. Messages carry the database's
 * message and the host, never the connection string or password.
 */
import type { ActionContext, ConnectorDefinition } from '../sdk.js';
import { defineAction, defineConnector } from '../sdk.js';
import { operatorEgressPolicy, withTenantEgress, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';
import type { DatabaseExecuteOutput, DatabaseInput, DatabaseQueryInput, DatabaseQueryOutput } from './databaseInput.js';
import { databaseExecuteInputSchema, databaseQueryInputSchema, DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_SECONDS } from './databaseInput.js';
import { DatabasePools } from './databasePools.js';
import type { StatementResult } from './engineDriver.js';
import { translateNamedParameters } from './namedParameters.js';
import { parseConnection } from './parseConnection.js';
import { toDatabaseError } from './toDatabaseError.js';
import { toJsonRow } from './toJsonRow.js';

export type { DatabaseEngine, DatabaseExecuteOutput, DatabaseInput, DatabaseParameter, DatabaseQueryInput, DatabaseQueryOutput } from './databaseInput.js';
export { DatabaseErrorCodes } from './toDatabaseError.js';
export { DATABASE_PARAMETER_MISSING } from './namedParameters.js';
export { DATABASE_CONNECTION_INVALID } from './parseConnection.js';

export interface DatabaseConnectorOptions {
  /** The operator egress policy; the database port must be in allowPorts (only 80/443 otherwise). */
  egress?: { readonly allowHosts?: readonly string[]; readonly allowPorts?: readonly number[] } | undefined;
  /** Injectable resolver (tests); defaults to `dns.lookup`. */
  resolver?: Resolver;
}

export type DatabaseConnector = ConnectorDefinition & {
  /** Closes every pool this connector opened. */
  close(): Promise<void>;
};

/** Builds the `database` connector for an egress policy; its pools live as long as the returned object. */
export function createDatabaseConnector(options: DatabaseConnectorOptions = {}): DatabaseConnector {
  const policy: EgressPolicy = operatorEgressPolicy(options.egress);
  const pools = new DatabasePools(options.resolver);

  async function run(input: DatabaseInput, maxRows: number, context: ActionContext): Promise<StatementResult> {
    const settings = parseConnection(input.engine, input.connection);
    const secrets = [input.connection, settings.password];
    const parameters = input.parameters ?? {};
    const translated = translateNamedParameters(input.sql, parameters, input.engine);
    const timeoutMs = Math.round((input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000);
    try {
      const pool = await pools.get(input.engine, input.connection, settings, context.tenantId, withTenantEgress(policy, context.egress));
      return await pool.run(translated, { maxRows, timeoutMs, signal: context.signal, parameters });
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason ?? error;
      throw toDatabaseError(error, input.engine, settings.hostname, secrets);
    }
  }

  const definition = defineConnector({
    name: 'database',
    description: 'Runs SQL against PostgreSQL, MySQL/MariaDB or SQL Server with named, bound parameters (SSRF-guarded connections).',
    actions: [
      defineAction<DatabaseQueryInput, DatabaseQueryOutput>({
        name: 'query',
        description: 'Runs a query and returns { rows, rowCount, truncated }; at most maxRows rows (default 1000).',
        input: databaseQueryInputSchema,
        output: {
          type: 'object',
          required: ['rows', 'rowCount', 'truncated'],
          properties: { rows: { type: 'array', items: { type: 'object' } }, rowCount: { type: 'integer' }, truncated: { type: 'boolean' } },
        },
        run: async (input, context) => {
          const result = await run(input, input.maxRows ?? DEFAULT_MAX_ROWS, context);
          const rows = result.rows.map(toJsonRow);
          context.log(`${input.engine} query → ${rows.length} row(s)${result.truncated ? ' (truncated)' : ''}`);
          return { rows, rowCount: rows.length, truncated: result.truncated };
        },
      }),
      defineAction<DatabaseInput, DatabaseExecuteOutput>({
        name: 'execute',
        description: 'Runs a statement (INSERT/UPDATE/DELETE/DDL) and returns { rowsAffected }.',
        input: databaseExecuteInputSchema,
        output: { type: 'object', required: ['rowsAffected'], properties: { rowsAffected: { type: 'integer' } } },
        run: async (input, context) => {
          const result = await run(input, 0, context);
          context.log(`${input.engine} execute → ${result.rowsAffected} row(s) affected`);
          return { rowsAffected: result.rowsAffected };
        },
      }),
    ],
  });
  return Object.assign(definition, { close: () => pools.close() });
}
