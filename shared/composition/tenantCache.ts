import type { Tenant } from '../domain/tenant.js';
import type { TenantRepository } from '../ports/appStore.js';

/**
 * Tenants read on every request (quotas, status, tier) are kept for a few seconds. Changes through this
 * process forget the entry at once; other instances see them within the TTL.
 */
export class TenantCache {
  readonly #entries = new Map<string, { tenant: Tenant | undefined; expires: number }>();

  constructor(
    private readonly tenants: TenantRepository,
    private readonly ttlMs = 5_000,
  ) {}

  async get(tenantId: string): Promise<Tenant | undefined> {
    const now = Date.now();
    const cached = this.#entries.get(tenantId);
    if (cached && cached.expires > now) return cached.tenant;
    const tenant = await this.tenants.get(tenantId);
    this.#entries.set(tenantId, { tenant, expires: now + this.ttlMs });
    if (this.#entries.size > 10_000) this.#entries.delete(this.#entries.keys().next().value as string);
    return tenant;
  }

  forget(tenantId: string): void {
    this.#entries.delete(tenantId);
  }
}
