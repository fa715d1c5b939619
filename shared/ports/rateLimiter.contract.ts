import { describe, expect, it } from 'vitest';
import type { RateLimiter } from './rateLimiter.js';

/**
 * The behaviour every RateLimiter adapter must have. `newLimiter` gets a unique key prefix per test so runs
 * against a shared server (Redis) never interfere.
 */
export function runRateLimiterContract(options: { name: string; newLimiter: () => Promise<{ limiter: RateLimiter; prefix: string; close(): Promise<void> }>; skip?: string }): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`RateLimiter contract: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    const withLimiter = async (test: (limiter: RateLimiter, key: (name: string) => string) => Promise<void>): Promise<void> => {
      const { limiter, prefix, close } = await options.newLimiter();
      try {
        await test(limiter, (name) => `${prefix}:${name}`);
      } finally {
        await close();
      }
    };

    it('allows a burst, then refuses with a Retry-After', () =>
      withLimiter(async (limiter, key) => {
        const limit = { ratePerSecond: 1, burst: 3 };
        const decisions = [];
        for (let i = 0; i < 4; i++) decisions.push(await limiter.consume(key('burst'), limit));
        expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
        expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
        expect(decisions[3]!.retryAfterSeconds).toBe(1);
      }));

    it('refills over time', () =>
      withLimiter(async (limiter, key) => {
        const limit = { ratePerSecond: 20, burst: 1 };
        expect((await limiter.consume(key('refill'), limit)).allowed).toBe(true);
        expect((await limiter.consume(key('refill'), limit)).allowed).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 120));
        expect((await limiter.consume(key('refill'), limit)).allowed).toBe(true);
      }));

    it('keeps keys apart', () =>
      withLimiter(async (limiter, key) => {
        const limit = { ratePerSecond: 1, burst: 1 };
        expect((await limiter.consume(key('a'), limit)).allowed).toBe(true);
        expect((await limiter.consume(key('a'), limit)).allowed).toBe(false);
        expect((await limiter.consume(key('b'), limit)).allowed).toBe(true);
      }));

    it('is atomic under concurrency: exactly burst callers win', () =>
      withLimiter(async (limiter, key) => {
        const limit = { ratePerSecond: 0.001, burst: 10 };
        const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.consume(key('race'), limit)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
      }));

    it('charges a cost and refuses what the bucket cannot cover', () =>
      withLimiter(async (limiter, key) => {
        const limit = { ratePerSecond: 1, burst: 5 };
        expect((await limiter.consume(key('cost'), limit, 4)).remaining).toBe(1);
        const refused = await limiter.consume(key('cost'), limit, 3);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterSeconds).toBe(2);
      }));
  });
}
