import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { runCircuitBreakerContract } from '../../ports/circuitBreaker.contract.js';
import { DEFAULT_BREAKER_POLICY } from '../../ports/circuitBreaker.js';
import { RedisCircuitBreaker } from './redisCircuitBreaker.js';

// A real redis-server: npm test finds one (REDIS_URL or 127.0.0.1:6379) or starts a private one.
const redisUrl = process.env['REDIS_URL'];
const skip = redisUrl ? undefined : 'REDIS_URL is not set: run the suite through npm test, which finds or starts Redis';

const newStore = async (options: { idleTtlMs?: number } = {}) => {
  const redis = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
  const prefix = `aiq-test:${randomUUID()}`;
  return {
    redis,
    store: new RedisCircuitBreaker(redis, options),
    prefix,
    close: async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
};

runCircuitBreakerContract({ name: 'redis', ...(skip ? { skip } : {}), newStore });

(skip ? describe.skip : describe)('RedisCircuitBreaker keys', () => {
  it('expire when idle, and live at least until an open breaker half-opens', async () => {
    const { redis, store, prefix, close } = await newStore({ idleTtlMs: 60_000 });
    try {
      await store.recordFailure(`${prefix}:closed`, DEFAULT_BREAKER_POLICY);
      for (let i = 0; i < 5; i++) await store.recordFailure(`${prefix}:open`, DEFAULT_BREAKER_POLICY);
      const closedTtl = await redis.pttl(`${prefix}:closed`);
      const openTtl = await redis.pttl(`${prefix}:open`);
      expect(closedTtl).toBeGreaterThan(59_000);
      expect(closedTtl).toBeLessThanOrEqual(60_000);
      expect(openTtl).toBeGreaterThan(89_000);
      expect(openTtl).toBeLessThanOrEqual(90_000);
      await store.recordSuccess(`${prefix}:open`, DEFAULT_BREAKER_POLICY);
      expect(await redis.exists(`${prefix}:open`)).toBe(0);
    } finally {
      await close();
    }
  });

  it('shares state between instances (separate connections)', async () => {
    const a = await newStore();
    const b = await newStore();
    try {
      const key = `${a.prefix}:shared`;
      for (let i = 0; i < 5; i++) await a.store.recordFailure(key, DEFAULT_BREAKER_POLICY);
      expect(await b.store.state(key)).toBe('open');
      expect((await b.store.acquire(key, DEFAULT_BREAKER_POLICY)).allowed).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
