import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevelopmentTokenValidator, DEV_PLATFORM_ENTRA_TENANT_ID, devEntraTenantId } from './index.js';

/** `npm run token` end to end: the real script, in a child process, against a temporary key file. */
const root = path.resolve(__dirname, '..', '..', '..');
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/;

let dir: string;
let keyFile: string;

function runToken(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AIQ_')));
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'token.js'), ...args], {
    cwd: root,
    env: { ...base, AIQ_DEV_ISSUER_KEY_FILE: keyFile, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aiq-token-script-'));
  keyFile = path.join(dir, 'dev-issuer', 'signing-key.json');
  // The first run may compile dist; later ones must not need to.
  const warmUp = runToken(['--role', 'Platform.Admin']);
  expect(warmUp.stderr.slice(-2000)).not.toMatch(/token: (?!compiling|tsc reported)/);
  expect(warmUp.status).toBe(0);
  expect(warmUp.stdout).toMatch(JWT);
}, 200_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('scripts/token.js', () => {
  const validator = () => createDevelopmentTokenValidator({ keyFile, audience: 'api://automateiq', env: { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' } });

  it('prints exactly one JWT on stdout, which the development validator accepts', async () => {
    const run = runToken(['--tenant', 'acme', '--role', 'Tenant.Admin']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(JWT);
    expect(run.stderr).not.toContain('compiling');
    const result = await validator().validate(run.stdout.trim());
    expect(result).toMatchObject({ entraTenantId: devEntraTenantId('acme'), roles: ['Tenant.Admin'], issuer: 'development' });
    if (process.platform !== 'win32') expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('needs no tenant for Platform.Admin', async () => {
    const run = runToken(['--role', 'Platform.Admin']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(JWT);
    await expect(validator().validate(run.stdout.trim())).resolves.toMatchObject({ entraTenantId: DEV_PLATFORM_ENTRA_TENANT_ID, roles: ['Platform.Admin'] });
  });

  it('takes --audience, --subject, --name, --lifetime, and AIQ_API_AUDIENCE', () => {
    const run = runToken(['--tenant=acme', '--role', 'Tenant.User', '--audience', 'api://custom', '--subject', 'u-1', '--name', 'Grace Hopper', '--lifetime', '120']);
    expect(run.status).toBe(0);
    const claims = decodeJwt(run.stdout.trim());
    expect(claims).toMatchObject({ aud: 'api://custom', oid: 'u-1', sub: 'u-1', name: 'Grace Hopper', roles: ['Tenant.User'] });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(120);
    expect(decodeJwt(runToken(['--role', 'Platform.Admin'], { AIQ_API_AUDIENCE: 'api://from-env' }).stdout.trim()).aud).toBe('api://from-env');
  });

  it('signs every token with the one shared key', () => {
    const kids = [runToken(['--role', 'Platform.Admin']), runToken(['--tenant', 'globex', '--role', 'Tenant.User'])].map(
      (run) => JSON.parse(Buffer.from(run.stdout.split('.')[0]!, 'base64url').toString('utf8')).kid as string,
    );
    expect(kids[0]).toBe(kids[1]);
  });

  it.each([
    ['an unknown role', ['--tenant', 'acme', '--role', 'Tenant.Owner'], /unknown role 'Tenant.Owner'/],
    ['a tenant role without --tenant', ['--role', 'Tenant.User'], /needs --tenant/],
    ['a bad tenant slug', ['--tenant', 'Acme_Corp', '--role', 'Tenant.User'], /is not a tenant id/],
    ['no --role', ['--tenant', 'acme'], /--role is required/],
    ['an unknown flag', ['--role', 'Platform.Admin', '--tennant', 'acme'], /unknown argument '--tennant'/],
    ['a flag without a value', ['--role'], /--role needs a value/],
    ['a bad lifetime', ['--role', 'Platform.Admin', '--lifetime', '-5'], /--lifetime must be/],
    ['a too long lifetime', ['--role', 'Platform.Admin', '--lifetime', '999999'], /--lifetime must be/],
  ])('exits 2 with nothing on stdout on %s', (_, args, message) => {
    const run = runToken(args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('usage:');
  });
});
