import { runRateLimiterContract } from '../../ports/rateLimiter.contract.js';
import { MemoryRateLimiter } from './memoryRateLimiter.js';

runRateLimiterContract({
  name: 'memory',
  newLimiter: async () => ({ limiter: new MemoryRateLimiter(), prefix: 'test', close: async () => undefined }),
});
