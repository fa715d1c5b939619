import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { type HookSignatureFormat, SIGNATURE_TOLERANCE_SECONDS, WebhookErrorCodes } from '../domain/webhook.js';

/** Reads a request header by (case-insensitive) name; null when absent. */
export type HeaderReader = (name: string) => string | null;

const STANDARD_SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks), or 64 hex characters (GitHub). */
export function newHookSecret(format: HookSignatureFormat): string {
  const key = randomBytes(32);
  return format === 'standard-webhooks' ? `${STANDARD_SECRET_PREFIX}${key.toString('base64')}` : key.toString('hex');
}

/** The HMAC key of a Standard Webhooks secret: the base64 after `whsec_` (a secret without the prefix is taken as base64 too). */
function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(STANDARD_SECRET_PREFIX) ? secret.slice(STANDARD_SECRET_PREFIX.length) : secret, 'base64');
}

/** The Standard Webhooks signature (`v1,<base64>`) of a message: HMAC-SHA256 over `<id>.<timestamp>.<body>`. */
export function signStandardWebhook(secret: string, deliveryId: string, timestampSeconds: number, body: Buffer | string): string {
  const mac = createHmac('sha256', standardKey(secret));
  mac.update(`${deliveryId}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

/** GitHub's `X-Hub-Signature-256` value: `sha256=` + hex HMAC-SHA256 of the body with the secret as key. */
export function signGitHub(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Equal in constant time for equal lengths (the length of a digest is no secret). */
function sameBytes(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function refuse(code: string, message: string): never {
  throw new AppError(code, message);
}

/** The Standard Webhooks check: timestamp within the tolerance, then any `v1,` signature made by any of the secrets. */
function verifyStandard(secrets: readonly string[], header: HeaderReader, body: Buffer, now: Date): void {
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) refuse(WebhookErrorCodes.signatureMissing, 'The request needs the webhook-id, webhook-timestamp and webhook-signature headers.');
  if (!/^\d{1,12}$/.test(timestamp.trim())) refuse(WebhookErrorCodes.signatureInvalid, 'webhook-timestamp must be whole seconds since the Unix epoch.');
  const seconds = Number(timestamp.trim());
  if (Math.abs(now.getTime() / 1000 - seconds) > SIGNATURE_TOLERANCE_SECONDS) {
    refuse(WebhookErrorCodes.timestampOutOfRange, `webhook-timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS / 60} minutes away from the server's time.`);
  }
  // Space-delimited `<version>,<signature>` pairs; only v1 (HMAC-SHA256) is ours, other versions are skipped.
  const given = signatures
    .trim()
    .split(/\s+/)
    .map((entry) => entry.split(','))
    .filter((parts) => parts.length === 2 && parts[0] === 'v1' && BASE64.test(parts[1]!))
    .map((parts) => Buffer.from(parts[1]!, 'base64'));
  if (given.length === 0) refuse(WebhookErrorCodes.signatureInvalid, 'webhook-signature holds no v1 signature.');
  for (const secret of secrets) {
    const expected = Buffer.from(signStandardWebhook(secret, id, seconds, body).slice(3), 'base64');
    // Every candidate is compared (no early exit on the first secret's result shape).
    if (given.some((signature) => sameBytes(expected, signature))) return;
  }
  refuse(WebhookErrorCodes.signatureInvalid, 'No webhook-signature matches the body with this hook’s secret.');
}

function verifyGitHub(secrets: readonly string[], header: HeaderReader, body: Buffer): void {
  const value = header('x-hub-signature-256');
  if (!value) refuse(WebhookErrorCodes.signatureMissing, 'The request needs the X-Hub-Signature-256 header.');
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!match) refuse(WebhookErrorCodes.signatureInvalid, 'X-Hub-Signature-256 must be sha256=<64 hex digits>.');
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  for (const secret of secrets) {
    if (sameBytes(createHmac('sha256', secret).update(body).digest(), given)) return;
  }
  refuse(WebhookErrorCodes.signatureInvalid, 'X-Hub-Signature-256 does not match the body with this hook’s secret.');
}

/**
 * Verifies a webhook request over its raw body bytes, in constant time per comparison, against every valid
 * secret of the hook (two during a rotation's grace period). Throws WEBHOOK.SIGNATURE_MISSING,
 * WEBHOOK.SIGNATURE_INVALID or WEBHOOK.TIMESTAMP_OUT_OF_RANGE (Standard Webhooks: 5 minutes either way).
 */
export function verifyWebhookSignature(format: HookSignatureFormat, secrets: readonly string[], header: HeaderReader, body: Buffer, now: Date): void {
  if (secrets.length === 0) refuse(WebhookErrorCodes.signatureInvalid, 'The hook has no valid secret.');
  if (format === 'standard-webhooks') verifyStandard(secrets, header, body, now);
  else verifyGitHub(secrets, header, body);
}

/** The sender's delivery id: `webhook-id` (Standard Webhooks) or `X-GitHub-Delivery` (GitHub); null when absent. */
export function deliveryIdOf(format: HookSignatureFormat, header: HeaderReader): string | null {
  const value = format === 'standard-webhooks' ? header('webhook-id') : header('x-github-delivery');
  return value === null || value.trim() === '' ? null : value.trim();
}
