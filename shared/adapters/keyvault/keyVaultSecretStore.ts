import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient, type SecretProperties } from '@azure/keyvault-secrets';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { assertSecretName, assertSecretValue, SecretErrorCodes, type SecretMetadata, type SecretStore, type SecretVersionInfo } from '../../ports/secretStore.js';

/** The part of `SecretClient` the store uses (a fake can stand in for it in tests). */
export type SecretClientLike = Pick<SecretClient, 'setSecret' | 'getSecret' | 'listPropertiesOfSecrets' | 'listPropertiesOfSecretVersions' | 'beginDeleteSecret'>;

export interface KeyVaultSecretStoreOptions {
  /** `https://<vault>.vault.azure.net/` (the `AZURE_KEYVAULT_URL` setting). */
  vaultUrl: string;
  /** Default: `DefaultAzureCredential` (the app's managed identity in Azure, a developer login locally). */
  credential?: TokenCredential;
  /** Overrides the client (tests). */
  client?: SecretClientLike;
}

/**
 * The Key Vault name of a tenant's secret: `t-<tenantId>--<name>`. Key Vault names allow letters, digits and
 * `-` only (up to 127 characters, case-insensitive), tenant ids are `[a-z0-9-]` and secret names
 * `[A-Za-z0-9-]`, so the mapping needs no escaping; because a tenant id may itself contain `--`, the name alone
 * is never trusted: every secret carries the tag `tenant=<tenantId>`, checked on every read, list and delete.
 * A secret name is limited to 127 - 4 - len(tenantId) characters on Key Vault.
 */
export function keyVaultSecretName(tenantId: string, name: string): string {
  assertSecretName(name);
  const mapped = `t-${tenantId}--${name}`;
  if (mapped.length > 127) throw new AppError(SecretErrorCodes.invalidName, `'${name}' is too long: in Key Vault a secret name of tenant '${tenantId}' has at most ${127 - 4 - tenantId.length} characters.`);
  return mapped;
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | undefined)?.statusCode === 404;
}

function belongsTo(properties: SecretProperties, tenantId: string): boolean {
  return properties.tags?.['tenant'] === tenantId;
}

function iso(date: Date | undefined): string {
  return (date ?? new Date(0)).toISOString();
}

/**
 * Secrets in Azure Key Vault, one vault for the platform, each tenant's secrets under its own name prefix and
 * tag (see {@link keyVaultSecretName}). Versions are Key Vault's versions: `set` creates a new one (rotation),
 * `get` reads the latest or a given one. `delete` soft-deletes (`beginDeleteSecret`): the vault should have
 * soft delete and purge protection on (bicep/), so a deleted secret is recoverable for the retention period and
 * its name cannot be reused until then (setting it again fails with a conflict until it is purged or recovered).
 * The app's identity needs the "Key Vault Secrets Officer" role on the vault (RBAC authorization).
 */
export class KeyVaultSecretStore implements SecretStore {
  readonly #client: SecretClientLike;

  constructor(options: KeyVaultSecretStoreOptions) {
    this.#client = options.client ?? new SecretClient(options.vaultUrl, options.credential ?? new DefaultAzureCredential());
  }

  async set(tenantId: string, name: string, value: string): Promise<SecretVersionInfo> {
    const vaultName = keyVaultSecretName(tenantId, name);
    assertSecretValue(value);
    const existing = await this.#properties(vaultName);
    if (existing && !belongsTo(existing, tenantId)) {
      // A vault secret of that name that is not tagged as this tenant's: never overwrite (or adopt) it.
      throw new AppError(ErrorCodes.conflict, `Secret '${name}' cannot be stored: its vault name is taken by a secret of another owner.`);
    }
    const secret = await this.#client.setSecret(vaultName, value, { tags: { tenant: tenantId, name }, contentType: 'text/plain' });
    return { version: secret.properties.version!, updatedAt: iso(secret.properties.updatedOn ?? secret.properties.createdOn) };
  }

  async get(tenantId: string, name: string, version?: string): Promise<{ value: string; version: string } | undefined> {
    if (!/^[A-Za-z0-9-]{1,127}$/.test(name) || (version !== undefined && !/^[A-Za-z0-9]{1,64}$/.test(version))) return undefined;
    const vaultName = `t-${tenantId}--${name}`;
    if (vaultName.length > 127) return undefined;
    try {
      const secret = await this.#client.getSecret(vaultName, version === undefined ? {} : { version });
      if (!belongsTo(secret.properties, tenantId) || secret.value === undefined) return undefined;
      return { value: secret.value, version: secret.properties.version! };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async listNames(tenantId: string): Promise<SecretMetadata[]> {
    const prefix = `t-${tenantId}--`.toLowerCase();
    const result: SecretMetadata[] = [];
    for await (const properties of this.#client.listPropertiesOfSecrets()) {
      if (!properties.name.toLowerCase().startsWith(prefix) || !belongsTo(properties, tenantId) || properties.enabled === false) continue;
      // The list carries no version: the latest is the newest of the secret's versions (one more call per secret).
      let latest: SecretProperties | undefined;
      for await (const candidate of this.#client.listPropertiesOfSecretVersions(properties.name)) {
        if (candidate.enabled === false) continue;
        if (!latest || (candidate.createdOn?.getTime() ?? 0) > (latest.createdOn?.getTime() ?? 0)) latest = candidate;
      }
      if (!latest) continue;
      result.push({ name: properties.tags?.['name'] ?? properties.name.slice(prefix.length), version: latest.version!, updatedAt: iso(latest.updatedOn ?? latest.createdOn) });
    }
    return result.sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    if (!/^[A-Za-z0-9-]{1,127}$/.test(name)) return false;
    const vaultName = `t-${tenantId}--${name}`;
    const existing = vaultName.length > 127 ? undefined : await this.#properties(vaultName);
    if (!existing || !belongsTo(existing, tenantId)) return false;
    try {
      const poller = await this.#client.beginDeleteSecret(vaultName);
      await poller.pollUntilDone();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async names(tenantId: string): Promise<ReadonlySet<string>> {
    return new Set((await this.listNames(tenantId)).map((secret) => secret.name));
  }

  async close(): Promise<void> {}

  /** The latest version's properties (no value is kept), or undefined. */
  async #properties(vaultName: string): Promise<SecretProperties | undefined> {
    try {
      return (await this.#client.getSecret(vaultName)).properties;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
