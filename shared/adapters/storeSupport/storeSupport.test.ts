import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { decodePageToken, encodePageToken, isoTimestamp, pageLimit, pageScope } from './storeSupport.js';

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
}

describe('page tokens', () => {
  const scope = pageScope('runs', 'acme', { status: 'failed' });

  it('round-trips a keyset position', () => {
    expect(decodePageToken(encodePageToken(scope, ['2030-01-01T00:00:00.000Z', 'run-1']), scope, ['string', 'string'])).toEqual(['2030-01-01T00:00:00.000Z', 'run-1']);
    expect(decodePageToken(undefined, scope, ['string'])).toBeUndefined();
  });

  it('binds a token to its list, tenant and filters', () => {
    expect(pageScope('runs', 'acme', { status: 'failed' })).toBe(scope);
    expect(pageScope('runs', 'acme', { status: 'failed', workflowId: undefined })).toBe(scope);
    for (const other of [pageScope('audit', 'acme', { status: 'failed' }), pageScope('runs', 'other', { status: 'failed' }), pageScope('runs', 'acme', {})]) {
      expect(other).not.toBe(scope);
      expect(code(() => decodePageToken(encodePageToken(other, ['a', 'b']), scope, ['string', 'string']))).toBe('REQUEST.INVALID');
    }
  });

  it('rejects altered, malformed or mistyped tokens', () => {
    // A token whose length is a multiple of 4 still decodes to the same bytes with a character appended.
    let token = encodePageToken(scope, ['x']);
    for (let pad = 'y'; token.length % 4 !== 0; pad += 'y') token = encodePageToken(scope, [pad]);
    expect(Buffer.from(`${token}A`, 'base64url').equals(Buffer.from(token, 'base64url'))).toBe(true);
    expect(code(() => decodePageToken(`${token}A`, scope, ['string']))).toBe('REQUEST.INVALID');
    for (const bad of ['', '!!!', 'e30', encodePageToken(scope, [1]), encodePageToken(scope, ['a', 'b'])]) {
      expect(code(() => decodePageToken(bad, scope, ['string'])), bad).toBe('REQUEST.INVALID');
    }
    expect(code(() => decodePageToken(encodePageToken(scope, [1.5]), scope, ['number']))).toBe('REQUEST.INVALID');
  });
});

describe('limits and timestamps', () => {
  it('accepts 1..100 and defaults to 50', () => {
    expect(pageLimit(undefined)).toBe(50);
    expect(pageLimit(1)).toBe(1);
    expect(pageLimit(100)).toBe(100);
    for (const bad of [0, 101, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(code(() => pageLimit(bad))).toBe('REQUEST.INVALID');
  });

  it('normalizes timestamps to the toISOString form', () => {
    expect(isoTimestamp('2030-01-01T01:00:00+01:00', 'at')).toBe('2030-01-01T00:00:00.000Z');
    expect(code(() => isoTimestamp('yesterday', 'at'))).toBe('REQUEST.INVALID');
  });
});
