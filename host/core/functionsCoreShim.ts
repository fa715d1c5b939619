/**
 * The physical stand-in for `@azure/functions-core`, reached only through `Module._resolveFilename` by loader
 * paths that bypass `Module.prototype.require`. It exports the same facade, or throws MODULE_NOT_FOUND when
 * no embedded host is active (so the library behaves exactly as outside a worker).
 */
const facade: unknown = (globalThis as Record<symbol, unknown>)[Symbol.for('automateiq.embeddedHost.coreApi')];
if (!facade) {
  const error = new Error("Cannot find module '@azure/functions-core'") as NodeJS.ErrnoException;
  error.code = 'MODULE_NOT_FOUND';
  throw error;
}
export = facade;
