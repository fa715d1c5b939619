import type { RateLimit, RateLimitDecision, RateLimiter } from '../../ports/rateLimiter.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets in process memory: right for one instance (the embedded host). Buckets idle long enough to be
 * full again are forgotten, so memory stays bounded by the number of active keys.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  #sweepAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async consume(key: string, limit: RateLimit, cost = 1): Promise<RateLimitDecision> {
    const now = this.now();
    this.sweep(now, limit);
    const bucket = this.#buckets.get(key) ?? { tokens: limit.burst, updatedAt: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.ratePerSecond);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / limit.ratePerSecond)) };
  }

  private sweep(now: number, limit: RateLimit): void {
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 60_000;
    const fullAfterMs = (limit.burst / limit.ratePerSecond) * 1000;
    for (const [key, bucket] of this.#buckets) if (now - bucket.updatedAt > fullAfterMs) this.#buckets.delete(key);
  }
}
