import type { Redis } from 'ioredis';
import type { HealthCheckResult, HealthProbe } from '../../ports/healthProbe.js';

/** Checks that Redis answers PING. */
export class RedisHealthProbe implements HealthProbe {
  readonly name = 'redis';
  readonly kind = 'redis';

  constructor(private readonly client: () => Redis) {}

  async check(signal: AbortSignal): Promise<HealthCheckResult> {
    try {
      const reply = await Promise.race([
        this.client().ping(),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
      ]);
      return reply === 'PONG' ? { status: 'healthy' } : { status: 'unhealthy', detail: `PING answered ${String(reply)}` };
    } catch (error) {
      return { status: 'unhealthy', detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
