import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { replayDelivery } from '../../../shared/application/webhookUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { runView } from '../http/views.js';
import { runQueueOutputs, type RunDispatchMessage } from '../../triggers/runQueues.js';
import { hookRoute } from './hookRequests.js';

/**
 * `POST /api/tenants/{tenantId}/hooks/{hookId}/deliveries/{deliveryId}:replay`: a new run from the stored
 * payload of that delivery (the original entry and its run stay); 202 with the run, like starting one.
 */
export const replayHookDeliveryHandler = apiHandler({ roles: WRITE_ROLES, audit: 'hook.replayDelivery' }, async (api) => {
  const { tenant, data, hookId } = await hookRoute(api);
  const { delivery, run } = await replayDelivery(api.ctx, tenant, hookId, api.request.params['deliveryId'] ?? '', data);
  api.invocation.extraOutputs.set(runQueueOutputs[tenant.tier], { tenantId: tenant.id, runId: run.id } satisfies RunDispatchMessage);
  return { status: 202, body: { deliveryId: delivery.deliveryId, replayId: delivery.id, run: runView(run) }, headers: { location: `/api/tenants/${tenant.id}/runs/${run.id}` } };
});

app.http('replayHookDelivery', {
  route: 'tenants/{tenantId}/hooks/{hookId}/deliveries/{deliveryId}:replay',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraOutputs: Object.values(runQueueOutputs),
  handler: replayHookDeliveryHandler,
});
