import { apiHandler } from '../http/apiHandler.js';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { cancelDecision } from '../../../shared/application/runControl.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';
import { releaseRunSlot } from '../../triggers/admittedRuns.js';
import { publishRunEvent, runEventsOutput } from '../../triggers/runEvents.js';
import { isActive, runtimeStatusOf, terminateRunTree } from './runControlHttp.js';

/**
 * `POST /api/tenants/{tenantId}/runs/{runId}:cancel`: terminates the run's orchestration and every active
 * instance below it (steps, forEach iterations, child runs with theirs), then records the run and its stopped
 * child runs `cancelled` (publishing run.cancelled for the run). 200 with the run; idempotent for
 * a cancelled run; 409 RUN.NOT_RUNNING for a succeeded or failed one. A queued run is taken off the admission
 * list; a running one frees its slot for the next waiting run.
 */
export const cancelRunHandler = apiHandler({ roles: READ_ROLES, audit: 'run.cancel' }, async (api) => {
  const { data } = await tenantScope(api);
  const runId = api.request.params['runId']!;
  api.auditTarget('run', runId);
  const run = await getRun(runId, { data });
  if (cancelDecision(run) === 'alreadyCancelled') return { status: 200, body: { ...runView(run), steps: run.steps } };

  const client = df.getClient(api.invocation);
  const reason = `Cancelled by ${api.ctx.principal.subject} (${api.ctx.correlationId}).`;
  const terminatedBelow = await terminateRunTree(client, runId, new Date(run.createdAt), reason);
  // Let the termination land so no in-flight status write of the orchestration follows ours.
  for (let i = 0; i < 20 && isActive(await runtimeStatusOf(client, runId)); i++) await new Promise((resolve) => setTimeout(resolve, 100));

  const at = api.ctx.now.toISOString();
  const markCancelled = async (id: string): Promise<void> => {
    const steps = await data.runs.listSteps(id);
    await Promise.all(
      steps
        .filter((step) => step.status === 'running' || step.status === 'pending')
        .map(({ tenantId: _tenantId, ...step }) => data.runs.putStep({ ...step, status: 'cancelled', completedAt: at })),
    );
  };
  // Child runs (sub-workflows) stopped with it are cancelled too, each with its unfinished steps.
  const childRunIds = terminatedBelow.filter((instanceId) => instanceId.endsWith(':sub'));
  for (const childId of childRunIds) {
    const child = await data.runs.get(childId);
    if (child && (child.status === 'queued' || child.status === 'running')) {
      await data.runs.update(childId, { status: 'cancelled', completedAt: at });
      await markCancelled(childId);
    }
  }
  const cancelled = await data.runs.update(runId, { status: 'cancelled', completedAt: at });
  publishRunEvent(api.invocation, cancelled, at);
  await markCancelled(runId);
  // Its slot, or its place in the admission list, goes to the next waiting run.
  await releaseRunSlot(client, data.tenantId, runId, api.invocation);
  return { status: 200, body: { ...runView(cancelled), steps: await data.runs.listSteps(runId) } };
});

app.http('cancelRun', {
  route: 'tenants/{tenantId}/runs/{runId}:cancel',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  extraOutputs: [runEventsOutput],
  handler: cancelRunHandler,
});
