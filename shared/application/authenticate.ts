import { AppError, ErrorCodes } from '../domain/errors.js';
import { ROLES, type Principal, type Role } from '../domain/roles.js';
import type { TenantRepository } from '../ports/appStore.js';
import type { TokenValidator } from '../ports/tokenValidator.js';

const BEARER = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/;

/**
 * Turns an `Authorization: Bearer` header into a principal: the token is validated (signature, issuer per
 * `tid`, audience, lifetime), its app roles kept, and its directory mapped to an onboarded tenant. Platform.Admin
 * is honoured only from the operator's own directories. A token of a directory that is not onboarded is refused
 * unless it is a platform admin's; a suspended tenant is refused.
 */
export async function authenticate(
  authorization: string | null | undefined,
  deps: { tokens: TokenValidator; tenants: TenantRepository; platformDirectories: ReadonlySet<string> },
): Promise<Principal> {
  const match = authorization ? BEARER.exec(authorization.trim()) : null;
  if (!match) throw new AppError(ErrorCodes.unauthenticated, 'A bearer token is required (Authorization: Bearer <token>).');
  const token = await deps.tokens.validate(match[1]!);
  // Any directory can assign itself this app's roles; Platform.Admin only counts from the operator's directories.
  const roles = token.roles
    .filter((role): role is Role => (ROLES as readonly string[]).includes(role))
    .filter((role) => role !== 'Platform.Admin' || deps.platformDirectories.has(token.entraTenantId));
  if (roles.length === 0) throw new AppError(ErrorCodes.forbidden, 'The token carries no AutomateIQ role (Platform.Admin, Tenant.Admin or Tenant.User).');
  const tenant = await deps.tenants.getByEntraTenantId(token.entraTenantId);
  if (!roles.includes('Platform.Admin')) {
    if (!tenant) throw new AppError(ErrorCodes.tenantNotOnboarded, 'Your organization is not onboarded to AutomateIQ.');
    if (tenant.status === 'suspended') throw new AppError(ErrorCodes.tenantSuspended, `Tenant '${tenant.id}' is suspended.`);
  }
  return { subject: `${token.entraTenantId}:${token.subject}`, name: token.name, roles, tenantId: tenant?.id ?? null };
}
