/**
 * The development token issuer of the embedded host: tokens shaped like Entra v2 access tokens, signed with a
 * local RSA key that `npm run token` and the host share through a file. Trusted only where
 * {@link isDevelopmentIssuerAllowed} says so. Also the composite validator that routes by issuer.
 */
export { createCompositeTokenValidator } from './compositeTokenValidator.js';
export { DEV_DIRECTORY_NAMESPACE, DEV_PLATFORM_ENTRA_TENANT_ID, devEntraTenantId, devUserObjectId, isRole } from './devDirectory.js';
export { isDevelopmentIssuerAllowed } from './devIssuerGuard.js';
export {
  DEFAULT_DEV_AUDIENCE,
  DEFAULT_DEV_KEY_FILE,
  DEV_CLIENT_ID,
  DEV_ISSUER_PREFIX,
  createDevelopmentTokenValidator,
  developmentIssuer,
  resolveDevelopmentKeyFile,
  signDevelopmentToken,
  type DevelopmentTokenValidatorOptions,
  type SignDevelopmentTokenOptions,
} from './developmentIssuer.js';
export { DEV_SIGNING_ALGORITHM, loadOrCreateSigningKey, readSigningKey, type DevSigningKey } from './signingKey.js';
