import { apiHandler } from '../http/apiHandler.js';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { cancelDecision, stepIdsOf } from '../../../shared/application/runControl.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';
import { isActive, runtimeStatusOf, terminateIfActive } from './runControlHttp.js';

/**
 * `POST /api/tenants/{tenantId}/runs/{runId}:cancel`: terminates the run's orchestration and its active step
 * sub-orchestrations (`${runId}:${stepId}`), then records the run `cancelled`. 200 with the run; idempotent for
 * a cancelled run; 409 RUN.NOT_RUNNING for a succeeded or failed one. A queued run not dispatched yet is only
 * marked: the dispatcher starts queued runs only.
 */
export const cancelRunHandler = apiHandler({ roles: READ_ROLES, audit: 'run.cancel' }, async (api) => {
  const { data } = await tenantScope(api);
  const runId = api.request.params['runId']!;
  api.auditTarget('run', runId);
  const run = await getRun(runId, { data });
  if (cancelDecision(run) === 'alreadyCancelled') return { status: 200, body: { ...runView(run), steps: run.steps } };

  const client = df.getClient(api.invocation);
  const reason = `Cancelled by ${api.ctx.principal.subject} (${api.ctx.correlationId}).`;
  await terminateIfActive(client, runId, reason);
  const version = await data.workflows.getVersion(run.workflowId, run.workflowVersion);
  const stepIds = new Set([...(version ? stepIdsOf(version.definition) : []), ...run.steps.map((step) => step.stepId)]);
  await Promise.all([...stepIds].map((stepId) => terminateIfActive(client, `${runId}:${stepId}`, reason)));
  // Let the termination land so no in-flight status write of the orchestration follows ours.
  for (let i = 0; i < 20 && isActive(await runtimeStatusOf(client, runId)); i++) await new Promise((resolve) => setTimeout(resolve, 100));

  const at = api.ctx.now.toISOString();
  const cancelled = await data.runs.update(runId, { status: 'cancelled', completedAt: at });
  const steps = await data.runs.listSteps(runId);
  await Promise.all(
    steps
      .filter((step) => step.status === 'running' || step.status === 'pending')
      .map(({ tenantId: _tenantId, ...step }) => data.runs.putStep({ ...step, status: 'cancelled', completedAt: at })),
  );
  return { status: 200, body: { ...runView(cancelled), steps: await data.runs.listSteps(runId) } };
});

app.http('cancelRun', {
  route: 'tenants/{tenantId}/runs/{runId}:cancel',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: cancelRunHandler,
});
