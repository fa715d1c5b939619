import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { listEventSubscriptions } from '../../../shared/application/eventUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { eventSubscriptionView } from '../http/views.js';
import { eventSubscriptionRoute } from './eventSubscriptionRequests.js';

/** `GET /api/tenants/{tenantId}/eventSubscriptions`: the tenant's event subscriptions, paged. */
export const listEventSubscriptionsHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await eventSubscriptionRoute(api);
  return { status: 200, body: pageBody(api.request, await listEventSubscriptions(pageOptions(api.request), data), eventSubscriptionView) };
});

app.http('listEventSubscriptions', { route: 'tenants/{tenantId}/eventSubscriptions', methods: ['GET'], authLevel: 'anonymous', handler: listEventSubscriptionsHandler });
