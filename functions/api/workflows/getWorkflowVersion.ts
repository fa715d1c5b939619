import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { getWorkflowVersion } from '../../../shared/application/workflowUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { versionView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/workflows/{workflowId}/versions/{version}`: one immutable version. */
export const getWorkflowVersionHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const version = await getWorkflowVersion(api.request.params['workflowId']!, Number(api.request.params['version']), { data });
  return { status: 200, body: versionView(version), headers: { 'cache-control': 'private, max-age=3600' } };
});

app.http('getWorkflowVersion', { route: 'tenants/{tenantId}/workflows/{workflowId}/versions/{version:int:min(1)}', methods: ['GET'], authLevel: 'anonymous', handler: getWorkflowVersionHandler });
