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
 * One pool per (tenant, egress policy, engine, hash of the connection string). A pool is created only after the
 * SSRF guard under the policy of the tenant's call (the operator's merged with the tenant's): the port must be
 * allowed, the host is resolved once and every address checked, and the pool connects to the checked address.
 * Keyed by tenant and policy, so a pool one tenant's allow-list let through never serves another tenant, nor the same
 * tenant once its allow-list changed.
 */
export class DatabasePools {
  readonly #pools = new Map<string, Promise<EnginePool>>();

  constructor(private readonly resolver: Resolver | undefined) {}

  get(engine: DatabaseEngine, connection: string, settings: ConnectionSettings, tenantId: string, policy: EgressPolicy): Promise<EnginePool> {
    const key = createHash('sha256').update(JSON.stringify([tenantId, policy.allowHosts ?? [], policy.allowPorts ?? [], engine, connection])).digest('hex');
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = this.#create(settings, policy);
      this.#pools.set(key, pool);
      pool.catch(() => this.#pools.delete(key));
    }
    return pool;
  }

  async #create(settings: ConnectionSettings, policy: EgressPolicy): Promise<EnginePool> {
    const ports = new Set([...DEFAULT_PORTS, ...(policy.allowPorts ?? [])]);
    if (!ports.has(settings.port)) {
      throw new AppError(SsrfErrorCodes.blocked, `Egress to host "${settings.hostname}" is blocked: port ${settings.port} is not allowed`, {
        details: { host: settings.hostname, reason: 'port' },
      });
    }
    const [address] = await resolveAndCheck(settings.hostname, policy, this.resolver);
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
