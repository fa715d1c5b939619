import { apiHandler } from '../http/apiHandler.js';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { assertAcceptsEvents, routeEvent, validateEventName, type WaitingInstance } from '../../../shared/application/runControl.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import { asWaitingStatus } from '../../../shared/domain/engine/index.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import { tenantScope } from '../http/tenantScope.js';
import { activeBelow } from './runControlHttp.js';

/** `?correlationKey=` / `?waitId=`: optional, 1-200 characters. */
function optionalQuery(request: { query: URLSearchParams }, name: string): string | undefined {
  const value = request.query.get(name);
  if (value === null) return undefined;
  if (value.length < 1 || value.length > 200) throw new AppError(ErrorCodes.requestInvalid, `${name} must be 1-200 characters.`);
  return value;
}

/**
 * `POST /api/tenants/{tenantId}/runs/{runId}/events/{name}[?correlationKey=…][&waitId=…]`: resumes the steps of
 * the run that wait for the event `name` now — at any depth: top-level steps, steps in forEach iterations and
 * in child runs. A waitForEvent step takes the body as its output (steps with a correlation key only take
 * events raised with that key); `approval:<stepId>` carries one approver's decision `{decision, comment?}`
 * (callers must be approvers; one vote each; `minApprovals` decide). 202 with the instances it went to;
 * 409 RUN.NOT_RUNNING for a finished run; 404 EVENT.NOT_EXPECTED when no step waits for it now; 409
 * EVENT.AMBIGUOUS when several approvals wait (name one with `waitId`); 409 APPROVAL.ALREADY_DECIDED.
 */
export const raiseRunEventHandler = apiHandler({ roles: READ_ROLES, audit: 'run.event' }, async (api) => {
  const { data } = await tenantScope(api);
  const runId = api.request.params['runId']!;
  const name = validateEventName(api.request.params['name'] ?? '');
  const correlationKey = optionalQuery(api.request, 'correlationKey');
  const waitId = optionalQuery(api.request, 'waitId');
  api.auditTarget('run', runId);
  const run = await getRun(runId, { data });
  assertAcceptsEvents(run);
  const client = df.getClient(api.invocation);
  const waiting: WaitingInstance[] = [];
  for (const instance of await activeBelow(client, runId, new Date(run.createdAt))) {
    const status = asWaitingStatus(instance.customStatus);
    if (status) waiting.push({ instanceId: instance.instanceId, status });
  }
  const body = await api.body();
  const deliveries = routeEvent(runId, waiting, { name, body, ...(correlationKey !== undefined ? { correlationKey } : {}), ...(waitId !== undefined ? { waitId } : {}) }, api.ctx.principal, api.ctx.now.toISOString());
  for (const delivery of deliveries) await client.raiseEvent(delivery.instanceId, name, delivery.data);
  return {
    status: 202,
    body: { runId, stepId: deliveries[0]!.stepId, event: name, accepted: true, deliveredTo: deliveries.map(({ waitId: id, stepId }) => ({ waitId: id, stepId })) },
    headers: { location: `/api/tenants/${run.tenantId}/runs/${runId}` },
  };
});

app.http('raiseRunEvent', {
  route: 'tenants/{tenantId}/runs/{runId}/events/{name}',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: raiseRunEventHandler,
});
