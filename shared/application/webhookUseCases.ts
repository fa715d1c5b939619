import { randomBytes, randomUUID } from 'node:crypto';
import { AppError, ErrorCodes } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';
import { isTerminalRunStatus, type Run } from '../domain/run.js';
import type { Tenant } from '../domain/tenant.js';
import {
  DEFAULT_HOOK_MAX_BODY_BYTES,
  DEFAULT_ROTATION_GRACE_SECONDS,
  DELIVERY_ID_PATTERN,
  type Hook,
  type HookDelivery,
  type HookResponse,
  type HookSignatureFormat,
  HOOK_ID_PATTERN,
  hookSecretName,
  WebhookErrorCodes,
} from '../domain/webhook.js';
import type { HookChanges, HookIndex, Page, PageOptions, TenantDataStore } from '../ports/appStore.js';
import type { SecretStore } from '../ports/secretStore.js';
import type { RequestContext } from './requestContext.js';
import { createHookSchema, rotateHookSecretSchema, updateHookSchema } from './requestSchemas.js';
import { startRun } from './runUseCases.js';
import { validateRequest } from './validateRequest.js';
import { deliveryIdOf, type HeaderReader, newHookSecret, verifyWebhookSignature } from './webhookSignature.js';

export interface HookDependencies {
  data: TenantDataStore;
  hookIndex: HookIndex;
  secrets: SecretStore;
}

interface HookSettings {
  name?: string;
  enabled?: boolean;
  maxBodyBytes?: number;
  respondWith?: { mode: HookResponse['mode']; timeoutSeconds?: number };
}

function notFound(hookId: string): AppError {
  return new AppError(WebhookErrorCodes.notFound, `Hook '${hookId.slice(0, 140)}' was not found.`);
}

/** The hook, or WEBHOOK.NOT_FOUND (also for ids that cannot be hook ids). */
export async function getHook(hookId: string, data: TenantDataStore): Promise<Hook> {
  const hook = HOOK_ID_PATTERN.test(hookId) ? await data.hooks.get(hookId) : undefined;
  if (!hook) throw notFound(hookId);
  return hook;
}

function checkedBodyLimit(tenant: Tenant, requested: number | undefined): number {
  const limit = requested ?? Math.min(DEFAULT_HOOK_MAX_BODY_BYTES, tenant.quotas.maxPayloadBytes);
  if (limit > tenant.quotas.maxPayloadBytes) {
    throw new AppError(ErrorCodes.requestInvalid, `maxBodyBytes (${limit}) exceeds the tenant's maxPayloadBytes (${tenant.quotas.maxPayloadBytes}).`);
  }
  return limit;
}

function responseOf(requested: HookSettings['respondWith'] | undefined, current?: HookResponse): HookResponse {
  if (requested === undefined) return current ?? { mode: 'accepted', timeoutSeconds: 0 };
  return { mode: requested.mode, timeoutSeconds: requested.mode === 'output' ? (requested.timeoutSeconds ?? 10) : 0 };
}

/**
 * Creates a hook for a workflow: an unguessable id, its index entry (so the ingress finds the tenant), a new
 * signing secret in the secret store and the hook row, which names the secret's version only. The secret is
 * returned here once and never again. At most the tenant's maxWorkflows hooks.
 */
export async function createHook(ctx: RequestContext, tenant: Tenant, body: unknown, deps: HookDependencies): Promise<{ hook: Hook; secret: string }> {
  const request = validateRequest<HookSettings & { workflowId: string; signature?: HookSignatureFormat }>(createHookSchema, body);
  if (!(await deps.data.workflows.get(request.workflowId))) throw new AppError(ErrorCodes.workflowNotFound, `Workflow '${request.workflowId}' was not found.`);
  if ((await deps.data.hooks.count()) >= tenant.quotas.maxWorkflows) {
    throw new AppError(ErrorCodes.quotaExceeded, `Tenant '${tenant.id}' has its maximum of ${tenant.quotas.maxWorkflows} hooks.`);
  }
  const maxBodyBytes = checkedBodyLimit(tenant, request.maxBodyBytes);
  const signature = request.signature ?? 'standard-webhooks';
  const id = `wh-${randomBytes(16).toString('hex')}`;
  await deps.hookIndex.put(id, tenant.id);
  const secret = newHookSecret(signature);
  const written = await deps.secrets.set(tenant.id, hookSecretName(id), secret);
  const hook = await deps.data.hooks.create({
    id,
    workflowId: request.workflowId,
    name: request.name ?? request.workflowId,
    signature,
    enabled: request.enabled ?? true,
    maxBodyBytes,
    respondWith: responseOf(request.respondWith),
    secretVersion: written.version,
    previousSecretVersion: null,
    previousSecretExpiresAt: null,
    createdBy: ctx.principal.subject,
  });
  return { hook, secret };
}

export async function listHooks(options: PageOptions, data: TenantDataStore): Promise<Page<Hook>> {
  return data.hooks.list(options);
}

/** Changes a hook's name, enabled flag, body limit or response mode (its workflow and format are fixed). */
export async function updateHook(tenant: Tenant, hookId: string, body: unknown, ifRevision: number | undefined, data: TenantDataStore): Promise<Hook> {
  const request = validateRequest<HookSettings>(updateHookSchema, body);
  const current = await getHook(hookId, data);
  const changes: HookChanges = {};
  if (request.name !== undefined) changes.name = request.name;
  if (request.enabled !== undefined) changes.enabled = request.enabled;
  if (request.maxBodyBytes !== undefined) changes.maxBodyBytes = checkedBodyLimit(tenant, request.maxBodyBytes);
  if (request.respondWith !== undefined) changes.respondWith = responseOf(request.respondWith, current.respondWith);
  return data.hooks.update(hookId, changes, ifRevision === undefined ? {} : { ifRevision });
}

/** Deletes the hook, its deliveries, its index entry and its secret. Idempotent. */
export async function deleteHook(tenant: Tenant, hookId: string, ifRevision: number | undefined, deps: HookDependencies): Promise<boolean> {
  if (!HOOK_ID_PATTERN.test(hookId)) return false;
  const deleted = await deps.data.hooks.delete(hookId, ifRevision === undefined ? {} : { ifRevision });
  // Only this tenant's index entry and secret: a foreign hook id finds no row above and no secret below.
  if ((await deps.hookIndex.tenantOf(hookId)) === tenant.id) await deps.hookIndex.delete(hookId);
  await deps.secrets.delete(tenant.id, hookSecretName(hookId));
  return deleted;
}

/**
 * A new signing secret (returned once). The previous one stays valid for the grace period (default 24 h, at
 * most 7 days; 0 ends it at once), so senders can switch without losing deliveries.
 */
export async function rotateHookSecret(tenant: Tenant, hookId: string, body: unknown, ifRevision: number | undefined, now: Date, deps: HookDependencies): Promise<{ hook: Hook; secret: string }> {
  const request = validateRequest<{ gracePeriodSeconds?: number }>(rotateHookSecretSchema, body ?? {});
  const hook = await getHook(hookId, deps.data);
  if (ifRevision !== undefined && ifRevision !== hook.revision) throw new AppError(ErrorCodes.preconditionFailed, `Hook '${hookId}' has changed (revision ${hook.revision}).`);
  const grace = request.gracePeriodSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS;
  const secret = newHookSecret(hook.signature);
  const written = await deps.secrets.set(tenant.id, hookSecretName(hookId), secret);
  const updated = await deps.data.hooks.update(
    hookId,
    {
      secretVersion: written.version,
      previousSecretVersion: grace > 0 ? hook.secretVersion : null,
      previousSecretExpiresAt: grace > 0 ? new Date(now.getTime() + grace * 1000).toISOString() : null,
    },
    { ifRevision: hook.revision },
  );
  return { hook: updated, secret };
}

/** Ends the rotation's grace period now: only the current secret verifies from here on. */
export async function revokePreviousHookSecret(hookId: string, ifRevision: number | undefined, data: TenantDataStore): Promise<Hook> {
  const hook = await getHook(hookId, data);
  if (hook.previousSecretVersion === null) throw new AppError(WebhookErrorCodes.noPreviousSecret, `Hook '${hookId}' has no previous secret to revoke.`);
  return data.hooks.update(hookId, { previousSecretVersion: null, previousSecretExpiresAt: null }, ifRevision === undefined ? {} : { ifRevision });
}

/** The secrets that verify a request now: the current one, and the previous one until its grace period ends. */
export async function validHookSecrets(hook: Hook, now: Date, secrets: SecretStore): Promise<string[]> {
  const name = hookSecretName(hook.id);
  const versions = [hook.secretVersion];
  if (hook.previousSecretVersion !== null && hook.previousSecretExpiresAt !== null && Date.parse(hook.previousSecretExpiresAt) > now.getTime()) {
    versions.push(hook.previousSecretVersion);
  }
  const values = await Promise.all(versions.map((version) => secrets.get(hook.tenantId, name, version)));
  return values.flatMap((value) => (value ? [value.value] : []));
}

// ------------------------------------------------------------------------------------------------- ingress

/** A hook found from the ingress URL, with its tenant and the tenant's data. */
export interface HookTarget {
  tenant: Tenant;
  data: TenantDataStore;
  hook: Hook;
}

/**
 * hookId → tenant (the control-plane index) → hook. Unknown ids, disabled hooks and suspended tenants are all
 * WEBHOOK.NOT_FOUND: a caller learns nothing about which.
 */
export async function findHookTarget(
  hookId: string,
  deps: { hookIndex: HookIndex; tenant: (tenantId: string) => Promise<Tenant | undefined>; forTenant: (tenantId: string) => Promise<TenantDataStore> },
): Promise<HookTarget> {
  if (!HOOK_ID_PATTERN.test(hookId)) throw notFound(hookId);
  const tenantId = await deps.hookIndex.tenantOf(hookId);
  const tenant = tenantId === undefined ? undefined : await deps.tenant(tenantId);
  if (!tenant || tenant.status !== 'active') throw notFound(hookId);
  const data = await deps.forTenant(tenant.id);
  const hook = await data.hooks.get(hookId);
  if (!hook || !hook.enabled) throw notFound(hookId);
  return { tenant, data, hook };
}

/** What a request to a hook carries. */
export interface WebhookRequest {
  header: HeaderReader;
  body: Buffer;
  now: Date;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json$/;

/** The run input of a body by its content type: JSON as is, a form as `{form: {...}}`, text as `{text}`; else 415. */
export function runInputOf(contentType: string | null, body: Buffer): JsonValue {
  if (body.length === 0) return {};
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  if (JSON_TYPE.test(type)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      throw new AppError(WebhookErrorCodes.bodyInvalid, 'The body is not valid JSON.');
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const existing = form[key];
      form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    return { form };
  }
  if (type === 'text/plain') return { text };
  throw new AppError(WebhookErrorCodes.unsupportedMediaType, 'The body must be JSON (application/json or application/*+json), a form (application/x-www-form-urlencoded) or text/plain.');
}

/** What became of an accepted (or duplicate) delivery. */
export interface DeliveryResult {
  delivery: HookDelivery;
  deliveryId: string;
  run: Run;
  /** The run was inserted by this call (false: it existed, e.g. for a duplicate delivery). */
  created: boolean;
  duplicate: boolean;
}

/** The context runs started by a hook are attributed to. */
export function hookContext(hook: Hook, correlationId: string, now: Date): RequestContext {
  return { principal: { subject: `hook:${hook.id}`, name: hook.name, roles: [], tenantId: hook.tenantId }, correlationId, now };
}

/** Errors a later attempt can get past (the tenant's quota, an outage): the entry stays pending for the sweeper. */
function isTransient(error: unknown): boolean {
  return !(error instanceof AppError) || error.code === ErrorCodes.quotaExceeded || error.code === ErrorCodes.rateLimited || error.code === ErrorCodes.internal || error.retryable;
}

/**
 * Starts (or finds) the run of an inbox entry through startRun, with an idempotency key made of the hook and
 * the delivery id: however often it is called (duplicates, the sweeper after a crash, concurrent requests), the
 * entry gets one run. The entry records the run, or the permanent reason it could not start.
 */
export async function startDeliveryRun(
  ctx: RequestContext,
  target: HookTarget,
  entry: HookDelivery,
  idempotencyKey = `webhook:${entry.hookId}:${entry.deliveryId}`,
): Promise<{ run: Run; created: boolean }> {
  try {
    const started = await startRun(ctx, target.tenant, target.hook.workflowId, { input: JSON.parse(entry.payload ?? '{}') as JsonValue }, {
      trigger: { kind: 'webhook', source: target.hook.id },
      idempotencyKey,
    }, { data: target.data });
    if (entry.runId !== started.run.id) await target.data.hooks.settleDelivery(entry.id, { runId: started.run.id, reason: null });
    return started;
  } catch (error) {
    if (!isTransient(error)) await target.data.hooks.settleDelivery(entry.id, { runId: null, reason: (error as AppError).code });
    throw error;
  }
}

/**
 * Accepts a request to a hook: signature over the raw bytes (the hook's format; both secrets during a
 * rotation), a delivery id, a body the hook takes; then the inbox entry is stored (durably, before any answer),
 * and its run started through startRun. A delivery id seen before is a duplicate: it is recorded as such, no
 * second entry is stored, and the first entry's run is returned (started now if the first attempt could not).
 */
export async function acceptDelivery(target: HookTarget, request: WebhookRequest, correlationId: string, secrets: SecretStore): Promise<DeliveryResult> {
  const { hook, data } = target;
  verifyWebhookSignature(hook.signature, await validHookSecrets(hook, request.now, secrets), request.header, request.body, request.now);
  const deliveryId = deliveryIdOf(hook.signature, request.header);
  if (deliveryId === null || !DELIVERY_ID_PATTERN.test(deliveryId)) {
    throw new AppError(WebhookErrorCodes.deliveryIdMissing, `The request needs a delivery id of 1-128 printable ASCII characters (${hook.signature === 'github' ? 'X-GitHub-Delivery' : 'webhook-id'}).`);
  }
  const contentType = request.header('content-type');
  const input = runInputOf(contentType, request.body);
  const receivedAt = request.now.toISOString();
  const stored = await data.hooks.recordDelivery({
    id: randomUUID(),
    hookId: hook.id,
    deliveryId,
    outcome: 'accepted',
    reason: null,
    runId: null,
    receivedAt,
    contentType,
    bodyBytes: request.body.length,
    payload: JSON.stringify(input),
  });
  if (!stored.created) {
    await data.hooks.recordDelivery({ id: randomUUID(), hookId: hook.id, deliveryId, outcome: 'duplicate', reason: null, runId: stored.delivery.runId, receivedAt, contentType, bodyBytes: request.body.length, payload: null });
  }
  const { run, created } = await startDeliveryRun(hookContext(hook, correlationId, request.now), target, stored.delivery);
  return { delivery: stored.delivery, deliveryId, run, created, duplicate: !stored.created };
}

/** Records a refused request (no body): why, and the delivery id it named if it was usable. */
export async function recordRejection(target: HookTarget, request: { header: HeaderReader; bodyBytes: number; now: Date }, reason: string): Promise<void> {
  const named = deliveryIdOf(target.hook.signature, request.header);
  await target.data.hooks.recordDelivery({
    id: randomUUID(),
    hookId: target.hook.id,
    deliveryId: named !== null && DELIVERY_ID_PATTERN.test(named) ? named : null,
    outcome: 'rejected',
    reason,
    runId: null,
    receivedAt: request.now.toISOString(),
    contentType: request.header('content-type')?.slice(0, 256) ?? null,
    bodyBytes: request.bodyBytes,
    payload: null,
  });
}

/** Starts a new run from a stored inbox entry's payload (the original entry and run stay); recorded as `replayed`. */
export async function replayDelivery(ctx: RequestContext, tenant: Tenant, hookId: string, deliveryId: string, data: TenantDataStore): Promise<{ delivery: HookDelivery; run: Run }> {
  const hook = await getHook(hookId, data);
  const original = DELIVERY_ID_PATTERN.test(deliveryId) ? await data.hooks.getInboxEntry(hookId, deliveryId) : undefined;
  if (!original) throw new AppError(WebhookErrorCodes.deliveryNotFound, `Hook '${hookId}' has no stored delivery '${deliveryId.slice(0, 140)}'.`);
  const { delivery } = await data.hooks.recordDelivery({
    id: randomUUID(),
    hookId,
    deliveryId,
    outcome: 'replayed',
    reason: null,
    runId: null,
    receivedAt: ctx.now.toISOString(),
    contentType: original.contentType,
    bodyBytes: original.bodyBytes,
    payload: null,
  });
  const { run } = await startDeliveryRun(ctx, { tenant, data, hook }, { ...delivery, payload: original.payload }, `webhook:${hookId}:replay:${delivery.id}`);
  return { delivery: { ...delivery, runId: run.id }, run };
}

/**
 * Polls the run until it ends or the time is up (a hook that answers with the run's output). Returns the run as
 * last read.
 */
export async function waitForRunEnd(data: TenantDataStore, runId: string, timeoutMs: number, pollMs = 100): Promise<Run | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await data.runs.get(runId);
    if (!run || isTerminalRunStatus(run.status) || Date.now() >= deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}
