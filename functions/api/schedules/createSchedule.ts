import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { createSchedule } from '../../../shared/application/scheduleUseCases.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { scheduleView } from '../http/views.js';
import { scheduleScope } from './scheduleScope.js';

/** `POST /api/tenants/{tenantId}/schedules`: a cron schedule of a workflow; 201 with `Location` and `ETag`. */
export const createScheduleHandler = apiHandler({ roles: WRITE_ROLES, audit: 'schedule.create' }, async (api) => {
  const { tenant, deps } = await scheduleScope(api);
  const body = await api.body();
  const id = (body as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string') api.auditTarget('schedule', id);
  const schedule = await createSchedule(api.ctx, tenant, body, deps);
  api.auditTarget('schedule', schedule.id);
  return { status: 201, body: scheduleView(schedule, api.ctx.now), headers: { location: `/api/tenants/${tenant.id}/schedules/${schedule.id}`, etag: etagOf(schedule.revision) } };
});

app.http('createSchedule', { route: 'tenants/{tenantId}/schedules', methods: ['POST'], authLevel: 'anonymous', handler: createScheduleHandler });
