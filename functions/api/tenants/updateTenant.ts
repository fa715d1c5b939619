import { app } from '@azure/functions';
import { updateTenant } from '../../../shared/application/tenantUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantView } from '../http/views.js';

/**
 * `PATCH /api/tenants/{tenantId}`: name, tier, status, quotas, Entra tenant id, egress allow-list, event
 * sources (Platform.Admin; If-Match honoured). A change of the egress allow-list is audited as
 * `tenant.egress.update`, one of the event sources as `tenant.eventSources.update`.
 */
export const updateTenantHandler = apiHandler({ roles: ['Platform.Admin'], audit: 'tenant.update' }, async (api) => {
  api.auditTarget('tenant', api.tenantId!);
  const body = await api.body();
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'egress' in body) api.auditAction('tenant.egress.update');
  else if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'eventSources' in body) api.auditAction('tenant.eventSources.update');
  const tenant = await updateTenant(api.tenantId!, body, api.ifMatch(), getContainer().tenantDependencies());
  getContainer().tenantCache.forget(tenant.id);
  return { status: 200, body: tenantView(tenant), headers: { etag: etagOf(tenant.revision) } };
});

app.http('updateTenant', { route: 'tenants/{tenantId}', methods: ['PATCH'], authLevel: 'anonymous', handler: updateTenantHandler });
