import type { HealthCheckResult, HealthProbe } from '../../ports/healthProbe.js';

/**
 * Reports how run dispatch reaches Service Bus. The app only talks to Service Bus through output bindings,
 * so it holds no client to ping: the report is `configured`, with the mode (embedded broker or namespace)
 * and the endpoint host.
 */
export class ServiceBusConfigProbe implements HealthProbe {
  readonly name = 'serviceBus';

  constructor(private readonly config: { mode: 'embedded' | 'namespace'; endpoint: string }) {}

  get kind(): string {
    return this.config.mode === 'embedded' ? 'embedded-broker' : 'service-bus';
  }

  async check(): Promise<HealthCheckResult> {
    let host = this.config.endpoint;
    try {
      host = new URL(this.config.endpoint).host;
    } catch {
      // The endpoint is reported as written when it is not a URL.
    }
    return { status: 'configured', detail: `${this.config.mode === 'embedded' ? 'embedded broker' : 'namespace'} ${host}` };
  }
}
