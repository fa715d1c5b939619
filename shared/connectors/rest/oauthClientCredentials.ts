/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for the REST connector: the token request goes through the SSRF
 * guard with the connector's egress policy (no redirects: the body holds the client secret), and tokens are cached
 * per connector instance, keyed by a hash of tenant + token URL + client + scope + audience (tenants never share a
 * token), reused until 60 s before they expire, with one in-flight token request per key.
 *
 * Errors never echo the client secret, the token, the token URL's query or the endpoint's `error_description`:
 * 5xx / 408 / 429 / network / timeout → retryable REST.OAUTH_TOKEN_FAILED; other statuses → permanent, with the
 * OAuth `error` code (when it is a plain token); SSRF refusals keep their SSRF.* code.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../domain/errors.js';
import { ConnectorError } from '../sdk.js';
import type { EgressPolicy, Resolver } from './addressPolicy.js';
import { guardedFetch, type GuardedResponse } from './guardedFetch.js';
import type { OAuth2ClientCredentialsAuth } from './restRequestInput.js';
import { retryAfterSeconds } from './retryAfterSeconds.js';

export const REST_OAUTH_TOKEN_FAILED = 'REST.OAUTH_TOKEN_FAILED';

const DEFAULT_MAX_ENTRIES = 1000;
const EXPIRY_SKEW_MS = 60_000;
/** When the endpoint gives no `expires_in`. */
const DEFAULT_EXPIRES_IN_SECONDS = 300;
const TOKEN_TIMEOUT_MS = 30_000;
const TOKEN_RESPONSE_MAX_BYTES = 1024 * 1024;
const OAUTH_ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

export interface OAuthToken {
  accessToken: string;
  /** Epoch ms after which the token is not reused (expiry minus the skew). */
  reuseUntil: number;
}

export interface OAuthTokenSourceOptions {
  policy: EgressPolicy;
  resolver?: Resolver | undefined;
  /** Clock (tests). */
  now?: (() => number) | undefined;
  /** Cache bound (oldest evicted). */
  maxEntries?: number | undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'unknown';
  }
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1 for the basic credentials). */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** The `Authorization: Basic` credentials of `clientAuth: 'basic'`, base64 of the form-encoded `id:secret`. */
export function basicClientCredentials(auth: OAuth2ClientCredentialsAuth): string {
  return Buffer.from(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`, 'utf8').toString('base64');
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Token cache + fetcher, one per connector instance. */
export class OAuthTokenSource {
  readonly #entries = new Map<string, OAuthToken>();
  readonly #inflight = new Map<string, Promise<OAuthToken>>();
  readonly #options: OAuthTokenSourceOptions;
  readonly #now: () => number;
  readonly #maxEntries: number;

  constructor(options: OAuthTokenSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  /** The cache key: tenants, endpoints, clients, secrets, scopes and audiences never share a token. */
  static key(tenantId: string, auth: OAuth2ClientCredentialsAuth): string {
    return createHash('sha256')
      .update(JSON.stringify([tenantId, auth.tokenUrl, auth.clientId, auth.clientSecret, auth.scope ?? null, auth.audience ?? null]))
      .digest('hex');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A valid token (cached, shared in-flight, or fetched); `cached` is true when it came from the cache. */
  /**
   * `policy` is the egress policy of the call (the operator's merged with the tenant's; default: the source's). The
   * cache key holds the tenant, so a token fetched under one tenant's allow-list never serves another tenant.
   */
  async token(key: string, auth: OAuth2ClientCredentialsAuth, signal: AbortSignal, policy: EgressPolicy = this.#options.policy): Promise<{ accessToken: string; cached: boolean }> {
    const entry = this.#entries.get(key);
    if (entry) {
      if (entry.reuseUntil > this.#now()) return { accessToken: entry.accessToken, cached: true };
      this.#entries.delete(key);
    }
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#fetch(auth, policy).then(
        (token) => {
          this.#inflight.delete(key);
          this.#store(key, token);
          return token;
        },
        (error: unknown) => {
          this.#inflight.delete(key);
          throw error;
        },
      );
      this.#inflight.set(key, pending);
    }
    const token = await abortable(pending, signal);
    return { accessToken: token.accessToken, cached: false };
  }

  /** Drops `accessToken` from the cache (after a 401), unless a newer token already replaced it. */
  invalidate(key: string, accessToken: string): void {
    if (this.#entries.get(key)?.accessToken === accessToken) this.#entries.delete(key);
  }

  #store(key: string, token: OAuthToken): void {
    this.#entries.delete(key);
    this.#entries.set(key, token);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  async #fetch(auth: OAuth2ClientCredentialsAuth, policy: EgressPolicy): Promise<OAuthToken> {
    const host = hostOf(auth.tokenUrl);
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope !== undefined) form.set('scope', auth.scope);
    if (auth.audience !== undefined) form.set('audience', auth.audience);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if ((auth.clientAuth ?? 'body') === 'basic') {
      headers['authorization'] = `Basic ${basicClientCredentials(auth)}`;
    } else {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    }
    const timeoutSignal = AbortSignal.timeout(TOKEN_TIMEOUT_MS);
    let response: GuardedResponse;
    try {
      response = await guardedFetch(auth.tokenUrl, {
        method: 'POST',
        headers,
        body: form.toString(),
        signal: timeoutSignal,
        policy,
        timeoutMs: TOKEN_TIMEOUT_MS,
        maxRedirects: 0,
        maxResponseBytes: TOKEN_RESPONSE_MAX_BYTES,
        ...(this.#options.resolver ? { resolver: this.#options.resolver } : {}),
      });
    } catch (error) {
      if (error instanceof AppError && error.code.startsWith('SSRF.')) {
        throw new ConnectorError(error.code, error.message, { ...error.options, retryable: false, cause: error });
      }
      const retryable = !(error instanceof AppError) || error.retryable || timeoutSignal.aborted;
      throw new ConnectorError(REST_OAUTH_TOKEN_FAILED, `The token request to host "${host}" failed.`, { retryable, details: { host } });
    }

    const status = response.status;
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const fields = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};

    if (status < 200 || status >= 300) {
      const retryable = status >= 500 || status === 429 || status === 408;
      const oauthError = typeof fields['error'] === 'string' && OAUTH_ERROR_CODE.test(fields['error']) ? fields['error'] : undefined;
      const retryAfter = retryable ? retryAfterSeconds(response.headers['retry-after']) : undefined;
      throw new ConnectorError(
        REST_OAUTH_TOKEN_FAILED,
        `The token endpoint on host "${host}" answered HTTP ${status}${oauthError ? ` (${oauthError})` : ''}.`,
        {
          retryable,
          details: { host, status, ...(oauthError ? { oauthError } : {}) },
          ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
        },
      );
    }

    const accessToken = fields['access_token'];
    const tokenType = fields['token_type'];
    const expiresIn = fields['expires_in'];
    const expiresSeconds = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : DEFAULT_EXPIRES_IN_SECONDS;
    if (typeof accessToken !== 'string' || accessToken === '' || /[\r\n\u0000]/.test(accessToken) || (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) || !Number.isFinite(expiresSeconds) || expiresSeconds < 0) {
      throw new ConnectorError(REST_OAUTH_TOKEN_FAILED, `The token endpoint on host "${host}" returned no usable bearer token.`, { retryable: false, details: { host, status } });
    }
    return { accessToken, reuseUntil: this.#now() + expiresSeconds * 1000 - EXPIRY_SKEW_MS };
  }
}
