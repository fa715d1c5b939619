import { app } from '@azure/functions';
import { createWorkflow } from '../../../shared/application/workflowUseCases.js';
import { WRITE_ROLES } from '../../../shared/application/access.js';
import { apiHandler, etagOf } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { workflowView } from '../http/views.js';
import { workflowDependencies } from './workflowDependencies.js';

/** `POST /api/tenants/{tenantId}/workflows`: creates a workflow with its draft definition (validated). */
export const createWorkflowHandler = apiHandler({ roles: WRITE_ROLES, audit: 'workflow.create' }, async (api) => {
  const { tenant, data } = await tenantScope(api);
  const body = await api.body();
  const id = (body as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string') api.auditTarget('workflow', id);
  const workflow = await createWorkflow(api.ctx, tenant, body, workflowDependencies(data));
  return { status: 201, body: workflowView(workflow), headers: { location: `/api/tenants/${tenant.id}/workflows/${workflow.id}`, etag: etagOf(workflow.revision) } };
});

app.http('createWorkflow', { route: 'tenants/{tenantId}/workflows', methods: ['POST'], authLevel: 'anonymous', handler: createWorkflowHandler });
