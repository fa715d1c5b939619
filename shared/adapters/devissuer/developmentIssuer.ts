import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT, type CryptoKey, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { IssuerScopedTokenValidator, ValidatedToken } from '../../ports/tokenValidator.js';
import { devEntraTenantId, devUserObjectId, DEV_PLATFORM_ENTRA_TENANT_ID, isRole } from './devDirectory.js';
import { isDevelopmentIssuerAllowed } from './devIssuerGuard.js';
import { isGuid, MAX_BEARER_TOKEN_LENGTH, unauthenticated, verifyTenantToken } from '../jwt/jwtChecks.js';
import { DEV_SIGNING_ALGORITHM, importPrivateKey, importPublicKey, loadOrCreateSigningKey, readSigningKey } from './signingKey.js';

/** Every development token's `iss` starts with this; the rest is `{tid}/v2.0`, as in Entra's v2 issuer. */
export const DEV_ISSUER_PREFIX = 'https://login.embedded.automateiq.local/';

/** The audience development tokens carry unless told otherwise (`AIQ_API_AUDIENCE` overrides it). */
export const DEFAULT_DEV_AUDIENCE = 'api://automateiq';

/** Where the key file lives, relative to the app's root, unless `AIQ_DEV_ISSUER_KEY_FILE` says otherwise. */
export const DEFAULT_DEV_KEY_FILE = path.join('.data', 'dev-issuer', 'signing-key.json');

/** The `azp` (client) of development tokens. */
export const DEV_CLIENT_ID = '00000000-0000-0000-0000-00000000a1c1';

const MAX_LIFETIME_SECONDS = 24 * 60 * 60;

/** The development issuer of a directory. */
export function developmentIssuer(tid: string): string {
  return `${DEV_ISSUER_PREFIX}${tid}/v2.0`;
}

/**
 * The key file the host and `npm run token` share: `AIQ_DEV_ISSUER_KEY_FILE` (relative paths resolve against
 * `appRoot`), else `<appRoot>/.data/dev-issuer/signing-key.json`. Both sides must call this to agree.
 */
export function resolveDevelopmentKeyFile(appRoot: string, env: Record<string, string | undefined>): string {
  const configured = env['AIQ_DEV_ISSUER_KEY_FILE']?.trim();
  return path.resolve(appRoot, configured ? configured : DEFAULT_DEV_KEY_FILE);
}

/** Options of {@link signDevelopmentToken}. */
export interface SignDevelopmentTokenOptions {
  /** Required. The signing key file; created (mode 0600) when absent. */
  keyFile: string;
  /** The AutomateIQ tenant (slug); required except for `Platform.Admin`. */
  tenantId?: string;
  /** Required. One of `Platform.Admin`, `Tenant.Admin`, `Tenant.User`. */
  role: string;
  /** Required. The `aud` claim. */
  audience: string;
  /** Optional. The `oid`/`sub`; defaults to a stable GUID per (tenant, role). */
  subject?: string;
  /** Optional. The `name` claim; defaults to e.g. `Dev Tenant.Admin (acme)`. */
  name?: string;
  /** Optional. Seconds until `exp`; defaults to 3600, at most 86400. */
  lifetimeSeconds?: number;
}

/**
 * Signs a development token shaped like an Entra v2 access token: header `RS256` + `kid`; claims `iss`
 * (`https://login.embedded.automateiq.local/{tid}/v2.0`), `aud`, `iat`, `nbf`, `exp`, `ver: "2.0"`, `tid`
 * ({@link devEntraTenantId} of the tenant, or {@link DEV_PLATFORM_ENTRA_TENANT_ID} for a platform admin without
 * one), `oid` = `sub`, `name`, `roles: [role]`, `azp`, `idtyp: "user"`, `uti`.
 * @throws RangeError on an unknown role, a tenant role without a tenant, a bad slug or lifetime.
 */
export async function signDevelopmentToken(options: SignDevelopmentTokenOptions): Promise<string> {
  const { role } = options;
  if (!isRole(role)) throw new RangeError(`Unknown role '${String(role).slice(0, 40)}'; use Platform.Admin, Tenant.Admin or Tenant.User.`);
  const tenantId = options.tenantId === undefined || options.tenantId === '' ? null : options.tenantId;
  if (tenantId === null && role !== 'Platform.Admin') throw new RangeError(`The role ${role} needs a tenant.`);
  const tid = tenantId === null ? DEV_PLATFORM_ENTRA_TENANT_ID : devEntraTenantId(tenantId);
  if (typeof options.audience !== 'string' || options.audience.length === 0) throw new RangeError('The audience must be a non-empty string.');
  const lifetime = options.lifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_SECONDS) {
    throw new RangeError(`The lifetime must be a whole number of seconds from 1 to ${MAX_LIFETIME_SECONDS}.`);
  }
  const subject = options.subject ?? devUserObjectId(tenantId, role);
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) throw new RangeError('The subject must be 1 to 256 characters.');

  const key = await loadOrCreateSigningKey(options.keyFile);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ver: '2.0',
    tid,
    oid: subject,
    name: options.name ?? `Dev ${role}${tenantId === null ? '' : ` (${tenantId})`}`,
    roles: [role],
    azp: DEV_CLIENT_ID,
    idtyp: 'user',
    uti: randomBytes(16).toString('base64url'),
  })
    .setProtectedHeader({ alg: DEV_SIGNING_ALGORITHM, typ: 'JWT', kid: key.kid })
    .setIssuer(developmentIssuer(tid))
    .setAudience(options.audience)
    .setSubject(subject)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + lifetime)
    .sign(await importPrivateKey(key));
}

/** Options of {@link createDevelopmentTokenValidator}. */
export interface DevelopmentTokenValidatorOptions {
  /** Required. The key file `npm run token` signs with (see {@link resolveDevelopmentKeyFile}). */
  keyFile: string;
  /** Required. Accepted audience(s). */
  audience: string | string[];
  /** Optional. As for the Entra validator: asked only after the token verified. */
  allowedTenantIds?: (tid: string) => Promise<boolean> | boolean;
  /** Optional. Clock skew tolerated on `exp` and `nbf`, in seconds; defaults to 60. */
  clockToleranceSeconds?: number;
  /**
   * Optional. The environment checked by {@link isDevelopmentIssuerAllowed}; defaults to `process.env`. The
   * factory refuses to build a validator where the guard says no, so a wiring mistake cannot make a cloud
   * deployment trust a key anyone with the repository can mint tokens for.
   */
  env?: Record<string, string | undefined>;
}

/**
 * Creates the validator of development tokens, as strict as the Entra one: `RS256` only, the key named by
 * `kid`, `tid` a GUID, `ver` 2.0, `iss` equal to the development issuer of the token's own tid, `aud`, `exp`
 * and `nbf` with tolerance, then `allowedTenantIds`. The key file is read on first use and re-read when a
 * token names another kid (the key was recreated); the validator never creates it.
 * @throws Error when {@link isDevelopmentIssuerAllowed} is false for `options.env`.
 */
export function createDevelopmentTokenValidator(options: DevelopmentTokenValidatorOptions): IssuerScopedTokenValidator {
  if (!isDevelopmentIssuerAllowed(options.env ?? process.env)) {
    throw new Error(
      'The development token issuer is trusted only on the embedded host in Development (AZURE_FUNCTIONS_ENVIRONMENT=Development, no WEBSITE_INSTANCE_ID, AIQ_DEV_ISSUER not false).',
    );
  }
  const audience = Array.isArray(options.audience) ? [...options.audience] : [options.audience];
  if (audience.length === 0 || audience.some((value) => typeof value !== 'string' || value.length === 0)) {
    throw new TypeError('createDevelopmentTokenValidator: audience must be one or more non-empty strings.');
  }
  const clockTolerance = options.clockToleranceSeconds ?? 60;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    throw new RangeError('createDevelopmentTokenValidator: clockToleranceSeconds must be between 0 and 300.');
  }
  const { keyFile, allowedTenantIds } = options;
  let loaded: { kid: string; key: CryptoKey; version: string } | undefined;

  async function keyFor(kid: string): Promise<CryptoKey> {
    // Another kid: re-read the file only if it changed (a recreated file is a new inode), so that unknown kids
    // cost a stat, not a parse.
    if (loaded?.kid !== kid) {
      const version = await fs.stat(keyFile).then(
        (stats) => `${stats.ino}:${stats.mtimeMs}:${stats.size}`,
        () => undefined,
      );
      if (version !== undefined && version !== loaded?.version) {
        const signingKey = await readSigningKey(keyFile);
        if (signingKey) loaded = { kid: signingKey.kid, key: await importPublicKey(signingKey), version };
      }
    }
    if (loaded?.kid !== kid) throw unauthenticated("The token's signing key is not known.", 'unknownKey');
    return loaded.key;
  }

  async function validate(bearerToken: string): Promise<ValidatedToken> {
    const { header, claims } = decodeUnverified(bearerToken);
    if (header.alg !== DEV_SIGNING_ALGORITHM) throw unauthenticated("The token's signing algorithm is not allowed.", 'algorithm');
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0) throw unauthenticated("The token's signing key is not identified (no kid).", 'unknownKey');
    const tid = claims['tid'];
    if (!isGuid(tid)) throw unauthenticated('The token has no valid tenant id (tid).', 'tenant');
    if (claims['ver'] !== '2.0') throw unauthenticated("The token's version (ver) is not supported.", 'version');
    const expectedIssuer = developmentIssuer(tid);
    if (claims['iss'] !== expectedIssuer) throw unauthenticated("The token's issuer is not trusted.", 'issuer');

    return verifyTenantToken(bearerToken, () => keyFor(kid), { algorithms: [DEV_SIGNING_ALGORITHM], audience, issuer: expectedIssuer, clockTolerance, tid, source: 'development' }, allowedTenantIds);
  }

  return { validate, issuerPrefixes: Object.freeze([DEV_ISSUER_PREFIX]) };
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
