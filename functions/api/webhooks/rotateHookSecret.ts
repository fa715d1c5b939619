import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { rotateHookSecret } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { hookView } from '../http/views.js';
import { hookEtag, hookRoute, originOf } from './hookRequests.js';

/**
 * `POST /api/tenants/{tenantId}/hooks/{hookId}:rotateSecret` with optional `{"gracePeriodSeconds": n}`: a new
 * secret, shown this once; the previous one stays valid for the grace period (default 24 h).
 */
export const rotateHookSecretHandler = apiHandler({ roles: WRITE_ROLES, audit: 'hook.rotateSecret' }, async (api) => {
  const { tenant, hookId, deps } = await hookRoute(api);
  const { hook, secret } = await rotateHookSecret(tenant, hookId, await api.body(), api.ifMatch(), api.ctx.now, deps);
  return { status: 200, body: { ...hookView(hook, originOf(api)), secret }, headers: hookEtag(hook.revision) };
});

app.http('rotateHookSecret', { route: 'tenants/{tenantId}/hooks/{hookId}:rotateSecret', methods: ['POST'], authLevel: 'anonymous', handler: rotateHookSecretHandler });
