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
 *
 * Binary bodies go through artifacts (`ActionContext.artifacts`), for `rest.request` and declared operations alike:
 * `responseType: "binary"` (or `auto` on a non-text content type) streams the response into an artifact, capped
 * while it streams, and returns its reference as `body`; an artifact reference as `body` is streamed as the request body.
 */
import type { ArtifactRef } from '../../ports/artifactStore.js';
import type { ActionContext } from '../sdk.js';
import { ConnectorError } from '../sdk.js';
import { operatorEgressPolicy, withTenantEgress, type EgressPolicy, type Resolver } from './addressPolicy.js';
import { authParameters } from './authParameters.js';
import { buildRequestUrl } from './buildRequestUrl.js';
import { artifactRequestBody, binaryResponseLimit, DEFAULT_MAX_BINARY_RESPONSE_BYTES, isBinaryResponse, responseToArtifact } from './binaryBody.js';
import { decodeResponseBody } from './decodeResponseBody.js';
import { encodeRequestBody, REST_INPUT_INVALID } from './encodeRequestBody.js';
import { DEFAULT_MAX_RESPONSE_BYTES, guardedRequest, readCapped, type GuardedResponse } from './guardedFetch.js';
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
  /** The operator maximum (and default) of a binary response streamed into an artifact (1 GiB when absent). */
  maxBinaryResponseBytes?: number;
  /** Clock of the OAuth token cache (tests). */
  now?: () => number;
  /** Bound of the OAuth token cache (default 1,000 tokens; oldest evicted). */
  maxCachedTokens?: number;
}

/** Sends one request (resolved inputs: secrets are plain strings) and returns its output, or throws a ConnectorError. */
export type RestRequester = (input: RestRequestInput, context: ActionContext) => Promise<RestRequestOutput>;

const DEFAULT_TIMEOUT_SECONDS = 30;

/** A response body as the requester keeps it: bytes to decode, or the artifact it was streamed into. */
type KeptBody = { bytes: Buffer } | { artifact: ArtifactRef };

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
    const streamed = artifactRequestBody(input.body, input.bodyType, context.artifacts);
    const encoded = streamed ? undefined : encodeRequestBody(input.body, input.bodyType);
    if ((encoded || streamed) && (method === 'GET' || method === 'HEAD')) throw new ConnectorError(REST_INPUT_INVALID, `A ${method} request cannot have a body.`);
    const textLimit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const binaryLimit = binaryResponseLimit(input.maxResponseBytes, options.maxBinaryResponseBytes ?? DEFAULT_MAX_BINARY_RESPONSE_BYTES);
    const mayStream = input.responseType === 'binary' || ((input.responseType ?? 'auto') === 'auto' && context.artifacts !== undefined);

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
    Object.assign(headers, auth.headers);
    if (encoded && headers['content-type'] === undefined) headers['content-type'] = encoded.contentType;
    if (streamed) {
      headers['content-type'] ??= streamed.contentType;
      headers['content-length'] = String(streamed.size);
    }
    if (headers['idempotency-key'] === undefined) headers['idempotency-key'] = idempotencyKey(context.runId, context.stepId);
    headers['accept'] ??= input.responseType === 'text' ? 'text/plain, */*;q=0.8' : input.responseType === 'binary' ? '*/*' : 'application/json, */*;q=0.8';
    const timeoutMs = Math.round((input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000);

    const bearer = async (): Promise<{ accessToken: string; cached: boolean } | undefined> => {
      if (!oauth || oauthKey === undefined) return undefined;
      const token = await tokens.token(oauthKey, oauth, context.signal, policy);
      context.redact?.(token.accessToken);
      return token;
    };

    const accepts = (status: number): boolean => (input.expectStatus ? input.expectStatus.includes(status) : status >= 200 && status < 300);

    /** One request to `url`; throws the mapped ConnectorError on a fault or an unaccepted status. */
    const attempt = async (url: string): Promise<GuardedResponse<KeptBody>> => {
      const host = hostOf(url);
      const send = async (accessToken: string | undefined): Promise<GuardedResponse<KeptBody>> => {
        const timeoutSignal = AbortSignal.timeout(timeoutMs);
        const signal = AbortSignal.any([context.signal, timeoutSignal]);
        try {
          return await guardedRequest<KeptBody>(
            url,
            {
              method,
              headers: accessToken === undefined ? headers : { ...headers, authorization: `Bearer ${accessToken}` },
              body: streamed?.open ?? encoded?.data ?? null,
              signal,
              policy,
              timeoutMs,
              ...(options.resolver ? { resolver: options.resolver } : {}),
              maxResponseBytes: mayStream ? Math.max(textLimit, binaryLimit) : textLimit,
            },
            // An accepted binary response streams into an artifact (capped while it streams); anything else is read whole.
            // The artifact is labelled `response`, never after the URL, whose path may hold a token.
            async (body, head) => {
              const contentType = [head.headers['content-type']].flat()[0];
              if (method !== 'HEAD' && accepts(head.status) && isBinaryResponse(input.responseType, contentType, context.artifacts)) {
                return { artifact: await responseToArtifact(body, context.artifacts, { contentType, name: 'response', limit: binaryLimit, host: head.host }) };
              }
              return { bytes: await readCapped(body, textLimit, head.host) };
            },
          );
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
      if (!accepts(response.status)) throw statusError(response.status, hostOf(response.url), response.headers);
      return response;
    };

    let response: GuardedResponse<KeptBody> | undefined;
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
    const kept = response.body;
    const body = method === 'HEAD' ? null : 'artifact' in kept ? kept.artifact : decodeResponseBody(kept.bytes, Array.isArray(contentType) ? contentType[0] : contentType, input.responseType === 'binary' ? 'auto' : input.responseType, finalHost);
    context.log(`${method} ${hostOf(answeredBy)} → HTTP ${response.status}`);
    return { status: response.status, headers: responseHeaders(response.headers), body, url: withoutQuery(response.url) };
  };
}
