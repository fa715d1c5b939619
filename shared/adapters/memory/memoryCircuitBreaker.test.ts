import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { runCircuitBreakerContract } from '../../ports/circuitBreaker.contract.js';
import { BREAKER_POLICY_INVALID_CODE, CIRCUIT_OPEN_CODE, CircuitOpenError, DEFAULT_BREAKER_POLICY, breakerKey, breakerPolicy, breakerTarget } from '../../ports/circuitBreaker.js';
import { MemoryCircuitBreaker } from './memoryCircuitBreaker.js';

runCircuitBreakerContract({
  name: 'memory',
  newStore: async () => ({ store: new MemoryCircuitBreaker(), prefix: 'test', close: async () => undefined }),
});

describe('MemoryCircuitBreaker on an injected clock', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => void (now += ms) };
  };

  it('half-opens exactly 30 s after opening with the default policy', async () => {
    const time = clock();
    const breakers = new MemoryCircuitBreaker({ now: time.now });
    for (let i = 0; i < 5; i++) await breakers.recordFailure('k', DEFAULT_BREAKER_POLICY);
    expect(await breakers.acquire('k', DEFAULT_BREAKER_POLICY)).toEqual({ allowed: false, state: 'open', retryAfterMs: 30_000 });
    time.advance(29_999);
    expect(await breakers.acquire('k', DEFAULT_BREAKER_POLICY)).toEqual({ allowed: false, state: 'open', retryAfterMs: 1 });
    time.advance(1);
    expect(await breakers.acquire('k', DEFAULT_BREAKER_POLICY)).toEqual({ allowed: true, state: 'halfOpen', retryAfterMs: 0 });
    expect(await breakers.acquire('k', DEFAULT_BREAKER_POLICY)).toEqual({ allowed: false, state: 'halfOpen', retryAfterMs: 30_000 });
  });

  it('forgets idle breakers: failures of a closed one, and an open one long after it half-opened', async () => {
    const time = clock();
    const breakers = new MemoryCircuitBreaker({ now: time.now, idleTtlMs: 60_000 });
    for (let i = 0; i < 4; i++) await breakers.recordFailure('closed', DEFAULT_BREAKER_POLICY);
    for (let i = 0; i < 5; i++) await breakers.recordFailure('open', DEFAULT_BREAKER_POLICY);
    time.advance(59_999);
    expect(await breakers.state('open')).toBe('halfOpen');
    time.advance(1);
    expect(await breakers.recordFailure('closed', DEFAULT_BREAKER_POLICY)).toBe('closed');
    expect(await breakers.state('open')).toBe('halfOpen');
    time.advance(30_000);
    expect(await breakers.state('open')).toBe('closed');
  });
});

describe('circuit breaker port helpers', () => {
  it('builds keys per tenant, connector and target (scheme + host + port)', () => {
    expect(breakerKey('acme', 'rest', 'https://user:pa55@API.example.com/v1/orders?token=s3cret#x')).toBe('breaker:acme:rest:https://api.example.com:443');
    expect(breakerKey('acme', 'rest', 'http://api.example.com:8080/x')).toBe('breaker:acme:rest:http://api.example.com:8080');
    expect(breakerKey('acme', 'rest', new URL('https://[::1]:9443/x'))).toBe('breaker:acme:rest:https://[::1]:9443');
    expect(breakerKey('acme', 'email', 'smtp.example.com:587')).toBe('breaker:acme:email:smtp.example.com:587');
    expect(breakerKey('acme', 'database', 'sa:secret@db.example.com:1433/orders?x=1')).toBe('breaker:acme:database:db.example.com:1433');
    expect(breakerKey('acme', 'rest', 'https://api.example.com')).toBe(breakerKey('acme', 'rest', 'https://api.example.com:443/other'));
  });

  it('refuses key segments that would make keys ambiguous', () => {
    expect(() => breakerKey('ac:me', 'rest', 'https://x')).toThrow(AppError);
    expect(() => breakerKey('acme', '', 'https://x')).toThrow(AppError);
    expect(() => breakerKey('acme', 'rest:x', 'https://x')).toThrow(AppError);
  });

  it('keeps targets free of credentials, paths and queries', () => {
    expect(breakerTarget('https://u:p@h.example.com/a/b?sig=1')).toBe('https://h.example.com:443');
    expect(breakerTarget('sftp://u:p@files.example.com/in')).toBe('sftp://files.example.com:22');
    expect(breakerTarget('custom://h.example.com:7000/x')).toBe('custom://h.example.com:7000');
  });

  it('merges and validates policies', () => {
    expect(breakerPolicy()).toEqual({ failureThreshold: 5, openDurationMs: 30_000, halfOpenMaxCalls: 1 });
    expect(breakerPolicy({ failureThreshold: 3, openDurationMs: undefined })).toEqual({ failureThreshold: 3, openDurationMs: 30_000, halfOpenMaxCalls: 1 });
    expect(() => breakerPolicy({ openDurationMs: -1 })).toThrow(expect.objectContaining({ code: BREAKER_POLICY_INVALID_CODE }));
    expect(() => breakerPolicy({ halfOpenMaxCalls: 1.5 })).toThrow(AppError);
  });

  it('fails fast with CONNECTOR.CIRCUIT_OPEN, naming the target and when it half-opens, never the full URL', () => {
    const error = new CircuitOpenError('https://user:pa55@api.example.com/v1/orders?api_key=s3cret', 12_345, { now: Date.UTC(2025, 0, 1) });
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe(CIRCUIT_OPEN_CODE);
    expect(error.code).toBe('CONNECTOR.CIRCUIT_OPEN');
    expect(error.retryable).toBe(false);
    expect(error.options.retryAfterSeconds).toBe(13);
    expect(error.message).toBe('Circuit breaker open for https://api.example.com:443: failing fast without calling it; it half-opens in 13 s (2025-01-01T00:00:12.345Z)');
    expect(error.details).toEqual({ target: 'https://api.example.com:443', retryAfterMs: 12_345, halfOpensAt: '2025-01-01T00:00:12.345Z', state: 'open' });
    const serialized = JSON.stringify({ message: error.message, details: error.details });
    for (const secret of ['pa55', 'user', 's3cret', 'api_key', '/v1/orders']) expect(serialized).not.toContain(secret);
  });
});
