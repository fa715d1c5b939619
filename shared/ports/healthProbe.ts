/** The state of one backend as a health check reports it. */
export type HealthStatus = 'healthy' | 'unhealthy' | 'configured';

export interface HealthCheckResult {
  status: HealthStatus;
  /** Non-sensitive detail: never a connection string or a secret. */
  detail?: string;
}

/** Checks one configured backend; implementations must honour the signal and never throw. */
export interface HealthProbe {
  /** Stable name, e.g. `appStore`, `redis`, `serviceBus`. */
  readonly name: string;
  /** What backs it, e.g. `sqlite`, `redis`, `embedded-broker`. */
  readonly kind: string;
  check(signal: AbortSignal): Promise<HealthCheckResult>;
}
