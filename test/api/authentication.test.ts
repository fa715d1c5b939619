import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, type Platform, startPlatform } from './platform.js';

/** The JWT battery through HTTP: every bad token answers 401/403 problem+json, never data. */
describe('API authentication', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
    await platform.call('POST', '/api/tenants', { token: await platform.token('Platform.Admin'), body: { id: 'auth-co', name: 'Auth Co', tier: 'basic' } });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const status = async (token: string | undefined, route = '/api/tenants/auth-co/workflows'): Promise<{ status: number; code: string }> => {
    const response = await platform.call('GET', route, token ? { token } : {});
    const body = response.status === 200 ? { code: 'OK' } : ((await response.json()) as { code: string });
    return { status: response.status, code: body.code };
  };

  it('accepts a valid token and refuses every bad one', async () => {
    expect(await status(await platform.token('Tenant.User', 'auth-co'))).toEqual({ status: 200, code: 'OK' });
    expect(await status(undefined)).toEqual({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
    expect(await status('not-a-jwt')).toEqual({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
    expect(await status(await platform.token('Tenant.User', 'auth-co', { lifetimeSeconds: -600 }).catch(() => 'invalid'))).toMatchObject({ status: 401 });
    const valid = await platform.token('Tenant.User', 'auth-co');
    const [header, payload] = valid.split('.');
    // alg: none, with the signature stripped.
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    expect(await status(none)).toEqual({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
    // A tampered payload (another tenant's role) with the original signature.
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['Platform.Admin'] })).toString('base64url')}.${valid.split('.')[2]}`;
    expect(await status(tampered, '/api/tenants')).toEqual({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
    // Signed by a key the issuer never published.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: (await exportJWK(publicKey)).n!.slice(0, 16) })
      .sign(privateKey);
    expect(await status(forged)).toEqual({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
    // Wrong audience.
    const otherAudience = await new SignJWT({ ...claims, aud: 'api://someone-else' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    expect((await status(otherAudience)).status).toBe(401);
    expect(AUDIENCE).toBe('api://automateiq');
  });

  it('refuses a directory that is not onboarded, and Platform.Admin from a tenant directory', async () => {
    expect(await status(await platform.token('Tenant.Admin', 'never-onboarded'))).toEqual({ status: 403, code: 'TENANT.NOT_ONBOARDED' });
    // A tenant's own directory cannot grant itself platform administration.
    expect(await status(await platform.token('Platform.Admin', 'auth-co'), '/api/tenants')).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
  });

  it('limits each tenant to its request rate with 429 and Retry-After', async () => {
    const token = await platform.token('Tenant.User', 'auth-co');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 40; i++) {
      const response = await platform.call('GET', '/api/tenants/auth-co/workflows', { token });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
      await response.arrayBuffer();
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
