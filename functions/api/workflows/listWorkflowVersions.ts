import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { listWorkflowVersions } from '../../../shared/application/workflowUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { tenantScope } from '../http/tenantScope.js';
import { versionView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/workflows/{workflowId}/versions`: published versions, newest first. */
export const listWorkflowVersionsHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const page = await listWorkflowVersions(api.request.params['workflowId']!, pageOptions(api.request), { data });
  return { status: 200, body: pageBody(api.request, page, versionView) };
});

app.http('listWorkflowVersions', { route: 'tenants/{tenantId}/workflows/{workflowId}/versions', methods: ['GET'], authLevel: 'anonymous', handler: listWorkflowVersionsHandler });
