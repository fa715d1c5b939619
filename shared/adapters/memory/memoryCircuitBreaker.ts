import { assertBreakerPolicy, type BreakerDecision, type BreakerPolicy, type BreakerState, type CircuitBreakerStore } from '../../ports/circuitBreaker.js';

interface Breaker {
  state: 'closed' | 'open' | 'halfOpen';
  failures: number;
  /** When an open breaker half-opens (ms). */
  openUntil: number;
  /** Probes admitted in the current half-open window, and when the last one was. */
  probes: number;
  probeAt: number;
  /** Forgotten (read as closed) from this time on: idle expiry, as the Redis key's TTL. */
  expiresAt: number;
}

/** Default idle time after which a breaker's state is forgotten (a closed breaker's failures, a long-open breaker). */
export const BREAKER_IDLE_TTL_MS = 15 * 60_000;

/**
 * Circuit breakers in process memory: right for one instance (the embedded host). The same rules as the Redis
 * adapter, with an injectable clock. Every method decides synchronously (no await between read and write), so
 * concurrent callers in the process see each other's effects: a half-open breaker admits exactly
 * `halfOpenMaxCalls` probes. Idle entries expire like the Redis keys and are swept once a minute.
 */
export class MemoryCircuitBreaker implements CircuitBreakerStore {
  readonly #breakers = new Map<string, Breaker>();
  readonly #now: () => number;
  readonly #idleTtlMs: number;
  #sweepAt = 0;

  constructor(options: { now?: () => number; idleTtlMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#idleTtlMs = options.idleTtlMs ?? BREAKER_IDLE_TTL_MS;
  }

  async acquire(key: string, policy: BreakerPolicy): Promise<BreakerDecision> {
    assertBreakerPolicy(policy);
    const now = this.#now();
    const breaker = this.read(key, now);
    if (!breaker) return { allowed: true, state: 'closed', retryAfterMs: 0 };
    if (breaker.state === 'open') {
      if (now < breaker.openUntil) return { allowed: false, state: 'open', retryAfterMs: breaker.openUntil - now };
      breaker.state = 'halfOpen';
      breaker.probes = 0;
      breaker.probeAt = 0;
    }
    if (breaker.state === 'halfOpen') {
      // Probes that never reported back free their slots after a full open duration.
      if (breaker.probes >= policy.halfOpenMaxCalls && now - breaker.probeAt >= policy.openDurationMs) breaker.probes = 0;
      if (breaker.probes < policy.halfOpenMaxCalls) {
        breaker.probes += 1;
        breaker.probeAt = now;
        breaker.expiresAt = now + policy.openDurationMs + this.#idleTtlMs;
        return { allowed: true, state: 'halfOpen', retryAfterMs: 0 };
      }
      return { allowed: false, state: 'halfOpen', retryAfterMs: Math.max(1, breaker.probeAt + policy.openDurationMs - now) };
    }
    return { allowed: true, state: 'closed', retryAfterMs: 0 };
  }

  async recordSuccess(key: string, policy: BreakerPolicy): Promise<void> {
    assertBreakerPolicy(policy);
    this.#breakers.delete(key);
  }

  async recordFailure(key: string, policy: BreakerPolicy): Promise<BreakerState> {
    assertBreakerPolicy(policy);
    const now = this.#now();
    this.sweep(now);
    const breaker = this.read(key, now) ?? { state: 'closed', failures: 0, openUntil: 0, probes: 0, probeAt: 0, expiresAt: 0 };
    if (breaker.state === 'open') return now < breaker.openUntil ? 'open' : 'halfOpen';
    breaker.failures += 1;
    if (breaker.state === 'halfOpen' || breaker.failures >= policy.failureThreshold) {
      Object.assign(breaker, { state: 'open', openUntil: now + policy.openDurationMs, probes: 0, probeAt: 0, expiresAt: now + policy.openDurationMs + this.#idleTtlMs });
    } else {
      breaker.expiresAt = now + this.#idleTtlMs;
    }
    this.#breakers.set(key, breaker);
    return breaker.state;
  }

  async state(key: string): Promise<BreakerState> {
    const now = this.#now();
    const breaker = this.read(key, now);
    if (!breaker) return 'closed';
    return breaker.state === 'open' && now >= breaker.openUntil ? 'halfOpen' : breaker.state;
  }

  private read(key: string, now: number): Breaker | undefined {
    const breaker = this.#breakers.get(key);
    if (breaker && now >= breaker.expiresAt) {
      this.#breakers.delete(key);
      return undefined;
    }
    return breaker;
  }

  private sweep(now: number): void {
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 60_000;
    for (const [key, breaker] of this.#breakers) if (now >= breaker.expiresAt) this.#breakers.delete(key);
  }
}
