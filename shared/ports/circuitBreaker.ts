import { AppError } from '../domain/errors.js';

/**
 * When a breaker opens and how it recovers. A breaker counts *consecutive* failures: any success resets it.
 * Once open it fails fast for `openDurationMs`, then half-opens and lets `halfOpenMaxCalls` probe calls
 * through; a probe's success closes it, a probe's failure opens it again for another full duration.
 */
export interface BreakerPolicy {
  /** Consecutive failures that open the breaker (default 5). */
  failureThreshold: number;
  /** How long an open breaker fails fast before it half-opens, in ms (default 30 000). */
  openDurationMs: number;
  /** Probe calls admitted at once while half-open (default 1). */
  halfOpenMaxCalls: number;
}

export const DEFAULT_BREAKER_POLICY: Readonly<BreakerPolicy> = Object.freeze({ failureThreshold: 5, openDurationMs: 30_000, halfOpenMaxCalls: 1 });

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerDecision {
  /** Whether the call may go to the target now. */
  allowed: boolean;
  /** The breaker's state as this decision saw it (`halfOpen` for an admitted probe). */
  state: BreakerState;
  /**
   * When refused: ms until a call may be admitted again (until the breaker half-opens; while half-open with
   * every probe slot taken, until an unanswered probe is given up). 0 when allowed.
   */
  retryAfterMs: number;
}

/**
 * Circuit-breaker state per key, shared by every instance that uses the same backend (memory: one process;
 * Redis: all of them). Implementations are atomic per key: concurrent `acquire` calls on a half-open breaker
 * admit exactly `halfOpenMaxCalls` probes. Time is the store's (Redis: server `TIME`), not the callers'.
 *
 * Usage around one call to a target:
 * ```ts
 * const decision = await breakers.acquire(key, policy);
 * if (!decision.allowed) throw new CircuitOpenError(target, decision.retryAfterMs);
 * try { const result = await call(); await breakers.recordSuccess(key, policy); return result; }
 * catch (e) { if (countsAsTargetFailure(e)) await breakers.recordFailure(key, policy); throw e; }
 * ```
 * Only faults of the target count as failures (timeouts, connection errors, 5xx, 429); the caller's own
 * mistakes (4xx, validation) should record a success or nothing at all.
 *
 * Outcomes are not tied to the `acquire` that admitted the call: a success reported by any call closes the
 * breaker (the target evidently answers); a failure reported while open is ignored (the call was admitted
 * before the breaker opened); a failure reported while half-open re-opens it.
 *
 * Idle keys expire (Redis: key TTL; memory: swept), so a closed breaker's failure count does not live
 * forever; an open breaker's key lives at least until it half-opens.
 */
export interface CircuitBreakerStore {
  /**
   * Before a call: may it go? Closed → yes. Open and not yet expired → no, with `retryAfterMs`. Expired →
   * half-open: admits up to `halfOpenMaxCalls` probes, refuses the rest. A probe that never reports back
   * frees its slot after `openDurationMs`.
   */
  acquire(key: string, policy: BreakerPolicy): Promise<BreakerDecision>;
  /** After a successful call: closes the breaker and resets the failure count. */
  recordSuccess(key: string, policy: BreakerPolicy): Promise<void>;
  /**
   * After a failed call: counts consecutive failures; reaching `failureThreshold` opens the breaker. A failed
   * half-open probe opens it again for a full `openDurationMs`. Returns the state afterwards.
   */
  recordFailure(key: string, policy: BreakerPolicy): Promise<BreakerState>;
  /** The current state (an open breaker whose duration has passed reads as `halfOpen`). */
  state(key: string): Promise<BreakerState>;
}

export const CIRCUIT_OPEN_CODE = 'CONNECTOR.CIRCUIT_OPEN';
export const BREAKER_POLICY_INVALID_CODE = 'CONNECTOR.BREAKER_POLICY_INVALID';

/** A complete policy from defaults and overrides (e.g. a connector's or step's settings), validated. */
export function breakerPolicy(overrides: Partial<BreakerPolicy> = {}): BreakerPolicy {
  const policy = { ...DEFAULT_BREAKER_POLICY, ...definedOnly(overrides) };
  assertBreakerPolicy(policy);
  return policy;
}

/** Throws `CONNECTOR.BREAKER_POLICY_INVALID` unless every field is a positive integer. */
export function assertBreakerPolicy(policy: BreakerPolicy): void {
  const problems = (['failureThreshold', 'openDurationMs', 'halfOpenMaxCalls'] as const).filter((field) => !Number.isSafeInteger(policy[field]) || policy[field] < 1);
  if (problems.length) throw new AppError(BREAKER_POLICY_INVALID_CODE, `Invalid circuit breaker policy: ${problems.join(', ')} must be positive integers`, { details: { fields: problems } });
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'sftp:': '22', 'ssh:': '22', 'smtp:': '25', 'smtps:': '465' };

/**
 * The breaker target of an endpoint: for a URL, its scheme, host and port only (`https://api.example.com:443`)
 * — the default port made explicit, so `https://h` and `https://h:443/x?y` share one breaker, and never the
 * credentials, path, query or fragment. Anything else (a connector-defined target such as `smtp.example.com:587`
 * or a database server name) is kept, minus anything that looks like credentials, a query or a fragment.
 */
export function breakerTarget(endpoint: string | URL): string {
  const text = String(endpoint).trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      const port = url.port || DEFAULT_PORTS[url.protocol] || '';
      return `${url.protocol}//${url.hostname}${port ? `:${port}` : ''}`;
    } catch {
      // not a parsable URL: fall through to the generic clean-up
    }
  }
  const withoutQuery = text.split(/[?#]/, 1)[0]!;
  const at = withoutQuery.lastIndexOf('@');
  const withoutCredentials = at >= 0 ? withoutQuery.slice(at + 1) : withoutQuery;
  return withoutCredentials.replace(/\/.*$/, '') || 'unknown';
}

const KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The store key of one breaker: `breaker:{tenantId}:{connector}:{target}`, one breaker per tenant and connector
 * target. `target` goes through {@link breakerTarget} (for REST: scheme + host + port), so keys never carry
 * credentials or query strings. Tenant ids and connector names are slugs without `:`, so keys are unambiguous.
 */
export function breakerKey(tenantId: string, connector: string, target: string | URL): string {
  for (const [what, value] of [
    ['tenant id', tenantId],
    ['connector', connector],
  ] as const) {
    if (!KEY_SEGMENT.test(value)) throw new AppError('REQUEST.INVALID', `Invalid ${what} for a circuit breaker key`, { details: { [what === 'tenant id' ? 'tenantId' : 'connector']: value } });
  }
  return `breaker:${tenantId}:${connector}:${breakerTarget(target)}`;
}

/**
 * A call refused because the target's breaker is open: fail fast, do not call. Not retryable for the step
 * (`retryable: false`): the durable retry policy must not hammer an open breaker; the run's failure handling
 * (fallback endpoint, `onError`) decides. The message names the target (scheme + host + port only) and when
 * the breaker half-opens.
 */
export class CircuitOpenError extends AppError {
  override readonly name = 'CircuitOpenError';
  readonly target: string;
  readonly retryAfterMs: number;

  constructor(target: string | URL, retryAfterMs: number, options: { now?: number; state?: BreakerState } = {}) {
    const safeTarget = breakerTarget(target);
    const ms = Math.max(0, Math.ceil(retryAfterMs));
    const halfOpensAt = new Date((options.now ?? Date.now()) + ms).toISOString();
    const when = options.state === 'halfOpen' ? `probe calls are in flight; retry in ${formatSeconds(ms)} (${halfOpensAt})` : `it half-opens in ${formatSeconds(ms)} (${halfOpensAt})`;
    super(CIRCUIT_OPEN_CODE, `Circuit breaker open for ${safeTarget}: failing fast without calling it; ${when}`, {
      retryable: false,
      retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
      details: { target: safeTarget, retryAfterMs: ms, halfOpensAt, state: options.state ?? 'open' },
    });
    this.target = safeTarget;
    this.retryAfterMs = ms;
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${seconds < 10 ? seconds.toFixed(1) : String(Math.ceil(seconds))} s`;
}

function definedOnly<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
