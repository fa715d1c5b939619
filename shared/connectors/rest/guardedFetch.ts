/**
 * SSRF-guarded HTTP client of the REST connector.
 *
 * Every hop: `checkUrl` (scheme, port, userinfo, IP literal) → `resolveAndCheck` (one DNS resolution, every address
 * checked) → an undici `Client` whose `connect` dials only the checked addresses (pinning: no second DNS resolution,
 * so no DNS-rebinding window), while TLS SNI / certificate check and the Host header keep the hostname.
 * Redirects are followed manually and each hop is re-checked; Authorization, Cookie and Proxy-Authorization are
 * dropped once the origin changes. The response body is capped, also while it streams (`guardedRequest` hands it to a
 * reader, e.g. one that streams it into an artifact); a request body may be a stream, opened anew for every hop.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Client, buildConnector, request } from 'undici';
import { AppError } from '../../domain/errors.js';
import { checkUrl, resolveAndCheck, type EgressPolicy, type Resolver } from './addressPolicy.js';

export const RestErrorCodes = {
  responseTooLarge: 'REST.RESPONSE_TOO_LARGE',
  tooManyRedirects: 'REST.TOO_MANY_REDIRECTS',
  requestFailed: 'REST.REQUEST_FAILED',
} as const;

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface GuardedFetchInit {
  method?: HttpMethod | string;
  headers?: Record<string, string | string[] | undefined>;
  /**
   * Replayable body (307/308 redirects resend it): bytes, or a function that opens the body as a stream, called once
   * per hop that sends it (set `content-length` in the headers to avoid chunked encoding).
   */
  body?: string | Buffer | Uint8Array | (() => Promise<Readable>) | null;
  signal?: AbortSignal;
  policy: EgressPolicy;
  /** Redirect hops followed before failing with REST.TOO_MANY_REDIRECTS (default 5; 0 = fail on any redirect). */
  maxRedirects?: number;
  /** Injectable resolver (tests); defaults to `dns.lookup(name, { all: true })`. */
  resolver?: Resolver;
  /** Response body cap in bytes (default 10 MB). */
  maxResponseBytes?: number;
  /** Header and body idle timeout (default 30 s). */
  timeoutMs?: number;
  /** TCP/TLS connect timeout per address (default 10 s). */
  connectTimeoutMs?: number;
}

export interface GuardedResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
  /** The final URL, after redirects. */
  url: string;
  /** The final host (for messages). */
  host: string;
}

export interface GuardedResponse<TBody = Buffer> {
  status: number;
  headers: IncomingHttpHeaders;
  body: TBody;
  /** The final URL, after redirects. */
  url: string;
}

/** A response body as readers get it. */
export type ResponseBody = AsyncIterable<Buffer> & { destroy(error?: Error): unknown; on(event: 'error', listener: () => void): unknown };

/** Reads the final response's body (after the content-length check against `maxResponseBytes`). */
export type BodyReader<T> = (body: ResponseBody, head: GuardedResponseHead) => Promise<T>;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding'];
/** Never taken from the caller: the Host header is always the URL's host. */
const STRIPPED_HEADERS = ['host'];

function normalizeHeaders(headers: GuardedFetchInit['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (STRIPPED_HEADERS.includes(key)) continue;
    out[key] = value;
  }
  return out;
}

/**
 * A dispatcher for one origin that connects only to `addresses` (already checked), in order, falling back to the
 * next address on a connect error. `servername` (SNI, certificate hostname) stays the URL's hostname.
 */
function pinnedClient(url: URL, addresses: string[], init: GuardedFetchInit): Client {
  const base = buildConnector({ timeout: init.connectTimeoutMs ?? 10_000 });
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const servername = isIP(hostname) ? undefined : hostname;
  const connect: buildConnector.connector = (options, callback) => {
    const attempt = (index: number, lastError?: Error): void => {
      const address = addresses[index];
      if (address === undefined) {
        callback(lastError ?? new AppError(RestErrorCodes.requestFailed, `No address to connect to for host "${hostname}"`), null);
        return;
      }
      base({ ...options, hostname: address, ...(servername ? { servername } : {}) }, (error, socket) => {
        if (error) {
          attempt(index + 1, error);
          return;
        }
        callback(null, socket!);
      });
    };
    attempt(0);
  };
  const timeout = init.timeoutMs ?? 30_000;
  return new Client(url.origin, { connect, headersTimeout: timeout, bodyTimeout: timeout, pipelining: 1 });
}

function tooLarge(host: string, limit: number): AppError {
  return new AppError(RestErrorCodes.responseTooLarge, `Response from host "${host}" exceeds ${limit} bytes`, { details: { host, limit } });
}

/** The body's chunks, failing with REST.RESPONSE_TOO_LARGE (and dropping the connection) once more than `limit` bytes came. */
export async function* cappedBody(body: ResponseBody, limit: number, host: string): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      const error = tooLarge(host, limit);
      body.on('error', () => undefined);
      body.destroy(error);
      throw error;
    }
    yield chunk;
  }
}

/** The whole body, at most `limit` bytes (REST.RESPONSE_TOO_LARGE beyond). */
export async function readCapped(body: ResponseBody, limit: number, host: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of cappedBody(body, limit, host)) {
    chunks.push(chunk);
    total += chunk.length;
  }
  return Buffer.concat(chunks, total);
}

/** SSRF-guarded fetch: see the module comment. The body is read whole (at most `maxResponseBytes`). */
export function guardedFetch(url: string, init: GuardedFetchInit): Promise<GuardedResponse> {
  const limit = init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return guardedRequest(url, init, (body, head) => readCapped(body, limit, head.host));
}

/** {@link guardedFetch} with the final response's body handed to `read` (which must cap what it reads, see cappedBody). */
export async function guardedRequest<T>(url: string, init: GuardedFetchInit, read: BodyReader<T>): Promise<GuardedResponse<T>> {
  const maxRedirects = init.maxRedirects ?? 5;
  const limit = init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body ?? null;
  const headers = normalizeHeaders(init.headers);
  let current = url;
  let previousOrigin: string | undefined;

  for (let hop = 0; ; hop++) {
    const target = checkUrl(current, init.policy);
    const host = target.hostname;
    if (previousOrigin !== undefined && target.origin !== previousOrigin) {
      for (const name of CREDENTIAL_HEADERS) delete headers[name];
    }
    const addresses = await resolveAndCheck(host, init.policy, init.resolver);
    const client = pinnedClient(target, addresses, init);
    let sent: Readable | undefined;
    try {
      let response: Awaited<ReturnType<typeof request>>;
      try {
        const payload = body === null || method === 'GET' || method === 'HEAD' ? null : typeof body === 'function' ? (sent = await body()) : body;
        response = await request(target, {
          dispatcher: client,
          method: method as 'GET',
          headers,
          body: payload,
          signal: init.signal,
          maxRedirections: 0,
        });
      } catch (error) {
        if (error instanceof AppError) throw error;
        if ((error as { name?: string }).name === 'AbortError') throw error;
        throw new AppError(RestErrorCodes.requestFailed, `Request to host "${host}" failed: ${(error as Error).message}`, { retryable: true, cause: error });
      }

      const location = response.headers['location'];
      if (REDIRECT_STATUSES.has(response.statusCode) && location !== undefined) {
        await response.body.dump().catch(() => undefined);
        if (hop >= maxRedirects) throw new AppError(RestErrorCodes.tooManyRedirects, `Too many redirects (more than ${maxRedirects}) from host "${host}"`);
        const locationText = Array.isArray(location) ? location[0] ?? '' : location;
        let next: URL;
        try {
          next = new URL(locationText, target);
        } catch {
          throw new AppError('SSRF.INVALID_URL', `Redirect from host "${host}" has an invalid Location`);
        }
        if (response.statusCode === 303 ? method !== 'HEAD' : (response.statusCode === 301 || response.statusCode === 302) && method === 'POST') {
          method = 'GET';
          body = null;
          for (const name of BODY_HEADERS) delete headers[name];
        }
        previousOrigin = target.origin;
        current = next.href;
        continue;
      }

      const contentLength = Number(response.headers['content-length']);
      if (Number.isFinite(contentLength) && contentLength > limit) {
        const error = tooLarge(host, limit);
        response.body.on('error', () => undefined);
        response.body.destroy(error);
        throw error;
      }
      let data: T;
      try {
        data = await read(response.body, { status: response.statusCode, headers: response.headers, url: target.href, host });
      } catch (error) {
        if (error instanceof AppError) throw error;
        if ((error as { name?: string }).name === 'AbortError') throw error;
        throw new AppError(RestErrorCodes.requestFailed, `Reading the response from host "${host}" failed: ${(error as Error).message}`, { retryable: true, cause: error });
      }
      return { status: response.statusCode, headers: response.headers, body: data, url: target.href };
    } finally {
      if (sent && !sent.destroyed) sent.destroy();
      client.destroy().catch(() => undefined);
    }
  }
}
