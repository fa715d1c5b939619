import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { setScheduleEnabled } from '../../../shared/application/scheduleUseCases.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { scheduleView } from '../http/views.js';
import { scheduleIdOf, scheduleScope } from './scheduleScope.js';

/**
 * `POST /api/tenants/{tenantId}/schedules/{scheduleId}:resume`: fires again from the next slot after now (slots
 * that passed while paused are not fired); also brings an `errored` schedule back once its cause is fixed.
 */
export const resumeScheduleHandler = apiHandler({ roles: WRITE_ROLES, audit: 'schedule.resume' }, async (api) => {
  const { tenant, deps } = await scheduleScope(api);
  const schedule = await setScheduleEnabled(api.ctx, tenant.id, scheduleIdOf(api), true, api.ifMatch(), deps);
  return { status: 200, body: scheduleView(schedule, api.ctx.now), headers: { etag: etagOf(schedule.revision) } };
});

app.http('resumeSchedule', { route: 'tenants/{tenantId}/schedules/{scheduleId}:resume', methods: ['POST'], authLevel: 'anonymous', handler: resumeScheduleHandler });
