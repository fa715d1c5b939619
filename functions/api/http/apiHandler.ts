import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { assertTenantAccess, requireRole } from '../../../shared/application/access.js';
import { authenticate } from '../../../shared/application/authenticate.js';
import type { RequestContext } from '../../../shared/application/requestContext.js';
import { getContainer } from '../../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import type { JsonValue } from '../../../shared/domain/json.js';
import type { Role } from '../../../shared/domain/roles.js';
import { DEFAULT_QUOTAS, type Tenant } from '../../../shared/domain/tenant.js';
import { problemResponse, statusOf } from './problem.js';

/** What a management API handler gets: the authenticated request, scoped to one tenant when the route has one. */
export interface ApiRequest {
  request: HttpRequest;
  invocation: InvocationContext;
  ctx: RequestContext;
  /** The tenant of the route (`{tenantId}`) or `X-Tenant-ID`, already checked against the caller. */
  tenantId: string | undefined;
  /** The parsed JSON body (undefined when there is none), already bounded by the tenant's payload quota. */
  body(): Promise<JsonValue | undefined>;
  /** The revision an `If-Match: "r<n>"` header names, if any. */
  ifMatch(): number | undefined;
  /** Records what the audit entry of this mutation targets (`workflow`, `wf-1`). */
  auditTarget(type: string, id: string): void;
  /** Names a more specific audit action than the handler's (`tenant.egress.update` for a `tenant.update` that opens egress). */
  auditAction(action: string): void;
}

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiOptions {
  /** Roles that may call it (platform admins always may). `'authenticated'`: any valid token. */
  roles: readonly Role[] | 'authenticated';
  /** Audit action for mutations, e.g. `workflow.create`. Every mutating call names one. */
  audit?: string;
}

const MAX_BODY_BYTES_WITHOUT_TENANT = 1024 * 1024;

/** `"r<revision>"`: the ETag of a resource with a revision counter. */
export function etagOf(revision: number): string {
  return `"r${revision}"`;
}

function parseIfMatch(header: string | null): number | undefined {
  if (!header || header.trim() === '*') return undefined;
  const match = /^(?:W\/)?"r(\d+)"$/.exec(header.trim());
  if (!match) throw new AppError(ErrorCodes.requestInvalid, `If-Match must be an ETag this API returned, such as "r3" (got ${header}).`);
  return Number(match[1]);
}

function correlationIdOf(request: HttpRequest): string {
  const given = request.headers.get('x-correlation-id');
  return given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

function tenantIdOf(request: HttpRequest): string | undefined {
  const fromRoute = request.params['tenantId'];
  const fromHeader = request.headers.get('x-tenant-id') ?? undefined;
  if (fromRoute && fromHeader && fromRoute !== fromHeader) {
    throw new AppError(ErrorCodes.requestInvalid, `X-Tenant-ID (${fromHeader}) does not match the tenant in the route (${fromRoute}).`);
  }
  return fromRoute ?? fromHeader;
}

async function readJson(request: HttpRequest, maxBytes: number): Promise<JsonValue | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new AppError(ErrorCodes.requestBodyTooLarge, `The body exceeds ${maxBytes} bytes.`);
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > maxBytes) throw new AppError(ErrorCodes.requestBodyTooLarge, `The body exceeds ${maxBytes} bytes.`);
  if (bytes.length === 0) return undefined;
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) throw new AppError(ErrorCodes.requestInvalid, 'The body must be JSON (Content-Type: application/json).');
  try {
    return JSON.parse(bytes.toString('utf8')) as JsonValue;
  } catch {
    throw new AppError(ErrorCodes.requestInvalid, 'The body is not valid JSON.');
  }
}

/**
 * Wraps a management API handler with everything every endpoint needs, in one place: correlation id,
 * authentication, tenant scoping (another tenant's resources are 404), roles, the tenant's rate limit, a bounded
 * JSON body, the audit entry of every mutation (success or failure) and the mapping of errors to
 * problem+json.
 */
export function apiHandler(options: ApiOptions, handler: (api: ApiRequest) => Promise<ApiResult>) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> => {
    const correlationId = correlationIdOf(request);
    const container = getContainer();
    let ctx: RequestContext | undefined;
    let tenant: Tenant | undefined;
    let tenantId: string | undefined;
    const target = { type: '', id: '' };
    let auditAction = options.audit;
    let result: ApiResult | undefined;
    let failure: unknown;
    try {
      const principal = await authenticate(request.headers.get('authorization'), {
        tokens: container.tokens,
        tenants: container.appStore.tenants,
        platformDirectories: container.platformDirectories,
      });
      ctx = { principal, correlationId, now: new Date() };
      tenantId = tenantIdOf(request);
      if (tenantId !== undefined) {
        assertTenantAccess(principal, tenantId);
        tenant = await container.tenantCache.get(tenantId);
        if (!tenant) throw new AppError(ErrorCodes.tenantNotFound, `Tenant '${tenantId}' was not found.`);
      }
      if (options.roles !== 'authenticated') requireRole(principal, ...options.roles);
      const quotas = tenant?.quotas ?? DEFAULT_QUOTAS.premium;
      const decision = await container.rateLimiter.consume(`rl:api:${tenantId ?? `platform:${principal.subject}`}`, {
        ratePerSecond: quotas.requestsPerSecond,
        burst: Math.max(1, Math.ceil(quotas.requestsPerSecond * 2)),
      });
      if (!decision.allowed) {
        throw new AppError(ErrorCodes.rateLimited, `Too many requests for tenant '${tenantId ?? 'platform'}'; retry in ${decision.retryAfterSeconds} s.`, { retryAfterSeconds: decision.retryAfterSeconds });
      }
      const maxBody = tenant?.quotas.maxPayloadBytes ?? MAX_BODY_BYTES_WITHOUT_TENANT;
      let bodyPromise: Promise<JsonValue | undefined> | undefined;
      result = await handler({
        request,
        invocation,
        ctx,
        tenantId,
        body: () => (bodyPromise ??= readJson(request, maxBody)),
        ifMatch: () => parseIfMatch(request.headers.get('if-match')),
        auditTarget: (type, id) => {
          target.type = type;
          target.id = id;
        },
        auditAction: (action) => {
          if (options.audit !== undefined) auditAction = action;
        },
      });
    } catch (error) {
      failure = error;
    }
    // A tenant's audit log records every mutation on it, including a platform admin's (tenant create/update).
    const auditTenant = target.type === 'tenant' && target.id ? target.id : tenantId;
    if (auditAction && ctx && auditTenant) {
      try {
        const store = await container.appStore.forTenant(auditTenant);
        await store.audit.append({
          id: randomUUID(),
          at: new Date().toISOString(),
          actor: { subject: ctx.principal.subject, name: ctx.principal.name, roles: ctx.principal.roles },
          action: auditAction,
          target: { type: target.type || 'tenant', id: target.id || auditTenant },
          outcome: failure === undefined ? 'success' : 'failure',
          errorCode: failure === undefined ? null : failure instanceof AppError ? failure.code : ErrorCodes.internal,
          correlationId,
        });
      } catch (error) {
        // A deleted tenant has no audit log any more; anything else is logged, and the answer still goes out.
        if (!(error instanceof AppError && error.code === ErrorCodes.tenantNotFound)) invocation.error(`Audit write failed (${correlationId}): ${(error as Error).message}`);
      }
    }
    if (failure !== undefined) {
      if (statusOf(failure) === 500) invocation.error(`Request failed (${correlationId}): ${(failure as Error)?.stack ?? String(failure)}`);
      return problemResponse(failure, correlationId);
    }
    const headers: Record<string, string> = { 'x-correlation-id': correlationId, ...(result!.headers ?? {}) };
    if (result!.body === undefined) return { status: result!.status, headers };
    return { status: result!.status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(result!.body) };
  };
}
