import type { OutputBindingProvider } from './bindings/outputBinding.js';
import type { HostOptions } from './config/hostJson.js';
import type { HostSettings } from './config/settings.js';
import type { RpcInvocationResponse } from './core/coreApi.js';
import type { InvocationInput } from './core/invoker.js';
import type { LogRouter } from './core/logRouter.js';
import type { SystemRoute } from './http/httpServer.js';
import type { KeyAuthorizer } from './http/keys.js';
import type { IndexedFunction, InputBindingProvider, TriggerProvider } from './indexing/functionIndex.js';

/** What the running host offers its extensions (the durable task hub is one). */
export interface ExtensionHost {
  readonly baseUrl: string;
  readonly settings: HostSettings;
  readonly hostOptions: HostOptions;
  readonly stateDir: string;
  readonly logs: LogRouter;
  readonly functions: readonly IndexedFunction[];
  readonly authEnforced: boolean;
  readonly authorizer: KeyAuthorizer;
  readonly cpuCount: number;
  /** Runs a function through the invocation pipeline and delivers its outputs. */
  execute(indexed: IndexedFunction, input: InvocationInput): Promise<RpcInvocationResponse>;
}

/** What an extension adds to the host (bindings and `/runtime/...` endpoints), given the running host. */
export interface HostExtension {
  readonly name: string;
  triggers?(host: ExtensionHost): readonly TriggerProvider[];
  inputs?(host: ExtensionHost): readonly InputBindingProvider[];
  outputs?(host: ExtensionHost): readonly OutputBindingProvider[];
  routes?(host: ExtensionHost): readonly SystemRoute[];
  /** Called once the HTTP server listens and the functions are indexed. */
  start?(host: ExtensionHost): Promise<void>;
  stop?(host: ExtensionHost): Promise<void>;
}

