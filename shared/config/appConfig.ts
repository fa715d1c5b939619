import { DEFAULT_MAX_STREAMED_BYTES } from '../ports/artifactStore.js';
import fs from 'node:fs';
import path from 'node:path';
import { isEgressPort, parseEgressEntry } from '../domain/egress.js';
import { SettingNames } from './settingNames.js';

/** The app's configuration, parsed once from the environment and frozen. */
export interface AppConfig {
  readonly version: string;
  readonly environment: 'Development' | 'Production';
  readonly appStore: { readonly kind: 'sqlite'; readonly path: string; readonly dedicatedDirectory: string } | { readonly kind: 'mssql'; readonly connectionString: string };
  readonly identity: {
    readonly audience: string;
    /** Entra directories whose users may hold Platform.Admin (the operator's own); other directories never can. */
    readonly platformDirectories: readonly string[];
  };
  /** A Blob Storage connection string for artifacts (claim check), if configured. */
  readonly artifactStorage: string | undefined;
  /** The repository root (where relative paths of settings resolve). */
  readonly appRoot: string;
  readonly redis: { readonly url: string } | undefined;
  readonly serviceBus: { readonly mode: 'embedded' | 'namespace'; readonly endpoint: string } | undefined;
  /**
   * Where tenant secrets live: Key Vault when `AZURE_KEYVAULT_URL` is set, else an encrypted SQLite file next to
   * the app store. `key()` returns the local store's key, or throws a ConfigError naming `AIQ_SECRETS_KEY` when
   * it is not set (a function, so the key is never part of a serialized or logged configuration).
   */
  readonly secrets: { readonly kind: 'keyvault'; readonly url: string } | { readonly kind: 'sqlite'; readonly path: string; readonly key: () => Buffer };
  /**
   * The operator egress policy of every connector that connects out (`AIQ_EGRESS_ALLOW_HOSTS`, `AIQ_EGRESS_ALLOW_PORTS`):
   * entries that may be private, and ports besides 80/443. Empty → public internet only.
   */
  readonly egress: { readonly allowHosts: readonly string[]; readonly allowPorts: readonly number[] };
  /** The operator maximum of one body a connector streams through artifacts (`AIQ_MAX_STREAMED_BYTES`, default 1 GiB). */
  readonly maxStreamedBytes: number;
  /** Runs executing at once on the platform (`AIQ_MAX_ACTIVE_RUNS`); see shared/domain/admission.ts. */
  readonly maxActiveRuns: number;
  /**
   * The `topic` values the platform's own run events carry (`AIQ_EVENTS_TOPIC_ENDPOINT`, and the topic's resource
   * id `AIQ_EVENTS_TOPIC_ID` that Event Grid stamps on Azure), lower-case: the event router routes such events by
   * their data's tenantId instead of a tenant's registered sources.
   */
  readonly platformEventSources: readonly string[];
}

/** The default of `AIQ_MAX_ACTIVE_RUNS`. */
export const DEFAULT_MAX_ACTIVE_RUNS = 500;

function parseMaxActiveRuns(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_MAX_ACTIVE_RUNS;
  const runs = /^\d{1,7}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(runs >= 1)) throw new ConfigError(SettingNames.maxActiveRuns, `'${value.slice(0, 20)}' is not a whole number of runs from 1 to 9999999.`);
  return runs;
}

/** The `scheduler` timer's schedule in production: every minute, at second 0. */
export const SCHEDULER_TICK = '0 * * * * *';

/**
 * The `scheduler` timer's NCRONTAB schedule: {@link SCHEDULER_TICK}, or `AIQ_SCHEDULER_TICK` in Development only
 * (a faster tick for tests and demos; a production app always ticks each minute). Read at registration time,
 * before the rest of the configuration, so it parses just this setting.
 */
export function schedulerTickSchedule(env: NodeJS.ProcessEnv = process.env): string {
  const value = env[SettingNames.schedulerTick]?.trim();
  if (env[SettingNames.environment] !== 'Development' || !value) return SCHEDULER_TICK;
  if (value.split(/\s+/).length !== 6) throw new ConfigError(SettingNames.schedulerTick, `'${value.slice(0, 40)}' is not a 6-field NCRONTAB expression.`);
  return value;
}

/** A setting has a value the app cannot use; the message names the setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
  }
}

function findAppRoot(start: string): string {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && (JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string }).name === 'automateiq') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`The AutomateIQ package.json was not found above ${start}.`);
    dir = parent;
  }
}

function parseServiceBus(value: string | undefined): AppConfig['serviceBus'] {
  if (!value) return undefined;
  const properties = new Map(
    value
      .split(';')
      .filter(Boolean)
      .map((part) => {
        const index = part.indexOf('=');
        return [part.slice(0, index).trim().toLowerCase(), part.slice(index + 1).trim()] as const;
      }),
  );
  const endpoint = properties.get('endpoint');
  if (!endpoint) throw new ConfigError(SettingNames.serviceBusConnection, 'a Service Bus connection string needs an Endpoint=sb://... part.');
  return { mode: properties.get('usedevelopmentemulator')?.toLowerCase() === 'true' ? 'embedded' : 'namespace', endpoint };
}

function parseRedis(value: string | undefined): AppConfig['redis'] {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(SettingNames.redisUrl, `'${value}' is not a URL such as redis://127.0.0.1:6379.`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError(SettingNames.redisUrl, 'must start with redis:// or rediss://.');
  return { url: value };
}

function parseKeyVaultUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(SettingNames.keyVaultUrl, `'${value}' is not a URL such as https://my-vault.vault.azure.net/.`);
  }
  if (url.protocol !== 'https:') throw new ConfigError(SettingNames.keyVaultUrl, 'must start with https://.');
  return value;
}

/**
 * The local secret store's key: base64 of exactly 32 bytes. A malformed key fails at startup; a missing one only
 * when a value is stored or read (names can still be listed), so hosts set up before secrets existed keep running.
 * Messages never include the value.
 */
/**
 * The development-only key published in local.settings.sample.json. Anyone can read it, so outside Development
 * the local secret store refuses it (the check runs when the store is first used).
 */
export const PUBLISHED_DEVELOPMENT_SECRETS_KEY = '3uDpXEnhqvJ5B0rb5HzfldSzAGhbe5mtFtYIHqs6R6M=';

function parseSecretsKey(value: string | undefined, environment: AppConfig['environment']): () => Buffer {
  if (!value) {
    return () => {
      throw new ConfigError(SettingNames.secretsKey, 'is not set: the local secret store needs a 32-byte key, base64-encoded (e.g. `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`), or set AZURE_KEYVAULT_URL.');
    };
  }
  const trimmed = value.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new ConfigError(SettingNames.secretsKey, `must be exactly 32 bytes, base64-encoded (the value given decodes to ${/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? key.length : 'no valid base64'} bytes).`);
  }
  if (environment !== 'Development' && trimmed === PUBLISHED_DEVELOPMENT_SECRETS_KEY) {
    return () => {
      throw new ConfigError(SettingNames.secretsKey, 'is the development key published in local.settings.sample.json: outside Development set a key of your own (32 random bytes, base64) or AZURE_KEYVAULT_URL.');
    };
  }
  return () => Buffer.from(key);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function parseDirectories(value: string | undefined): string[] {
  const ids = (value ?? '').split(',').map((id) => id.trim().toLowerCase()).filter(Boolean);
  for (const id of ids) if (!GUID.test(id)) throw new ConfigError(SettingNames.platformDirectories, `'${id}' is not an Entra directory (tenant) id.`);
  return ids;
}

function parseEgress(env: NodeJS.ProcessEnv): AppConfig['egress'] {
  const allowHosts = (env[SettingNames.egressAllowHosts] ?? '').split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  for (const entry of allowHosts) {
    if (!parseEgressEntry(entry)) {
      throw new ConfigError(SettingNames.egressAllowHosts, `'${entry.slice(0, 100)}' is not a hostname, *.suffix, IP address or CIDR (e.g. api.internal, *.corp.example, 10.1.2.3, 10.1.0.0/16).`);
    }
  }
  const allowPorts = (env[SettingNames.egressAllowPorts] ?? '').split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const port = /^\d{1,5}$/.test(entry) ? Number(entry) : NaN;
    if (!isEgressPort(port)) throw new ConfigError(SettingNames.egressAllowPorts, `'${entry.slice(0, 20)}' is not a port (1-65535).`);
    return port;
  });
  return Object.freeze({ allowHosts: Object.freeze(allowHosts), allowPorts: Object.freeze(allowPorts) });
}

function parseMaxStreamedBytes(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_MAX_STREAMED_BYTES;
  const bytes = /^\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(Number.isSafeInteger(bytes) && bytes >= 1)) throw new ConfigError(SettingNames.maxStreamedBytes, `'${value.slice(0, 30)}' is not a positive number of bytes.`);
  return bytes;
}

function secretsConfig(env: NodeJS.ProcessEnv, sqlitePath: string, environment: AppConfig['environment']): AppConfig['secrets'] {
  const keyVaultUrl = parseKeyVaultUrl(env[SettingNames.keyVaultUrl]);
  if (keyVaultUrl) return { kind: 'keyvault', url: keyVaultUrl };
  return { kind: 'sqlite', path: path.join(path.dirname(sqlitePath), 'secrets.db'), key: parseSecretsKey(env[SettingNames.secretsKey], environment) };
}

/** Parses the environment into the app's configuration. Throws {@link ConfigError} naming a bad setting. */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const root = findAppRoot(__dirname);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const environment = env[SettingNames.environment] === 'Development' ? 'Development' : 'Production';
  const sqlitePath = path.resolve(root, env[SettingNames.sqlitePath] || '.data/automateiq.db');
  const azureSql = env[SettingNames.azureSqlConnectionString];
  return Object.freeze({
    version: pkg.version,
    environment,
    appStore: Object.freeze(
      azureSql
        ? { kind: 'mssql' as const, connectionString: azureSql }
        : { kind: 'sqlite' as const, path: sqlitePath, dedicatedDirectory: path.resolve(root, env[SettingNames.dedicatedTenantDirectory] || '.data/tenants') },
    ),
    identity: Object.freeze({
      audience: env[SettingNames.apiAudience] || 'api://automateiq',
      platformDirectories: Object.freeze(parseDirectories(env[SettingNames.platformDirectories])),
    }),
    appRoot: root,
    artifactStorage: env[SettingNames.artifactStorage] || undefined,
    redis: parseRedis(env[SettingNames.redisUrl]),
    serviceBus: parseServiceBus(env[SettingNames.serviceBusConnection]),
    secrets: Object.freeze(secretsConfig(env, sqlitePath, environment)),
    egress: parseEgress(env),
    maxStreamedBytes: parseMaxStreamedBytes(env[SettingNames.maxStreamedBytes]),
    maxActiveRuns: parseMaxActiveRuns(env[SettingNames.maxActiveRuns]),
    platformEventSources: Object.freeze(
      [env[SettingNames.eventsTopicEndpoint], env[SettingNames.eventsTopicId]].flatMap((value) => (value && value.trim() ? [value.trim().toLowerCase()] : [])),
    ),
  });
}
