import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getHealth } from '../../shared/application/getHealth.js';
import { getContainer } from '../../shared/composition/container.js';

/** Each backend check is bounded so a hung dependency cannot hang the health endpoint. */
const PROBE_TIMEOUT_MS = 2_000;

/** `GET /api/health`: the platform version and the state of each configured backend; 503 when any is down. */
export async function health(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const { config, healthProbes } = getContainer();
  const report = await getHealth(healthProbes, config.version, { timeoutInMs: PROBE_TIMEOUT_MS });
  return {
    status: report.status === 'healthy' ? 200 : 503,
    headers: { 'Cache-Control': 'no-store' },
    jsonBody: report,
  };
}

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: health,
});
