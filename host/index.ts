/** The embedded Azure Functions host: public API for programs and tests that run an app in-process. */
export { EmbeddedHost, EMBEDDED_HOST_VERSION, type EmbeddedHostOptions, type FunctionTableRow } from './embeddedHost.js';
export type { ExtensionHost, HostExtension } from './extensions.js';
export { HostConfigError } from './config/configError.js';
export type { InvocationInput } from './core/invoker.js';
export type { IndexedFunction, TriggerProvider, InputBindingProvider, PreparedInput } from './indexing/functionIndex.js';
export type { OutputBindingProvider, PreparedOutput } from './bindings/outputBinding.js';
export { IndexingError } from './bindings/outputBinding.js';
export type { SystemRoute, SystemRequest } from './http/httpServer.js';
