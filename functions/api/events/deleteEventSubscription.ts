import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { deleteEventSubscription } from '../../../shared/application/eventUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { eventSubscriptionRoute } from './eventSubscriptionRequests.js';

/** `DELETE /api/tenants/{tenantId}/eventSubscriptions/{subscriptionId}` (Tenant.Admin; idempotent: 204 either way; `If-Match` honoured). */
export const deleteEventSubscriptionHandler = apiHandler({ roles: WRITE_ROLES, audit: 'eventSubscription.delete' }, async (api) => {
  const { data, subscriptionId } = await eventSubscriptionRoute(api);
  await deleteEventSubscription(subscriptionId, api.ifMatch(), data);
  return { status: 204 };
});

app.http('deleteEventSubscription', { route: 'tenants/{tenantId}/eventSubscriptions/{subscriptionId}', methods: ['DELETE'], authLevel: 'anonymous', handler: deleteEventSubscriptionHandler });
