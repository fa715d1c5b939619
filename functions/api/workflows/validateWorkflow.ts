import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { validateWorkflow } from '../../../shared/application/workflowUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';
import { workflowDependencies } from './workflowDependencies.js';

/** `POST /api/tenants/{tenantId}/workflows:validate`: 200 `{valid: true}`, or 400 with every problem found. */
export const validateWorkflowHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  return { status: 200, body: await validateWorkflow(await api.body(), workflowDependencies(data)) };
});

app.http('validateWorkflow', { route: 'tenants/{tenantId}/workflows:validate', methods: ['POST'], authLevel: 'anonymous', handler: validateWorkflowHandler });
