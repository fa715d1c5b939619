import type { HealthCheckResult, HealthProbe, HealthStatus } from '../ports/healthProbe.js';

export interface BackendHealth extends HealthCheckResult {
  kind: string;
  durationMs: number;
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  version: string;
  checks: Record<string, BackendHealth>;
}

/**
 * Runs every configured backend's probe in parallel, each bounded by `timeoutInMs` (a probe that does not
 * answer in time is unhealthy). The platform is healthy when no backend is unhealthy.
 */
export async function getHealth(probes: readonly HealthProbe[], version: string, options: { timeoutInMs: number }): Promise<HealthReport> {
  const entries = await Promise.all(
    probes.map(async (probe): Promise<[string, BackendHealth]> => {
      const started = performance.now();
      const signal = AbortSignal.timeout(options.timeoutInMs);
      const timedOut = new Promise<HealthCheckResult>((resolve) =>
        signal.addEventListener('abort', () => resolve({ status: 'unhealthy', detail: `no answer within ${options.timeoutInMs} ms` }), { once: true }),
      );
      let result: HealthCheckResult;
      try {
        result = await Promise.race([probe.check(signal), timedOut]);
      } catch (error) {
        result = { status: 'unhealthy', detail: error instanceof Error ? error.message : String(error) };
      }
      return [probe.name, { kind: probe.kind, ...result, durationMs: Math.round(performance.now() - started) }];
    }),
  );
  const checks = Object.fromEntries(entries);
  const unhealthy = Object.values(checks).some((check) => (check.status as HealthStatus) === 'unhealthy');
  return { status: unhealthy ? 'unhealthy' : 'healthy', version, checks };
}
