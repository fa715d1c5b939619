import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { createEventSubscription } from '../../../shared/application/eventUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { eventSubscriptionResult, eventSubscriptionRoute } from './eventSubscriptionRequests.js';

/** `POST /api/tenants/{tenantId}/eventSubscriptions`: subscribes a workflow to event types (Tenant.Admin); 201. */
export const createEventSubscriptionHandler = apiHandler({ roles: WRITE_ROLES, audit: 'eventSubscription.create' }, async (api) => {
  const { tenant, data } = await eventSubscriptionRoute(api);
  const subscription = await createEventSubscription(api.ctx, tenant, await api.body(), data);
  api.auditTarget('eventSubscription', subscription.id);
  return eventSubscriptionResult(201, subscription, { location: `/api/tenants/${tenant.id}/eventSubscriptions/${subscription.id}` });
});

app.http('createEventSubscription', { route: 'tenants/{tenantId}/eventSubscriptions', methods: ['POST'], authLevel: 'anonymous', handler: createEventSubscriptionHandler });
