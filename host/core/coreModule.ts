import Module from 'node:module';
import path from 'node:path';
import type { CoreApiTarget, FunctionCallback, FunctionMetadata, HookCallback, ProgrammingModel, RpcLogCategory, RpcLogLevel } from './coreApi.js';
import { Disposable } from './disposable.js';

/** The module id the library requires; the worker injects it, so it never exists on disk. */
export const CORE_MODULE_ID = '@azure/functions-core';

const HOOKED = Symbol.for('automateiq.embeddedHost.requireHook');
const FACADE_KEY = Symbol.for('automateiq.embeddedHost.coreApi');
const SHIM_PATH = path.join(__dirname, 'functionsCoreShim.js');
const WORKER_VERSION = '3.10.1-embedded';
const HOST_VERSION = '4.1037.0-embedded';

let activeTarget: CoreApiTarget | undefined;

function target(): CoreApiTarget {
  if (!activeTarget) throw new Error(`${CORE_MODULE_ID} was used but no embedded host is active in this process.`);
  return activeTarget;
}

/**
 * The object the library receives. The library caches the first object `require` returns for the life of the
 * process, so this facade stays the same and forwards to whichever host is active.
 */
export const coreApiFacade = Object.freeze({
  version: WORKER_VERSION,
  get hostVersion(): string {
    return activeTarget?.hostVersion ?? HOST_VERSION;
  },
  registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) => target().registerFunction(metadata, callback),
  registerHook: (hookName: string, callback: HookCallback) => target().registerHook(hookName, callback),
  setProgrammingModel: (programmingModel: ProgrammingModel) => target().setProgrammingModel(programmingModel),
  getProgrammingModel: () => target().getProgrammingModel(),
  // The library checks that `log` exists to tell a worker new enough for HTTP streaming.
  log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => activeTarget?.log(level, category, message),
  Disposable,
});

type RequireFunction = (this: NodeJS.Module, id: string) => unknown;
type ResolveFilename = (request: string, ...rest: unknown[]) => string;
interface ModuleInternals {
  _resolveFilename: ResolveFilename;
}

/**
 * Makes `require('@azure/functions-core')` answer the facade, as the worker does (a Proxy on
 * `Module.prototype.require`), and also maps the id in `Module._resolveFilename` to a physical shim: loader
 * paths that compile CommonJS through Node's ESM translator bypass `Module.prototype.require` and would
 * otherwise leave the library in its silent "test mode". Idempotent.
 */
export function installCoreModule(host: CoreApiTarget): void {
  activeTarget = host;
  (globalThis as Record<symbol, unknown>)[FACADE_KEY] = coreApiFacade;
  const proto = Module.prototype as unknown as { require: RequireFunction & { [HOOKED]?: true } };
  if (proto.require[HOOKED]) return;

  const hooked = new Proxy(proto.require, {
    apply(originalRequire, thisArg, args: [string]) {
      if (args[0] === CORE_MODULE_ID) return coreApiFacade;
      return Reflect.apply(originalRequire, thisArg, args);
    },
  });
  Object.defineProperty(hooked, HOOKED, { value: true });
  proto.require = hooked;

  const internals = Module as unknown as ModuleInternals;
  const originalResolve = internals._resolveFilename;
  internals._resolveFilename = function resolveFilename(this: unknown, request: string, ...rest: unknown[]): string {
    if (request === CORE_MODULE_ID) return SHIM_PATH;
    return originalResolve.call(this, request, ...rest);
  };
}

/** Detaches `host` from the facade; later library calls fail loudly instead of reaching a stopped host. */
export function uninstallCoreModule(host: CoreApiTarget): void {
  if (activeTarget === host) activeTarget = undefined;
}
