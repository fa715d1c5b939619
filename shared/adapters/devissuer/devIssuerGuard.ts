/**
 * Whether this process may trust the development token issuer: only the embedded host (or Core Tools) in
 * development mode. True only when `AZURE_FUNCTIONS_ENVIRONMENT` is exactly `Development`, `WEBSITE_INSTANCE_ID`
 * is absent (Azure sets it on every instance, so a cloud deployment can never trust the dev issuer, even if
 * misconfigured as Development), and `AIQ_DEV_ISSUER` is not `false` (an opt-out for testing real Entra
 * tokens locally).
 */
export function isDevelopmentIssuerAllowed(env: Record<string, string | undefined>): boolean {
  if (env['AZURE_FUNCTIONS_ENVIRONMENT'] !== 'Development') return false;
  // Present at all, even empty, counts as Azure: fail closed.
  if (env['WEBSITE_INSTANCE_ID'] !== undefined) return false;
  return (env['AIQ_DEV_ISSUER'] ?? '').trim().toLowerCase() !== 'false';
}
