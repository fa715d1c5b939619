/** The app roles of the AutomateIQ API registration in Entra ID. */
export const ROLES = ['Platform.Admin', 'Tenant.Admin', 'Tenant.User'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, after the token was validated and mapped to an onboarded tenant. */
export interface Principal {
  subject: string;
  name: string | null;
  roles: Role[];
  /** The AutomateIQ tenant the token belongs to; null for a platform admin without one. */
  tenantId: string | null;
}

export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.includes(role);
}

export function isPlatformAdmin(principal: Principal): boolean {
  return hasRole(principal, 'Platform.Admin');
}
