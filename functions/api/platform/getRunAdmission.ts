import { app } from '@azure/functions';
import { getContainer } from '../../../shared/composition/container.js';
import { apiHandler } from '../http/apiHandler.js';

/**
 * `GET /api/platform/admission` (Platform.Admin): the platform's run slots — its capacity, the slots held and
 * the runs waiting for one, per tier. What an operator looks at when runs queue.
 */
export const getRunAdmissionHandler = apiHandler({ roles: ['Platform.Admin'] }, async () => {
  const { appStore, config } = getContainer();
  const stats = await appStore.admission.stats();
  return { status: 200, body: { capacity: config.maxActiveRuns, admitted: stats.admitted, waiting: stats.waiting } };
});

app.http('getRunAdmission', { route: 'platform/admission', methods: ['GET'], authLevel: 'anonymous', handler: getRunAdmissionHandler });
