import { app } from '@azure/functions';
import { READ_ROLES } from '../../../shared/application/access.js';
import { listRuns, parseRunStatus } from '../../../shared/application/runUseCases.js';
import { apiHandler } from '../http/apiHandler.js';
import { pageBody, pageOptions, timestampParameter } from '../http/query.js';
import { tenantScope } from '../http/tenantScope.js';
import { runView } from '../http/views.js';

/** `GET /api/tenants/{tenantId}/runs?workflowId=&status=&createdFrom=&createdTo=`: newest first, paged. */
export const listRunsHandler = apiHandler({ roles: READ_ROLES }, async (api) => {
  const { data } = await tenantScope(api);
  const query = api.request.query;
  const status = parseRunStatus(query.get('status'));
  const workflowId = query.get('workflowId');
  const createdFrom = timestampParameter(api.request, 'createdFrom');
  const createdTo = timestampParameter(api.request, 'createdTo');
  const page = await listRuns(
    { ...pageOptions(api.request), ...(status ? { status } : {}), ...(workflowId ? { workflowId } : {}), ...(createdFrom ? { createdFrom } : {}), ...(createdTo ? { createdTo } : {}) },
    { data },
  );
  return { status: 200, body: pageBody(api.request, page, runView) };
});

app.http('listRuns', { route: 'tenants/{tenantId}/runs', methods: ['GET'], authLevel: 'anonymous', handler: listRunsHandler });
