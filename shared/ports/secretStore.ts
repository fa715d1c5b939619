import { AppError } from '../domain/errors.js';
import { HOOK_SECRET_PREFIX } from '../domain/webhook.js';

/**
 * A tenant's secrets (connector credentials). Values go in through `set` and come out only through `get`,
 * which only the engine calls when a step runs; everything else (the API, validation) sees names and versions.
 *
 * Every call is scoped to one tenant: a tenant can never read, list, rotate or delete another tenant's
 * secrets, whatever the name. Names follow Azure Key Vault: `^[A-Za-z0-9-]{1,127}$`, compared
 * case-insensitively (as Key Vault does), so `CRM-Token` and `crm-token` are the same secret.
 */
export interface SecretStore {
  /** Stores `value` as a new version (rotation: the previous versions stay readable by version). */
  set(tenantId: string, name: string, value: string): Promise<SecretVersionInfo>;
  /** The latest version's value, or the given version's; undefined when there is none (or it is another tenant's). */
  get(tenantId: string, name: string, version?: string): Promise<{ value: string; version: string } | undefined>;
  /** The tenant's secrets with their latest version, by name; never values. */
  listNames(tenantId: string): Promise<SecretMetadata[]>;
  /** Deletes the secret with all its versions. Idempotent: false when there was none. */
  delete(tenantId: string, name: string): Promise<boolean>;
  /** The names of the tenant's secrets (what definitions may reference). */
  names(tenantId: string): Promise<ReadonlySet<string>>;
  close(): Promise<void>;
}

export interface SecretVersionInfo {
  /** Opaque; a new one for every `set`. */
  version: string;
  /** ISO timestamp. */
  updatedAt: string;
}

export interface SecretMetadata extends SecretVersionInfo {
  name: string;
}

/** Key Vault's secret name rule, which every adapter enforces so definitions stay portable between them. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9-]{1,127}$/;

/** The largest secret value, in UTF-8 bytes (Key Vault allows 25 KB per secret; the API's bound is 64 KB). */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

export const SecretErrorCodes = {
  invalidName: 'SECRET.INVALID_NAME',
  /** A name the platform keeps for itself (webhook signing secrets): not readable, writable or referable by tenants. */
  reservedName: 'SECRET.RESERVED_NAME',
  invalidValue: 'SECRET.INVALID_VALUE',
  /** A stored ciphertext failed authentication (tampered with, moved between tenants/names, or the wrong key). */
  integrity: 'SECRET.INTEGRITY',
} as const;

/**
 * Names the platform keeps in a tenant's store for itself (webhook signing secrets, `hook-<hookId>`): the secrets
 * API neither lists nor changes them, and workflow definitions cannot reference them.
 */
export function isReservedSecretName(name: string): boolean {
  return name.toLowerCase().startsWith(HOOK_SECRET_PREFIX);
}

export function isValidSecretName(name: string): boolean {
  return SECRET_NAME_PATTERN.test(name);
}

/** Throws `SECRET.INVALID_NAME` unless `name` is a valid secret name. */
export function assertSecretName(name: string): void {
  if (!isValidSecretName(name)) {
    throw new AppError(SecretErrorCodes.invalidName, `'${name.slice(0, 140)}' is not a secret name: use 1-127 letters, digits and dashes.`);
  }
}

/** Throws `SECRET.INVALID_VALUE` unless `value` is a non-empty string of at most {@link MAX_SECRET_VALUE_BYTES}. */
export function assertSecretValue(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new AppError(SecretErrorCodes.invalidValue, 'A secret value must be a non-empty string.');
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) throw new AppError(SecretErrorCodes.invalidValue, `A secret value must be at most ${MAX_SECRET_VALUE_BYTES} bytes.`);
}
