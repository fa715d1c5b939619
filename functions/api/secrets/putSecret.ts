import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler } from '../http/apiHandler.js';
import { findSecret, secretRoute, secretValueOf } from './secretRequests.js';

/**
 * `PUT /api/tenants/{tenantId}/secrets/{name}` with `{"value": "..."}`: creates the secret (201) or rotates it
 * to a new version (200), which the next step that uses it picks up. The answer and the audit entry hold the
 * name and version only, never the value.
 */
export const putSecretHandler = apiHandler({ roles: WRITE_ROLES, audit: 'secret.set' }, async (api) => {
  const { tenantId, name } = await secretRoute(api);
  api.auditTarget('secret', name);
  const value = await secretValueOf(api);
  const existed = (await findSecret(tenantId, name)) !== undefined;
  const written = await getContainer().secretStore.set(tenantId, name, value);
  return {
    status: existed ? 200 : 201,
    body: { name, version: written.version, updatedAt: written.updatedAt },
    headers: existed ? undefined : { location: `/api/tenants/${tenantId}/secrets/${name}` },
  };
});

app.http('putSecret', { route: 'tenants/{tenantId}/secrets/{name}', methods: ['PUT'], authLevel: 'anonymous', handler: putSecretHandler });
