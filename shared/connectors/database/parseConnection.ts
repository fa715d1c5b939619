import { ConnectorError } from '../sdk.js';
import type { DatabaseEngine } from './databaseInput.js';

export const DATABASE_CONNECTION_INVALID = 'DATABASE.CONNECTION_INVALID';

export interface ConnectionSettings {
  engine: DatabaseEngine;
  /** The hostname as written (for TLS server name checks); the driver connects to a checked IP address instead. */
  hostname: string;
  port: number;
  user: string;
  password: string;
  database: string | undefined;
  /** Query-string options (ssl, sslmode, encrypt, trustServerCertificate…), lower-cased names. */
  options: ReadonlyMap<string, string>;
}

const SCHEMES: Record<DatabaseEngine, { schemes: string[]; port: number }> = {
  postgres: { schemes: ['postgres:', 'postgresql:'], port: 5432 },
  mysql: { schemes: ['mysql:', 'mariadb:'], port: 3306 },
  sqlserver: { schemes: ['mssql:', 'sqlserver:'], port: 1433 },
};

/**
 * Parses a connection URL for `engine`. Error messages never contain the URL (it holds the password).
 */
export function parseConnection(engine: DatabaseEngine, connection: string): ConnectionSettings {
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    throw new ConnectorError(DATABASE_CONNECTION_INVALID, `The ${engine} connection is not a valid URL (e.g. ${SCHEMES[engine].schemes[0]}//user:password@host:port/database).`);
  }
  const expected = SCHEMES[engine];
  if (!expected.schemes.includes(url.protocol)) {
    throw new ConnectorError(DATABASE_CONNECTION_INVALID, `The ${engine} connection must use the scheme ${expected.schemes.map((s) => `${s}//`).join(' or ')}.`);
  }
  let hostname = url.hostname;
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  if (!hostname) throw new ConnectorError(DATABASE_CONNECTION_INVALID, `The ${engine} connection has no host.`);
  const decode = (value: string): string => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  const database = decode(url.pathname.replace(/^\//, ''));
  const options = new Map<string, string>();
  for (const [name, value] of url.searchParams) options.set(name.toLowerCase(), value);
  return {
    engine,
    hostname,
    port: url.port === '' ? expected.port : Number(url.port),
    user: decode(url.username),
    password: decode(url.password),
    database: database === '' ? undefined : database,
    options,
  };
}

export function truthy(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes', 'require', 'required', 'verify-full', 'verify-ca'].includes(value.toLowerCase());
}
