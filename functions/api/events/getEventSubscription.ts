import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { getEventSubscription } from '../../../shared/application/eventUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { eventSubscriptionResult, eventSubscriptionRoute } from './eventSubscriptionRequests.js';

/** `GET /api/tenants/{tenantId}/eventSubscriptions/{subscriptionId}`: the subscription with its ETag. */
export const getEventSubscriptionHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data, subscriptionId } = await eventSubscriptionRoute(api);
  return eventSubscriptionResult(200, await getEventSubscription(subscriptionId, data));
});

app.http('getEventSubscription', { route: 'tenants/{tenantId}/eventSubscriptions/{subscriptionId}', methods: ['GET'], authLevel: 'anonymous', handler: getEventSubscriptionHandler });
