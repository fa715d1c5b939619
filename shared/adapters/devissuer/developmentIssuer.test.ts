import { createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, SignJWT, type CryptoKey } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../domain/errors.js';
import {
  createDevelopmentTokenValidator,
  DEFAULT_DEV_KEY_FILE,
  DEV_PLATFORM_ENTRA_TENANT_ID,
  devEntraTenantId,
  developmentIssuer,
  isDevelopmentIssuerAllowed,
  loadOrCreateSigningKey,
  readSigningKey,
  resolveDevelopmentKeyFile,
  signDevelopmentToken,
} from './index.js';
import { DEV_DIRECTORY_NAMESPACE, uuidV5 } from './devDirectory.js';

const AUDIENCE = 'api://automateiq';
const DEV_ENV = { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };

let dir: string;
let keyFile: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aiq-devissuer-'));
  keyFile = path.join(dir, 'nested', 'signing-key.json');
});
afterEach(async () => {
  vi.useRealTimers();
  await fs.rm(dir, { recursive: true, force: true });
});

const validator = (extra: Partial<Parameters<typeof createDevelopmentTokenValidator>[0]> = {}) =>
  createDevelopmentTokenValidator({ keyFile, audience: AUDIENCE, env: DEV_ENV, ...extra });

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('AUTH.UNAUTHENTICATED');
  return error as AppError;
}

/** Signs arbitrary claims with the development key, to forge what signDevelopmentToken never would. */
async function signWithDevKey(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const key = await loadOrCreateSigningKey(keyFile);
  const now = Math.floor(Date.now() / 1000);
  const tid = devEntraTenantId('acme');
  return new SignJWT({ ver: '2.0', iss: developmentIssuer(tid), aud: AUDIENCE, tid, oid: 'someone', nbf: now, iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header })
    .sign((await importJWK(key.privateJwk, 'RS256')) as CryptoKey);
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('devEntraTenantId', () => {
  it('is a deterministic version-5 GUID per slug', () => {
    const acme = devEntraTenantId('acme');
    expect(acme).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(devEntraTenantId('acme')).toBe(acme);
    expect(devEntraTenantId('globex')).not.toBe(acme);
    expect(acme).toBe(uuidV5(DEV_DIRECTORY_NAMESPACE, 'acme'));
  });

  it('implements RFC 9562 UUIDv5 (test vector: DNS namespace, www.example.com)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives platform admins a directory no tenant slug can produce', () => {
    expect(DEV_PLATFORM_ENTRA_TENANT_ID).toBe(uuidV5(DEV_DIRECTORY_NAMESPACE, '@platform'));
    expect(devEntraTenantId('platform')).not.toBe(DEV_PLATFORM_ENTRA_TENANT_ID);
  });

  it.each(['', 'A', 'Acme', 'acme_corp', '-acme', 'acme-', '@platform', 'x'.repeat(64)])('rejects the slug %j', (slug) => {
    expect(() => devEntraTenantId(slug)).toThrow(RangeError);
  });
});

describe('isDevelopmentIssuerAllowed', () => {
  it.each<[Record<string, string | undefined>, boolean]>([
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development' }, true],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_DEV_ISSUER: 'true' }, true],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_DEV_ISSUER: '' }, true],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_DEV_ISSUER: 'false' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_DEV_ISSUER: 'FALSE' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', WEBSITE_INSTANCE_ID: 'f1a2b3' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', WEBSITE_INSTANCE_ID: '' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', WEBSITE_INSTANCE_ID: 'f1a2b3', AIQ_DEV_ISSUER: 'true' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Production' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'development' }, false],
    [{ AZURE_FUNCTIONS_ENVIRONMENT: 'Staging' }, false],
    [{}, false],
    [{ AIQ_DEV_ISSUER: 'true' }, false],
  ])('%j → %s', (env, allowed) => {
    expect(isDevelopmentIssuerAllowed(env)).toBe(allowed);
  });

  it('keeps the validator from being built where it is not allowed', () => {
    expect(() => createDevelopmentTokenValidator({ keyFile, audience: AUDIENCE, env: { AZURE_FUNCTIONS_ENVIRONMENT: 'Production' } })).toThrow(/only on the embedded host/);
    expect(() => createDevelopmentTokenValidator({ keyFile, audience: AUDIENCE, env: { ...DEV_ENV, WEBSITE_INSTANCE_ID: 'abc' } })).toThrow(/only on the embedded host/);
  });
});

describe('the signing key file', () => {
  it('is created once with mode 0600 in a 0700 directory, and reused', async () => {
    const first = await loadOrCreateSigningKey(keyFile);
    const second = await loadOrCreateSigningKey(keyFile);
    expect(second.kid).toBe(first.kid);
    if (process.platform !== 'win32') {
      expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(path.dirname(keyFile))).mode & 0o777).toBe(0o700);
    }
    expect(first.publicJwk).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB', alg: 'RS256', use: 'sig', kid: first.kid });
    expect((await fs.readdir(path.dirname(keyFile))).sort()).toEqual(['signing-key.json']);
  });

  it('converges on one key when processes race to create it', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSigningKey(keyFile)));
    expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
    expect(await fs.readdir(path.dirname(keyFile))).toEqual(['signing-key.json']);
  });

  it('is not created by reading, and a corrupt file is an error', async () => {
    expect(await readSigningKey(keyFile)).toBeUndefined();
    await fs.mkdir(path.dirname(keyFile), { recursive: true });
    await fs.writeFile(keyFile, '{"privateJwk":{"kty":"oct","k":"c2VjcmV0"}}');
    await expect(readSigningKey(keyFile)).rejects.toThrow(/holds no RSA private key/);
  });

  it('resolves the same path for the host and the token script', () => {
    expect(resolveDevelopmentKeyFile('/repo', {})).toBe(path.resolve('/repo', DEFAULT_DEV_KEY_FILE));
    expect(resolveDevelopmentKeyFile('/repo', {})).toBe(path.resolve('/repo/.data/dev-issuer/signing-key.json'));
    expect(resolveDevelopmentKeyFile('/repo', { AIQ_DEV_ISSUER_KEY_FILE: 'keys/k.json' })).toBe(path.resolve('/repo/keys/k.json'));
    expect(resolveDevelopmentKeyFile('/repo', { AIQ_DEV_ISSUER_KEY_FILE: '/etc/k.json' })).toBe(path.resolve('/etc/k.json'));
  });
});

describe('signDevelopmentToken → createDevelopmentTokenValidator', () => {
  it('round-trips a tenant token with the Entra v2 shape', async () => {
    const token = await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.Admin', audience: AUDIENCE });
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    const tid = devEntraTenantId('acme');
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: (await readSigningKey(keyFile))!.kid });
    expect(claims).toMatchObject({ ver: '2.0', iss: `https://login.embedded.automateiq.local/${tid}/v2.0`, aud: AUDIENCE, tid, roles: ['Tenant.Admin'], idtyp: 'user' });
    expect(claims.oid).toBe(claims.sub);
    expect((claims.exp ?? 0) - (claims.nbf ?? 0)).toBe(3600);

    const result = await validator().validate(token);
    expect(result).toMatchObject({ subject: claims.oid, entraTenantId: tid, name: 'Dev Tenant.Admin (acme)', roles: ['Tenant.Admin'], issuer: 'development' });
  });

  it('gives a stable user per (tenant, role) unless a subject and name are given', async () => {
    const decodeOid = async (options: Parameters<typeof signDevelopmentToken>[0]) => decodeJwt(await signDevelopmentToken(options)).oid;
    const base = { keyFile, audience: AUDIENCE };
    expect(await decodeOid({ ...base, tenantId: 'acme', role: 'Tenant.User' })).toBe(await decodeOid({ ...base, tenantId: 'acme', role: 'Tenant.User' }));
    expect(await decodeOid({ ...base, tenantId: 'acme', role: 'Tenant.User' })).not.toBe(await decodeOid({ ...base, tenantId: 'globex', role: 'Tenant.User' }));
    const custom = await validator().validate(await signDevelopmentToken({ ...base, tenantId: 'acme', role: 'Tenant.User', subject: 'u-42', name: 'Grace' }));
    expect(custom).toMatchObject({ subject: 'u-42', name: 'Grace' });
  });

  it('signs a platform admin without a tenant in the platform directory', async () => {
    const result = await validator().validate(await signDevelopmentToken({ keyFile, role: 'Platform.Admin', audience: AUDIENCE }));
    expect(result).toMatchObject({ entraTenantId: DEV_PLATFORM_ENTRA_TENANT_ID, roles: ['Platform.Admin'], name: 'Dev Platform.Admin' });
  });

  it.each([
    [{ role: 'Tenant.Owner', tenantId: 'acme' }, /Unknown role/],
    [{ role: 'Tenant.Admin' }, /needs a tenant/],
    [{ role: 'Tenant.User', tenantId: '' }, /needs a tenant/],
    [{ role: 'Tenant.User', tenantId: 'Not_A_Slug' }, /is not a tenant id/],
    [{ role: 'Tenant.User', tenantId: 'acme', lifetimeSeconds: 0 }, /lifetime/],
    [{ role: 'Tenant.User', tenantId: 'acme', lifetimeSeconds: 86_401 }, /lifetime/],
    [{ role: 'Tenant.User', tenantId: 'acme', audience: '' }, /audience/],
  ])('refuses %j', async (options, message) => {
    await expect(signDevelopmentToken({ keyFile, audience: AUDIENCE, ...options })).rejects.toThrow(message);
    await expect(signDevelopmentToken({ keyFile, audience: AUDIENCE, ...options })).rejects.toBeInstanceOf(RangeError);
  });

  describe('the validator is as strict as the Entra one', () => {
    it('rejects a wrong audience', async () => {
      const token = await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.User', audience: 'api://other' });
      expect((await rejection(validator().validate(token))).message).toBe("The token's audience is not this API.");
    });

    it('rejects an expired token and one not valid yet (60 s skew)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
      const token = await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.User', audience: AUDIENCE, lifetimeSeconds: 60 });
      const check = validator();
      vi.setSystemTime(new Date('2030-01-01T00:01:59Z'));
      await expect(check.validate(token)).resolves.toBeDefined();
      vi.setSystemTime(new Date('2030-01-01T00:02:01Z'));
      expect((await rejection(check.validate(token))).message).toBe('The token has expired.');
      vi.setSystemTime(new Date('2029-12-31T23:58:00Z'));
      expect((await rejection(check.validate(token))).message).toBe('The token is not valid yet.');
    });

    it('rejects an issuer that is not the development issuer of the token’s own tid', async () => {
      const check = validator();
      for (const iss of [developmentIssuer(devEntraTenantId('globex')), `https://login.microsoftonline.com/${devEntraTenantId('acme')}/v2.0`, 'https://login.embedded.automateiq.local/common/v2.0']) {
        expect((await rejection(check.validate(await signWithDevKey({ iss })))).message).toBe("The token's issuer is not trusted.");
      }
      expect((await rejection(check.validate(await signWithDevKey({ tid: 'acme', iss: developmentIssuer('acme') })))).message).toBe('The token has no valid tenant id (tid).');
      expect((await rejection(check.validate(await signWithDevKey({ ver: '1.0' })))).message).toBe("The token's version (ver) is not supported.");
      await expect(check.validate(await signWithDevKey({}))).resolves.toMatchObject({ entraTenantId: devEntraTenantId('acme') });
    });

    it('rejects alg "none" and HS256 signed with the public key', async () => {
      const check = validator();
      const good = await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Platform.Admin', audience: AUDIENCE });
      const claims = decodeJwt(good);
      const { kid } = decodeProtectedHeader(good);
      expect((await rejection(check.validate(`${b64url({ alg: 'none', kid })}.${b64url(claims)}.`))).message).toBe("The token's signing algorithm is not allowed.");
      const pem = await exportSPKI((await importJWK((await readSigningKey(keyFile))!.publicJwk, 'RS256')) as CryptoKey);
      const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT', kid })}.${b64url(claims)}`;
      const forged = `${signingInput}.${createHmac('sha256', pem).update(signingInput).digest('base64url')}`;
      expect((await rejection(check.validate(forged))).message).toBe("The token's signing algorithm is not allowed.");
    });

    it('rejects a tampered token', async () => {
      const [header, , signature] = (await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.User', audience: AUDIENCE })).split('.');
      const elevated = (await signWithDevKey({ roles: ['Platform.Admin'] })).split('.')[1];
      expect((await rejection(validator().validate(`${header}.${elevated}.${signature}`))).message).toBe("The token's signature is invalid.");
    });

    it('rejects a directory that is not onboarded', async () => {
      const check = validator({ allowedTenantIds: (tid) => tid === devEntraTenantId('acme') });
      await expect(check.validate(await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.User', audience: AUDIENCE }))).resolves.toBeDefined();
      const globex = await signDevelopmentToken({ keyFile, tenantId: 'globex', role: 'Tenant.User', audience: AUDIENCE });
      expect((await rejection(check.validate(globex))).message).toBe("The token's directory is not onboarded to AutomateIQ.");
    });

    it('picks up a recreated key file, and rejects tokens of the old key', async () => {
      const check = validator();
      expect((await rejection(check.validate(await signWithDevKey({}, { kid: 'nothing-yet' })))).message).toBe("The token's signing key is not known.");
      const old = await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.User', audience: AUDIENCE });
      await expect(check.validate(old)).resolves.toBeDefined();
      await fs.rm(keyFile);
      const fresh = await signDevelopmentToken({ keyFile, tenantId: 'acme', role: 'Tenant.User', audience: AUDIENCE });
      expect(decodeProtectedHeader(fresh).kid).not.toBe(decodeProtectedHeader(old).kid);
      await expect(check.validate(fresh)).resolves.toBeDefined();
      expect((await rejection(check.validate(old))).message).toBe("The token's signing key is not known.");
    });
  });
});
