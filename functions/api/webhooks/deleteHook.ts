import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { deleteHook } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { hookRoute } from './hookRequests.js';

/** `DELETE /api/tenants/{tenantId}/hooks/{hookId}`: the hook, its deliveries and its secret (idempotent: 204 either way). */
export const deleteHookHandler = apiHandler({ roles: WRITE_ROLES, audit: 'hook.delete' }, async (api) => {
  const { tenant, hookId, deps } = await hookRoute(api);
  await deleteHook(tenant, hookId, api.ifMatch(), deps);
  return { status: 204 };
});

app.http('deleteHook', { route: 'tenants/{tenantId}/hooks/{hookId}', methods: ['DELETE'], authLevel: 'anonymous', handler: deleteHookHandler });
