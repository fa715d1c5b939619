import type { RpcTypedData } from '../core/coreApi.js';
import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';
import type { OutputBindingProvider, PreparedOutput } from '../bindings/outputBinding.js';
import { IndexingError } from '../bindings/outputBinding.js';
import type { HostSettings } from '../config/settings.js';

/** A trigger type the host can listen for; `prepare` validates and resolves the trigger's settings. */
export interface TriggerProvider<TPrepared = unknown> {
  readonly type: string;
  prepare(fn: RegisteredFunction, trigger: BindingDefinition): TPrepared;
}

/** An input binding other than the trigger, ready to produce its data for each invocation. */
export interface PreparedInput {
  data(): RpcTypedData;
}

/** Provides an input binding other than the trigger (e.g. `durableClient`). */
export interface InputBindingProvider {
  readonly type: string;
  prepare(fn: RegisteredFunction, binding: BindingDefinition): PreparedInput;
}

export interface IndexedFunction {
  fn: RegisteredFunction;
  /** Lower-case trigger type, e.g. `httptrigger`. */
  triggerType: string;
  trigger: BindingDefinition;
  disabled: boolean;
  /** Why the function cannot run, when indexing failed (the function is then disabled). */
  error?: string;
  /** What the trigger provider prepared (route, schedule, entity path, ...). */
  prepared: unknown;
  outputs: ReadonlyMap<string, PreparedOutput>;
  inputs: ReadonlyMap<string, PreparedInput>;
}

export interface IndexingProviders {
  triggers: ReadonlyMap<string, TriggerProvider>;
  inputs: ReadonlyMap<string, InputBindingProvider>;
  outputs: ReadonlyMap<string, OutputBindingProvider>;
}

const HTTP_OUTPUT = 'http';

/**
 * The host side of indexing: for each registered function, find its trigger and make every binding ready
 * through its provider. A function that fails is reported with a message that names it and the binding,
 * and disabled; the rest of the app runs (the real host's behaviour).
 */
export function indexFunction(
  fn: RegisteredFunction,
  providers: IndexingProviders,
  settings: HostSettings,
  allowList: readonly string[] | undefined,
): IndexedFunction {
  const trigger = fn.trigger;
  const placeholder: BindingDefinition = { name: '', type: '', direction: 'in' };
  const disabledBySetting = settings.isFunctionDisabled(fn.name) || (allowList !== undefined && !allowList.some((name) => name.toLowerCase() === fn.name.toLowerCase()));
  const base = { fn, trigger: trigger ?? placeholder, triggerType: trigger?.type.toLowerCase() ?? '', prepared: undefined, outputs: new Map(), inputs: new Map() };
  try {
    if (!trigger) {
      const count = fn.bindings.filter((b) => b.direction === 'in' && /trigger$/i.test(b.type)).length;
      throw new IndexingError(count === 0 ? 'it has no trigger binding.' : `it has ${count} trigger bindings; a function has exactly one.`);
    }
    const triggerProvider = providers.triggers.get(trigger.type.toLowerCase());
    if (!triggerProvider) throw new IndexingError(`the trigger type '${trigger.type}' is not supported by the embedded host.`);
    const prepared = triggerProvider.prepare(fn, trigger);
    const inputs = new Map<string, PreparedInput>();
    const outputs = new Map<string, PreparedOutput>();
    for (const binding of fn.bindings) {
      if (binding === trigger) continue;
      const type = binding.type.toLowerCase();
      if (binding.direction === 'in') {
        const provider = providers.inputs.get(type);
        if (!provider) throw new IndexingError(`input binding '${binding.name}' has the type '${binding.type}', which the embedded host does not support.`);
        inputs.set(binding.name, provider.prepare(fn, binding));
      } else if (type === HTTP_OUTPUT) {
        if (trigger.type.toLowerCase() !== 'httptrigger') throw new IndexingError(`output binding '${binding.name}' is an HTTP output, which needs an HTTP trigger.`);
      } else {
        const provider = providers.outputs.get(type);
        if (!provider) throw new IndexingError(`output binding '${binding.name}' has the type '${binding.type}', which the embedded host does not support.`);
        outputs.set(binding.name, provider.prepare(fn, binding));
      }
    }
    return { ...base, disabled: disabledBySetting, prepared, inputs, outputs };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, disabled: true, error: `The function '${fn.name}' cannot run: ${message}` };
  }
}
