import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions, timestampParameter } from '../http/query.js';
import { tenantScope } from '../http/tenantScope.js';
import { auditView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/audit?action=&from=&to=`: every mutating call on the tenant, newest first (Tenant.Admin). */
export const listAuditHandler = apiHandler({ roles: WRITE_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const action = api.request.query.get('action');
  const from = timestampParameter(api.request, 'from');
  const to = timestampParameter(api.request, 'to');
  const page = await data.audit.list({ ...pageOptions(api.request), ...(action ? { action } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) });
  return { status: 200, body: pageBody(api.request, page, auditView) };
});

app.http('listAudit', { route: 'tenants/{tenantId}/audit', methods: ['GET'], authLevel: 'anonymous', handler: listAuditHandler });
