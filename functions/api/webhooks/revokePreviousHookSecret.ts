import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { revokePreviousHookSecret } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { hookView } from '../http/views.js';
import { hookEtag, hookRoute, originOf } from './hookRequests.js';

/** `POST /api/tenants/{tenantId}/hooks/{hookId}:revokePreviousSecret`: ends a rotation's grace period now. */
export const revokePreviousHookSecretHandler = apiHandler({ roles: WRITE_ROLES, audit: 'hook.revokePreviousSecret' }, async (api) => {
  const { data, hookId } = await hookRoute(api);
  const hook = await revokePreviousHookSecret(hookId, api.ifMatch(), data);
  return { status: 200, body: hookView(hook, originOf(api)), headers: hookEtag(hook.revision) };
});

app.http('revokePreviousHookSecret', { route: 'tenants/{tenantId}/hooks/{hookId}:revokePreviousSecret', methods: ['POST'], authLevel: 'anonymous', handler: revokePreviousHookSecretHandler });
