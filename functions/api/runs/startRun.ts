import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { startRun } from '../../../shared/application/runUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';
import { runQueueOutputs, type RunDispatchMessage } from '../../triggers/runQueues.js';

/**
 * `POST /api/tenants/{tenantId}/workflows/{workflowId}/runs`: queues a run of the latest (or a named) published
 * version; 202 with `Location`. The same `Idempotency-Key` returns the first run instead of starting another.
 */
export const startRunHandler = apiHandler({ roles: READ_ROLES, audit: 'run.start' }, async (api) => {
  const { tenant, data } = await tenantScope(api);
  const workflowId = api.request.params['workflowId']!;
  api.auditTarget('workflow', workflowId);
  const { run, created } = await startRun(api.ctx, tenant, workflowId, await api.body(), {
    trigger: { kind: 'api', source: api.ctx.principal.subject },
    idempotencyKey: api.request.headers.get('idempotency-key'),
  }, { data });
  // Dispatch through the tier's queue (flushed only when this invocation succeeds). A replayed request whose run
  // is still queued is dispatched again: the first attempt may have died between the insert and the send, and the
  // dispatcher ignores a run whose orchestration exists.
  if (created || run.status === 'queued') api.invocation.extraOutputs.set(runQueueOutputs[tenant.tier], { tenantId: tenant.id, runId: run.id } satisfies RunDispatchMessage);
  const location = `/api/tenants/${tenant.id}/runs/${run.id}`;
  return { status: 202, body: runView(run), headers: { location, ...(created ? {} : { 'idempotent-replayed': 'true' }) } };
});

app.http('startRun', {
  route: 'tenants/{tenantId}/workflows/{workflowId}/runs',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraOutputs: Object.values(runQueueOutputs),
  handler: startRunHandler,
});
