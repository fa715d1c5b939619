import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { listSchedules } from '../../../shared/application/scheduleUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { tenantScope } from '../http/tenantScope.js';
import { scheduleView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/schedules[?workflowId=]`: the tenant's schedules by id, paged, each with its next fire time. */
export const listSchedulesHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const workflowId = api.request.query.get('workflowId') ?? undefined;
  const page = await listSchedules({ ...pageOptions(api.request), ...(workflowId ? { workflowId } : {}) }, { data });
  return { status: 200, body: pageBody(api.request, page, (schedule) => scheduleView(schedule, api.ctx.now)) };
});

app.http('listSchedules', { route: 'tenants/{tenantId}/schedules', methods: ['GET'], authLevel: 'anonymous', handler: listSchedulesHandler });
