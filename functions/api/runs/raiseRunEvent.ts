import { apiHandler } from '../http/apiHandler.js';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { assertAcceptsEvents, canApprove, eventPayload, findWaitingStep, RunControlErrorCodes, validateEventName } from '../../../shared/application/runControl.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import { tenantScope } from '../http/tenantScope.js';
import { isActive, runtimeStatusOf } from './runControlHttp.js';

/**
 * `POST /api/tenants/{tenantId}/runs/{runId}/events/{name}`: resumes the step of the run that waits for the
 * event `name` (a waitForEvent step on that event, or `approval:<stepId>` for an approval, whose body is the
 * decision and whose caller must be one of its approvers) by raising it on the step's sub-orchestration
 * `${runId}:${stepId}`. 202; 409 RUN.NOT_RUNNING for a finished run; 404 EVENT.NOT_EXPECTED when no step waits
 * for the event now.
 */
export const raiseRunEventHandler = apiHandler({ roles: READ_ROLES, audit: 'run.event' }, async (api) => {
  const { data } = await tenantScope(api);
  const runId = api.request.params['runId']!;
  const name = validateEventName(api.request.params['name'] ?? '');
  api.auditTarget('run', runId);
  const run = await getRun(runId, { data });
  assertAcceptsEvents(run);
  const version = await data.workflows.getVersion(run.workflowId, run.workflowVersion);
  if (!version) throw new AppError(ErrorCodes.versionNotFound, `Run '${runId}' pins version ${run.workflowVersion} of '${run.workflowId}', which no longer exists.`);
  const step = findWaitingStep(version.definition, name);
  if (!step) throw new AppError(RunControlErrorCodes.eventNotExpected, `No step of run '${runId}' waits for the event '${name}'.`);
  if (step.kind === 'approval' && !canApprove(api.ctx.principal, step.approvers)) {
    throw new AppError(ErrorCodes.forbidden, `Only the approvers of step '${step.stepId}' (roles ${step.approvers.roles.join(', ') || 'none'}) may decide it.`);
  }
  const payload = eventPayload(step, await api.body(), api.ctx.principal, api.ctx.now.toISOString());
  const client = df.getClient(api.invocation);
  const instanceId = `${runId}:${step.stepId}`;
  if (!isActive(await runtimeStatusOf(client, instanceId))) {
    throw new AppError(RunControlErrorCodes.eventNotExpected, `Step '${step.stepId}' of run '${runId}' is not waiting for '${name}' now (not started yet, or already done).`);
  }
  await client.raiseEvent(instanceId, name, payload);
  return { status: 202, body: { runId, stepId: step.stepId, event: name, accepted: true }, headers: { location: `/api/tenants/${run.tenantId}/runs/${runId}` } };
});

app.http('raiseRunEvent', {
  route: 'tenants/{tenantId}/runs/{runId}/events/{name}',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: raiseRunEventHandler,
});
