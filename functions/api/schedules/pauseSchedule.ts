import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { setScheduleEnabled } from '../../../shared/application/scheduleUseCases.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { scheduleView } from '../http/views.js';
import { scheduleIdOf, scheduleScope } from './scheduleScope.js';

/** `POST /api/tenants/{tenantId}/schedules/{scheduleId}:pause`: stops firing until resumed (idempotent). */
export const pauseScheduleHandler = apiHandler({ roles: WRITE_ROLES, audit: 'schedule.pause' }, async (api) => {
  const { tenant, deps } = await scheduleScope(api);
  const schedule = await setScheduleEnabled(api.ctx, tenant.id, scheduleIdOf(api), false, api.ifMatch(), deps);
  return { status: 200, body: scheduleView(schedule, api.ctx.now), headers: { etag: etagOf(schedule.revision) } };
});

app.http('pauseSchedule', { route: 'tenants/{tenantId}/schedules/{scheduleId}:pause', methods: ['POST'], authLevel: 'anonymous', handler: pauseScheduleHandler });
