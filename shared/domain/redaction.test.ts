import { describe, expect, it } from 'vitest';
import { REDACTED, redactJson, redactSecrets } from './redaction.js';

describe('redactSecrets', () => {
  it('replaces every occurrence of each value', () => {
    expect(redactSecrets('token=abc123XYZ; again abc123XYZ', ['abc123XYZ'])).toBe(`token=${REDACTED}; again ${REDACTED}`);
    expect(redactSecrets('a: hunter22, b: pa55word', ['hunter22', 'pa55word'])).toBe(`a: ${REDACTED}, b: ${REDACTED}`);
  });

  it('finds the base64, base64url, URL-encoded and JSON-escaped forms', () => {
    const value = 'p@ss w/rd?+ "quoted"';
    const b64 = Buffer.from(value).toString('base64');
    const b64url = Buffer.from(value).toString('base64url');
    const text = [`Authorization: Basic ${b64}`, `u=${b64url}`, `q=${encodeURIComponent(value)}`, `f=${encodeURIComponent(value).replace(/%20/g, '+')}`, JSON.stringify({ v: value })].join('\n');
    const redacted = redactSecrets(text, [value]);
    expect(redacted).toBe([`Authorization: Basic ${REDACTED}`, `u=${REDACTED}`, `q=${REDACTED}`, `f=${REDACTED}`, JSON.stringify({ v: REDACTED })].join('\n'));
  });

  it('skips values shorter than 4 characters and leaves text without secrets alone', () => {
    expect(redactSecrets('abc and a', ['abc', 'a', ''])).toBe('abc and a');
    expect(redactSecrets('nothing here', ['s3cr3t'])).toBe('nothing here');
    expect(redactSecrets('any', [])).toBe('any');
  });

  it('replaces the longer of overlapping values whole', () => {
    expect(redactSecrets('key=secret-long-value', ['secret', 'secret-long-value'])).toBe(`key=${REDACTED}`);
  });
});

describe('redactJson', () => {
  it('redacts strings, keys and numbers deep in a value without modifying it', () => {
    const input = { headers: { authorization: 'Bearer tok-9876' }, list: ['x', 'tok-9876!'], 'tok-9876': true, pin: 123456789, n: 5, nothing: null };
    const before = JSON.stringify(input);
    const output = redactJson(input, ['tok-9876', '123456789']);
    expect(output).toEqual({ headers: { authorization: `Bearer ${REDACTED}` }, list: ['x', `${REDACTED}!`], [REDACTED]: true, pin: REDACTED, n: 5, nothing: null });
    expect(JSON.stringify(input)).toBe(before);
    expect(JSON.stringify(output)).not.toContain('tok-9876');
  });

  it('returns the value itself when there is nothing to redact', () => {
    const input = { a: 1 };
    expect(redactJson(input, ['ab'])).toBe(input);
  });
});
