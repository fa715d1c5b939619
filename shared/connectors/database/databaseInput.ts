import type { JsonSchema } from '../sdk.js';

export type DatabaseEngine = 'postgres' | 'mysql' | 'sqlserver';
export type DatabaseParameter = string | number | boolean | null;

export interface DatabaseInput {
  engine: DatabaseEngine;
  /** A connection URL (postgres://, mysql://, mssql://); in workflows a resolved tenant secret. */
  connection: string;
  sql: string;
  /** Named parameters, written `@name` in the SQL for every engine. */
  parameters?: Record<string, DatabaseParameter>;
  timeoutSeconds?: number;
}

export interface DatabaseQueryInput extends DatabaseInput {
  maxRows?: number;
}

export type DatabaseRow = { [column: string]: import('../../domain/json.js').JsonValue };

export interface DatabaseQueryOutput {
  [key: string]: import('../../domain/json.js').JsonValue;
  rows: DatabaseRow[];
  rowCount: number;
  truncated: boolean;
}

export interface DatabaseExecuteOutput {
  [key: string]: import('../../domain/json.js').JsonValue;
  rowsAffected: number;
}

export const DEFAULT_MAX_ROWS = 1000;
export const MAX_MAX_ROWS = 10000;
export const DEFAULT_TIMEOUT_SECONDS = 30;

const common = {
  engine: { enum: ['postgres', 'mysql', 'sqlserver'] },
  connection: { type: 'string', minLength: 1, maxLength: 4096 },
  sql: { type: 'string', minLength: 1, maxLength: 1_000_000 },
  parameters: {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] },
  },
  timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600 },
};

export const databaseExecuteInputSchema: JsonSchema = {
  type: 'object',
  required: ['engine', 'connection', 'sql'],
  additionalProperties: false,
  properties: common,
};

export const databaseQueryInputSchema: JsonSchema = {
  type: 'object',
  required: ['engine', 'connection', 'sql'],
  additionalProperties: false,
  properties: { ...common, maxRows: { type: 'integer', minimum: 1, maximum: MAX_MAX_ROWS } },
};
