import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import { deliveryIdOf, newHookSecret, signGitHub, signStandardWebhook, verifyWebhookSignature } from './webhookSignature.js';

const headers = (values: Record<string, string>) => (name: string): string | null => values[name.toLowerCase()] ?? null;

function codeOf(action: () => void): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  }
  return undefined;
}

describe('Standard Webhooks signatures', () => {
  // The test vector of the Standard Webhooks specification's reference libraries.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = Buffer.from('{"test": 2432232314}');
  const at = new Date(timestamp * 1000);
  const signed = (signature: string, extra: Record<string, string> = {}) => headers({ 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature, ...extra });

  it('signs as the specification’s test vector', () => {
    expect(signStandardWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('accepts the vector, also among several signatures and other versions', () => {
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='), body, at))).toBeUndefined();
    const several = `v1a,c29tZXRoaW5nZWxzZQ== v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`;
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(several), body, at))).toBeUndefined();
  });

  it('refuses a tampered body, a wrong secret, another id and malformed signatures', () => {
    const good = signStandardWebhook(secret, id, timestamp, body);
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(good), Buffer.from('{"test": 2432232315}'), at))).toBe('WEBHOOK.SIGNATURE_INVALID');
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [newHookSecret('standard-webhooks')], signed(good), body, at))).toBe('WEBHOOK.SIGNATURE_INVALID');
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(good, { 'webhook-id': 'msg_other' }), body, at))).toBe('WEBHOOK.SIGNATURE_INVALID');
    for (const malformed of ['g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', 'v1,', 'v1,not base64!', 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', 'v1,g0hM9SsE']) {
      expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(malformed), body, at)), malformed).toBe('WEBHOOK.SIGNATURE_INVALID');
    }
  });

  it('refuses timestamps more than 5 minutes away either way, and malformed ones', () => {
    const good = signStandardWebhook(secret, id, timestamp, body);
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(good), body, new Date((timestamp + 300) * 1000)))).toBeUndefined();
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(good), body, new Date((timestamp + 301) * 1000)))).toBe('WEBHOOK.TIMESTAMP_OUT_OF_RANGE');
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(good), body, new Date((timestamp - 301) * 1000)))).toBe('WEBHOOK.TIMESTAMP_OUT_OF_RANGE');
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], signed(good, { 'webhook-timestamp': '1614265330.5' }), body, at))).toBe('WEBHOOK.SIGNATURE_INVALID');
  });

  it('reports missing headers', () => {
    for (const missing of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const values: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(secret, id, timestamp, body) };
      delete values[missing];
      expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [secret], headers(values), body, at)), missing).toBe('WEBHOOK.SIGNATURE_MISSING');
    }
  });

  it('accepts either secret during a rotation, and nothing with no secret', () => {
    const next = newHookSecret('standard-webhooks');
    const byOld = signStandardWebhook(secret, id, timestamp, body);
    const byNew = signStandardWebhook(next, id, timestamp, body);
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [next, secret], signed(byOld), body, at))).toBeUndefined();
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [next, secret], signed(byNew), body, at))).toBeUndefined();
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [next], signed(byOld), body, at))).toBe('WEBHOOK.SIGNATURE_INVALID');
    expect(codeOf(() => verifyWebhookSignature('standard-webhooks', [], signed(byOld), body, at))).toBe('WEBHOOK.SIGNATURE_INVALID');
  });
});

describe('GitHub signatures', () => {
  // GitHub's documented example (docs.github.com, "Validating webhook deliveries").
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const now = new Date();

  it('signs as GitHub’s documented example', () => {
    expect(signGitHub(secret, body)).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });

  it('accepts the example (hex in either case) and refuses a tampered body, a wrong secret and malformed headers', () => {
    const good = signGitHub(secret, body);
    expect(codeOf(() => verifyWebhookSignature('github', [secret], headers({ 'x-hub-signature-256': good }), body, now))).toBeUndefined();
    expect(codeOf(() => verifyWebhookSignature('github', [secret], headers({ 'x-hub-signature-256': good.toUpperCase().replace('SHA256=', 'sha256=') }), body, now))).toBeUndefined();
    expect(codeOf(() => verifyWebhookSignature('github', [secret], headers({ 'x-hub-signature-256': good }), Buffer.from('Hello, World?'), now))).toBe('WEBHOOK.SIGNATURE_INVALID');
    expect(codeOf(() => verifyWebhookSignature('github', ['another secret'], headers({ 'x-hub-signature-256': good }), body, now))).toBe('WEBHOOK.SIGNATURE_INVALID');
    for (const malformed of ['757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', 'sha1=757107ea', 'sha256=xyz']) {
      expect(codeOf(() => verifyWebhookSignature('github', [secret], headers({ 'x-hub-signature-256': malformed }), body, now)), malformed).toBe('WEBHOOK.SIGNATURE_INVALID');
    }
    expect(codeOf(() => verifyWebhookSignature('github', [secret], headers({}), body, now))).toBe('WEBHOOK.SIGNATURE_MISSING');
    expect(codeOf(() => verifyWebhookSignature('github', ['new', secret], headers({ 'x-hub-signature-256': good }), body, now))).toBeUndefined();
  });

  it('takes the delivery id from the format’s header', () => {
    expect(deliveryIdOf('github', headers({ 'x-github-delivery': ' 72d3162e ', 'webhook-id': 'x' }))).toBe('72d3162e');
    expect(deliveryIdOf('standard-webhooks', headers({ 'x-github-delivery': 'y', 'webhook-id': 'msg_1' }))).toBe('msg_1');
    expect(deliveryIdOf('github', headers({}))).toBeNull();
  });
});
