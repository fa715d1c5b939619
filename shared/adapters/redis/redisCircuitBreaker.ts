import type { Redis } from 'ioredis';
import { assertBreakerPolicy, type BreakerDecision, type BreakerPolicy, type BreakerState, type CircuitBreakerStore } from '../../ports/circuitBreaker.js';

/**
 * One hash per breaker: `st` (closed | open | halfOpen), `f` (consecutive failures), `until` (when an open
 * breaker half-opens, ms), `p` / `pt` (probes admitted in the half-open window, when the last one was). A missing
 * key is a closed breaker with no failures. Every script reads the time from the server (`TIME`), so instances
 * with skewed clocks agree, and runs atomically, so concurrent acquires on a half-open breaker admit exactly
 * `halfOpenMaxCalls` probes. Keys expire after `idleTtlMs` without writes (open ones: after the open duration
 * plus `idleTtlMs`).
 *
 * ARGV: failureThreshold, openDurationMs, halfOpenMaxCalls, idleTtlMs.
 */
const PRELUDE = `
local key = KEYS[1]
local threshold = tonumber(ARGV[1])
local openMs = tonumber(ARGV[2])
local maxProbes = tonumber(ARGV[3])
local idleMs = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', key, 'st', 'f', 'until', 'p', 'pt')
local st = h[1] or 'closed'
local f = tonumber(h[2]) or 0
local untilTs = tonumber(h[3]) or 0
local p = tonumber(h[4]) or 0
local pt = tonumber(h[5]) or 0
`;

const ACQUIRE = `${PRELUDE}
if st == 'open' then
  if now < untilTs then return {0, 'open', untilTs - now} end
  st = 'halfOpen'; p = 0; pt = 0
end
if st == 'halfOpen' then
  if p >= maxProbes and now - pt >= openMs then p = 0 end
  if p < maxProbes then
    redis.call('HSET', key, 'st', 'halfOpen', 'p', p + 1, 'pt', now)
    redis.call('PEXPIRE', key, openMs + idleMs)
    return {1, 'halfOpen', 0}
  end
  return {0, 'halfOpen', math.max(1, pt + openMs - now)}
end
return {1, 'closed', 0}
`;

const FAILURE = `${PRELUDE}
if st == 'open' then
  if now < untilTs then return 'open' end
  return 'halfOpen'
end
f = f + 1
if st == 'halfOpen' or f >= threshold then
  redis.call('HSET', key, 'st', 'open', 'f', f, 'until', now + openMs, 'p', 0, 'pt', 0)
  redis.call('PEXPIRE', key, openMs + idleMs)
  return 'open'
end
redis.call('HSET', key, 'st', 'closed', 'f', f)
redis.call('PEXPIRE', key, idleMs)
return 'closed'
`;

const STATE = `${PRELUDE}
if st == 'open' and now >= untilTs then return 'halfOpen' end
return st
`;

/** Default idle time after which a breaker's key expires (a closed breaker's failures, a long-open breaker). */
export const REDIS_BREAKER_IDLE_TTL_MS = 15 * 60_000;

/** `state` reads only `st` and `until`; the policy arguments are placeholders. */
const STATE_ARGS_POLICY: BreakerPolicy = { failureThreshold: 1, openDurationMs: 1, halfOpenMaxCalls: 1 };

interface BreakerCommands {
  aiqBreakerAcquire(key: string, ...args: string[]): Promise<[number, BreakerState, number]>;
  aiqBreakerFailure(key: string, ...args: string[]): Promise<BreakerState>;
  aiqBreakerState(key: string, ...args: string[]): Promise<BreakerState>;
}

/** Circuit-breaker state in Redis, shared by every app instance: one hash per key, changed by Lua scripts only. */
export class RedisCircuitBreaker implements CircuitBreakerStore {
  readonly #redis: Redis & BreakerCommands;
  readonly #idleTtlMs: number;

  constructor(redis: Redis, options: { idleTtlMs?: number } = {}) {
    const commands = redis as Redis & Partial<BreakerCommands>;
    if (!commands.aiqBreakerAcquire) redis.defineCommand('aiqBreakerAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    if (!commands.aiqBreakerFailure) redis.defineCommand('aiqBreakerFailure', { numberOfKeys: 1, lua: FAILURE });
    if (!commands.aiqBreakerState) redis.defineCommand('aiqBreakerState', { numberOfKeys: 1, lua: STATE });
    this.#redis = redis as Redis & BreakerCommands;
    this.#idleTtlMs = options.idleTtlMs ?? REDIS_BREAKER_IDLE_TTL_MS;
  }

  async acquire(key: string, policy: BreakerPolicy): Promise<BreakerDecision> {
    const [allowed, state, retryAfterMs] = await this.#redis.aiqBreakerAcquire(key, ...this.args(policy));
    return { allowed: allowed === 1, state, retryAfterMs };
  }

  async recordSuccess(key: string, policy: BreakerPolicy): Promise<void> {
    assertBreakerPolicy(policy);
    await this.#redis.del(key);
  }

  async recordFailure(key: string, policy: BreakerPolicy): Promise<BreakerState> {
    return this.#redis.aiqBreakerFailure(key, ...this.args(policy));
  }

  async state(key: string): Promise<BreakerState> {
    return this.#redis.aiqBreakerState(key, ...this.args(STATE_ARGS_POLICY));
  }

  private args(policy: BreakerPolicy): string[] {
    assertBreakerPolicy(policy);
    return [String(policy.failureThreshold), String(policy.openDurationMs), String(policy.halfOpenMaxCalls), String(this.#idleTtlMs)];
  }
}
