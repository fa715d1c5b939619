import type { Redis } from 'ioredis';
import type { RateLimit, RateLimitDecision, RateLimiter } from '../../ports/rateLimiter.js';

/**
 * The token bucket as one Lua script, so the read-refill-take-write is atomic on the Redis server whatever the
 * number of app instances. Time comes from the server (`TIME`), not from the callers' clocks. The key expires
 * once the bucket would be full again.
 */
const TOKEN_BUCKET = `
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + ((now - ts) / 1000) * rate)
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', key, math.ceil((burst / rate) * 1000) + 1000)
local retry = 0
if allowed == 0 then retry = math.max(1, math.ceil((cost - tokens) / rate)) end
return {allowed, math.floor(tokens), retry}
`;

interface RateLimitCommands {
  aiqTokenBucket(key: string, rate: string, burst: string, cost: string): Promise<[number, number, number]>;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis & RateLimitCommands;

  constructor(redis: Redis) {
    if (!(redis as Partial<RateLimitCommands>).aiqTokenBucket) redis.defineCommand('aiqTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
    this.#redis = redis as Redis & RateLimitCommands;
  }

  async consume(key: string, limit: RateLimit, cost = 1): Promise<RateLimitDecision> {
    const [allowed, remaining, retryAfterSeconds] = await this.#redis.aiqTokenBucket(key, String(limit.ratePerSecond), String(limit.burst), String(cost));
    return { allowed: allowed === 1, remaining: allowed === 1 ? remaining : 0, retryAfterSeconds };
  }
}
