import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { getHook } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { hookDeliveryView } from '../http/views.js';
import { hookRoute } from './hookRequests.js';

/**
 * `GET /api/tenants/{tenantId}/hooks/{hookId}/deliveries`: recent deliveries, newest first, with their outcome
 * (accepted, duplicate, rejected with the reason, replayed), run id and run status; never bodies.
 */
export const listHookDeliveriesHandler = apiHandler({ roles: WRITE_ROLES }, async (api) => {
  const { data, hookId } = await hookRoute(api);
  await getHook(hookId, data);
  return { status: 200, body: pageBody(api.request, await data.hooks.listDeliveries(hookId, pageOptions(api.request)), hookDeliveryView) };
});

app.http('listHookDeliveries', { route: 'tenants/{tenantId}/hooks/{hookId}/deliveries', methods: ['GET'], authLevel: 'anonymous', handler: listHookDeliveriesHandler });
