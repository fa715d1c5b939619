import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/runs/{runId}`: the run with its steps. */
export const getRunHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const run = await getRun(api.request.params['runId']!, { data });
  return { status: 200, body: { ...runView(run), steps: run.steps } };
});

app.http('getRun', { route: 'tenants/{tenantId}/runs/{runId}', methods: ['GET'], authLevel: 'anonymous', handler: getRunHandler });
