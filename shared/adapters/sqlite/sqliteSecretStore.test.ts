import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runSecretStoreContract } from '../../ports/secretStore.contract.js';
import { keyringOf, secretKeyId, SqliteSecretStore } from './sqliteSecretStore.js';

const dirs: string[] = [];
const stores: SqliteSecretStore[] = [];

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-secrets-'));
  dirs.push(dir);
  return path.join(dir, 'secrets.db');
}

function open(file = tempFile(), key = randomBytes(32)): { store: SqliteSecretStore; file: string } {
  const store = new SqliteSecretStore({ file, keyring: keyringOf(key) });
  stores.push(store);
  return { store, file };
}

/** Every byte of the database and its WAL, as the disk holds them. */
function bytesOnDisk(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

runSecretStoreContract({
  name: 'sqlite (AES-256-GCM)',
  newStore: async () => {
    const { store } = open();
    return { store, close: () => store.close() };
  },
});

describe('SqliteSecretStore encryption', () => {
  it('never writes the plaintext (nor its base64) to the file or the WAL', async () => {
    const { store, file } = open();
    const value = 'PLAINTEXT-MARKER-7f3a9c';
    await store.set('acme', 'crm-token', value);
    await store.set('acme', 'crm-token', `${value}-rotated`);
    expect((await store.get('acme', 'crm-token'))?.value).toBe(`${value}-rotated`);
    const bytes = bytesOnDisk(file);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from('PLAINTEXT-MARKER'))).toBe(false);
    expect(bytes.includes(Buffer.from(Buffer.from(value).toString('base64').slice(0, 16)))).toBe(false);
    expect(bytes.includes(Buffer.from('crm-token'))).toBe(true); // names are metadata, not secret
  });

  it('uses a fresh 12-byte nonce per version and stores the key id', async () => {
    const key = randomBytes(32);
    const { store, file } = open(tempFile(), key);
    await store.set('acme', 'a', 'same value');
    await store.set('acme', 'a', 'same value');
    await store.close();
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT nonce, ciphertext, key_id FROM secret_versions').all() as Array<{ nonce: Buffer; ciphertext: Buffer; key_id: string }>;
    db.close();
    expect(rows).toHaveLength(2);
    expect(rows[0]!.nonce).toHaveLength(12);
    expect(rows[0]!.nonce.equals(rows[1]!.nonce)).toBe(false);
    expect(rows[0]!.ciphertext.equals(rows[1]!.ciphertext)).toBe(false);
    expect(rows.map((r) => r.key_id)).toEqual([secretKeyId(key), secretKeyId(key)]);
    expect(secretKeyId(key)).not.toContain(key.toString('hex').slice(0, 8));
  });

  it('detects tampering: a flipped ciphertext, tag or nonce byte is an error, never garbage', async () => {
    for (const column of ['ciphertext', 'auth_tag', 'nonce']) {
      const { store, file } = open();
      await store.set('acme', 'token', 'tamper-me');
      const db = new Database(file);
      const row = db.prepare(`SELECT seq, ${column} AS data FROM secret_versions`).get() as { seq: number; data: Buffer };
      const flipped = Buffer.from(row.data);
      flipped[0] = flipped[0]! ^ 0x01;
      db.prepare(`UPDATE secret_versions SET ${column} = ? WHERE seq = ?`).run(flipped, row.seq);
      db.close();
      await expect(store.get('acme', 'token')).rejects.toMatchObject({ code: 'SECRET.INTEGRITY' });
    }
  });

  it('binds tenant and name: a ciphertext moved to another tenant or name does not decrypt', async () => {
    const { store, file } = open();
    await store.set('acme', 'token', 'acme-only');
    await store.set('globex', 'token', 'globex-value');
    await store.set('acme', 'other', 'other-value');
    const db = new Database(file);
    const acme = db.prepare(`SELECT nonce, ciphertext, auth_tag, version FROM secret_versions WHERE tenant_id = 'acme' AND name_key = 'token'`).get() as Record<string, unknown>;
    // Copy acme's row over globex's (same name) and over acme's other secret (same tenant), keeping their versions.
    db.prepare(`UPDATE secret_versions SET nonce = ?, ciphertext = ?, auth_tag = ? WHERE tenant_id = 'globex' OR name_key = 'other'`).run(acme['nonce'], acme['ciphertext'], acme['auth_tag']);
    // And relabel a copy as globex's with acme's version id.
    db.prepare(`UPDATE secret_versions SET tenant_id = 'globex', name_key = 'moved', name = 'moved' WHERE tenant_id = 'acme' AND name_key = 'token'`).run();
    db.close();
    await expect(store.get('globex', 'token')).rejects.toMatchObject({ code: 'SECRET.INTEGRITY' });
    await expect(store.get('acme', 'other')).rejects.toMatchObject({ code: 'SECRET.INTEGRITY' });
    await expect(store.get('globex', 'moved')).rejects.toMatchObject({ code: 'SECRET.INTEGRITY' });
  });

  it('refuses to decrypt with the wrong key and decrypts older rows with a previous key', async () => {
    const file = tempFile();
    const oldKey = randomBytes(32);
    const first = open(file, oldKey).store;
    await first.set('acme', 'token', 'written-with-old-key');
    await first.close();
    const wrong = open(file).store;
    await expect(wrong.get('acme', 'token')).rejects.toMatchObject({ code: 'SECRET.INTEGRITY' });
    const newKey = randomBytes(32);
    const rotated = new SqliteSecretStore({ file, keyring: { current: keyringOf(newKey).current, previous: [keyringOf(oldKey).current] } });
    stores.push(rotated);
    expect((await rotated.get('acme', 'token'))?.value).toBe('written-with-old-key');
    await rotated.set('acme', 'token', 'written-with-new-key');
    expect((await rotated.get('acme', 'token'))?.value).toBe('written-with-new-key');
  });

  it('lists names without a key, but needs the key for values (the error names the setting)', async () => {
    const file = tempFile();
    const keyed = open(file).store;
    await keyed.set('acme', 'token', 'v');
    await keyed.close();
    const keyless = new SqliteSecretStore({
      file,
      keyring: () => {
        throw new Error('AIQ_SECRETS_KEY: not set');
      },
    });
    stores.push(keyless);
    expect([...(await keyless.names('acme'))]).toEqual(['token']);
    await expect(keyless.get('acme', 'token')).rejects.toThrow(/AIQ_SECRETS_KEY/);
    await expect(keyless.set('acme', 'token', 'x')).rejects.toThrow(/AIQ_SECRETS_KEY/);
  });

  it('migrates once, and reopens an existing file', async () => {
    const file = tempFile();
    const key = randomBytes(32);
    const a = open(file, key).store;
    await a.set('acme', 'token', 'persisted');
    await a.close();
    const b = open(file, key).store;
    expect((await b.get('acme', 'token'))?.value).toBe('persisted');
    const db = new Database(file, { readonly: true });
    expect(db.prepare(`SELECT track, version FROM schema_migrations`).all()).toEqual([{ track: 'secrets', version: 1 }]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
