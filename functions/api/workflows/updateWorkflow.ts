import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { updateWorkflow } from '../../../shared/application/workflowUseCases.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { workflowView } from '../http/views.js';
import { workflowDependencies } from './workflowDependencies.js';

/** `PUT /api/tenants/{tenantId}/workflows/{workflowId}`: replaces the draft; needs If-Match. */
export const updateWorkflowHandler = apiHandler({ roles: WRITE_ROLES, audit: 'workflow.update' }, async (api) => {
  const { data } = await tenantScope(api);
  const workflowId = api.request.params['workflowId']!;
  api.auditTarget('workflow', workflowId);
  const workflow = await updateWorkflow(workflowId, await api.body(), api.ifMatch(), workflowDependencies(data));
  return { status: 200, body: workflowView(workflow), headers: { etag: etagOf(workflow.revision) } };
});

app.http('updateWorkflow', { route: 'tenants/{tenantId}/workflows/{workflowId}', methods: ['PUT'], authLevel: 'anonymous', handler: updateWorkflowHandler });
