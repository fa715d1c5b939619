import type { RunStatus } from './run.js';

/**
 * Webhooks: a tenant's hook turns signed HTTP requests into runs of one workflow. The hook row holds no secret:
 * its signing secret lives in the secret store (name {@link hookSecretName}), and the row only names the
 * secret versions that are valid (the current one and, during a rotation's grace period, the previous one).
 */

/** How senders sign: Standard Webhooks (`webhook-id`/`webhook-timestamp`/`webhook-signature`) or GitHub (`X-Hub-Signature-256`). */
export const HOOK_SIGNATURE_FORMATS = ['standard-webhooks', 'github'] as const;
export type HookSignatureFormat = (typeof HOOK_SIGNATURE_FORMATS)[number];

/** `accepted`: answer 202 with the run id at once; `output`: wait up to `timeoutSeconds` for the run and answer with its output. */
export const HOOK_RESPONSE_MODES = ['accepted', 'output'] as const;
export type HookResponseMode = (typeof HOOK_RESPONSE_MODES)[number];

export interface HookResponse {
  mode: HookResponseMode;
  /** For `output`: 1..30 seconds. */
  timeoutSeconds: number;
}

/** Hook ids are unguessable (128 random bits): the URL carries no tenant, and the id alone finds the hook. */
export const HOOK_ID_PATTERN = /^wh-[0-9a-f]{32}$/;

/** Default and bounds of a hook's body size limit (never above the tenant's maxPayloadBytes). */
export const DEFAULT_HOOK_MAX_BODY_BYTES = 1024 * 1024;
export const MIN_HOOK_MAX_BODY_BYTES = 1024;
export const MAX_HOOK_RESPONSE_SECONDS = 30;

/** Standard Webhooks' tolerance on `webhook-timestamp`, either way (replays outside it are refused). */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;
/** How long the previous secret stays valid after a rotation unless the request says otherwise (and its bound). */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;

/** Delivery ids (`webhook-id`, `X-GitHub-Delivery`): printable ASCII, bounded so that they fit an idempotency key. */
export const DELIVERY_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export interface Hook {
  tenantId: string;
  id: string;
  workflowId: string;
  name: string;
  signature: HookSignatureFormat;
  enabled: boolean;
  maxBodyBytes: number;
  respondWith: HookResponse;
  /** The secret store version that signs now. */
  secretVersion: string;
  /** The version replaced by the last rotation, valid until `previousSecretExpiresAt`. */
  previousSecretVersion: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  revision: number;
}

/**
 * One request received by a hook, as recorded. `accepted` entries are the durable inbox (with the payload, one
 * per delivery id and hook); `duplicate`, `rejected` and `replayed` entries record what else happened, without
 * bodies (a replay's run reads the payload of the entry it replays).
 */
export const DELIVERY_OUTCOMES = ['accepted', 'duplicate', 'rejected', 'replayed'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface HookDelivery {
  tenantId: string;
  /** The record's own id. */
  id: string;
  hookId: string;
  /** The sender's delivery id; null for a rejected request that named none. */
  deliveryId: string | null;
  outcome: DeliveryOutcome;
  /** The error code: why it was rejected, or why its run could not start (accepted entries). */
  reason: string | null;
  runId: string | null;
  receivedAt: string;
  contentType: string | null;
  bodyBytes: number;
  /** The run input made from the body (accepted entries only; never listed). */
  payload: string | null;
}

/** A delivery as listed, with the status of its run. */
export interface HookDeliverySummary extends Omit<HookDelivery, 'payload'> {
  runStatus: RunStatus | null;
}

/** The secret store name of a hook's signing secret. */
export function hookSecretName(hookId: string): string {
  return `${HOOK_SECRET_PREFIX}${hookId}`;
}

/** The prefix of hook signing secrets in a tenant's secret store: reserved to the platform (see isReservedSecretName). */
export const HOOK_SECRET_PREFIX = 'hook-';

/** Stable codes of webhook problems (problem.ts maps them to statuses). */
export const WebhookErrorCodes = {
  notFound: 'WEBHOOK.NOT_FOUND',
  signatureMissing: 'WEBHOOK.SIGNATURE_MISSING',
  signatureInvalid: 'WEBHOOK.SIGNATURE_INVALID',
  timestampOutOfRange: 'WEBHOOK.TIMESTAMP_OUT_OF_RANGE',
  deliveryIdMissing: 'WEBHOOK.DELIVERY_ID_MISSING',
  bodyTooLarge: 'WEBHOOK.BODY_TOO_LARGE',
  unsupportedMediaType: 'WEBHOOK.UNSUPPORTED_MEDIA_TYPE',
  bodyInvalid: 'WEBHOOK.BODY_INVALID',
  deliveryNotFound: 'WEBHOOK.DELIVERY_NOT_FOUND',
  noPreviousSecret: 'WEBHOOK.NO_PREVIOUS_SECRET',
} as const;
