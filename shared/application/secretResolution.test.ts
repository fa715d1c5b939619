import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyringOf, SqliteSecretStore } from '../adapters/sqlite/sqliteSecretStore.js';
import { AppError } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';
import type { SecretStore } from '../ports/secretStore.js';
import { resolveSecretSlots, SecretResolutionErrorCodes } from './secretResolution.js';

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  const app = error as AppError;
  return { code: app.code, retryable: app.retryable, message: app.message };
}

/** Resolving a step's secret slots against the real encrypted SQLite store. */
describe('resolveSecretSlots', () => {
  let dir: string;
  let store: SqliteSecretStore;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-secret-slots-'));
    store = new SqliteSecretStore({ file: path.join(dir, 'secrets.db'), keyring: keyringOf(randomBytes(32)) });
    await store.set('acme', 'crm-token', 'token-acme-1');
    await store.set('acme', 'db-password', 'p/w~d');
    await store.set('globex', 'only-globex', 'globex-value');
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replaces exactly the listed slots, escaped pointers and arrays included, on a copy', async () => {
    const inputs: JsonValue = {
      headers: { Authorization: { $secret: 'crm-token' }, 'a/b~c': { $secret: 'db-password' } },
      list: [{ $secret: 'crm-token' }],
      body: { $secret: 'crm-token' }, // data shaped like a reference: not listed, so never resolved
    };
    const before = structuredClone(inputs);
    const resolved = await resolveSecretSlots(inputs, ['/headers/Authorization', '/headers/a~1b~0c', '/list/0'], 'acme', store);
    expect(resolved.inputs).toEqual({ headers: { Authorization: 'token-acme-1', 'a/b~c': 'p/w~d' }, list: ['token-acme-1'], body: { $secret: 'crm-token' } });
    expect(resolved.values.sort()).toEqual(['p/w~d', 'token-acme-1']);
    expect(inputs).toEqual(before);
  });

  it('resolves a whole value that is a reference, and passes inputs without slots through', async () => {
    expect((await resolveSecretSlots({ $secret: 'crm-token' }, [''], 'acme', store)).inputs).toBe('token-acme-1');
    const plain = { a: 1 };
    expect(await resolveSecretSlots(plain, [], 'acme', store)).toEqual({ inputs: plain, values: [] });
  });

  it('picks up a rotated value on the next resolution', async () => {
    await store.set('acme', 'rotating', 'first-value');
    expect((await resolveSecretSlots({ k: { $secret: 'rotating' } }, ['/k'], 'acme', store)).inputs).toEqual({ k: 'first-value' });
    await store.set('acme', 'rotating', 'second-value');
    expect((await resolveSecretSlots({ k: { $secret: 'rotating' } }, ['/k'], 'acme', store)).inputs).toEqual({ k: 'second-value' });
  });

  it("never reads another tenant's secret: SECRET.NOT_FOUND, permanent, naming the secret only", async () => {
    const failure = await codeOf(resolveSecretSlots({ k: { $secret: 'only-globex' } }, ['/k'], 'acme', store));
    expect(failure).toMatchObject({ code: SecretResolutionErrorCodes.notFound, retryable: false });
    expect(failure.message).toContain("'only-globex'");
    expect(failure.message).not.toContain('globex-value');
  });

  it('refuses a slot that does not hold a reference', async () => {
    expect((await codeOf(resolveSecretSlots({ k: 'plain' }, ['/k'], 'acme', store))).code).toBe('SECRET.SLOT_INVALID');
    expect((await codeOf(resolveSecretSlots({ k: 'plain' }, ['/missing/deeper'], 'acme', store))).code).toBe('SECRET.SLOT_INVALID');
  });

  it('reports a failing store as SECRET.UNAVAILABLE (retryable) and a missing key setting as permanent', async () => {
    const failing = (error: Error): SecretStore => ({ ...store, get: () => Promise.reject(error) }) as unknown as SecretStore;
    expect(await codeOf(resolveSecretSlots({ k: { $secret: 'x-name' } }, ['/k'], 'acme', failing(new Error('ECONNRESET'))))).toMatchObject({ code: SecretResolutionErrorCodes.unavailable, retryable: true });
    const config = Object.assign(new Error('AIQ_SECRETS_KEY is not set.'), { name: 'ConfigError' });
    const permanent = await codeOf(resolveSecretSlots({ k: { $secret: 'x-name' } }, ['/k'], 'acme', failing(config)));
    expect(permanent).toMatchObject({ code: SecretResolutionErrorCodes.unavailable, retryable: false });
    expect(permanent.message).toContain('AIQ_SECRETS_KEY');
  });
});
