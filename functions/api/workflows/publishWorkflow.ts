import { app } from '@azure/functions';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { publishWorkflow } from '../../../shared/application/workflowUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { versionView } from '../http/views.js';
import { workflowDependencies } from './workflowDependencies.js';

/** `POST /api/tenants/{tenantId}/workflows/{workflowId}/versions`: publishes the draft as the next version. */
export const publishWorkflowHandler = apiHandler({ roles: WRITE_ROLES, audit: 'workflow.publish' }, async (api) => {
  const { tenant, data } = await tenantScope(api);
  const workflowId = api.request.params['workflowId']!;
  api.auditTarget('workflow', workflowId);
  const version = await publishWorkflow(api.ctx, workflowId, api.ifMatch(), workflowDependencies(data));
  return { status: 201, body: versionView(version), headers: { location: `/api/tenants/${tenant.id}/workflows/${workflowId}/versions/${version.version}` } };
});

app.http('publishWorkflow', { route: 'tenants/{tenantId}/workflows/{workflowId}/versions', methods: ['POST'], authLevel: 'anonymous', handler: publishWorkflowHandler });
