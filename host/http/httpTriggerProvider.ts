import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';
import { IndexingError } from '../bindings/outputBinding.js';
import type { TriggerProvider } from '../indexing/functionIndex.js';

const AUTH_LEVELS = new Set(['anonymous', 'function', 'admin']);

/** Validates an HTTP trigger; its route is added to the route table once every function is indexed. */
export const httpTriggerProvider: TriggerProvider<undefined> = {
  type: 'httptrigger',
  prepare(_fn: RegisteredFunction, trigger: BindingDefinition): undefined {
    const authLevel = trigger['authLevel'];
    if (authLevel !== undefined && (typeof authLevel !== 'string' || !AUTH_LEVELS.has(authLevel.toLowerCase()))) {
      throw new IndexingError(`'authLevel' of binding '${trigger.name}' must be anonymous, function or admin (got ${JSON.stringify(authLevel)}).`);
    }
    const methods = trigger['methods'];
    if (methods !== undefined && (!Array.isArray(methods) || !methods.every((method) => typeof method === 'string'))) {
      throw new IndexingError(`'methods' of binding '${trigger.name}' must be an array of HTTP method names.`);
    }
    return undefined;
  },
};
