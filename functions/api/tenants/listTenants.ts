import { app } from '@azure/functions';
import { listTenants } from '../../../shared/application/tenantUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import { TENANT_STATUSES, type TenantStatus } from '../../../shared/domain/tenant.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { tenantView } from '../http/views.js';

/** `GET /api/tenants[?status=]`: every tenant, paged (Platform.Admin). */
export const listTenantsHandler = apiHandler({ roles: ['Platform.Admin'] }, async (api) => {
  const status = api.request.query.get('status');
  if (status !== null && !(TENANT_STATUSES as readonly string[]).includes(status)) throw new AppError(ErrorCodes.requestInvalid, `status must be one of ${TENANT_STATUSES.join(', ')}.`);
  const page = await listTenants({ ...pageOptions(api.request), ...(status ? { status: status as TenantStatus } : {}) }, getContainer().tenantDependencies());
  return { status: 200, body: pageBody(api.request, page, tenantView) };
});

app.http('listTenants', { route: 'tenants', methods: ['GET'], authLevel: 'anonymous', handler: listTenantsHandler });
