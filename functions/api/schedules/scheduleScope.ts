import type { ScheduleDependencies } from '../../../shared/application/scheduleUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import type { Tenant } from '../../../shared/domain/tenant.js';
import type { ApiRequest } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';

/** The tenant of a schedule route, with what schedule use cases need (its data and the platform's due index). */
export async function scheduleScope(api: ApiRequest): Promise<{ tenant: Tenant; deps: ScheduleDependencies }> {
  const { tenant, data } = await tenantScope(api);
  return { tenant, deps: { data, due: getContainer().appStore.scheduleDue } };
}

/** The `{scheduleId}` of the route, recorded as the audit target. */
export function scheduleIdOf(api: ApiRequest): string {
  const scheduleId = api.request.params['scheduleId']!;
  api.auditTarget('schedule', scheduleId);
  return scheduleId;
}
