import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { listWorkflows } from '../../../shared/application/workflowUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions } from '../http/query.js';
import { tenantScope } from '../http/tenantScope.js';
import { workflowSummaryView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/workflows`: the tenant's workflows, paged, without definitions. */
export const listWorkflowsHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  return { status: 200, body: pageBody(api.request, await listWorkflows(pageOptions(api.request), { data }), workflowSummaryView) };
});

app.http('listWorkflows', { route: 'tenants/{tenantId}/workflows', methods: ['GET'], authLevel: 'anonymous', handler: listWorkflowsHandler });
