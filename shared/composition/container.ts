import type Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { openSqliteDatabase } from '../adapters/sqlite/openSqliteDatabase.js';
import { SqliteHealthProbe } from '../adapters/sqlite/sqliteHealthProbe.js';
import { RedisHealthProbe } from '../adapters/redis/redisHealthProbe.js';
import { ServiceBusConfigProbe } from '../adapters/servicebus/serviceBusConfigProbe.js';
import { type AppConfig, loadAppConfig } from '../config/appConfig.js';
import type { HealthProbe } from '../ports/healthProbe.js';

/** Everything the functions use, wired from configuration. The only place that picks adapters. */
export interface Container {
  readonly config: AppConfig;
  readonly healthProbes: readonly HealthProbe[];
  dispose(): Promise<void>;
}

function lazy<T>(create: () => T): { get: () => T; created: () => T | undefined } {
  let value: T | undefined;
  return {
    get: () => (value ??= create()),
    created: () => value,
  };
}

export function createContainer(config: AppConfig = loadAppConfig()): Container {
  const appDb = lazy<Database.Database>(() => openSqliteDatabase(config.appStore.path));
  const redis = config.redis ? lazy(() => new Redis(config.redis!.url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true })) : undefined;
  const healthProbes: HealthProbe[] = [new SqliteHealthProbe('appStore', appDb.get)];
  if (redis) healthProbes.push(new RedisHealthProbe(redis.get));
  if (config.serviceBus) healthProbes.push(new ServiceBusConfigProbe(config.serviceBus));
  return {
    config,
    healthProbes,
    async dispose() {
      appDb.created()?.close();
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
