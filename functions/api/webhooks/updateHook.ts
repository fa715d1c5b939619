import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { updateHook } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { hookView } from '../http/views.js';
import { hookEtag, hookRoute, originOf } from './hookRequests.js';

/** `PATCH /api/tenants/{tenantId}/hooks/{hookId}`: name, enabled, maxBodyBytes, respondWith; `If-Match` honoured. */
export const updateHookHandler = apiHandler({ roles: WRITE_ROLES, audit: 'hook.update' }, async (api) => {
  const { tenant, data, hookId } = await hookRoute(api);
  const hook = await updateHook(tenant, hookId, await api.body(), api.ifMatch(), data);
  return { status: 200, body: hookView(hook, originOf(api)), headers: hookEtag(hook.revision) };
});

app.http('updateHook', { route: 'tenants/{tenantId}/hooks/{hookId}', methods: ['PATCH'], authLevel: 'anonymous', handler: updateHookHandler });
