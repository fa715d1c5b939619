import { apiHandler } from '../http/apiHandler.js';
import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { parseRetryRequest, retryRun } from '../../../shared/application/runControl.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';
import { runQueueOutputs, type RunDispatchMessage } from '../../triggers/runQueues.js';


/**
 * `POST /api/tenants/{tenantId}/runs/{runId}:retry` with `{from?: 'start'|'failedStep', version?: 'pinned'|'latest'}`:
 * a failed or cancelled run is retried as a new run (trigger `retry`, source the original run; the original
 * stays as it was), dispatched through the tenant's tier queue like a started run. 202 with the new run's
 * Location. `from: 'failedStep'` starts the new run from the original's state: its top-level action steps that
 * succeeded keep their recorded outputs and do not run again (see retryRun in runControl.ts); it runs on the
 * pinned version only (`version: 'latest'` naming another version: 400 RUN.RETRY_FROM_STEP_UNSUPPORTED).
 */
export const retryRunHandler = apiHandler({ roles: READ_ROLES, audit: 'run.retry' }, async (api) => {
  const { tenant, data } = await tenantScope(api);
  const runId = api.request.params['runId']!;
  api.auditTarget('run', runId);
  const request = parseRetryRequest(await api.body());
  const original = await getRun(runId, { data });
  const run = await retryRun(api.ctx, tenant, original, request, { data });
  api.invocation.extraOutputs.set(runQueueOutputs[tenant.tier], { tenantId: tenant.id, runId: run.id } satisfies RunDispatchMessage);
  const location = `/api/tenants/${tenant.id}/runs/${run.id}`;
  return { status: 202, body: { ...runView(run), retryOf: original.id }, headers: { location } };
});

app.http('retryRun', {
  route: 'tenants/{tenantId}/runs/{runId}:retry',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraOutputs: Object.values(runQueueOutputs),
  handler: retryRunHandler,
});
