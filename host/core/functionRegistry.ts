import path from 'node:path';
import type {
  CoreApiTarget,
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookName,
  ProgrammingModel,
  RpcBindingInfo,
  RpcFunctionMetadata,
  RpcLogCategory,
  RpcLogLevel,
} from './coreApi.js';
import { Disposable } from './disposable.js';

/** One binding as the host sees it: the registered properties plus its name (`$return` for the return value). */
export interface BindingDefinition extends RpcBindingInfo {
  name: string;
  type: string;
  direction: 'in' | 'out' | 'inout';
}

export interface RegisteredFunction {
  name: string;
  functionId: string;
  metadata: RpcFunctionMetadata;
  callback: FunctionCallback;
  bindings: readonly BindingDefinition[];
  /** The single trigger binding, or undefined (an indexing error). */
  trigger: BindingDefinition | undefined;
}

const HOOK_NAMES: readonly HookName[] = ['preInvocation', 'postInvocation', 'appStart', 'appTerminate', 'log'];

export function isTriggerType(type: string): boolean {
  return /trigger$/i.test(type);
}

/** Thrown for an unknown hook name; the library turns this marker into "Log hooks require host v4.34". */
class UnknownHookError extends RangeError {
  readonly isAzureFunctionsSystemError = true;
}

/**
 * What the library registers through `@azure/functions-core`: functions, hooks and the programming model.
 * Registration is only allowed while the entry points load; afterwards the registry is locked, as in the worker.
 */
export class FunctionRegistry implements CoreApiTarget {
  readonly hostVersion = '4.1037.0-embedded';
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, HookCallback[]> = { preInvocation: [], postInvocation: [], appStart: [], appTerminate: [], log: [] };
  programmingModel: ProgrammingModel | undefined;
  /** The entry point file being loaded, recorded as each function's `scriptFile`. */
  currentEntryPoint: string | undefined;
  #locked = false;

  constructor(private readonly systemLog: (level: RpcLogLevel, message: string) => void) {}

  lock(): void {
    this.#locked = true;
  }

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (this.#locked) throw new Error('A function can only be registered during app startup.');
    const functionId = metadata.functionId ?? metadata.name;
    if (this.functions.has(functionId)) throw new Error(`A function with the id "${functionId}" has already been registered.`);
    // The worker reports each binding to the host as JSON with its key as the name (so `$return` stays `$return`).
    const rawBindings = Object.entries(metadata.bindings).map(([name, binding]) => JSON.stringify({ ...binding, name }));
    const bindings = rawBindings.map((raw) => JSON.parse(raw) as BindingDefinition);
    const entryPoint = this.currentEntryPoint;
    const rpcMetadata: RpcFunctionMetadata = {
      ...metadata,
      functionId,
      rawBindings,
      ...(entryPoint ? { scriptFile: path.basename(entryPoint), directory: path.dirname(entryPoint) } : {}),
    };
    const triggers = bindings.filter((binding) => binding.direction === 'in' && isTriggerType(binding.type));
    this.functions.set(functionId, {
      name: metadata.name,
      functionId,
      metadata: rpcMetadata,
      callback,
      bindings,
      trigger: triggers.length === 1 ? triggers[0] : undefined,
    });
    return new Disposable(() => {
      if (this.#locked) throw new Error('A function can only be disposed during app startup.');
      this.functions.delete(functionId);
    });
  }

  registerHook(hookName: string, callback: HookCallback): Disposable {
    if (!(HOOK_NAMES as readonly string[]).includes(hookName)) throw new UnknownHookError(`Unrecognized hook "${hookName}".`);
    const list = this.hooks[hookName as HookName];
    list.push(callback);
    return new Disposable(() => {
      const index = list.indexOf(callback);
      if (index >= 0) list.splice(index, 1);
    });
  }

  setProgrammingModel(programmingModel: ProgrammingModel): void {
    if (this.programmingModel) {
      this.systemLog('information', `Setting Node.js programming model to "${programmingModel.name}" version "${programmingModel.version}".`);
    }
    this.programmingModel = programmingModel;
  }

  getProgrammingModel(): ProgrammingModel | undefined {
    return this.programmingModel;
  }

  log(level: RpcLogLevel, _category: RpcLogCategory, message: string): void {
    this.systemLog(level, message);
  }

  /** Case-insensitive lookup by function name, as the host's admin API does. */
  findByName(name: string): RegisteredFunction | undefined {
    const lower = name.toLowerCase();
    for (const fn of this.functions.values()) if (fn.name.toLowerCase() === lower) return fn;
    return undefined;
  }
}
