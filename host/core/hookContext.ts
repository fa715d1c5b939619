import type { HookData } from './coreApi.js';

/**
 * Builds a hook context whose `readonlyFields` cannot be reassigned (the worker throws a TypeError for that)
 * while the objects themselves stay mutable; the other fields are plain, writable properties.
 */
export function createHookContext(
  readonlyFields: Record<string, unknown> & { hookData: HookData; appHookData: HookData },
  writableFields: Record<string, unknown> = {},
): Record<string, unknown> {
  const context: Record<string, unknown> = { ...writableFields };
  for (const [key, value] of Object.entries(readonlyFields)) {
    Object.defineProperty(context, key, {
      enumerable: true,
      get: () => value,
      set: () => {
        throw new TypeError(`Cannot assign to read only property '${key}' of hook context.`);
      },
    });
  }
  return context;
}
