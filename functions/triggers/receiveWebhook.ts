import { randomUUID } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { acceptDelivery, findHookTarget, type HookTarget, recordRejection, waitForRunEnd } from '../../shared/application/webhookUseCases.js';
import { getContainer } from '../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../shared/domain/errors.js';
import { isTerminalRunStatus } from '../../shared/domain/run.js';
import { WebhookErrorCodes } from '../../shared/domain/webhook.js';
import { problemResponse, statusOf } from '../api/http/problem.js';
import { admitQueuedRun } from './admittedRuns.js';
import { runQueueOutputs, type RunDispatchMessage } from './runQueues.js';
import { runEventsOutput } from './runEvents.js';

/** Refusals recorded in the hook's delivery list (without the body). */
const RECORDED_REFUSALS = new Set<string>([
  WebhookErrorCodes.signatureMissing,
  WebhookErrorCodes.signatureInvalid,
  WebhookErrorCodes.timestampOutOfRange,
  WebhookErrorCodes.deliveryIdMissing,
  WebhookErrorCodes.bodyTooLarge,
  WebhookErrorCodes.bodyInvalid,
  WebhookErrorCodes.unsupportedMediaType,
]);

function tooLarge(limit: number): AppError {
  return new AppError(WebhookErrorCodes.bodyTooLarge, `The body exceeds this hook's limit of ${limit} bytes.`);
}

/** The raw body bytes, read no further than `limit` (a declared Content-Length above it is refused unread). */
async function readBody(request: HttpRequest, limit: number, counted: { bytes: number }): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > limit) {
    counted.bytes = declared;
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  if (request.body) {
    for await (const chunk of request.body as AsyncIterable<Uint8Array>) {
      counted.bytes += chunk.length;
      if (counted.bytes > limit) throw tooLarge(limit);
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks);
}

/**
 * `POST /api/hooks/{hookId}` (anonymous: authenticated by the signature alone). The hook id finds the tenant
 * through the control-plane index; the body is read up to the hook's limit; the signature is verified over the
 * raw bytes; the delivery is stored in the tenant's inbox before anything is answered; its run starts through
 * startRun (idempotent by hook and delivery id) and is queued on the tenant's tier like any run. 202
 * `{runId, deliveryId}`; a duplicate delivery id answers 200 with the first delivery's run and starts nothing.
 * A hook that answers with the output waits up to its timeout for the run to end (200 with the output) and
 * answers 202 when it has not. Problems are problem+json with stable codes: 401 WEBHOOK.SIGNATURE_*, 404
 * WEBHOOK.NOT_FOUND, 413 WEBHOOK.BODY_TOO_LARGE, 415 WEBHOOK.UNSUPPORTED_MEDIA_TYPE, 429 QUOTA.RATE_LIMITED.
 */
export async function receiveWebhook(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const correlationId = randomUUID();
  const now = new Date();
  const header = (name: string): string | null => request.headers.get(name);
  const container = getContainer();
  let target: HookTarget | undefined;
  const counted = { bytes: 0 };
  try {
    target = await findHookTarget(request.params['hookId'] ?? '', {
      hookIndex: container.appStore.hookIndex,
      tenant: (tenantId) => container.tenantCache.get(tenantId),
      forTenant: (tenantId) => container.appStore.forTenant(tenantId),
    });
    const { tenant, hook, data } = target;
    const rate = tenant.quotas.requestsPerSecond;
    const decision = await container.rateLimiter.consume(`rl:hook:${hook.id}`, { ratePerSecond: rate, burst: Math.max(1, Math.ceil(rate * 2)) });
    if (!decision.allowed) throw new AppError(ErrorCodes.rateLimited, `Too many requests for this hook; retry in ${decision.retryAfterSeconds} s.`, { retryAfterSeconds: decision.retryAfterSeconds });
    const body = await readBody(request, Math.min(hook.maxBodyBytes, tenant.quotas.maxPayloadBytes), counted);
    const result = await acceptDelivery(target, { header, body, now }, correlationId, container.secretStore);
    let run = result.run;
    if (run.status === 'queued') {
      // Flushed when this invocation returns; the dispatcher ignores a run that is admitted already.
      context.extraOutputs.set(runQueueOutputs[tenant.tier], { tenantId: tenant.id, runId: run.id } satisfies RunDispatchMessage);
    }
    if (hook.respondWith.mode === 'output' && !isTerminalRunStatus(run.status)) {
      // The queue message only leaves when this invocation ends: join admission now, as the dispatcher would.
      if (run.status === 'queued') await admitQueuedRun(df.getClient(context), tenant, run, context);
      run = (await waitForRunEnd(data, run.id, hook.respondWith.timeoutSeconds * 1000)) ?? run;
    }
    const answer: Record<string, unknown> = { runId: run.id, deliveryId: result.deliveryId, status: run.status };
    if (result.duplicate) answer['duplicate'] = true;
    const ended = hook.respondWith.mode === 'output' && isTerminalRunStatus(run.status);
    if (ended) Object.assign(answer, { output: run.output, error: run.error });
    return {
      status: ended || result.duplicate ? 200 : 202,
      headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, location: `/api/tenants/${tenant.id}/runs/${run.id}` },
      body: JSON.stringify(answer),
    };
  } catch (error) {
    if (target && error instanceof AppError && RECORDED_REFUSALS.has(error.code)) {
      await recordRejection(target, { header, bodyBytes: counted.bytes, now }, error.code).catch((failure: unknown) => {
        context.warn(`Could not record a refused delivery of hook '${target!.hook.id}' (${correlationId}): ${(failure as Error).message}`);
      });
    }
    if (statusOf(error) === 500) context.error(`Webhook request failed (${correlationId}): ${(error as Error)?.stack ?? String(error)}`);
    return problemResponse(error, correlationId);
  }
}

app.http('receiveWebhook', {
  route: 'hooks/{hookId}',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  extraOutputs: [...Object.values(runQueueOutputs), runEventsOutput],
  handler: receiveWebhook,
});
