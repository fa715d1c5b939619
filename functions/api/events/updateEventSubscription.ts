import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { updateEventSubscription } from '../../../shared/application/eventUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { eventSubscriptionResult, eventSubscriptionRoute } from './eventSubscriptionRequests.js';

/** `PATCH /api/tenants/{tenantId}/eventSubscriptions/{subscriptionId}`: any setting (Tenant.Admin); `If-Match` honoured. */
export const updateEventSubscriptionHandler = apiHandler({ roles: WRITE_ROLES, audit: 'eventSubscription.update' }, async (api) => {
  const { data, subscriptionId } = await eventSubscriptionRoute(api);
  return eventSubscriptionResult(200, await updateEventSubscription(subscriptionId, await api.body(), api.ifMatch(), data));
});

app.http('updateEventSubscription', { route: 'tenants/{tenantId}/eventSubscriptions/{subscriptionId}', methods: ['PATCH'], authLevel: 'anonymous', handler: updateEventSubscriptionHandler });
