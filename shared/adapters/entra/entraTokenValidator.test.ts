import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { createEntraTokenValidator, entraV1Issuer, entraV2Issuer, type EntraTokenValidatorOptions } from './entraTokenValidator.js';

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
const CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const APP_ID_URI = 'api://automateiq';
const OID = 'a1b2c3d4-0000-4000-8000-000000000001';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

/** A JWKS endpoint on 127.0.0.1 that counts the requests it serves. */
interface JwksServer {
  uri: string;
  fetches: number;
  keys: JWK[];
  status: number;
  close(): Promise<void>;
}

async function startJwksServer(): Promise<JwksServer> {
  const state = { fetches: 0, keys: [] as JWK[], status: 200 };
  const server = http.createServer((request, response) => {
    if (request.url !== '/common/discovery/v2.0/keys') {
      response.writeHead(404).end();
      return;
    }
    state.fetches += 1;
    if (state.status !== 200) {
      response.writeHead(state.status).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    uri: `http://127.0.0.1:${port}/common/discovery/v2.0/keys`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  }) as JwksServer;
}

interface MintOptions {
  key: SigningKey;
  kid?: string | null;
  claims?: Record<string, unknown>;
  /** Claims to remove after defaults are applied. */
  omit?: string[];
  ver?: '1.0' | '2.0';
  alg?: string;
}

/** An Entra-shaped access token (v2 by default), valid for an hour from the (possibly faked) clock. */
async function mint({ key, kid, claims = {}, omit = [], ver = '2.0', alg = 'RS256' }: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const tid = typeof claims['tid'] === 'string' ? claims['tid'] : TID;
  const payload: Record<string, unknown> = {
    ver,
    iss: ver === '2.0' ? entraV2Issuer(tid) : entraV1Issuer(tid),
    aud: ver === '2.0' ? CLIENT_ID : APP_ID_URI,
    tid,
    oid: OID,
    sub: 'pairwise-subject',
    name: 'Ada Admin',
    roles: ['Tenant.Admin'],
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...claims,
  };
  for (const claim of omit) delete payload[claim];
  const header: Record<string, unknown> = { alg, typ: 'JWT' };
  if (kid !== null) header['kid'] = kid ?? key.kid;
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the token to be rejected');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('createEntraTokenValidator', () => {
  let jwks: JwksServer;
  let key: SigningKey;
  const options = (extra: Partial<EntraTokenValidatorOptions> = {}): EntraTokenValidatorOptions => ({
    audience: [CLIENT_ID, APP_ID_URI],
    jwksUri: jwks.uri,
    ...extra,
  });

  beforeAll(async () => {
    key = await newKey();
  });
  beforeEach(async () => {
    jwks = await startJwksServer();
    jwks.keys = [key.publicJwk];
  });
  afterEach(async () => {
    vi.useRealTimers();
    await jwks.close();
  });

  /** Expects rejection with AUTH.UNAUTHENTICATED and `message`, and that nothing of the token leaks into it. */
  async function expectUnauthenticated(validator: ReturnType<typeof createEntraTokenValidator>, token: string, message: string): Promise<AppError> {
    const error = await rejection(validator.validate(token));
    expect(error.code).toBe('AUTH.UNAUTHENTICATED');
    expect(error.message).toBe(message);
    const visible = `${error.message} ${JSON.stringify(error.details)}`;
    for (const part of token.split('.').filter((segment) => segment.length > 8)) expect(visible).not.toContain(part);
    expect(error.cause).toBeUndefined();
    return error;
  }

  describe('accepts', () => {
    it('a v2 token of an allowed directory, with subject = oid, lowercase tid, roles and name', async () => {
      const onboarded: string[] = [];
      const validator = createEntraTokenValidator(options({ allowedTenantIds: (tid) => (onboarded.push(tid), tid === TID) }));
      const result = await validator.validate(await mint({ key }));
      expect(result).toMatchObject({ subject: OID, entraTenantId: TID, name: 'Ada Admin', roles: ['Tenant.Admin'], issuer: 'entra' });
      expect(result.claims['ver']).toBe('2.0');
      expect(Object.isFrozen(result.claims)).toBe(true);
      expect(onboarded).toEqual([TID]);
      expect(jwks.fetches).toBe(1);
    });

    it('a v1 token (sts.windows.net issuer, App ID URI audience)', async () => {
      const validator = createEntraTokenValidator(options());
      const result = await validator.validate(await mint({ key, ver: '1.0' }));
      expect(result).toMatchObject({ entraTenantId: TID, issuer: 'entra' });
    });

    it('falls back to sub when there is no oid, and normalises an uppercase tid', async () => {
      const validator = createEntraTokenValidator(options());
      const upper = TID.toUpperCase();
      const result = await validator.validate(await mint({ key, claims: { tid: upper }, omit: ['oid', 'name', 'roles'] }));
      expect(result).toMatchObject({ subject: 'pairwise-subject', entraTenantId: TID, name: null, roles: [] });
    });

    it('reuses the cached JWKS across tokens', async () => {
      const validator = createEntraTokenValidator(options());
      for (let i = 0; i < 5; i++) await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(1);
    });

    it('uses the fetch it is given', async () => {
      const seen: string[] = [];
      const validator = createEntraTokenValidator(
        options({
          jwksUri: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
          fetch: (async (input: string | URL | Request, init?: RequestInit) => {
            seen.push(String(input));
            return fetch(jwks.uri, init);
          }) as typeof fetch,
        }),
      );
      await validator.validate(await mint({ key }));
      expect(seen).toEqual(['https://login.microsoftonline.com/common/discovery/v2.0/keys']);
      expect(jwks.fetches).toBe(1);
    });
  });

  describe('rejects (the JWT battery)', () => {
    it('a wrong audience', async () => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, claims: { aud: 'api://someone-else' } }), "The token's audience is not this API.");
      await expectUnauthenticated(validator, await mint({ key, claims: { aud: randomUUID() } }), "The token's audience is not this API.");
    });

    it.each([
      ['another directory’s issuer', { iss: entraV2Issuer(OTHER_TID) }],
      ['the /common issuer', { iss: 'https://login.microsoftonline.com/common/v2.0' }],
      ['the {tenantid} template', { iss: 'https://login.microsoftonline.com/{tenantid}/v2.0' }],
      ['the v1 issuer on a v2 token', { iss: entraV1Issuer(TID) }],
      ['a look-alike host', { iss: `https://login.microsoftonline.com.evil.example/${TID}/v2.0` }],
      ['no issuer', { iss: undefined }],
    ])('a wrong issuer: %s, without fetching the JWKS', async (_, claims) => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, claims }), "The token's issuer is not trusted.");
      expect(jwks.fetches).toBe(0);
    });

    it('a v1 token carrying the v2 issuer', async () => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, ver: '1.0', claims: { iss: entraV2Issuer(TID) } }), "The token's issuer is not trusted.");
    });

    it('an expired token, beyond the 60 s skew (and accepts one inside it)', async () => {
      const validator = createEntraTokenValidator(options());
      const now = Math.floor(Date.now() / 1000);
      await expectUnauthenticated(validator, await mint({ key, claims: { iat: now - 7200, nbf: now - 7200, exp: now - 61 } }), 'The token has expired.');
      await expect(validator.validate(await mint({ key, claims: { iat: now - 7200, nbf: now - 7200, exp: now - 30 } }))).resolves.toBeDefined();
    });

    it('a token that is not valid yet, beyond the skew (and accepts one inside it)', async () => {
      const validator = createEntraTokenValidator(options());
      const now = Math.floor(Date.now() / 1000);
      await expectUnauthenticated(validator, await mint({ key, claims: { nbf: now + 300 } }), 'The token is not valid yet.');
      await expect(validator.validate(await mint({ key, claims: { nbf: now + 30 } }))).resolves.toBeDefined();
    });

    it('honours a smaller clock tolerance', async () => {
      const validator = createEntraTokenValidator(options({ clockToleranceSeconds: 0 }));
      const now = Math.floor(Date.now() / 1000);
      await expectUnauthenticated(validator, await mint({ key, claims: { exp: now - 5 } }), 'The token has expired.');
    });

    it('a token without exp', async () => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, omit: ['exp'] }), "The token lacks the 'exp' claim.");
    });

    it('alg "none" (unsigned), without fetching the JWKS', async () => {
      const validator = createEntraTokenValidator(options());
      const now = Math.floor(Date.now() / 1000);
      const claims = { ver: '2.0', iss: entraV2Issuer(TID), aud: CLIENT_ID, tid: TID, oid: OID, roles: ['Platform.Admin'], nbf: now, exp: now + 3600 };
      for (const alg of ['none', 'None', 'NONE']) {
        const unsigned = `${b64url({ alg, typ: 'JWT', kid: key.kid })}.${b64url(claims)}.`;
        await expectUnauthenticated(validator, unsigned, "The token's signing algorithm is not allowed.");
      }
      await expectUnauthenticated(validator, `${b64url({ typ: 'JWT', kid: key.kid })}.${b64url(claims)}.`, "The token's signing algorithm is not allowed.");
      expect(jwks.fetches).toBe(0);
    });

    it('HS256 signed with the public key (key confusion), without fetching the JWKS', async () => {
      const validator = createEntraTokenValidator(options());
      const now = Math.floor(Date.now() / 1000);
      const claims = { ver: '2.0', iss: entraV2Issuer(TID), aud: CLIENT_ID, tid: TID, oid: OID, roles: ['Platform.Admin'], nbf: now, exp: now + 3600 };
      const pem = await exportSPKI(key.publicKey);
      for (const secret of [pem, JSON.stringify(key.publicJwk), Buffer.from(key.publicJwk.n!, 'base64url')]) {
        const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64url(claims)}`;
        const forged = `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
        await expectUnauthenticated(validator, forged, "The token's signing algorithm is not allowed.");
      }
      expect(jwks.fetches).toBe(0);
    });

    it('an algorithm outside the allow-list even when the key would verify it', async () => {
      const validator = createEntraTokenValidator(options());
      const sameKeyAsRs384 = (await importJWK(await exportJWK(key.privateKey), 'RS384')) as CryptoKey;
      await expectUnauthenticated(validator, await mint({ key: { ...key, privateKey: sameKeyAsRs384 }, alg: 'RS384' }), "The token's signing algorithm is not allowed.");
      expect(jwks.fetches).toBe(0);
    });

    it('a signature that does not match (tampered claims, or another key under a known kid)', async () => {
      const validator = createEntraTokenValidator(options());
      const [header, , signature] = (await mint({ key })).split('.');
      const elevated = (await mint({ key, claims: { roles: ['Platform.Admin'] } })).split('.')[1];
      await expectUnauthenticated(validator, `${header}.${elevated}.${signature}`, "The token's signature is invalid.");
      const impostor = await newKey(key.kid);
      await expectUnauthenticated(validator, await mint({ key: impostor }), "The token's signature is invalid.");
    });

    it('an unknown kid, after at most one JWKS refresh', async () => {
      const validator = createEntraTokenValidator(options());
      const stranger = await newKey();
      await expectUnauthenticated(validator, await mint({ key: stranger }), "The token's signing key is not known.");
      // First use fetches; a refetch for the unknown kid is then inside the cooldown.
      expect(jwks.fetches).toBe(1);
      await expectUnauthenticated(validator, await mint({ key, kid: null }), "The token's signing key is not identified (no kid).");
    });

    it('a directory that is not onboarded, asking the allow-list only once the token verified', async () => {
      const asked: string[] = [];
      const validator = createEntraTokenValidator(options({ allowedTenantIds: async (tid) => (asked.push(tid), tid === TID) }));
      await expectUnauthenticated(validator, await mint({ key, claims: { tid: OTHER_TID } }), "The token's directory is not onboarded to AutomateIQ.");
      expect(asked).toEqual([OTHER_TID]);
      // A forged token must not reveal whether its directory is onboarded (no enumeration oracle).
      const forged = await mint({ key: await newKey(key.kid), claims: { tid: OTHER_TID } });
      await expectUnauthenticated(validator, forged, "The token's signature is invalid.");
      expect(asked).toEqual([OTHER_TID]);
    });

    it.each([
      ['missing', { tid: undefined }],
      ['not a GUID', { tid: 'contoso.onmicrosoft.com' }],
      ['"common"', { tid: 'common' }],
    ])('a tid that is %s', async (_, claims) => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, claims }), 'The token has no valid tenant id (tid).');
    });

    it('a missing or unknown ver', async () => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, omit: ['ver'] }), "The token's version (ver) is not supported.");
      await expectUnauthenticated(validator, await mint({ key, claims: { ver: '3.0' } }), "The token's version (ver) is not supported.");
    });

    it('a token naming no subject', async () => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, omit: ['oid', 'sub'] }), 'The token names no subject (oid or sub).');
    });

    it.each([
      ['empty', ''],
      ['not a JWT', 'not-a-jwt'],
      ['two segments', 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0'],
      ['garbage JSON', `${b64url('{"alg":')}.${b64url('{')}.sig`],
      ['a JWE-like five segments', 'a.b.c.d.e'],
    ])('a malformed token: %s', async (_, token) => {
      const validator = createEntraTokenValidator(options());
      const error = await rejection(validator.validate(token));
      expect(error.code).toBe('AUTH.UNAUTHENTICATED');
      expect(error.message).toMatch(/^(The bearer token is malformed\.|No bearer token was given\.)$/);
    });

    it('an oversized token', async () => {
      const validator = createEntraTokenValidator(options());
      await expectUnauthenticated(validator, await mint({ key, claims: { pad: 'x'.repeat(20_000) } }), 'The bearer token is too large.');
    });
  });

  describe('JWKS caching and rotation', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    });
    const advance = (ms: number) => vi.setSystemTime(new Date(Date.now() + ms));

    it('accepts a rotated key after one refresh, and a flood of unknown kids does not hammer the endpoint', async () => {
      const validator = createEntraTokenValidator(options());
      await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(1);

      // Entra publishes a new key; a token signed with it arrives right away.
      const rotated = await newKey();
      jwks.keys = [key.publicJwk, rotated.publicJwk];
      const rotatedToken = await mint({ key: rotated });
      await expectUnauthenticated(validator, rotatedToken, "The token's signing key is not known.");
      expect(jwks.fetches).toBe(1); // within the 30 s cooldown of the first fetch: not refetched

      advance(31_000);
      const accepted = await validator.validate(await mint({ key: rotated }));
      expect(accepted.entraTenantId).toBe(TID);
      expect(jwks.fetches).toBe(2); // exactly one refresh

      // 50 forged kids inside the cooldown: no fetch at all.
      const forger = await newKey();
      const flood = await Promise.all(Array.from({ length: 50 }, () => mint({ key: forger, kid: randomUUID() })));
      const results = await Promise.allSettled(flood.map((token) => validator.validate(token)));
      expect(results.every((result) => result.status === 'rejected')).toBe(true);
      expect(jwks.fetches).toBe(2);

      // After the cooldown, 20 concurrent unknown kids share one fetch.
      advance(31_000);
      const burst = await Promise.all(Array.from({ length: 20 }, () => mint({ key: forger, kid: randomUUID() })));
      await Promise.allSettled(burst.map((token) => validator.validate(token)));
      expect(jwks.fetches).toBe(3);

      // Both keys keep verifying from the cache.
      await validator.validate(await mint({ key }));
      await validator.validate(await mint({ key: rotated }));
      expect(jwks.fetches).toBe(3);
    });

    it('refreshes after 10 minutes, so a key withdrawn in an emergency rollover stops verifying', async () => {
      const validator = createEntraTokenValidator(options());
      await validator.validate(await mint({ key }));
      const replacement = await newKey();
      jwks.keys = [replacement.publicJwk];

      advance(9 * 60_000);
      await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(1);

      advance(2 * 60_000);
      await expectUnauthenticated(validator, await mint({ key }), "The token's signing key is not known.");
      expect(jwks.fetches).toBe(2);
      await validator.validate(await mint({ key: replacement }));
      expect(jwks.fetches).toBe(2);
    });

    it('keeps verifying with the last good keys while the endpoint fails, retrying at most once per cooldown', async () => {
      const validator = createEntraTokenValidator(options());
      await validator.validate(await mint({ key }));
      jwks.status = 503;

      advance(11 * 60_000); // cache expired: a refetch is due and fails
      await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(2);
      for (let i = 0; i < 10; i++) await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(2); // no retry inside the cooldown

      // A kid we cannot check is not the token's fault: retryable internal error, not 401.
      const unknown = await rejection(validator.validate(await mint({ key: await newKey() })));
      expect(unknown).toMatchObject({ code: 'INTERNAL', retryable: true });

      advance(31_000);
      await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(3);

      jwks.status = 200;
      advance(31_000);
      await validator.validate(await mint({ key }));
      expect(jwks.fetches).toBe(4);
    });

    it('answers a retryable internal error, not 401, when the keys were never fetched', async () => {
      jwks.status = 500;
      const validator = createEntraTokenValidator(options());
      const error = await rejection(validator.validate(await mint({ key })));
      expect(error).toMatchObject({ code: 'INTERNAL', retryable: true, message: 'The token signing keys could not be retrieved; try again shortly.' });
      expect(jwks.fetches).toBe(1);
    });

    it('stops serving stale keys after stale-if-error', async () => {
      const validator = createEntraTokenValidator(options({ jwksStaleIfErrorInMs: 60 * 60_000 }));
      await validator.validate(await mint({ key }));
      jwks.status = 503;
      advance(30 * 60_000);
      await validator.validate(await mint({ key }));
      advance(31 * 60_000);
      await expect(validator.validate(await mint({ key }))).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
    });
  });

  describe('options', () => {
    it.each([[['HS256']], [['none']], [[]]])('refuses algorithms %j', (algorithms) => {
      expect(() => createEntraTokenValidator({ audience: CLIENT_ID, algorithms })).toThrow(TypeError);
    });

    it('refuses an empty audience and an absurd tolerance', () => {
      expect(() => createEntraTokenValidator({ audience: [] })).toThrow(TypeError);
      expect(() => createEntraTokenValidator({ audience: '' })).toThrow(TypeError);
      expect(() => createEntraTokenValidator({ audience: CLIENT_ID, clockToleranceSeconds: 3600 })).toThrow(RangeError);
    });

    it('names the Entra issuer prefixes for the composite validator', () => {
      expect(createEntraTokenValidator({ audience: CLIENT_ID }).issuerPrefixes).toEqual(['https://login.microsoftonline.com/', 'https://sts.windows.net/']);
    });
  });
});

afterAll(() => vi.useRealTimers());
