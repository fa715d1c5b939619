import type { RunStatus } from '../../domain/run.js';
import type { DeliveryOutcome, Hook, HookDelivery, HookDeliverySummary, HookResponseMode, HookSignatureFormat } from '../../domain/webhook.js';
import type { NewHook, NewHookDelivery } from '../../ports/appStore.js';
import { invalidRequest, isoTimestamp } from './storeSupport.js';

/**
 * The hook and delivery rows both SQL stores read (the same columns in SQLite and Azure SQL) and their mapping
 * to the domain, so the stores cannot drift.
 */

export interface HookRow {
  id: string;
  workflow_id: string;
  name: string;
  signature: string;
  /** SQLite INTEGER 0/1, Azure SQL bit (true/false). */
  enabled: number | boolean;
  max_body_bytes: number;
  respond_mode: string;
  respond_timeout_seconds: number;
  secret_version: string;
  previous_secret_version: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  created_by: string;
  revision: number;
}

export const HOOK_COLUMNS =
  'id, workflow_id, name, signature, enabled, max_body_bytes, respond_mode, respond_timeout_seconds, secret_version, previous_secret_version, previous_secret_expires_at, created_at, updated_at, created_by, revision';

export function hookFromRow(tenantId: string, row: HookRow): Hook {
  return {
    tenantId,
    id: row.id,
    workflowId: row.workflow_id,
    name: row.name,
    signature: row.signature as HookSignatureFormat,
    enabled: row.enabled === true || row.enabled === 1,
    maxBodyBytes: row.max_body_bytes,
    respondWith: { mode: row.respond_mode as HookResponseMode, timeoutSeconds: row.respond_timeout_seconds },
    secretVersion: row.secret_version,
    previousSecretVersion: row.previous_secret_version,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    revision: row.revision,
  };
}

/** The row of a hook (as both stores bind it), checked. */
export function hookToRow(hook: NewHook | Hook, at: { createdAt: string; updatedAt: string; revision: number }): HookRow {
  if (!Number.isSafeInteger(hook.maxBodyBytes) || hook.maxBodyBytes < 1) throw invalidRequest('maxBodyBytes must be a positive integer');
  return {
    id: hook.id,
    workflow_id: hook.workflowId,
    name: hook.name,
    signature: hook.signature,
    enabled: hook.enabled ? 1 : 0,
    max_body_bytes: hook.maxBodyBytes,
    respond_mode: hook.respondWith.mode,
    respond_timeout_seconds: hook.respondWith.timeoutSeconds,
    secret_version: hook.secretVersion,
    previous_secret_version: hook.previousSecretVersion,
    previous_secret_expires_at: hook.previousSecretExpiresAt === null ? null : isoTimestamp(hook.previousSecretExpiresAt, 'previousSecretExpiresAt'),
    created_at: isoTimestamp(at.createdAt, 'createdAt'),
    updated_at: isoTimestamp(at.updatedAt, 'updatedAt'),
    created_by: hook.createdBy,
    revision: at.revision,
  };
}

export interface DeliveryRow {
  id: string;
  hook_id: string;
  delivery_id: string | null;
  outcome: string;
  reason: string | null;
  run_id: string | null;
  received_at: string;
  content_type: string | null;
  body_bytes: number;
  payload: string | null;
}

/** Columns of a delivery, and the same qualified by the table alias `d` (for the join with runs). */
export const DELIVERY_COLUMNS = 'id, hook_id, delivery_id, outcome, reason, run_id, received_at, content_type, body_bytes, payload';
export const DELIVERY_SUMMARY_COLUMNS = 'd.id, d.hook_id, d.delivery_id, d.outcome, d.reason, d.run_id, d.received_at, d.content_type, d.body_bytes, r.status AS run_status';

export function deliveryFromRow(tenantId: string, row: DeliveryRow): HookDelivery {
  return {
    tenantId,
    id: row.id,
    hookId: row.hook_id,
    deliveryId: row.delivery_id,
    outcome: row.outcome as DeliveryOutcome,
    reason: row.reason,
    runId: row.run_id,
    receivedAt: row.received_at,
    contentType: row.content_type,
    bodyBytes: row.body_bytes,
    payload: row.payload,
  };
}

export function deliverySummaryFromRow(tenantId: string, row: Omit<DeliveryRow, 'payload'> & { run_status: string | null }): HookDeliverySummary {
  const { payload: _payload, ...delivery } = deliveryFromRow(tenantId, { ...row, payload: null });
  return { ...delivery, runStatus: row.run_status as RunStatus | null };
}

/** The row of a new delivery, checked; `inbox` marks accepted entries (unique per hook and delivery id). */
export function deliveryToRow(delivery: NewHookDelivery): DeliveryRow & { inbox: number } {
  if (!Number.isSafeInteger(delivery.bodyBytes) || delivery.bodyBytes < 0) throw invalidRequest('bodyBytes must be an integer >= 0');
  if (delivery.outcome === 'accepted' && (delivery.deliveryId === null || delivery.payload === null)) throw invalidRequest('an accepted delivery needs its delivery id and payload');
  return {
    id: delivery.id,
    hook_id: delivery.hookId,
    delivery_id: delivery.deliveryId,
    outcome: delivery.outcome,
    reason: delivery.reason,
    run_id: delivery.runId,
    received_at: isoTimestamp(delivery.receivedAt, 'receivedAt'),
    content_type: delivery.contentType,
    body_bytes: delivery.bodyBytes,
    payload: delivery.outcome === 'accepted' ? delivery.payload : null,
    inbox: delivery.outcome === 'accepted' ? 1 : 0,
  };
}
