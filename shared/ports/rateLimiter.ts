/** A token bucket's shape: it refills at `ratePerSecond` and holds at most `burst` tokens. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Tokens left after this request (0 when refused). */
  remaining: number;
  /** When refused: whole seconds until one token is available (for `Retry-After`). */
  retryAfterSeconds: number;
}

/**
 * Per-key rate limiting (per tenant, per endpoint group). Implementations must be atomic per key: concurrent
 * callers never both take the last token. Keys are namespaced by the caller (e.g. `rl:tenant:acme`).
 */
export interface RateLimiter {
  consume(key: string, limit: RateLimit, cost?: number): Promise<RateLimitDecision>;
}
