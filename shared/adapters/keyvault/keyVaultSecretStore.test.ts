import { randomBytes } from 'node:crypto';
import type { KeyVaultSecret, SecretProperties } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';
import { runSecretStoreContract } from '../../ports/secretStore.contract.js';
import { KeyVaultSecretStore, keyVaultSecretName, type SecretClientLike } from './keyVaultSecretStore.js';

const vaultUrl = process.env['AZURE_KEYVAULT_URL'];

runSecretStoreContract({
  name: 'Azure Key Vault',
  skip: vaultUrl ? undefined : 'AZURE_KEYVAULT_URL is not set (needs a real vault and an identity with Key Vault Secrets Officer)',
  newStore: async () => ({ store: new KeyVaultSecretStore({ vaultUrl: vaultUrl! }), close: async () => undefined }),
});

/** An in-memory stand-in for Key Vault's name/version/tag semantics (case-insensitive names, soft delete as removal). */
function fakeClient(): SecretClientLike & { raw: Map<string, Array<{ value: string; properties: SecretProperties }>> } {
  const raw = new Map<string, Array<{ value: string; properties: SecretProperties }>>();
  const notFound = (): Error => Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
  const paged = <T>(items: T[]) => (async function* () {
    yield* items;
  })() as never;
  let clock = Date.now();
  return {
    raw,
    async setSecret(name, value, options) {
      const versions = raw.get(name.toLowerCase()) ?? [];
      const at = new Date(++clock);
      const properties: SecretProperties = { name, vaultUrl: 'https://fake', version: randomBytes(16).toString('hex'), enabled: true, createdOn: at, updatedOn: at, tags: { ...(options?.tags ?? {}) } };
      versions.push({ value, properties });
      raw.set(name.toLowerCase(), versions);
      return { name, value, properties } as KeyVaultSecret;
    },
    async getSecret(name, options) {
      const versions = raw.get(name.toLowerCase());
      const found = options?.version ? versions?.find((v) => v.properties.version === options.version) : versions?.at(-1);
      if (!found) throw notFound();
      return { name, value: found.value, properties: found.properties } as KeyVaultSecret;
    },
    listPropertiesOfSecrets: () => paged([...raw.values()].map((versions) => ({ ...versions.at(-1)!.properties, version: undefined }))),
    listPropertiesOfSecretVersions: (name: string) => paged((raw.get(name.toLowerCase()) ?? []).map((v) => v.properties)),
    async beginDeleteSecret(name) {
      if (!raw.delete(name.toLowerCase())) throw notFound();
      return { pollUntilDone: async () => ({}) } as never;
    },
  };
}

runSecretStoreContract({
  name: 'Key Vault adapter on an in-memory fake client',
  newStore: async () => ({ store: new KeyVaultSecretStore({ vaultUrl: 'https://fake', client: fakeClient() }), close: async () => undefined }),
});

describe('KeyVaultSecretStore naming and tenant tags', () => {
  it('maps names to t-<tenantId>--<name> and tags them with the tenant', async () => {
    const client = fakeClient();
    const store = new KeyVaultSecretStore({ vaultUrl: 'https://fake', client });
    await store.set('acme', 'crm-token', 'v');
    const [versions] = [...client.raw.values()];
    expect(versions![0]!.properties.name).toBe('t-acme--crm-token');
    expect(versions![0]!.properties.tags).toEqual({ tenant: 'acme', name: 'crm-token' });
    expect(keyVaultSecretName('acme', 'x')).toBe('t-acme--x');
    expect(() => keyVaultSecretName('acme', 'a'.repeat(125))).toThrow(/too long/);
  });

  it('never trusts the name alone: a secret whose tag names another tenant is invisible and never overwritten', async () => {
    // Tenant 'a' with secret 'b--token' and tenant 'a--b' with secret 'token' both map to t-a--b--token.
    const client = fakeClient();
    const store = new KeyVaultSecretStore({ vaultUrl: 'https://fake', client });
    await store.set('a--b', 'token', 'belongs-to-a--b');
    expect(await store.get('a', 'b--token')).toBeUndefined();
    expect(await store.listNames('a')).toEqual([]);
    expect(await store.delete('a', 'b--token')).toBe(false);
    await expect(store.set('a', 'b--token', 'hijack')).rejects.toMatchObject({ code: 'REQUEST.CONFLICT' });
    expect((await store.get('a--b', 'token'))?.value).toBe('belongs-to-a--b');
  });
});
