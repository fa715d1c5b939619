import { tenantEgressProblems, type TenantEgress } from '../domain/egress.js';
import { AppError, ErrorCodes, ValidationError } from '../domain/errors.js';
import { EventErrorCodes, eventSourceKey, eventSourceProblems } from '../domain/events.js';
import { DEFAULT_QUOTAS, type Tenant, type TenantPlacement, type TenantQuotas, type TenantStatus, type TenantTier } from '../domain/tenant.js';
import type { AppStore, Page, PageOptions, TenantChanges } from '../ports/appStore.js';
import type { ArtifactStore } from '../ports/artifactStore.js';
import type { SecretStore } from '../ports/secretStore.js';
import { createTenantSchema, updateTenantSchema } from './requestSchemas.js';
import { validateRequest } from './validateRequest.js';

export interface TenantDependencies {
  store: AppStore;
  /** Development only: the Entra tenant id the development issuer uses for a tenant without one. */
  defaultEntraTenantId?: (tenantId: string) => string;
  /** The tenant data kept outside the app store, deleted with the tenant. */
  outsideAppStore?: { secrets: () => SecretStore; artifacts: ArtifactStore };
}

interface CreateTenantBody {
  id: string;
  name: string;
  tier: TenantTier;
  entraTenantId?: string;
  placement?: TenantPlacement;
  quotas?: Partial<TenantQuotas>;
  egress?: Partial<TenantEgress> | null;
}

interface UpdateTenantBody {
  name?: string;
  tier?: TenantTier;
  status?: TenantStatus;
  entraTenantId?: string | null;
  quotas?: Partial<TenantQuotas>;
  egress?: Partial<TenantEgress> | null;
  eventSources?: string[];
}

/** A tenant's event sources as stored: trimmed, lower-cased, unique (TENANT.EVENT_SOURCES_INVALID lists every problem). */
function tenantEventSources(sources: readonly string[]): string[] {
  const problems = eventSourceProblems(sources);
  if (problems.length > 0) {
    throw new ValidationError(EventErrorCodes.eventSourcesInvalid, "The tenant's event sources are invalid.", problems.map((message) => ({ pointer: `/${message.split(':')[0]}`, message })));
  }
  return [...new Set(sources.map(eventSourceKey))];
}

/**
 * A tenant's egress allow-list as stored: entries trimmed and lower-cased, checked with the SSRF guard's own parser
 * (TENANT.EGRESS_INVALID, every problem listed; metadata endpoints are refused). Empty or null → no list.
 */
function tenantEgress(egress: Partial<TenantEgress> | null): TenantEgress | null {
  if (egress === null) return null;
  const problems = tenantEgressProblems(egress);
  if (problems.length > 0) throw new ValidationError(ErrorCodes.tenantEgressInvalid, "The tenant's egress allow-list is invalid.", problems);
  const allowHosts = [...new Set((egress.allowHosts ?? []).map((entry) => entry.trim().toLowerCase()))];
  const allowPorts = [...(egress.allowPorts ?? [])];
  return allowHosts.length === 0 && allowPorts.length === 0 ? null : { allowHosts, allowPorts };
}

/** Onboards a tenant: tier defaults for quotas (overridable field by field), shared or dedicated placement. */
export async function createTenant(body: unknown, deps: TenantDependencies): Promise<Tenant> {
  const request = validateRequest<CreateTenantBody>(createTenantSchema, body);
  const entraTenantId = request.entraTenantId?.toLowerCase() ?? deps.defaultEntraTenantId?.(request.id) ?? null;
  return deps.store.tenants.create({
    id: request.id,
    name: request.name,
    tier: request.tier,
    status: 'active',
    quotas: { ...DEFAULT_QUOTAS[request.tier], ...request.quotas },
    entraTenantId,
    placement: request.placement ?? 'shared',
    egress: request.egress === undefined ? null : tenantEgress(request.egress),
    eventSources: [],
  });
}

export async function getTenant(tenantId: string, deps: TenantDependencies): Promise<Tenant> {
  const tenant = await deps.store.tenants.get(tenantId);
  if (!tenant) throw new AppError(ErrorCodes.tenantNotFound, `Tenant '${tenantId}' was not found.`);
  return tenant;
}

export async function listTenants(options: PageOptions & { status?: TenantStatus }, deps: TenantDependencies): Promise<Page<Tenant>> {
  return deps.store.tenants.list(options);
}

/** Changes a tenant; a tier change resets quotas to the new tier's defaults unless quotas are given too. */
export async function updateTenant(tenantId: string, body: unknown, ifRevision: number | undefined, deps: TenantDependencies): Promise<Tenant> {
  const request = validateRequest<UpdateTenantBody>(updateTenantSchema, body);
  const current = await getTenant(tenantId, deps);
  const tier = request.tier ?? current.tier;
  const baseQuotas = request.tier && request.tier !== current.tier ? DEFAULT_QUOTAS[tier] : current.quotas;
  const changes: TenantChanges = {};
  if (request.name !== undefined) changes.name = request.name;
  if (request.tier !== undefined) changes.tier = request.tier;
  if (request.status !== undefined) changes.status = request.status;
  if (request.entraTenantId !== undefined) changes.entraTenantId = request.entraTenantId?.toLowerCase() ?? null;
  if (request.quotas !== undefined || request.tier !== undefined) changes.quotas = { ...baseQuotas, ...request.quotas };
  if (request.egress !== undefined) changes.egress = tenantEgress(request.egress);
  if (request.eventSources !== undefined) changes.eventSources = tenantEventSources(request.eventSources);
  return deps.store.tenants.update(tenantId, changes, ifRevision === undefined ? {} : { ifRevision });
}

/** Offboards a tenant with all of its data. Idempotent: deleting a deleted tenant is not an error. */
export async function deleteTenant(tenantId: string, ifRevision: number | undefined, deps: TenantDependencies): Promise<void> {
  await deps.store.tenants.delete(tenantId, ifRevision === undefined ? {} : { ifRevision });
  // After the tenant row: a failure here leaves data a repeated DELETE (idempotent) removes, never a tenant without its secrets.
  if (!deps.outsideAppStore) return;
  const secrets = deps.outsideAppStore.secrets();
  for (const secret of await secrets.listNames(tenantId)) await secrets.delete(tenantId, secret.name);
  await deps.outsideAppStore.artifacts.deletePrefix(tenantId);
}
