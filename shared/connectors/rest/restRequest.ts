/**
 * One HTTP request of the REST connector — `rest.request` and every operation of a REST connector declared in a
 * definition run through this one implementation: the SSRF guard (`guardedFetch`: scheme/port/address checks on
 * every hop, DNS pinning, capped bodies) under the operator's egress policy merged with the calling tenant's,
 * auth (bearer, basic, API key, OAuth2 client credentials with a per-tenant token cache), the Idempotency-Key,
 * fallback URLs, and the mapping of faults to retryable or permanent ConnectorErrors.
 *
 * Errors: 5xx, 408, 429, timeouts and network failures are retryable ConnectorErrors; other unaccepted statuses
 * are a permanent REST.HTTP_STATUS; SSRF refusals are permanent with their SSRF.* code. Messages name the host and
 * status only: never the URL (its query may hold a key), headers, bodies or credentials. Credentials derived from
 * secrets (basic auth, OAuth tokens) are handed to `context.redact`.
 */
import type { ActionContext } from '../sdk.js';
import { ConnectorError } from '../sdk.js';
import { operatorEgressPolicy, withTenantEgress, type EgressPolicy, type Resolver } from './addressPolicy.js';
import { authParameters } from './authParameters.js';
import { buildRequestUrl } from './buildRequestUrl.js';
import { decodeResponseBody } from './decodeResponseBody.js';
import { encodeRequestBody, REST_INPUT_INVALID } from './encodeRequestBody.js';
import { guardedFetch, type GuardedResponse } from './guardedFetch.js';
import { idempotencyKey } from './idempotencyKey.js';
import { basicClientCredentials, OAuthTokenSource, REST_OAUTH_TOKEN_FAILED } from './oauthClientCredentials.js';
import { responseHeaders } from './responseHeaders.js';
import type { RestRequestInput, RestRequestOutput } from './restRequestInput.js';
import { statusError } from './statusError.js';
import { toConnectorError } from './toConnectorError.js';

export interface RestConnectorOptions {
  /** The operator egress policy; absent or empty → public internet only (plus each tenant's own allow-list). */
  egress?: { readonly allowHosts?: readonly string[]; readonly allowPorts?: readonly number[] } | undefined;
  /** Injectable resolver (tests); defaults to `dns.lookup`. */
  resolver?: Resolver;
  /** Response body cap in bytes (guardedFetch's default, 10 MB, when absent). */
  maxResponseBytes?: number;
  /** Clock of the OAuth token cache (tests). */
  now?: () => number;
  /** Bound of the OAuth token cache (default 1,000 tokens; oldest evicted). */
  maxCachedTokens?: number;
}

/** Sends one request (resolved inputs: secrets are plain strings) and returns its output, or throws a ConnectorError. */
export type RestRequester = (input: RestRequestInput, context: ActionContext) => Promise<RestRequestOutput>;

const DEFAULT_TIMEOUT_SECONDS = 30;

/** `url` without its query and fragment (the query may hold an API key) nor userinfo. */
function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '';
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'unknown';
  }
}

/** The requester of one REST connector instance: its operator policy, resolver and OAuth token cache. */
export function createRestRequester(options: RestConnectorOptions = {}): RestRequester {
  const operatorPolicy: EgressPolicy = operatorEgressPolicy(options.egress);
  const tokens = new OAuthTokenSource({ policy: operatorPolicy, resolver: options.resolver, now: options.now, maxEntries: options.maxCachedTokens });
  return async (input, context) => {
    // The operator's allow-list plus, for this call only, the allow-list of the tenant the step runs for.
    const policy = withTenantEgress(operatorPolicy, context.egress);
    const method = input.method ?? 'GET';
    const auth = authParameters(input.auth);
    for (const credential of auth.derived) context.redact?.(credential);
    const oauth = input.auth?.type === 'oauth2ClientCredentials' ? input.auth : undefined;
    const oauthKey = oauth ? OAuthTokenSource.key(context.tenantId, oauth) : undefined;
    if (oauth) {
      context.redact?.(oauth.clientSecret);
      if (oauth.clientAuth === 'basic') context.redact?.(basicClientCredentials(oauth));
    }
    const urls = [input.url, ...(input.fallbackUrls ?? [])].map((candidate) => buildRequestUrl(candidate, input.query, auth.query));
    const encoded = encodeRequestBody(input.body, input.bodyType);
    if (encoded && (method === 'GET' || method === 'HEAD')) throw new ConnectorError(REST_INPUT_INVALID, `A ${method} request cannot have a body.`);

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
    Object.assign(headers, auth.headers);
    if (encoded && headers['content-type'] === undefined) headers['content-type'] = encoded.contentType;
    if (headers['idempotency-key'] === undefined) headers['idempotency-key'] = idempotencyKey(context.runId, context.stepId);
    headers['accept'] ??= input.responseType === 'text' ? 'text/plain, */*;q=0.8' : 'application/json, */*;q=0.8';
    const timeoutMs = Math.round((input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000);

    const bearer = async (): Promise<{ accessToken: string; cached: boolean } | undefined> => {
      if (!oauth || oauthKey === undefined) return undefined;
      const token = await tokens.token(oauthKey, oauth, context.signal, policy);
      context.redact?.(token.accessToken);
      return token;
    };

    /** One request to `url`; throws the mapped ConnectorError on a fault or an unaccepted status. */
    const attempt = async (url: string): Promise<GuardedResponse> => {
      const host = hostOf(url);
      const send = async (accessToken: string | undefined): Promise<GuardedResponse> => {
        const timeoutSignal = AbortSignal.timeout(timeoutMs);
        const signal = AbortSignal.any([context.signal, timeoutSignal]);
        try {
          return await guardedFetch(url, {
            method,
            headers: accessToken === undefined ? headers : { ...headers, authorization: `Bearer ${accessToken}` },
            body: encoded?.data ?? null,
            signal,
            policy,
            timeoutMs,
            ...(options.resolver ? { resolver: options.resolver } : {}),
            ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
          });
        } catch (error) {
          throw toConnectorError(error, host, context.signal, timeoutSignal);
        }
      };
      const token = await bearer();
      let response = await send(token?.accessToken);
      if (response.status === 401 && token?.cached && oauthKey !== undefined) {
        // The cached token was revoked or expired early: drop it, fetch a new one once and retry once.
        tokens.invalidate(oauthKey, token.accessToken);
        const fresh = await bearer();
        response = await send(fresh?.accessToken);
      }
      const accepted = input.expectStatus ? input.expectStatus.includes(response.status) : response.status >= 200 && response.status < 300;
      if (!accepted) throw statusError(response.status, hostOf(response.url), response.headers);
      return response;
    };

    let response: GuardedResponse | undefined;
    let answeredBy = urls[0]!;
    for (let index = 0; index < urls.length; index += 1) {
      const url = urls[index]!;
      try {
        response = await attempt(url);
        answeredBy = url;
        break;
      } catch (error) {
        const isLast = index === urls.length - 1;
        // Only a retryable fault of this URL moves on (not 4xx, SSRF refusals, token failures or cancellation).
        const fallBack = !isLast && !context.signal.aborted && error instanceof ConnectorError && error.retryable && error.code !== REST_OAUTH_TOKEN_FAILED;
        if (!fallBack) throw error;
        context.log(`${method} ${hostOf(url)} failed (${error.code}); trying fallback ${index + 1}.`, 'warning');
      }
    }
    if (!response) throw new ConnectorError('REST.REQUEST_FAILED', 'No request was sent.');

    const finalHost = hostOf(response.url);
    const contentType = response.headers['content-type'];
    const body = method === 'HEAD' ? null : decodeResponseBody(response.body, Array.isArray(contentType) ? contentType[0] : contentType, input.responseType, finalHost);
    context.log(`${method} ${hostOf(answeredBy)} → HTTP ${response.status}`);
    return { status: response.status, headers: responseHeaders(response.headers), body, url: withoutQuery(response.url) };
  };
}
