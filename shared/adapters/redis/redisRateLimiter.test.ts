import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { runRateLimiterContract } from '../../ports/rateLimiter.contract.js';
import { RedisRateLimiter } from './redisRateLimiter.js';

// A real redis-server: npm test finds one (REDIS_URL or 127.0.0.1:6379) or starts a private one.
const redisUrl = process.env['REDIS_URL'];

runRateLimiterContract({
  name: 'redis',
  ...(redisUrl ? {} : { skip: 'REDIS_URL is not set: run the suite through npm test, which finds or starts Redis' }),
  newLimiter: async () => {
    const redis = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
    const prefix = `aiq-test:${randomUUID()}`;
    return {
      limiter: new RedisRateLimiter(redis),
      prefix,
      close: async () => {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      },
    };
  },
});
