import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { deleteSchedule } from '../../../shared/application/scheduleUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { scheduleIdOf, scheduleScope } from './scheduleScope.js';

/** `DELETE /api/tenants/{tenantId}/schedules/{scheduleId}`: deletes the schedule (idempotent; If-Match optional). */
export const deleteScheduleHandler = apiHandler({ roles: WRITE_ROLES, audit: 'schedule.delete' }, async (api) => {
  const { tenant, deps } = await scheduleScope(api);
  await deleteSchedule(tenant.id, scheduleIdOf(api), api.ifMatch(), deps);
  return { status: 204 };
});

app.http('deleteSchedule', { route: 'tenants/{tenantId}/schedules/{scheduleId}', methods: ['DELETE'], authLevel: 'anonymous', handler: deleteScheduleHandler });
