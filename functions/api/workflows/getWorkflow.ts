import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { getWorkflow } from '../../../shared/application/workflowUseCases.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { workflowView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/workflows/{workflowId}`: the workflow with its draft definition and ETag. */
export const getWorkflowHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const workflow = await getWorkflow(api.request.params['workflowId']!, { data });
  return { status: 200, body: workflowView(workflow), headers: { etag: etagOf(workflow.revision) } };
});

app.http('getWorkflow', { route: 'tenants/{tenantId}/workflows/{workflowId}', methods: ['GET'], authLevel: 'anonymous', handler: getWorkflowHandler });
