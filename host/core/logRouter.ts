import type { HookCallback, HookData, RpcLogCategory, RpcLogLevel } from './coreApi.js';
import type { HostLogger } from '../logging/hostLogger.js';

export interface LogScope {
  functionName?: string;
  invocationId?: string;
  /** Set once the invocation context exists: what log hooks see. */
  hookData?: HookData;
  invocationContext?: unknown;
}

/**
 * Every log the app or the library produces goes through here: first the app's `log` hooks (which may change
 * the level and message of user logs only; their exceptions are swallowed), then the host logger.
 */
export class LogRouter {
  constructor(
    private readonly logger: HostLogger,
    private readonly logHooks: readonly HookCallback[],
    private readonly appHookData: HookData,
  ) {}

  /** Whether a system log at `level` would go anywhere (a log hook, or the logger at its configured level). */
  wants(level: RpcLogLevel, scope: LogScope = {}): boolean {
    return this.logHooks.length > 0 || this.logger.isEnabled(level, scope.functionName ? `Function.${scope.functionName}` : 'Host.General');
  }

  emit(level: RpcLogLevel, category: RpcLogCategory, message: string, scope: LogScope = {}): void {
    let finalLevel = level;
    let finalMessage = message;
    if (this.logHooks.length > 0) {
      const context = {
        level,
        message,
        get category(): RpcLogCategory {
          return category;
        },
        hookData: scope.hookData ?? {},
        appHookData: this.appHookData,
        invocationContext: scope.invocationContext,
      };
      try {
        for (const hook of this.logHooks) hook(context as unknown as Record<string, unknown>);
        if (category === 'user') {
          finalLevel = context.level;
          finalMessage = context.message;
        }
      } catch {
        // A failing log hook must never break logging or the invocation (worker behaviour).
      }
    }
    const hostCategory = scope.functionName ? `Function.${scope.functionName}${category === 'user' ? '.User' : ''}` : 'Host.General';
    this.logger.write({
      level: finalLevel,
      category: hostCategory,
      message: finalMessage,
      ...(scope.functionName ? { functionName: scope.functionName } : {}),
      ...(scope.invocationId ? { invocationId: scope.invocationId } : {}),
    });
  }
}
