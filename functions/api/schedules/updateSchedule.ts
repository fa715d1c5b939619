import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { updateSchedule } from '../../../shared/application/scheduleUseCases.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { scheduleView } from '../http/views.js';
import { scheduleIdOf, scheduleScope } from './scheduleScope.js';

/** `PATCH /api/tenants/{tenantId}/schedules/{scheduleId}`: changes the given fields; needs If-Match. */
export const updateScheduleHandler = apiHandler({ roles: WRITE_ROLES, audit: 'schedule.update' }, async (api) => {
  const { tenant, deps } = await scheduleScope(api);
  const schedule = await updateSchedule(api.ctx, tenant.id, scheduleIdOf(api), await api.body(), api.ifMatch(), deps);
  return { status: 200, body: scheduleView(schedule, api.ctx.now), headers: { etag: etagOf(schedule.revision) } };
});

app.http('updateSchedule', { route: 'tenants/{tenantId}/schedules/{scheduleId}', methods: ['PATCH'], authLevel: 'anonymous', handler: updateScheduleHandler });
