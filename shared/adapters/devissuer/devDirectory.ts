import { createHash } from 'node:crypto';
import { ROLES, type Role } from '../../domain/roles.js';
import { TENANT_ID_PATTERN } from '../../domain/tenant.js';

/** The fixed namespace of development directory ids (a random v4 GUID, chosen once; never change it). */
export const DEV_DIRECTORY_NAMESPACE = '967154c9-ca20-4c1c-991a-3a8ee5862c64';

/**
 * The development "directory" of platform admins who belong to no tenant: `uuidV5(namespace, '@platform')`.
 * `@` cannot occur in a tenant slug, so no tenant's {@link devEntraTenantId} can equal it.
 */
export const DEV_PLATFORM_ENTRA_TENANT_ID = '15669599-d215-5ca4-8d3f-67f5750de2c1';

/**
 * A name-based (version 5, SHA-1) UUID, RFC 9562 §5.5: deterministic for a namespace and a name.
 * @throws TypeError when `namespace` is not a GUID.
 */
export function uuidV5(namespace: string, name: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(namespace)) {
    throw new TypeError('uuidV5: namespace must be a GUID.');
  }
  const bytes = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The Entra tenant id (`tid`) that development tokens of an AutomateIQ tenant carry: a deterministic GUID
 * derived from the tenant's slug, so a tenant onboarded on the embedded host can be given this
 * `entraTenantId` and `npm run token -- --tenant <slug>` mints tokens that map to it. Version-5 GUIDs never
 * collide with real Entra directory ids, which are random (version 4).
 * @throws RangeError when `tenantId` is not a tenant slug.
 */
export function devEntraTenantId(tenantId: string): string {
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) {
    throw new RangeError(`'${String(tenantId).slice(0, 80)}' is not a tenant id (lowercase letters, digits and '-', 3 to 63 characters).`);
  }
  return uuidV5(DEV_DIRECTORY_NAMESPACE, tenantId);
}

/** The default object id (`oid`) of the development user with `role` in a tenant (or on the platform). */
export function devUserObjectId(tenantId: string | null, role: Role): string {
  return uuidV5(DEV_DIRECTORY_NAMESPACE, `user:${tenantId ?? '@platform'}:${role}`);
}

/** Whether `value` is one of the app roles. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
