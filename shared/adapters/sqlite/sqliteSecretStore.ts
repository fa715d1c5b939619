import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { AppError } from '../../domain/errors.js';
import { assertSecretName, assertSecretValue, SecretErrorCodes, type SecretMetadata, type SecretStore, type SecretVersionInfo } from '../../ports/secretStore.js';
import { applySqliteMigrations, type SqliteMigration } from './applySqliteMigrations.js';
import { openSqliteDatabase } from './openSqliteDatabase.js';

/** One 256-bit data-encryption key and its id (stored with every row it encrypted). */
export interface SecretKey {
  id: string;
  key: Buffer;
}

/**
 * The keys the store can use: `current` encrypts new versions; `previous` keys still decrypt rows written before
 * a key rotation (re-encryption is a later step: rows name their key, so nothing has to be guessed).
 */
export interface SecretKeyring {
  current: SecretKey;
  previous?: readonly SecretKey[];
}

export interface SqliteSecretStoreOptions {
  /** The secrets' own SQLite file (not the app store's), e.g. `<data dir>/secrets.db`. */
  file: string;
  /**
   * The keys, or a function returning them that may throw (the composition root passes one that throws a
   * ConfigError naming the setting when the key is not configured: names can still be listed then, values not).
   */
  keyring: SecretKeyring | (() => SecretKeyring);
}

/** A key's id: a short, one-way fingerprint of it (never the key), so rows name the key that encrypted them. */
export function secretKeyId(key: Buffer): string {
  return `k-${createHash('sha256').update('automateiq-secret-key-id\0').update(key).digest('hex').slice(0, 16)}`;
}

/** A keyring from one raw 32-byte key. */
export function keyringOf(key: Buffer): SecretKeyring {
  if (key.length !== 32) throw new Error(`An AES-256 key has 32 bytes (got ${key.length}).`);
  return { current: { id: secretKeyId(key), key } };
}

/** Versioned schema of the secrets file (track `secrets`; never edit a released migration: add one). */
export const SECRET_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'secret_versions',
    sql: `
      CREATE TABLE secret_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        name_key TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        key_id TEXT NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        auth_tag BLOB NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (tenant_id, name_key, version)
      ) STRICT;
      CREATE INDEX secret_versions_latest ON secret_versions (tenant_id, name_key, seq);
    `,
  },
];

interface Row {
  name: string;
  version: string;
  key_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  auth_tag: Buffer;
  created_at: string;
}

/**
 * The additional authenticated data of a version: the tenant, the (case-folded) name, the version and the key id.
 * A ciphertext copied to another tenant's or name's row (or relabelled as another version) fails authentication.
 */
function aadOf(tenantId: string, nameKey: string, version: string, keyId: string): Buffer {
  return Buffer.from(['automateiq-secret/v1', tenantId, nameKey, version, keyId].join('\0'), 'utf8');
}

/**
 * Secrets on the embedded host: one SQLite file (WAL) of versioned rows, each value encrypted with AES-256-GCM
 * under a random 12-byte nonce, its tenant, name, version and key id bound as additional authenticated data.
 * The file never holds a value in clear; a modified row fails to decrypt (`SECRET.INTEGRITY`) instead of
 * yielding garbage. Names are case-insensitive (compared case-folded), as in Key Vault.
 */
export class SqliteSecretStore implements SecretStore {
  readonly #db: Database.Database;
  readonly #keyring: () => SecretKeyring;

  constructor(options: SqliteSecretStoreOptions) {
    const { keyring } = options;
    this.#keyring = typeof keyring === 'function' ? keyring : () => keyring;
    this.#db = openSqliteDatabase(options.file);
    applySqliteMigrations(this.#db, { secrets: SECRET_MIGRATIONS });
  }

  async set(tenantId: string, name: string, value: string): Promise<SecretVersionInfo> {
    assertSecretName(name);
    assertSecretValue(value);
    const { current } = this.#keyring();
    const nameKey = name.toLowerCase();
    const version = randomBytes(16).toString('hex');
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current.key, nonce, { authTagLength: 16 });
    cipher.setAAD(aadOf(tenantId, nameKey, version, current.id));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const updatedAt = new Date().toISOString();
    this.#db
      .prepare('INSERT INTO secret_versions (tenant_id, name_key, name, version, key_id, nonce, ciphertext, auth_tag, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(tenantId, nameKey, name, version, current.id, nonce, ciphertext, cipher.getAuthTag(), updatedAt);
    return { version, updatedAt };
  }

  async get(tenantId: string, name: string, version?: string): Promise<{ value: string; version: string } | undefined> {
    if (!/^[A-Za-z0-9-]{1,127}$/.test(name)) return undefined;
    const nameKey = name.toLowerCase();
    const row =
      version === undefined
        ? this.#db.prepare<[string, string], Row>('SELECT * FROM secret_versions WHERE tenant_id = ? AND name_key = ? ORDER BY seq DESC LIMIT 1').get(tenantId, nameKey)
        : this.#db.prepare<[string, string, string], Row>('SELECT * FROM secret_versions WHERE tenant_id = ? AND name_key = ? AND version = ?').get(tenantId, nameKey, version);
    if (!row) return undefined;
    return { value: this.#decrypt(tenantId, nameKey, row), version: row.version };
  }

  async listNames(tenantId: string): Promise<SecretMetadata[]> {
    const rows = this.#db
      .prepare<[string], { name: string; version: string; created_at: string }>(
        `SELECT name, version, created_at FROM secret_versions s
         WHERE tenant_id = ? AND seq = (SELECT MAX(seq) FROM secret_versions l WHERE l.tenant_id = s.tenant_id AND l.name_key = s.name_key)
         ORDER BY name_key`,
      )
      .all(tenantId);
    return rows.map((row) => ({ name: row.name, version: row.version, updatedAt: row.created_at }));
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM secret_versions WHERE tenant_id = ? AND name_key = ?').run(tenantId, name.toLowerCase()).changes > 0;
  }

  async names(tenantId: string): Promise<ReadonlySet<string>> {
    return new Set((await this.listNames(tenantId)).map((secret) => secret.name));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #decrypt(tenantId: string, nameKey: string, row: Row): string {
    const keyring = this.#keyring();
    const key = [keyring.current, ...(keyring.previous ?? [])].find((candidate) => candidate.id === row.key_id);
    if (!key) throw new AppError(SecretErrorCodes.integrity, `Secret '${row.name}' version ${row.version} was encrypted with key ${row.key_id}, which is not configured.`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, row.nonce, { authTagLength: 16 });
      decipher.setAAD(aadOf(tenantId, nameKey, row.version, row.key_id));
      decipher.setAuthTag(row.auth_tag);
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new AppError(SecretErrorCodes.integrity, `Secret '${row.name}' version ${row.version} failed its integrity check (modified, moved or the wrong key).`, { cause: error });
    }
  }
}
