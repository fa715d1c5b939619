import { getContainer } from '../../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import type { Tenant } from '../../../shared/domain/tenant.js';
import type { TenantDataStore } from '../../../shared/ports/appStore.js';
import type { ApiRequest } from './apiHandler.js';

/** The tenant of a tenant-scoped route (already access-checked by apiHandler) with its data store. */
export async function tenantScope(api: ApiRequest): Promise<{ tenant: Tenant; data: TenantDataStore }> {
  if (!api.tenantId) throw new AppError(ErrorCodes.requestInvalid, 'This operation needs a tenant (route or X-Tenant-ID).');
  const container = getContainer();
  const tenant = await container.tenantCache.get(api.tenantId);
  if (!tenant) throw new AppError(ErrorCodes.tenantNotFound, `Tenant '${api.tenantId}' was not found.`);
  return { tenant, data: await container.appStore.forTenant(tenant.id) };
}
