import type { JsonValue } from '../../domain/json.js';
import type { DatabaseRow } from './databaseInput.js';

/** Converts a driver value to JSON: dates → ISO strings, binary → base64, bigint → string, nested objects recursively. */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) out[key] = toJsonValue(inner);
    return out;
  }
  return String(value);
}

export function toJsonRow(row: unknown): DatabaseRow {
  const out: DatabaseRow = {};
  if (row && typeof row === 'object') for (const [key, value] of Object.entries(row as Record<string, unknown>)) out[key] = toJsonValue(value);
  return out;
}
