import { app } from '@azure/functions';
import { getTenant } from '../../../shared/application/tenantUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}`: the caller's own tenant (or any, for a platform admin). */
export const getTenantHandler = apiHandler({ roles: ['Tenant.Admin', 'Tenant.User'] }, async (api) => {
  const tenant = await getTenant(api.tenantId!, getContainer().tenantDependencies());
  return { status: 200, body: tenantView(tenant), headers: { etag: etagOf(tenant.revision) } };
});

app.http('getTenant', { route: 'tenants/{tenantId}', methods: ['GET'], authLevel: 'anonymous', handler: getTenantHandler });
