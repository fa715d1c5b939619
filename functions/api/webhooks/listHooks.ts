import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { listHooks } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { hookView } from '../http/views.js';
import { hookRoute, originOf } from './hookRequests.js';

/** `GET /api/tenants/{tenantId}/hooks`: the tenant's webhooks, paged (never secrets). */
export const listHooksHandler = apiHandler({ roles: WRITE_ROLES }, async (api) => {
  const { data } = await hookRoute(api);
  const origin = originOf(api);
  return { status: 200, body: pageBody(api.request, await listHooks(pageOptions(api.request), data), (hook) => hookView(hook, origin)) };
});

app.http('listHooks', { route: 'tenants/{tenantId}/hooks', methods: ['GET'], authLevel: 'anonymous', handler: listHooksHandler });
