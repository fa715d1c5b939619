import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwksCache,
  type CryptoKey,
  type ExportedJWKSCache,
  type FetchImplementation,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  type LocalJWKSet,
  type ProtectedHeaderParameters,
} from 'jose';
import type { IssuerScopedTokenValidator, ValidatedToken } from '../../ports/tokenValidator.js';
import { isGuid, isKeySelectionError, keysUnavailable, MAX_BEARER_TOKEN_LENGTH, unauthenticated, verifyTenantToken } from '../jwt/jwtChecks.js';

/** The multi-tenant JWKS of Entra ID (the same keys sign v1 and v2 tokens). */
export const ENTRA_COMMON_JWKS_URI = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';

/** Every `iss` an Entra token can carry starts with one of these (v2, then v1). */
export const ENTRA_ISSUER_PREFIXES: readonly string[] = Object.freeze(['https://login.microsoftonline.com/', 'https://sts.windows.net/']);

/**
 * JWKS caching defaults (jose `createRemoteJWKSet`):
 * - cooldown 30 s: an unknown `kid` refetches the JWKS at most once per 30 s per instance (concurrent misses
 *   share one request), so a flood of forged kids cannot hammer Entra, while a genuinely rotated key is
 *   accepted on the first request after at most 30 s;
 * - max age 10 min: bounds how long a key Microsoft withdrew in an emergency rollover stays trusted, for one
 *   small request per instance every 10 minutes;
 * - stale-if-error 24 h: when Entra cannot be reached, keys fetched within the last 24 h (Microsoft's own
 *   refresh guidance) still verify tokens, and failed fetches are retried at most once per cooldown, so an
 *   outage neither fails every request nor stalls each one on the fetch timeout.
 */
export const ENTRA_JWKS_DEFAULTS = Object.freeze({
  cooldownInMs: 30_000,
  cacheMaxAgeInMs: 10 * 60_000,
  staleIfErrorInMs: 24 * 60 * 60_000,
  timeoutInMs: 5_000,
});

/** Options of {@link createEntraTokenValidator}. */
export interface EntraTokenValidatorOptions {
  /** Required. The API's audience(s): its client id (v2 tokens) and/or App ID URI (v1 tokens). */
  audience: string | string[];
  /**
   * Optional. Whether a directory (`tid`) is onboarded; asked only after the signature and every claim have
   * been verified, so that unauthenticated callers cannot probe which directories are customers.
   */
  allowedTenantIds?: (tid: string) => Promise<boolean> | boolean;
  /** Optional. The JWKS URL; defaults to {@link ENTRA_COMMON_JWKS_URI}. */
  jwksUri?: string;
  /** Optional. Clock skew tolerated on `exp` and `nbf`, in seconds; defaults to 60. */
  clockToleranceSeconds?: number;
  /** Optional. Accepted `alg` values; defaults to `['RS256']` (what Entra signs with). Never `none` or HS*. */
  algorithms?: string[];
  /** Optional. The fetch used for the JWKS (tests point it at a local server). */
  fetch?: typeof fetch;
  /** Optional. See {@link ENTRA_JWKS_DEFAULTS}. */
  jwksCooldownInMs?: number;
  /** Optional. See {@link ENTRA_JWKS_DEFAULTS}. */
  jwksCacheMaxAgeInMs?: number;
  /** Optional. See {@link ENTRA_JWKS_DEFAULTS}; 0 disables serving stale keys. */
  jwksStaleIfErrorInMs?: number;
  /** Optional. Timeout of one JWKS request; see {@link ENTRA_JWKS_DEFAULTS}. */
  jwksTimeoutInMs?: number;
}

/** The v2 issuer of a directory. */
export function entraV2Issuer(tid: string): string {
  return `https://login.microsoftonline.com/${tid}/v2.0`;
}

/** The v1 issuer of a directory. */
export function entraV1Issuer(tid: string): string {
  return `https://sts.windows.net/${tid}/`;
}

/**
 * Creates a validator of Entra ID access tokens for a multi-tenant API. Checks, in order: shape and size;
 * `alg` on the allow-list and a `kid`; `tid` a GUID; `ver` 1.0 or 2.0 and `iss` equal to that version's issuer
 * *for the token's own tid* (checked before any JWKS request, and again after the signature); then the
 * signature against the cached JWKS, `aud`, `exp` and `nbf` with tolerance; finally the optional
 * `allowedTenantIds`. A signature from the common JWKS alone proves nothing about the tenant: without the issuer
 * and tid checks any directory's token would be accepted.
 */
export function createEntraTokenValidator(options: EntraTokenValidatorOptions): IssuerScopedTokenValidator {
  const audience = Array.isArray(options.audience) ? [...options.audience] : [options.audience];
  if (audience.length === 0 || audience.some((value) => typeof value !== 'string' || value.length === 0)) {
    throw new TypeError('createEntraTokenValidator: audience must be one or more non-empty strings.');
  }
  const algorithms = [...(options.algorithms ?? ['RS256'])];
  if (algorithms.length === 0 || algorithms.some((alg) => typeof alg !== 'string' || alg.toLowerCase() === 'none' || /^HS/i.test(alg))) {
    throw new TypeError('createEntraTokenValidator: algorithms must be asymmetric signature algorithms.');
  }
  const clockTolerance = options.clockToleranceSeconds ?? 60;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    throw new RangeError('createEntraTokenValidator: clockToleranceSeconds must be between 0 and 300.');
  }
  const resolveKey = createCachedJwks(new URL(options.jwksUri ?? ENTRA_COMMON_JWKS_URI), {
    cooldownInMs: options.jwksCooldownInMs ?? ENTRA_JWKS_DEFAULTS.cooldownInMs,
    cacheMaxAgeInMs: options.jwksCacheMaxAgeInMs ?? ENTRA_JWKS_DEFAULTS.cacheMaxAgeInMs,
    staleIfErrorInMs: options.jwksStaleIfErrorInMs ?? ENTRA_JWKS_DEFAULTS.staleIfErrorInMs,
    timeoutInMs: options.jwksTimeoutInMs ?? ENTRA_JWKS_DEFAULTS.timeoutInMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const allowedTenantIds = options.allowedTenantIds;

  async function validate(bearerToken: string): Promise<ValidatedToken> {
    const { header, claims } = decodeUnverified(bearerToken);
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
      throw unauthenticated("The token's signing algorithm is not allowed.", 'algorithm');
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw unauthenticated("The token's signing key is not identified (no kid).", 'unknownKey');
    }
    const tid = claims['tid'];
    if (!isGuid(tid)) throw unauthenticated('The token has no valid tenant id (tid).', 'tenant');
    const expectedIssuer = claims['ver'] === '2.0' ? entraV2Issuer(tid) : claims['ver'] === '1.0' ? entraV1Issuer(tid) : undefined;
    if (expectedIssuer === undefined) throw unauthenticated("The token's version (ver) is not supported.", 'version');
    // Also checked by jwtVerify after the signature; checking first keeps foreign tokens from causing JWKS fetches.
    if (claims['iss'] !== expectedIssuer) throw unauthenticated("The token's issuer is not trusted.", 'issuer');
    return verifyTenantToken(bearerToken, resolveKey, { algorithms, audience, issuer: expectedIssuer, clockTolerance, tid, source: 'entra' }, allowedTenantIds);
  }

  return { validate, issuerPrefixes: ENTRA_ISSUER_PREFIXES };
}

function decodeUnverified(bearerToken: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  if (typeof bearerToken !== 'string' || bearerToken.length === 0) throw unauthenticated('No bearer token was given.', 'malformed');
  if (bearerToken.length > MAX_BEARER_TOKEN_LENGTH) throw unauthenticated('The bearer token is too large.', 'malformed');
  try {
    return { header: decodeProtectedHeader(bearerToken), claims: decodeJwt(bearerToken) };
  } catch {
    throw unauthenticated('The bearer token is malformed.', 'malformed');
  }
}

interface CachedJwksOptions {
  cooldownInMs: number;
  cacheMaxAgeInMs: number;
  staleIfErrorInMs: number;
  timeoutInMs: number;
  fetch?: typeof fetch;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * jose's remote JWKS (cache, cooldown-limited refetch on an unknown kid, one request in flight), plus
 * stale-if-error: when a fetch fails, the last good key set (if young enough) keeps verifying, and the endpoint
 * is not asked again until the cooldown has passed. A failure to fetch becomes a retryable internal error.
 */
function createCachedJwks(url: URL, options: CachedJwksOptions): KeyResolver {
  const cache: ExportedJWKSCache | Record<string, never> = {};
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: options.cooldownInMs,
    cacheMaxAge: options.cacheMaxAgeInMs,
    timeoutDuration: options.timeoutInMs,
    [jwksCache]: cache,
    ...(options.fetch ? { [customFetch]: options.fetch as unknown as FetchImplementation } : {}),
  });
  let failedAt = Number.NEGATIVE_INFINITY;
  let stale: { uat: number; keys: LocalJWKSet } | undefined;

  const staleKeys = (): LocalJWKSet | undefined => {
    if (!('uat' in cache) || Date.now() - cache.uat > options.staleIfErrorInMs) return undefined;
    if (stale?.uat !== cache.uat) stale = { uat: cache.uat, keys: createLocalJWKSet(cache.jwks) };
    return stale.keys;
  };
  const fromStale = async (header: JWSHeaderParameters, token: FlattenedJWSInput, cause: unknown): Promise<CryptoKey> => {
    const keys = staleKeys();
    if (!keys) throw keysUnavailable(cause);
    try {
      return await keys(header, token);
    } catch (error) {
      // A kid missing from the last good set may be in the set we could not fetch: not the token's fault.
      throw error instanceof errors.JWKSNoMatchingKey ? keysUnavailable(cause) : error;
    }
  };

  return async (header, token) => {
    if (Date.now() - failedAt < options.cooldownInMs) {
      return fromStale(header, token, new Error('The JWKS endpoint failed less than a cooldown ago; not asking again yet.'));
    }
    try {
      return await remote(header, token);
    } catch (error) {
      if (isKeySelectionError(error)) throw error;
      failedAt = Date.now();
      return fromStale(header, token, error);
    }
  };
}
