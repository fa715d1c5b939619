/** The Azure Key Vault adapters, as the composition root uses them. */
export { KeyVaultSecretStore, keyVaultSecretName, type KeyVaultSecretStoreOptions } from './keyVaultSecretStore.js';
