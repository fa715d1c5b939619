import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { AppError } from '../../../shared/domain/errors.js';
import { apiHandler } from '../http/apiHandler.js';
import { findSecret, secretRoute, secretView } from './secretRequests.js';

/** `GET /api/tenants/{tenantId}/secrets/{name}`: the secret's name, latest version and update time (never the value). */
export const getSecretHandler = apiHandler({ roles: WRITE_ROLES }, async (api) => {
  const route = await secretRoute(api);
  const secret = await findSecret(route.tenantId, route.name);
  if (!secret) throw new AppError('SECRET.NOT_FOUND', `Secret '${route.name}' was not found.`);
  return { status: 200, body: secretView(route.tenantId, secret) };
});

app.http('getSecret', { route: 'tenants/{tenantId}/secrets/{name}', methods: ['GET'], authLevel: 'anonymous', handler: getSecretHandler });
