import { app } from '@azure/functions';
import { deleteTenant } from '../../../shared/application/tenantUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler } from '../http/apiHandler.js';

/** `DELETE /api/tenants/{tenantId}`: offboards a tenant and deletes its data (Platform.Admin). */
export const deleteTenantHandler = apiHandler({ roles: ['Platform.Admin'] }, async (api) => {
  await deleteTenant(api.tenantId!, api.ifMatch(), getContainer().tenantDependencies());
  getContainer().tenantCache.forget(api.tenantId!);
  return { status: 204 };
});

app.http('deleteTenant', { route: 'tenants/{tenantId}', methods: ['DELETE'], authLevel: 'anonymous', handler: deleteTenantHandler });
