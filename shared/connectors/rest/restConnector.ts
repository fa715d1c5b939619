/**
 * The built-in `rest` connector: one action, `request`, that calls any HTTP(S) API through the SSRF guard
 * (`guardedFetch`: scheme/port/address checks on every hop, DNS pinning, capped bodies). The egress policy is the
 * operator's (`AIQ_EGRESS_ALLOW_HOSTS`, `AIQ_EGRESS_ALLOW_PORTS`); empty means public internet only.
 *
 * Errors: 5xx, 408, 429, timeouts and network failures are retryable ConnectorErrors; other unaccepted statuses
 * are a permanent REST.HTTP_STATUS; SSRF refusals are permanent with their SSRF.* code. Messages name the host and
 * status only: never the URL (its query may hold a key), headers, bodies or credentials.
 */
import type { ConnectorDefinition } from '../sdk.js';
import { ConnectorError, defineAction, defineConnector } from '../sdk.js';
import type { EgressPolicy, Resolver } from './addressPolicy.js';
import { authParameters } from './authParameters.js';
import { buildRequestUrl } from './buildRequestUrl.js';
import { decodeResponseBody } from './decodeResponseBody.js';
import { encodeRequestBody, REST_INPUT_INVALID } from './encodeRequestBody.js';
import { guardedFetch, type GuardedResponse } from './guardedFetch.js';
import { idempotencyKey } from './idempotencyKey.js';
import { responseHeaders } from './responseHeaders.js';
import { restRequestInputSchema, type RestRequestInput, type RestRequestOutput } from './restRequestInput.js';
import { statusError } from './statusError.js';
import { toConnectorError } from './toConnectorError.js';

export type { RestRequestInput, RestRequestOutput } from './restRequestInput.js';

export interface RestConnectorOptions {
  /** The operator egress policy; absent or empty → public internet only. */
  egress?: { readonly allowHosts?: readonly string[]; readonly allowPorts?: readonly number[] } | undefined;
  /** Injectable resolver (tests); defaults to `dns.lookup`. */
  resolver?: Resolver;
  /** Response body cap in bytes (guardedFetch's default, 10 MB, when absent). */
  maxResponseBytes?: number;
}

const DEFAULT_TIMEOUT_SECONDS = 30;

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'unknown';
  }
}

/** Builds the `rest` connector for an egress policy. */
export function createRestConnector(options: RestConnectorOptions = {}): ConnectorDefinition {
  const policy: EgressPolicy = { allowHosts: [...(options.egress?.allowHosts ?? [])], allowPorts: [...(options.egress?.allowPorts ?? [])] };
  return defineConnector({
    name: 'rest',
    description: 'Calls an HTTP(S) API (SSRF-guarded): any method, query, headers, JSON/form/text body, bearer/basic/API key auth.',
    actions: [
      defineAction<RestRequestInput, RestRequestOutput>({
        name: 'request',
        description: 'Sends one HTTP request and returns { status, headers, body }; unaccepted statuses fail the step (5xx, 408, 429 retryable).',
        input: restRequestInputSchema,
        output: {
          type: 'object',
          required: ['status', 'headers', 'body'],
          properties: { status: { type: 'integer' }, headers: { type: 'object', additionalProperties: { type: 'string' } }, body: {} },
        },
        run: async (input, context) => {
          const method = input.method ?? 'GET';
          const auth = authParameters(input.auth);
          for (const credential of auth.derived) context.redact?.(credential);
          const url = buildRequestUrl(input.url, input.query, auth.query);
          const host = hostOf(url);
          const encoded = encodeRequestBody(input.body, input.bodyType);
          if (encoded && (method === 'GET' || method === 'HEAD')) throw new ConnectorError(REST_INPUT_INVALID, `A ${method} request cannot have a body.`);

          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
          Object.assign(headers, auth.headers);
          if (encoded && headers['content-type'] === undefined) headers['content-type'] = encoded.contentType;
          if (headers['idempotency-key'] === undefined) headers['idempotency-key'] = idempotencyKey(context.runId, context.stepId);
          headers['accept'] ??= input.responseType === 'text' ? 'text/plain, */*;q=0.8' : 'application/json, */*;q=0.8';

          const timeoutMs = Math.round((input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000);
          const timeoutSignal = AbortSignal.timeout(timeoutMs);
          const signal = AbortSignal.any([context.signal, timeoutSignal]);
          let response: GuardedResponse;
          try {
            response = await guardedFetch(url, {
              method,
              headers,
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

          const finalHost = hostOf(response.url);
          const accepted = input.expectStatus ? input.expectStatus.includes(response.status) : response.status >= 200 && response.status < 300;
          if (!accepted) throw statusError(response.status, finalHost, response.headers);
          const contentType = response.headers['content-type'];
          const body = method === 'HEAD' ? null : decodeResponseBody(response.body, Array.isArray(contentType) ? contentType[0] : contentType, input.responseType, finalHost);
          context.log(`${method} ${host} → HTTP ${response.status}`);
          return { status: response.status, headers: responseHeaders(response.headers), body };
        },
      }),
    ],
  });
}
