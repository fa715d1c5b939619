import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { deleteWorkflow } from '../../../shared/application/workflowUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';

/** `DELETE /api/tenants/{tenantId}/workflows/{workflowId}`: deletes the workflow with its versions and schedules (idempotent). */
export const deleteWorkflowHandler = apiHandler({ roles: WRITE_ROLES, audit: 'workflow.delete' }, async (api) => {
  const { data } = await tenantScope(api);
  const workflowId = api.request.params['workflowId']!;
  api.auditTarget('workflow', workflowId);
  await deleteWorkflow(workflowId, api.ifMatch(), { data, scheduleDue: getContainer().appStore.scheduleDue });
  return { status: 204 };
});

app.http('deleteWorkflow', { route: 'tenants/{tenantId}/workflows/{workflowId}', methods: ['DELETE'], authLevel: 'anonymous', handler: deleteWorkflowHandler });
