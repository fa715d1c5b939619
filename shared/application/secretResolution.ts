import { AppError } from '../domain/errors.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { SecretStore } from '../ports/secretStore.js';

export const SecretResolutionErrorCodes = {
  /** The definition references a secret the tenant does not have (any more): permanent. */
  notFound: 'SECRET.NOT_FOUND',
  /** The secret store failed or could not be reached: transient, the step is retried. */
  unavailable: 'SECRET.UNAVAILABLE',
} as const;

/** Step inputs with their secret references replaced by the values, and the values (to redact what the step echoes). */
export interface ResolvedSecrets {
  inputs: JsonValue;
  values: string[];
}

function decodeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The container of the slot at `pointer` and the key in it; `undefined` container when the pointer is the root. */
function slotAt(root: JsonValue, pointer: string): { parent: JsonObject | JsonValue[] | undefined; key: string } {
  if (pointer === '') return { parent: undefined, key: '' };
  const tokens = pointer.slice(1).split('/').map(decodeToken);
  let parent: JsonValue = root;
  for (const token of tokens.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') throw new AppError('SECRET.SLOT_INVALID', `No value at ${pointer} in the step inputs.`);
    parent = Array.isArray(parent) ? (parent[Number(token)] as JsonValue) : (parent[token] as JsonValue);
  }
  if (parent === null || typeof parent !== 'object') throw new AppError('SECRET.SLOT_INVALID', `No value at ${pointer} in the step inputs.`);
  return { parent, key: tokens[tokens.length - 1]! };
}

function referenceName(value: JsonValue | undefined, pointer: string): string {
  const name = value !== null && typeof value === 'object' && !Array.isArray(value) ? value['$secret'] : undefined;
  if (typeof name !== 'string') throw new AppError('SECRET.SLOT_INVALID', `The step input at ${pointer || '/'} is not a secret reference.`);
  return name;
}

/**
 * Replaces the `{ "$secret": name }` references at `pointers` (RFC 6901, into `inputs`) with the tenant's
 * secret values, on a copy. Only these slots are resolved: a reference-shaped object elsewhere came from data
 * and stays as it is. Each name is read once per call; a missing secret is `SECRET.NOT_FOUND` (permanent), a
 * failing store `SECRET.UNAVAILABLE` (retryable). Messages name secrets, never values.
 */
export async function resolveSecretSlots(inputs: JsonValue, pointers: readonly string[], tenantId: string, store: SecretStore): Promise<ResolvedSecrets> {
  if (pointers.length === 0) return { inputs, values: [] };
  let resolved = structuredClone(inputs);
  const cache = new Map<string, string>();
  for (const pointer of pointers) {
    const { parent, key } = slotAt(resolved, pointer);
    const name = referenceName(parent === undefined ? resolved : Array.isArray(parent) ? parent[Number(key)] : parent[key], pointer);
    let value = cache.get(name);
    if (value === undefined) {
      const found = await store.get(tenantId, name).catch((error: unknown) => {
        if (error instanceof AppError && !error.retryable) throw error;
        // A missing or malformed setting (e.g. AIQ_SECRETS_KEY) does not heal by retrying; its message names the setting.
        if (error instanceof Error && error.name === 'ConfigError') throw new AppError(SecretResolutionErrorCodes.unavailable, `Secret '${name}' cannot be read: ${error.message}`);
        throw new AppError(SecretResolutionErrorCodes.unavailable, `The secret store could not be read for secret '${name}'.`, { retryable: true, cause: error });
      });
      if (!found) throw new AppError(SecretResolutionErrorCodes.notFound, `Secret '${name}' does not exist in this tenant; create it with PUT /api/tenants/${tenantId}/secrets/${name}.`);
      value = found.value;
      cache.set(name, value);
    }
    if (parent === undefined) resolved = value;
    else if (Array.isArray(parent)) parent[Number(key)] = value;
    else parent[key] = value;
  }
  return { inputs: resolved, values: [...cache.values()] };
}
