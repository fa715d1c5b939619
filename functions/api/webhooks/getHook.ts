import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { getHook } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { hookView } from '../http/views.js';
import { hookEtag, hookRoute, originOf } from './hookRequests.js';

/** `GET /api/tenants/{tenantId}/hooks/{hookId}`: the hook with its ETag (never its secret). */
export const getHookHandler = apiHandler({ roles: WRITE_ROLES }, async (api) => {
  const { data, hookId } = await hookRoute(api);
  const hook = await getHook(hookId, data);
  return { status: 200, body: hookView(hook, originOf(api)), headers: hookEtag(hook.revision) };
});

app.http('getHook', { route: 'tenants/{tenantId}/hooks/{hookId}', methods: ['GET'], authLevel: 'anonymous', handler: getHookHandler });
