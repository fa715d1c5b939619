import { createHash } from 'node:crypto';
import { AppError } from '../../domain/errors.js';
import type { EgressPolicy, Resolver } from '../rest/addressPolicy.js';
import { resolveAndCheck, SsrfErrorCodes } from '../rest/addressPolicy.js';
import type { DatabaseEngine } from './databaseInput.js';
import type { EnginePool } from './engineDriver.js';
import { createMysqlPool } from './mysqlPool.js';
import type { ConnectionSettings } from './parseConnection.js';
import { createPostgresPool } from './postgresPool.js';
import { createSqlServerPool } from './sqlServerPool.js';

const DEFAULT_PORTS = [80, 443];

/**
 * One pool per (engine, hash of the connection string). A pool is created only after the SSRF guard: the port must
 * be allowed, the host is resolved once and every address checked, and the pool connects to the checked address.
 */
export class DatabasePools {
  readonly #pools = new Map<string, Promise<EnginePool>>();

  constructor(
    private readonly policy: EgressPolicy,
    private readonly resolver: Resolver | undefined,
  ) {}

  get(engine: DatabaseEngine, connection: string, settings: ConnectionSettings): Promise<EnginePool> {
    const key = `${engine}:${createHash('sha256').update(connection).digest('hex')}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = this.#create(settings);
      this.#pools.set(key, pool);
      pool.catch(() => this.#pools.delete(key));
    }
    return pool;
  }

  async #create(settings: ConnectionSettings): Promise<EnginePool> {
    const ports = new Set([...DEFAULT_PORTS, ...(this.policy.allowPorts ?? [])]);
    if (!ports.has(settings.port)) {
      throw new AppError(SsrfErrorCodes.blocked, `Egress to host "${settings.hostname}" is blocked: port ${settings.port} is not allowed`, {
        details: { host: settings.hostname, reason: 'port' },
      });
    }
    const [address] = await resolveAndCheck(settings.hostname, this.policy, this.resolver);
    if (!address) throw new AppError(SsrfErrorCodes.dnsFailed, `DNS lookup for host "${settings.hostname}" returned no addresses`);
    switch (settings.engine) {
      case 'postgres':
        return createPostgresPool(settings, address);
      case 'mysql':
        return createMysqlPool(settings, address);
      case 'sqlserver':
        return createSqlServerPool(settings, address);
    }
  }

  /** Closes every pool (tests, shutdown). */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map(async (pool) => (await pool.catch(() => undefined))?.close().catch(() => undefined)));
  }
}
