import type { RpcTypedData } from '../core/coreApi.js';
import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';

/** An output binding made ready at indexing: settings resolved, destination checked. */
export interface PreparedOutput {
  /** Delivers what the function wrote; called only after a successful invocation. */
  flush(data: RpcTypedData): Promise<void> | void;
}

/**
 * Turns one output binding of a given `type` into a {@link PreparedOutput}. `prepare` throws an
 * {@link IndexingError} naming the problem (an unresolvable setting, a missing connection).
 */
export interface OutputBindingProvider {
  readonly type: string;
  prepare(fn: RegisteredFunction, binding: BindingDefinition): PreparedOutput;
}

/** A function cannot run as registered; the host disables it and keeps running the others. */
export class IndexingError extends Error {
  override readonly name = 'IndexingError';
}
