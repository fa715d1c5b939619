import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import type { IssuerScopedTokenValidator, TokenValidator } from '../../ports/tokenValidator.js';
import { createEntraTokenValidator, entraV2Issuer } from '../entra/entraTokenValidator.js';
import {
  createCompositeTokenValidator,
  createDevelopmentTokenValidator,
  devEntraTenantId,
  developmentIssuer,
  loadOrCreateSigningKey,
  signDevelopmentToken,
} from './index.js';

const AUDIENCE = 'api://automateiq';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

let dir: string;
let keyFile: string;
let server: http.Server;
let jwksFetches = 0;
let entraKey: { kid: string; privateKey: CryptoKey };
let entra: IssuerScopedTokenValidator;
let development: IssuerScopedTokenValidator;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aiq-composite-'));
  keyFile = path.join(dir, 'signing-key.json');
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  entraKey = { kid: 'entra-key-1', privateKey };
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: entraKey.kid, use: 'sig' }] });
  server = http.createServer((_, response) => {
    jwksFetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  entra = createEntraTokenValidator({ audience: AUDIENCE, jwksUri: `http://127.0.0.1:${port}/keys` });
  development = createDevelopmentTokenValidator({ keyFile, audience: AUDIENCE, env: { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' } });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(dir, { recursive: true, force: true });
});

async function entraToken(claims: Record<string, unknown> = {}, key: { kid: string; privateKey: CryptoKey } = entraKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ver: '2.0', iss: entraV2Issuer(TID), aud: AUDIENCE, tid: TID, oid: 'b0b0b0b0-0000-4000-8000-000000000001', roles: ['Tenant.User'], nbf: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .sign(key.privateKey);
}

const devToken = (role = 'Tenant.User') => signDevelopmentToken({ keyFile, tenantId: 'acme', role, audience: AUDIENCE });

async function devKey(): Promise<{ kid: string; privateKey: CryptoKey }> {
  const key = await loadOrCreateSigningKey(keyFile);
  return { kid: key.kid, privateKey: (await importJWK(key.privateJwk, 'RS256')) as CryptoKey };
}

async function rejectionMessage(validator: TokenValidator, token: string): Promise<string> {
  const error = await validator.validate(token).then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('AUTH.UNAUTHENTICATED');
  return (error as AppError).message;
}

describe('development and Entra tokens do not cross', () => {
  it('the Entra validator rejects a development token without fetching the JWKS', async () => {
    const before = jwksFetches;
    expect(await rejectionMessage(entra, await devToken('Platform.Admin'))).toBe("The token's issuer is not trusted.");
    expect(jwksFetches).toBe(before);
  });

  it('the Entra validator rejects a token signed with the development key under an Entra issuer', async () => {
    expect(await rejectionMessage(entra, await entraToken({}, await devKey()))).toBe("The token's signing key is not known.");
  });

  it('the development validator rejects an Entra token', async () => {
    await expect(entra.validate(await entraToken())).resolves.toMatchObject({ issuer: 'entra' });
    expect(await rejectionMessage(development, await entraToken())).toBe("The token's issuer is not trusted.");
  });

  it('the development validator rejects a token signed with an Entra key under the development issuer', async () => {
    const tid = devEntraTenantId('acme');
    expect(await rejectionMessage(development, await entraToken({ tid, iss: developmentIssuer(tid) }))).toBe("The token's signing key is not known.");
  });
});

describe('createCompositeTokenValidator', () => {
  it('routes each token to the validator of its issuer', async () => {
    const composite = createCompositeTokenValidator([entra, development]);
    await expect(composite.validate(await entraToken())).resolves.toMatchObject({ issuer: 'entra', entraTenantId: TID });
    await expect(composite.validate(await entraToken({ ver: '1.0', iss: `https://sts.windows.net/${TID}/` }))).resolves.toMatchObject({ issuer: 'entra' });
    await expect(composite.validate(await devToken())).resolves.toMatchObject({ issuer: 'development', entraTenantId: devEntraTenantId('acme') });
  });

  it('lets the chosen validator verify everything: the issuer only picks the route', async () => {
    const composite = createCompositeTokenValidator([entra, development]);
    // Entra issuer, development key: routed to Entra, which does not know the key.
    expect(await rejectionMessage(composite, await entraToken({}, await devKey()))).toBe("The token's signing key is not known.");
    // Development issuer of another directory than the token's tid.
    expect(await rejectionMessage(composite, await entraToken({ iss: developmentIssuer(devEntraTenantId('acme')) }, await devKey()))).toBe("The token's issuer is not trusted.");
  });

  it.each([
    ['an unknown issuer', { iss: 'https://accounts.google.com/' }],
    ['a look-alike of the Entra host', { iss: `https://login.microsoftonline.com.evil.example/${TID}/v2.0` }],
    ['a look-alike of the development host', { iss: `https://login.embedded.automateiq.local.evil.example/${TID}/v2.0` }],
    ['http instead of https', { iss: `http://login.microsoftonline.com/${TID}/v2.0` }],
    ['no issuer', { iss: undefined }],
    ['a non-string issuer', { iss: ['https://login.microsoftonline.com/'] }],
  ])('fails closed on %s', async (_, claims) => {
    const composite = createCompositeTokenValidator([entra, development]);
    expect(await rejectionMessage(composite, await entraToken(claims))).toBe("The token's issuer is not trusted.");
  });

  it('without the development validator (as in Azure), rejects development tokens', async () => {
    const production = createCompositeTokenValidator([entra]);
    expect(await rejectionMessage(production, await devToken('Platform.Admin'))).toBe("The token's issuer is not trusted.");
    await expect(production.validate(await entraToken())).resolves.toMatchObject({ issuer: 'entra' });
  });

  it('with no validators, rejects everything', async () => {
    const none = createCompositeTokenValidator([]);
    expect(await rejectionMessage(none, await entraToken())).toBe("The token's issuer is not trusted.");
    expect(await rejectionMessage(none, await devToken())).toBe("The token's issuer is not trusted.");
  });

  it('rejects malformed and oversized tokens before routing', async () => {
    const composite = createCompositeTokenValidator([entra, development]);
    expect(await rejectionMessage(composite, 'not.a.jwt')).toBe('The bearer token is malformed.');
    expect(await rejectionMessage(composite, '')).toBe('No bearer token was given.');
    expect(await rejectionMessage(composite, 'a'.repeat(17_000))).toBe('The bearer token is too large.');
  });

  it('refuses ambiguous or malformed issuer prefixes', () => {
    const stub = (...issuerPrefixes: string[]): IssuerScopedTokenValidator => ({ issuerPrefixes, validate: () => Promise.reject(new Error('unused')) });
    expect(() => createCompositeTokenValidator([entra, stub('https://login.microsoftonline.com/tenant/')])).toThrow(/overlap/);
    expect(() => createCompositeTokenValidator([entra, entra])).toThrow(/overlap/);
    expect(() => createCompositeTokenValidator([stub('https://login.microsoftonline.com')])).toThrow(/ending with/);
    expect(() => createCompositeTokenValidator([stub('http://issuer.example/')])).toThrow(/https URL/);
    expect(() => createCompositeTokenValidator([stub('https://issuer.example/a/'), stub('https://issuer.example/b/')])).not.toThrow();
  });
});
