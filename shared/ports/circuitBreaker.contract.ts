import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import { BREAKER_POLICY_INVALID_CODE, DEFAULT_BREAKER_POLICY, type BreakerPolicy, type CircuitBreakerStore } from './circuitBreaker.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every CircuitBreakerStore adapter must have, on real time (Redis uses the server's clock), with
 * short open durations. `newStore` gets a unique key prefix per test so runs against a shared server (Redis)
 * never interfere; `close` removes what the test left.
 */
export function runCircuitBreakerContract(options: { name: string; newStore: () => Promise<{ store: CircuitBreakerStore; prefix: string; close(): Promise<void> }>; skip?: string }): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`CircuitBreakerStore contract: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    const withStore = async (test: (store: CircuitBreakerStore, key: (name: string) => string) => Promise<void>): Promise<void> => {
      const { store, prefix, close } = await options.newStore();
      try {
        await test(store, (name) => `${prefix}:${name}`);
      } finally {
        await close();
      }
    };
    const fail = async (store: CircuitBreakerStore, key: string, policy: BreakerPolicy, times: number) => {
      const states = [];
      for (let i = 0; i < times; i++) states.push(await store.recordFailure(key, policy));
      return states;
    };
    const short = (overrides: Partial<BreakerPolicy> = {}): BreakerPolicy => ({ failureThreshold: 2, openDurationMs: 250, halfOpenMaxCalls: 1, ...overrides });

    it('is closed and admits calls for an unknown key', () =>
      withStore(async (store, key) => {
        expect(await store.state(key('fresh'))).toBe('closed');
        expect(await store.acquire(key('fresh'), DEFAULT_BREAKER_POLICY)).toEqual({ allowed: true, state: 'closed', retryAfterMs: 0 });
      }));

    it('opens after 5 consecutive failures (default policy), not after 4', () =>
      withStore(async (store, key) => {
        expect(await fail(store, key('t'), DEFAULT_BREAKER_POLICY, 4)).toEqual(['closed', 'closed', 'closed', 'closed']);
        expect(await store.state(key('t'))).toBe('closed');
        expect((await store.acquire(key('t'), DEFAULT_BREAKER_POLICY)).allowed).toBe(true);
        expect(await store.recordFailure(key('t'), DEFAULT_BREAKER_POLICY)).toBe('open');
        expect(await store.state(key('t'))).toBe('open');
      }));

    it('counts consecutive failures only: a success in between resets the count', () =>
      withStore(async (store, key) => {
        await fail(store, key('t'), DEFAULT_BREAKER_POLICY, 4);
        await store.recordSuccess(key('t'), DEFAULT_BREAKER_POLICY);
        expect(await fail(store, key('t'), DEFAULT_BREAKER_POLICY, 4)).toEqual(['closed', 'closed', 'closed', 'closed']);
        expect(await store.recordFailure(key('t'), DEFAULT_BREAKER_POLICY)).toBe('open');
      }));

    it('honours a configured threshold', () =>
      withStore(async (store, key) => {
        const policy = short({ failureThreshold: 3, openDurationMs: 60_000 });
        expect(await fail(store, key('t'), policy, 3)).toEqual(['closed', 'closed', 'open']);
      }));

    it('fails fast while open, with the time left until it half-opens', () =>
      withStore(async (store, key) => {
        await fail(store, key('t'), DEFAULT_BREAKER_POLICY, 5);
        const decisions = await Promise.all(Array.from({ length: 5 }, () => store.acquire(key('t'), DEFAULT_BREAKER_POLICY)));
        for (const decision of decisions) {
          expect(decision.allowed).toBe(false);
          expect(decision.state).toBe('open');
          expect(decision.retryAfterMs).toBeGreaterThan(29_000);
          expect(decision.retryAfterMs).toBeLessThanOrEqual(30_000);
        }
        await sleep(120);
        const later = await store.acquire(key('t'), DEFAULT_BREAKER_POLICY);
        expect(later.retryAfterMs).toBeLessThanOrEqual(30_000 - 100);
      }));

    it('half-opens after the open duration and admits exactly one probe, even under concurrency', () =>
      withStore(async (store, key) => {
        const policy = short();
        await fail(store, key('t'), policy, 2);
        expect((await store.acquire(key('t'), policy)).allowed).toBe(false);
        await sleep(policy.openDurationMs + 50);
        expect(await store.state(key('t'))).toBe('halfOpen');
        const decisions = await Promise.all(Array.from({ length: 25 }, () => store.acquire(key('t'), policy)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(1);
        for (const decision of decisions) expect(decision.state).toBe('halfOpen');
        for (const refused of decisions.filter((d) => !d.allowed)) expect(refused.retryAfterMs).toBeGreaterThan(0);
      }));

    it('admits exactly halfOpenMaxCalls probes when configured higher', () =>
      withStore(async (store, key) => {
        const policy = short({ halfOpenMaxCalls: 3 });
        await fail(store, key('t'), policy, 2);
        await sleep(policy.openDurationMs + 50);
        const decisions = await Promise.all(Array.from({ length: 25 }, () => store.acquire(key('t'), policy)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
      }));

    it('closes when a probe succeeds, with a fresh failure count', () =>
      withStore(async (store, key) => {
        const policy = short({ failureThreshold: 3 });
        await fail(store, key('t'), policy, 3);
        await sleep(policy.openDurationMs + 50);
        expect((await store.acquire(key('t'), policy)).allowed).toBe(true);
        await store.recordSuccess(key('t'), policy);
        expect(await store.state(key('t'))).toBe('closed');
        const decisions = await Promise.all(Array.from({ length: 10 }, () => store.acquire(key('t'), policy)));
        expect(decisions.every((d) => d.allowed && d.state === 'closed')).toBe(true);
        expect(await fail(store, key('t'), policy, 2)).toEqual(['closed', 'closed']);
      }));

    it('re-opens for another full duration when a probe fails', () =>
      withStore(async (store, key) => {
        const policy = short({ openDurationMs: 400 });
        await fail(store, key('t'), policy, 2);
        await sleep(policy.openDurationMs + 50);
        expect((await store.acquire(key('t'), policy)).allowed).toBe(true);
        expect(await store.recordFailure(key('t'), policy)).toBe('open');
        const refused = await store.acquire(key('t'), policy);
        expect(refused).toMatchObject({ allowed: false, state: 'open' });
        expect(refused.retryAfterMs).toBeGreaterThan(policy.openDurationMs - 100);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(policy.openDurationMs);
        await sleep(policy.openDurationMs + 50);
        expect(await store.state(key('t'))).toBe('halfOpen');
        expect((await store.acquire(key('t'), policy)).allowed).toBe(true);
      }));

    it('ignores failures reported while open (calls admitted before it opened): the duration is not extended', () =>
      withStore(async (store, key) => {
        const policy = short({ openDurationMs: 600 });
        await fail(store, key('t'), policy, 2);
        await sleep(250);
        expect(await store.recordFailure(key('t'), policy)).toBe('open');
        const refused = await store.acquire(key('t'), policy);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(600 - 200);
      }));

    it('frees the slot of a probe that never reports back after the open duration', () =>
      withStore(async (store, key) => {
        const policy = short();
        await fail(store, key('t'), policy, 2);
        await sleep(policy.openDurationMs + 50);
        expect((await store.acquire(key('t'), policy)).allowed).toBe(true);
        const busy = await store.acquire(key('t'), policy);
        expect(busy).toMatchObject({ allowed: false, state: 'halfOpen' });
        expect(busy.retryAfterMs).toBeLessThanOrEqual(policy.openDurationMs);
        await sleep(policy.openDurationMs + 50);
        expect((await store.acquire(key('t'), policy)).allowed).toBe(true);
      }));

    it('keeps keys independent', () =>
      withStore(async (store, key) => {
        const policy = short({ openDurationMs: 60_000 });
        await fail(store, key('a'), policy, 2);
        await store.recordFailure(key('b'), policy);
        expect(await store.state(key('a'))).toBe('open');
        expect(await store.state(key('b'))).toBe('closed');
        expect((await store.acquire(key('b'), policy)).allowed).toBe(true);
        expect((await store.acquire(key('c'), policy)).allowed).toBe(true);
        await store.recordSuccess(key('b'), policy);
        expect(await store.state(key('a'))).toBe('open');
      }));

    it('refuses an invalid policy', () =>
      withStore(async (store, key) => {
        const error = await store.acquire(key('t'), { failureThreshold: 0, openDurationMs: 1000, halfOpenMaxCalls: 1 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe(BREAKER_POLICY_INVALID_CODE);
      }));
  });
}
