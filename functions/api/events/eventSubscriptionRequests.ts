import type { Tenant } from '../../../shared/domain/tenant.js';
import type { TenantDataStore } from '../../../shared/ports/appStore.js';
import type { ApiRequest, ApiResult } from '../http/apiHandler.js';
import { etagOf } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { eventSubscriptionView } from '../http/views.js';
import type { EventSubscription } from '../../../shared/domain/events.js';

/** The tenant, its data and the `{subscriptionId}` of an event subscription route (recorded as the audit target). */
export async function eventSubscriptionRoute(api: ApiRequest): Promise<{ tenant: Tenant; data: TenantDataStore; subscriptionId: string }> {
  const { tenant, data } = await tenantScope(api);
  const subscriptionId = api.request.params['subscriptionId'] ?? '';
  if (subscriptionId) api.auditTarget('eventSubscription', subscriptionId);
  return { tenant, data, subscriptionId };
}

/** A subscription as an answer, with its ETag. */
export function eventSubscriptionResult(status: number, subscription: EventSubscription, headers: Record<string, string> = {}): ApiResult {
  return { status, body: eventSubscriptionView(subscription), headers: { etag: etagOf(subscription.revision), ...headers } };
}
