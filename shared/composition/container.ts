import { Redis } from 'ioredis';
import {
  createCompositeTokenValidator,
  createDevelopmentTokenValidator,
  DEV_PLATFORM_ENTRA_TENANT_ID,
  devEntraTenantId,
  isDevelopmentIssuerAllowed,
  resolveDevelopmentKeyFile,
} from '../adapters/devissuer/index.js';
import { createEntraTokenValidator } from '../adapters/entra/entraTokenValidator.js';
import { MemoryArtifactStore } from '../adapters/memory/memoryArtifactStore.js';
import { MemoryCircuitBreaker } from '../adapters/memory/memoryCircuitBreaker.js';
import { MemoryRateLimiter } from '../adapters/memory/memoryRateLimiter.js';
import { BlobArtifactStore } from '../adapters/blob/blobArtifactStore.js';
import { RedisCircuitBreaker } from '../adapters/redis/redisCircuitBreaker.js';
import { createMssqlAppStore } from '../adapters/mssql/index.js';
import { RedisHealthProbe } from '../adapters/redis/redisHealthProbe.js';
import { RedisRateLimiter } from '../adapters/redis/redisRateLimiter.js';
import { ServiceBusConfigProbe } from '../adapters/servicebus/serviceBusConfigProbe.js';
import { createSqliteAppStore } from '../adapters/sqlite/index.js';
import { KeyVaultSecretStore } from '../adapters/keyvault/index.js';
import { keyringOf, SqliteSecretStore } from '../adapters/sqlite/sqliteSecretStore.js';
import type { TenantDependencies } from '../application/tenantUseCases.js';
import { createConnectorRegistry } from '../connectors/registry.js';
import type { ConnectorRegistry } from '../connectors/sdk.js';
import { type AppConfig, loadAppConfig } from '../config/appConfig.js';
import type { AppStore } from '../ports/appStore.js';
import type { HealthCheckResult, HealthProbe } from '../ports/healthProbe.js';
import type { RateLimiter } from '../ports/rateLimiter.js';
import { isReservedSecretName, type SecretStore } from '../ports/secretStore.js';
import type { ArtifactStore } from '../ports/artifactStore.js';
import type { CircuitBreakerStore } from '../ports/circuitBreaker.js';
import type { TokenValidator } from '../ports/tokenValidator.js';
import { lazyAppStore } from './lazyAppStore.js';
import { TenantCache } from './tenantCache.js';

/** Everything the functions use, wired from configuration. The only place that picks adapters. */
export interface Container {
  readonly config: AppConfig;
  readonly appStore: AppStore;
  readonly tenantCache: TenantCache;
  readonly tokens: TokenValidator;
  /** Entra directories whose tokens may carry Platform.Admin. */
  readonly platformDirectories: ReadonlySet<string>;
  readonly rateLimiter: RateLimiter;
  /** Circuit breakers per tenant and connector target (Redis when configured, else this process's memory). */
  readonly circuitBreakers: CircuitBreakerStore;
  /** Where large step outputs go (claim check). */
  readonly artifacts: ArtifactStore;
  readonly healthProbes: readonly HealthProbe[];
  tenantDependencies(): TenantDependencies;
  /** The connectors steps can call. */
  readonly connectorRegistry: ConnectorRegistry;
  /** The connector registry's names and actions, for validating definitions. */
  readonly connectors: ReadonlyMap<string, ReadonlySet<string>>;
  /** Tenant secrets: Key Vault when configured, else the encrypted SQLite file next to the app store. */
  readonly secretStore: SecretStore;
  /** The names of a tenant's secrets (secret references in definitions are checked against them). */
  secretNames(tenantId: string): Promise<ReadonlySet<string>>;
  dispose(): Promise<void>;
}

function lazy<T>(create: () => T): { get: () => T; created: () => T | undefined } {
  let value: T | undefined;
  return {
    get: () => (value ??= create()),
    created: () => value,
  };
}

function appStoreProbe(store: AppStore, kind: string): HealthProbe {
  return {
    name: 'appStore',
    kind,
    async check(): Promise<HealthCheckResult> {
      try {
        await store.ping();
        return { status: 'healthy' };
      } catch (error) {
        return { status: 'unhealthy', detail: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

export function createContainer(config: AppConfig = loadAppConfig(), env: NodeJS.ProcessEnv = process.env): Container {
  const storeConfig = config.appStore;
  const appStore = lazyAppStore(async () =>
    storeConfig.kind === 'mssql'
      ? createMssqlAppStore({ connectionString: storeConfig.connectionString })
      : createSqliteAppStore({ file: storeConfig.path, dedicatedDirectory: storeConfig.dedicatedDirectory }),
  );
  const redis = config.redis ? lazy(() => new Redis(config.redis!.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true })) : undefined;
  const rateLimiter: RateLimiter = redis ? new RedisRateLimiter(redis.get()) : new MemoryRateLimiter();
  const circuitBreakers: CircuitBreakerStore = redis ? new RedisCircuitBreaker(redis.get()) : new MemoryCircuitBreaker();
  // Blob Storage (Azurite locally) when configured; otherwise this process's memory, which a restart empties.
  const artifacts: ArtifactStore = config.artifactStorage ? BlobArtifactStore.fromConnectionString(config.artifactStorage) : new MemoryArtifactStore();
  const { identity } = config;
  const devIssuerAllowed = isDevelopmentIssuerAllowed(env);
  const entra = createEntraTokenValidator({ audience: identity.audience });
  const tokens = devIssuerAllowed
    ? createCompositeTokenValidator([entra, createDevelopmentTokenValidator({ keyFile: resolveDevelopmentKeyFile(config.appRoot, env), audience: identity.audience, env })])
    : entra;
  const platformDirectories = new Set([...identity.platformDirectories, ...(devIssuerAllowed ? [DEV_PLATFORM_ENTRA_TENANT_ID] : [])]);
  const healthProbes: HealthProbe[] = [appStoreProbe(appStore, storeConfig.kind)];
  if (redis) healthProbes.push(new RedisHealthProbe(redis.get));
  if (config.serviceBus) healthProbes.push(new ServiceBusConfigProbe(config.serviceBus));
  const tenantCache = new TenantCache(appStore.tenants);
  const secretsConfig = config.secrets;
  const secrets = lazy<SecretStore>(() =>
    secretsConfig.kind === 'keyvault' ? new KeyVaultSecretStore({ vaultUrl: secretsConfig.url }) : new SqliteSecretStore({ file: secretsConfig.path, keyring: () => keyringOf(secretsConfig.key()) }),
  );
  const connectorRegistry = createConnectorRegistry({ egress: config.egress, maxStreamedBytes: config.maxStreamedBytes });
  const tenantDependencies: TenantDependencies = {
    store: appStore,
    outsideAppStore: { secrets: () => secrets.get(), artifacts },
    ...(devIssuerAllowed ? { defaultEntraTenantId: devEntraTenantId } : {}),
  };
  return {
    config,
    appStore,
    tenantCache,
    tokens,
    platformDirectories,
    rateLimiter,
    circuitBreakers,
    artifacts,
    healthProbes,
    tenantDependencies: () => tenantDependencies,
    connectorRegistry,
    connectors: connectorRegistry.catalog(),
    get secretStore() {
      return secrets.get();
    },
    // Reserved names (webhook signing secrets) are not the tenant's to reference in definitions.
    secretNames: async (tenantId) => new Set([...(await secrets.get().names(tenantId))].filter((name) => !isReservedSecretName(name))),
    async dispose() {
      await connectorRegistry.close();
      await appStore.close();
      await secrets.created()?.close();
      await redis?.created()?.quit().catch(() => undefined);
    },
  };
}

let shared: Container | undefined;

/** The process-wide container, created on first use (after the host has applied the app settings). */
export function getContainer(): Container {
  return (shared ??= createContainer());
}

/** Closes what the container opened (the app's `appTerminate` hook calls this). */
export async function disposeContainer(): Promise<void> {
  const current = shared;
  shared = undefined;
  await current?.dispose();
}
