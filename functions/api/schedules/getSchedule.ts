import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { getSchedule, upcomingFireTimes } from '../../../shared/application/scheduleUseCases.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { scheduleView } from '../http/views.js';

const DEFAULT_COUNT = 5;

/** `GET /api/tenants/{tenantId}/schedules/{scheduleId}[?count=N]`: the schedule with its next N fire times (1-100, default 5). */
export const getScheduleHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const countText = api.request.query.get('count');
  const count = countText === null ? DEFAULT_COUNT : Number(countText);
  if (countText !== null && !/^\d{1,3}$/.test(countText)) throw new AppError(ErrorCodes.requestInvalid, `count must be an integer from 1 to 100 (got '${countText}').`);
  const schedule = await getSchedule(api.request.params['scheduleId']!, { data });
  const nextFireTimes = upcomingFireTimes(schedule, api.ctx.now, count);
  return { status: 200, body: { ...scheduleView(schedule, api.ctx.now), nextFireTimes }, headers: { etag: etagOf(schedule.revision) } };
});

app.http('getSchedule', { route: 'tenants/{tenantId}/schedules/{scheduleId}', methods: ['GET'], authLevel: 'anonymous', handler: getScheduleHandler });
