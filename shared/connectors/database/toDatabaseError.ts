import { AppError } from '../../domain/errors.js';
import { ConnectorError } from '../sdk.js';
import type { DatabaseEngine } from './databaseInput.js';

export const DatabaseErrorCodes = {
  queryFailed: 'DATABASE.QUERY_FAILED',
  connectionFailed: 'DATABASE.CONNECTION_FAILED',
  authFailed: 'DATABASE.AUTH_FAILED',
  timeout: 'DATABASE.TIMEOUT',
  transient: 'DATABASE.TRANSIENT',
} as const;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ESOCKET', 'ECONNCLOSED', 'PROTOCOL_CONNECTION_LOST', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES = new Set(['ETIMEOUT', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_STATEMENT_TIMEOUT']);
// MySQL/MariaDB: deadlock, lock wait timeout, too many connections, server shutdown, query interrupted (max_statement_time).
const MYSQL_TRANSIENT_ERRNO = new Set([1213, 1205, 1040, 1053, 1077, 1079, 1080, 2006, 2013]);
const MYSQL_TIMEOUT_ERRNO = new Set([1317, 1969, 3024]);
const MYSQL_AUTH_ERRNO = new Set([1045, 1698, 1044, 1049]);
// SQL Server / Azure SQL: deadlock, timeout (-2), and the documented transient Azure SQL errors.
const MSSQL_TRANSIENT_NUMBERS = new Set([1205, 4060, 40197, 40501, 40613, 49918, 49919, 49920, 4221, 10928, 10929, 233, 10053, 10054, 10060, 64]);

interface DriverError {
  code?: unknown;
  errno?: unknown;
  number?: unknown;
  message?: unknown;
  fatal?: unknown;
  originalError?: unknown;
}

/** Removes every copy of a secret (and its URL-encoded form) from a text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 2) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

function classify(engine: DatabaseEngine, error: DriverError): { code: string; retryable: boolean } {
  const code = typeof error.code === 'string' ? error.code : undefined;
  const errno = typeof error.errno === 'number' ? error.errno : undefined;
  const number = typeof error.number === 'number' ? error.number : undefined;
  const message = typeof error.message === 'string' ? error.message : '';
  if (code && TIMEOUT_CODES.has(code)) return { code: DatabaseErrorCodes.timeout, retryable: true };
  if (code && NETWORK_CODES.has(code)) return { code: DatabaseErrorCodes.connectionFailed, retryable: true };
  if (engine === 'postgres' && code && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '57014') return { code: DatabaseErrorCodes.timeout, retryable: true };
    if (code === '28P01' || code === '28000' || code === '3D000' || code === '42501') return { code: code.startsWith('28') ? DatabaseErrorCodes.authFailed : DatabaseErrorCodes.queryFailed, retryable: false };
    if (code === '40001' || code === '40P01' || code === '55P03' || code.startsWith('08') || code.startsWith('53') || /^57P0[1-3]$/.test(code)) {
      return { code: code.startsWith('08') || code.startsWith('57') ? DatabaseErrorCodes.connectionFailed : DatabaseErrorCodes.transient, retryable: true };
    }
    return { code: DatabaseErrorCodes.queryFailed, retryable: false };
  }
  if (engine === 'mysql' && errno !== undefined) {
    if (MYSQL_TIMEOUT_ERRNO.has(errno)) return { code: DatabaseErrorCodes.timeout, retryable: true };
    if (MYSQL_TRANSIENT_ERRNO.has(errno)) return { code: DatabaseErrorCodes.transient, retryable: true };
    if (MYSQL_AUTH_ERRNO.has(errno)) return { code: errno === 1045 || errno === 1698 ? DatabaseErrorCodes.authFailed : DatabaseErrorCodes.queryFailed, retryable: false };
    if (errno > 0 && errno < 100) return { code: DatabaseErrorCodes.connectionFailed, retryable: true }; // OS-level errno
    return { code: DatabaseErrorCodes.queryFailed, retryable: false };
  }
  if (engine === 'sqlserver') {
    const inner = (error.originalError ?? {}) as DriverError;
    const n = number ?? (typeof inner.number === 'number' ? inner.number : undefined);
    if (n === -2) return { code: DatabaseErrorCodes.timeout, retryable: true };
    if (n !== undefined && MSSQL_TRANSIENT_NUMBERS.has(n)) return { code: DatabaseErrorCodes.transient, retryable: true };
    if (code === 'ELOGIN') return { code: DatabaseErrorCodes.authFailed, retryable: false };
    if (code === 'ECANCEL') return { code: DatabaseErrorCodes.timeout, retryable: true };
    if (n !== undefined) return { code: DatabaseErrorCodes.queryFailed, retryable: false };
  }
  if (/timeout|timed out/i.test(message)) return { code: DatabaseErrorCodes.timeout, retryable: true };
  if (/Connection terminated|connection lost|ECONNRESET|socket hang up|closed the connection/i.test(message)) return { code: DatabaseErrorCodes.connectionFailed, retryable: true };
  return { code: DatabaseErrorCodes.queryFailed, retryable: false };
}

/**
 * Maps a driver failure to a ConnectorError. The message carries the database's own message, scrubbed of the
 * connection string and password; the connection string is never part of it.
 */
export function toDatabaseError(error: unknown, engine: DatabaseEngine, host: string, secrets: readonly string[]): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof AppError) return new ConnectorError(error.code, scrub(error.message, secrets), { retryable: error.retryable, details: error.details });
  const driver = (error ?? {}) as DriverError;
  const { code, retryable } = classify(engine, driver);
  const raw = typeof driver.message === 'string' && driver.message ? driver.message : String(error);
  const dbMessage = scrub(raw, secrets).slice(0, 2000);
  const sqlState = typeof driver.code === 'string' ? driver.code : undefined;
  const what = code === DatabaseErrorCodes.connectionFailed ? 'connection to' : code === DatabaseErrorCodes.timeout ? 'statement on' : 'statement on';
  const message =
    code === DatabaseErrorCodes.timeout ? `The ${what} ${engine} host "${host}" timed out: ${dbMessage}` : `The ${what} ${engine} host "${host}" failed: ${dbMessage}`;
  return new ConnectorError(code, message, { retryable, details: { engine, host, ...(sqlState ? { driverCode: sqlState } : {}) } });
}
