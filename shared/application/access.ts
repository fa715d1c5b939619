import { AppError, ErrorCodes } from '../domain/errors.js';
import { hasRole, isPlatformAdmin, type Principal, type Role } from '../domain/roles.js';

/**
 * The tenant a request may act on. A platform admin may act on any tenant; anyone else only on their own.
 * Another tenant's resources answer 404 (never 403), so ids cannot be probed across tenants.
 */
export function assertTenantAccess(principal: Principal, tenantId: string): void {
  if (isPlatformAdmin(principal)) return;
  if (principal.tenantId !== tenantId) throw new AppError(ErrorCodes.tenantNotFound, `Tenant '${tenantId}' was not found.`);
}

/** Requires one of `roles` (platform admins pass every check). */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (isPlatformAdmin(principal)) return;
  if (roles.some((role) => hasRole(principal, role))) return;
  throw new AppError(ErrorCodes.forbidden, `This operation needs the role ${roles.join(' or ')}.`);
}

/** Tenant.User and above may read; Tenant.Admin may change. */
export const READ_ROLES: Role[] = ['Tenant.Admin', 'Tenant.User'];
export const WRITE_ROLES: Role[] = ['Tenant.Admin'];
