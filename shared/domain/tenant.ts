import type { TenantEgress } from './egress.js';

/** Service tiers: they set default quotas and the run queue a tenant's runs go to. */
export const TENANT_TIERS = ['premium', 'standard', 'basic'] as const;
export type TenantTier = (typeof TENANT_TIERS)[number];

export const TENANT_STATUSES = ['active', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** Where a tenant's data lives: the shared database, or a database of its own. */
export const TENANT_PLACEMENTS = ['shared', 'dedicated'] as const;
export type TenantPlacement = (typeof TENANT_PLACEMENTS)[number];

export interface TenantQuotas {
  /** Management/API requests per second (token bucket refill rate). */
  requestsPerSecond: number;
  runsPerDay: number;
  maxWorkflows: number;
  /** Largest request body / run input accepted, in bytes. */
  maxPayloadBytes: number;
  /** Runs executing at once (excess runs wait in the queue). */
  maxConcurrentRuns: number;
}

/** Tenant ids are slugs: they appear in URLs, keys and database names. */
export const TENANT_ID_PATTERN = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;

export interface Tenant {
  id: string;
  name: string;
  tier: TenantTier;
  status: TenantStatus;
  quotas: TenantQuotas;
  /** The Entra ID directory (tenant) whose tokens map to this tenant. */
  entraTenantId: string | null;
  placement: TenantPlacement;
  /**
   * The tenant's own egress allow-list (hosts/CIDRs and ports its steps may reach besides the public internet),
   * merged with the operator's for this tenant's steps only. Set by a platform admin; `null` when it has none.
   */
  egress: TenantEgress | null;
  /**
   * The Event Grid topics (resource ids) and CloudEvents sources whose events belong to this tenant, stored
   * lower-case; each is registered to one tenant at most. Set by a platform admin only (see docs/events.md).
   */
  eventSources: string[];
  createdAt: string;
  updatedAt: string;
  /** Increments on every change; the ETag is derived from it. */
  revision: number;
}

/** Default quotas per tier; a tenant's own quotas override them field by field. */
export const DEFAULT_QUOTAS: Readonly<Record<TenantTier, Readonly<TenantQuotas>>> = {
  premium: { requestsPerSecond: 100, runsPerDay: 1_000_000, maxWorkflows: 5_000, maxPayloadBytes: 4 * 1024 * 1024, maxConcurrentRuns: 200 },
  standard: { requestsPerSecond: 25, runsPerDay: 100_000, maxWorkflows: 500, maxPayloadBytes: 1024 * 1024, maxConcurrentRuns: 50 },
  basic: { requestsPerSecond: 5, runsPerDay: 5_000, maxWorkflows: 50, maxPayloadBytes: 256 * 1024, maxConcurrentRuns: 10 },
};
