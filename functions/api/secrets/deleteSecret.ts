import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler } from '../http/apiHandler.js';
import { secretRoute } from './secretRequests.js';

/**
 * `DELETE /api/tenants/{tenantId}/secrets/{name}`: deletes the secret with all its versions (idempotent: 204
 * either way). Definitions that reference it stop validating; runs that need it fail at the step.
 */
export const deleteSecretHandler = apiHandler({ roles: WRITE_ROLES, audit: 'secret.delete' }, async (api) => {
  const route = await secretRoute(api);
  api.auditTarget('secret', route.name);
  await getContainer().secretStore.delete(route.tenantId, route.name);
  return { status: 204 };
});

app.http('deleteSecret', { route: 'tenants/{tenantId}/secrets/{name}', methods: ['DELETE'], authLevel: 'anonymous', handler: deleteSecretHandler });
