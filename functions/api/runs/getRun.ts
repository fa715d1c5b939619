import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { getRun } from '../../../shared/application/runUseCases.js';
import type { RunUsage } from '../../../shared/domain/run.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';

/**
 * `GET /api/tenants/{tenantId}/runs/{runId}`: the run with its steps, and its `usage` (steps executed,
 * duration, bytes, connector calls) once its orchestration finished; `usage: null` before.
 */
export const getRunHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const run = await getRun(api.request.params['runId']!, { data });
  const usage = await data.runs.getUsage(run.id);
  return { status: 200, body: { ...runView(run), steps: run.steps, usage: usage ? usageView(usage) : null } };
});

function usageView(usage: RunUsage): Record<string, unknown> {
  return { stepsExecuted: usage.stepsExecuted, durationMs: usage.durationMs, bytes: usage.bytes, connectorCalls: usage.connectorCalls, recordedAt: usage.recordedAt };
}

app.http('getRun', { route: 'tenants/{tenantId}/runs/{runId}', methods: ['GET'], authLevel: 'anonymous', handler: getRunHandler });
