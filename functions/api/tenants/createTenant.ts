import { app } from '@azure/functions';
import { createTenant } from '../../../shared/application/tenantUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantView } from '../http/views.js';

/** `POST /api/tenants`: onboards a tenant (Platform.Admin). */
export const createTenantHandler = apiHandler({ roles: ['Platform.Admin'], audit: 'tenant.create' }, async (api) => {
  const body = await api.body();
  const requestedId = (body as { id?: unknown } | undefined)?.id;
  if (typeof requestedId === 'string') api.auditTarget('tenant', requestedId);
  const tenant = await createTenant(body, getContainer().tenantDependencies());
  getContainer().tenantCache.forget(tenant.id);
  return { status: 201, body: tenantView(tenant), headers: { location: `/api/tenants/${tenant.id}`, etag: etagOf(tenant.revision) } };
});

app.http('createTenant', { route: 'tenants', methods: ['POST'], authLevel: 'anonymous', handler: createTenantHandler });
