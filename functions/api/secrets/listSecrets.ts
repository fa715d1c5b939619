import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { isReservedSecretName } from '../../../shared/ports/secretStore.js';
import { secretView } from './secretRequests.js';

/** `GET /api/tenants/{tenantId}/secrets`: the tenant's secrets by name with their latest version (never values; not the platform's own). */
export const listSecretsHandler = apiHandler({ roles: WRITE_ROLES }, async (api) => {
  const { tenant } = await tenantScope(api);
  const secrets = (await getContainer().secretStore.listNames(tenant.id)).filter((secret) => !isReservedSecretName(secret.name));
  return { status: 200, body: { items: secrets.map((secret) => secretView(tenant.id, secret)) } };
});

app.http('listSecrets', { route: 'tenants/{tenantId}/secrets', methods: ['GET'], authLevel: 'anonymous', handler: listSecretsHandler });
