import type { HookDependencies } from '../../../shared/application/webhookUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import type { Tenant } from '../../../shared/domain/tenant.js';
import type { TenantDataStore } from '../../../shared/ports/appStore.js';
import type { ApiRequest } from '../http/apiHandler.js';
import { etagOf } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';

/** The tenant, its data, the `{hookId}` of a hook route (recorded as the audit target) and what the use cases need. */
export async function hookRoute(api: ApiRequest): Promise<{ tenant: Tenant; data: TenantDataStore; hookId: string; deps: HookDependencies }> {
  const { tenant, data } = await tenantScope(api);
  const hookId = api.request.params['hookId'] ?? '';
  if (hookId) api.auditTarget('hook', hookId);
  const container = getContainer();
  return { tenant, data, hookId, deps: { data, hookIndex: container.appStore.hookIndex, secrets: container.secretStore } };
}

/** The origin the caller used, for the hook's absolute ingress URL. */
export function originOf(api: ApiRequest): string {
  return new URL(api.request.url).origin;
}

/** ETag header of a hook. */
export function hookEtag(revision: number): Record<string, string> {
  return { etag: etagOf(revision) };
}
