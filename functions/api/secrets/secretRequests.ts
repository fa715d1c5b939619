import { getContainer } from '../../../shared/composition/container.js';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import { assertSecretName, isReservedSecretName, MAX_SECRET_VALUE_BYTES, SecretErrorCodes, type SecretMetadata } from '../../../shared/ports/secretStore.js';
import type { ApiRequest } from '../http/apiHandler.js';
import { tenantScope } from '../http/tenantScope.js';

/** What the API shows of a secret: never its value. */
export function secretView(tenantId: string, secret: SecretMetadata): Record<string, string> {
  return { name: secret.name, version: secret.version, updatedAt: secret.updatedAt, href: `/api/tenants/${tenantId}/secrets/${secret.name}` };
}

/** The tenant and the `{name}` of a secret route; a name Key Vault would refuse is a 400 (`SECRET.INVALID_NAME`). */
export async function secretRoute(api: ApiRequest): Promise<{ tenantId: string; name: string }> {
  const { tenant } = await tenantScope(api);
  const name = api.request.params['name'] ?? '';
  assertSecretName(name);
  if (isReservedSecretName(name)) throw new AppError(SecretErrorCodes.reservedName, `'${name}' is reserved to the platform (webhook signing secrets are managed through the hooks API).`);
  return { tenantId: tenant.id, name };
}

/** The value of a `PUT` body `{ "value": "..." }`: a non-empty string of at most 64 KB and nothing else. */
export async function secretValueOf(api: ApiRequest): Promise<string> {
  const body = await api.body();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AppError(ErrorCodes.requestInvalid, 'The body must be {"value": "<the secret>"}.');
  const extra = Object.keys(body).filter((key) => key !== 'value');
  if (extra.length > 0) throw new AppError(ErrorCodes.requestInvalid, `Unknown properties: ${extra.join(', ')}; the body must be {"value": "<the secret>"}.`);
  const value = body['value'];
  if (typeof value !== 'string' || value.length === 0) throw new AppError(ErrorCodes.requestInvalid, '"value" must be a non-empty string.');
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) throw new AppError(ErrorCodes.requestBodyTooLarge, `A secret value has at most ${MAX_SECRET_VALUE_BYTES} bytes.`);
  return value;
}

/** The secret's metadata (latest version), or undefined. */
export async function findSecret(tenantId: string, name: string): Promise<SecretMetadata | undefined> {
  const lower = name.toLowerCase();
  return (await getContainer().secretStore.listNames(tenantId)).find((secret) => secret.name.toLowerCase() === lower);
}
