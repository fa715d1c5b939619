import { AppError } from '../../domain/errors.js';
import { ConnectorError } from '../sdk.js';
import { redactSecrets } from '../../domain/redaction.js';

export const FileErrorCodes = {
  notFound: 'FILE.NOT_FOUND',
  authFailed: 'FILE.AUTH_FAILED',
  tooLarge: 'FILE.TOO_LARGE',
  hostKeyMismatch: 'FILE.HOST_KEY_MISMATCH',
  invalidInput: 'FILE.INVALID_INPUT',
  invalidConnection: 'FILE.CONNECTION_INVALID',
  alreadyExists: 'FILE.ALREADY_EXISTS',
  connectionFailed: 'FILE.CONNECTION_FAILED',
  transient: 'FILE.TRANSIENT',
  requestFailed: 'FILE.REQUEST_FAILED',
  unsupported: 'FILE.UNSUPPORTED',
} as const;

/** Removes every copy of each secret (plain and encoded forms, see redactSecrets) from a text. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  const out = redactSecrets(text, secrets.filter((secret): secret is string => secret !== undefined));
  // SAS signatures and account keys that were not passed in as whole strings.
  return out.replace(/([?&]sig=)[^&\s'"]+/gi, '$1***').replace(/(AccountKey=)[^;\s'"]+/gi, '$1***').replace(/(SharedAccessSignature=)[^;\s'"]+/gi, '$1***');
}

export function fileError(code: string, message: string, secrets: readonly (string | undefined)[], options: { retryable?: boolean; cause?: unknown } = {}): ConnectorError {
  // The cause is not kept: driver errors may carry the request URL (with its SAS) or the configuration.
  return new ConnectorError(code, scrub(message, secrets), { retryable: options.retryable ?? false });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EADDRNOTAVAIL',
  'REQUEST_SEND_ERROR', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_NOT_CONNECTED',
]);

interface DriverError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  name?: unknown;
  level?: unknown;
}

/** Maps an Azure Storage (RestError) or network failure to a ConnectorError; never echoes the connection. */
export function toBlobError(error: unknown, what: string, secrets: readonly (string | undefined)[]): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as DriverError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const detail = `${code ?? (typeof e.name === 'string' ? e.name : 'error')}${status ? `, HTTP ${status}` : ''}`;
  if (status === 404) return fileError(FileErrorCodes.notFound, `${what}: not found (${detail})`, secrets);
  if (status === 401 || status === 403) return fileError(FileErrorCodes.authFailed, `${what}: authentication/authorization failed (${detail})`, secrets);
  if (status === 409 && (code === 'BlobAlreadyExists' || code === 'ContainerAlreadyExists')) return fileError(FileErrorCodes.alreadyExists, `${what}: already exists (${detail})`, secrets);
  if (status === 408 || status === 429 || (status !== undefined && status >= 500)) return fileError(FileErrorCodes.transient, `${what}: the storage service is unavailable or throttling (${detail})`, secrets, { retryable: true });
  if (status === undefined && (e.name === 'AbortError' || (code !== undefined && NETWORK_CODES.has(code)) || /timeout|socket|network|ECONN/i.test(String(e.message ?? '')))) {
    return fileError(FileErrorCodes.connectionFailed, `${what}: connection failed (${detail})`, secrets, { retryable: true });
  }
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]!.slice(0, 300) : '';
  return fileError(FileErrorCodes.requestFailed, `${what}: request failed (${detail})${message ? `: ${message}` : ''}`, secrets);
}

/** Maps an ssh2 / ssh2-sftp-client failure to a ConnectorError; never echoes the password or key. */
export function toSftpError(error: unknown, what: string, secrets: readonly (string | undefined)[]): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as DriverError;
  const code = e.code;
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]!.slice(0, 300) : 'unknown error';
  if (code === 2 || /no such file/i.test(message)) return fileError(FileErrorCodes.notFound, `${what}: not found (${message})`, secrets);
  if (e.level === 'client-authentication' || /authentication methods failed|authentication failed/i.test(message)) {
    return fileError(FileErrorCodes.authFailed, `${what}: authentication failed`, secrets);
  }
  if (code === 3) return fileError(FileErrorCodes.authFailed, `${what}: permission denied (${message})`, secrets);
  if ((typeof code === 'string' && NETWORK_CODES.has(code)) || e.level === 'client-timeout' || e.level === 'client-socket' || /timed out|timeout|connection lost|reset|refused|No SFTP connection/i.test(message)) {
    return fileError(FileErrorCodes.connectionFailed, `${what}: connection failed (${message})`, secrets, { retryable: true });
  }
  return fileError(FileErrorCodes.requestFailed, `${what}: ${message}`, secrets);
}
