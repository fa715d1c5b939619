import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { createHook } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { hookView } from '../http/views.js';
import { hookEtag, hookRoute, originOf } from './hookRequests.js';

/**
 * `POST /api/tenants/{tenantId}/hooks`: creates a webhook for a workflow; 201 with its ingress `url` and its
 * signing `secret`, shown this once (the audit entry and every later answer hold neither).
 */
export const createHookHandler = apiHandler({ roles: WRITE_ROLES, audit: 'hook.create' }, async (api) => {
  const { tenant, deps } = await hookRoute(api);
  const { hook, secret } = await createHook(api.ctx, tenant, await api.body(), deps);
  api.auditTarget('hook', hook.id);
  return { status: 201, body: { ...hookView(hook, originOf(api)), secret }, headers: { location: `/api/tenants/${tenant.id}/hooks/${hook.id}`, ...hookEtag(hook.revision) } };
});

app.http('createHook', { route: 'tenants/{tenantId}/hooks', methods: ['POST'], authLevel: 'anonymous', handler: createHookHandler });
