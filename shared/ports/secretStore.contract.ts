import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SecretStore } from './secretStore.js';

/**
 * The behaviour every SecretStore adapter must have. Each test uses fresh tenant ids, so runs against a shared
 * vault never interfere, and deletes what it created.
 */
export function runSecretStoreContract(options: { name: string; newStore: () => Promise<{ store: SecretStore; close(): Promise<void> }>; skip?: string }): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`SecretStore contract: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    const withStore = async (test: (store: SecretStore, tenant: (label: string) => string) => Promise<void>): Promise<void> => {
      const { store, close } = await options.newStore();
      const used: string[] = [];
      const run = randomBytes(4).toString('hex');
      try {
        await test(store, (label) => {
          const id = `c${run}-${label}`;
          used.push(id);
          return id;
        });
      } finally {
        for (const tenantId of used) for (const { name } of await store.listNames(tenantId).catch(() => [])) await store.delete(tenantId, name).catch(() => undefined);
        await close();
      }
    };

    it('round-trips a value and lists names without values', () =>
      withStore(async (store, tenant) => {
        const t = tenant('a');
        const written = await store.set(t, 'crm-token', 's3cr3t-value ✓');
        expect(written.version).toEqual(expect.any(String));
        expect(Number.isNaN(Date.parse(written.updatedAt))).toBe(false);
        expect(await store.get(t, 'crm-token')).toEqual({ value: 's3cr3t-value ✓', version: written.version });
        const listed = await store.listNames(t);
        expect(listed).toEqual([{ name: 'crm-token', version: written.version, updatedAt: written.updatedAt }]);
        expect(JSON.stringify(listed)).not.toContain('s3cr3t');
        expect([...(await store.names(t))]).toEqual(['crm-token']);
        expect(await store.get(t, 'unknown')).toBeUndefined();
      }));

    it('rotates: every set is a new version, the latest wins and older versions stay readable by version', () =>
      withStore(async (store, tenant) => {
        const t = tenant('rot');
        const v1 = await store.set(t, 'api-key', 'first');
        const v2 = await store.set(t, 'api-key', 'second');
        expect(v2.version).not.toBe(v1.version);
        expect(await store.get(t, 'api-key')).toEqual({ value: 'second', version: v2.version });
        expect(await store.get(t, 'api-key', v1.version)).toEqual({ value: 'first', version: v1.version });
        expect(await store.get(t, 'api-key', 'no-such-version')).toBeUndefined();
        expect((await store.listNames(t)).map((s) => s.version)).toEqual([v2.version]);
      }));

    it('treats names case-insensitively, as Key Vault does', () =>
      withStore(async (store, tenant) => {
        const t = tenant('case');
        await store.set(t, 'Smtp-Password', 'pw');
        expect((await store.get(t, 'smtp-password'))?.value).toBe('pw');
        expect(await store.listNames(t)).toHaveLength(1);
      }));

    it('isolates tenants: another tenant can neither read, list, nor delete a secret of the same name', () =>
      withStore(async (store, tenant) => {
        const a = tenant('ta');
        const b = tenant('tb');
        const written = await store.set(a, 'shared-name', 'only-a');
        expect(await store.get(b, 'shared-name')).toBeUndefined();
        expect(await store.get(b, 'shared-name', written.version)).toBeUndefined();
        expect(await store.listNames(b)).toEqual([]);
        expect((await store.names(b)).size).toBe(0);
        expect(await store.delete(b, 'shared-name')).toBe(false);
        expect((await store.get(a, 'shared-name'))?.value).toBe('only-a');
        await store.set(b, 'shared-name', 'only-b');
        expect((await store.get(a, 'shared-name'))?.value).toBe('only-a');
        expect((await store.get(b, 'shared-name'))?.value).toBe('only-b');
      }));

    it('deletes every version, idempotently', () =>
      withStore(async (store, tenant) => {
        const t = tenant('del');
        const v1 = await store.set(t, 'gone', 'one');
        await store.set(t, 'gone', 'two');
        await store.set(t, 'kept', 'three');
        expect(await store.delete(t, 'gone')).toBe(true);
        expect(await store.get(t, 'gone')).toBeUndefined();
        expect(await store.get(t, 'gone', v1.version)).toBeUndefined();
        expect(await store.delete(t, 'gone')).toBe(false);
        expect([...(await store.names(t))]).toEqual(['kept']);
      }));

    it('refuses invalid names', () =>
      withStore(async (store, tenant) => {
        const t = tenant('bad');
        await expect(store.set(t, 'no_underscores', 'x')).rejects.toMatchObject({ code: 'SECRET.INVALID_NAME' });
        await expect(store.set(t, 'a'.repeat(128), 'x')).rejects.toMatchObject({ code: 'SECRET.INVALID_NAME' });
      }));
  });
}
