import { randomBytes, randomUUID } from 'node:crypto';
import type {
  CoreInvocationContext,
  HookCallback,
  HookData,
  RpcInvocationRequest,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcRetryContext,
  RpcTraceContext,
  RpcTypedData,
} from './coreApi.js';
import type { FunctionRegistry, RegisteredFunction } from './functionRegistry.js';
import { createHookContext } from './hookContext.js';
import type { LogRouter, LogScope } from './logRouter.js';

export interface InvocationInput {
  /** The trigger binding first: the library makes trigger bindings positional in inputData order. */
  inputData: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  retryContext?: RpcRetryContext;
  traceContext?: RpcTraceContext;
  /** Logged with "Executing ..." like the real host (e.g. `This function was programmatically called`). */
  reason?: string;
  /**
   * Called with the programming model's invocation context once the function has run (before postInvocation
   * hooks): host extensions inspect library state there (the durable task hub's replay cross-check).
   */
  inspectContext?: (invocationContext: unknown) => void;
}

/** The invocation exceeded host.json `functionTimeout`. */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

export interface InvocationStats {
  started: number;
  succeeded: number;
  failed: number;
  inFlight: number;
}

function formatTimeSpan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor((totalSeconds % 3600) / 60))}:${pad(totalSeconds % 60)}`;
}

function newTraceParent(): string {
  const id = randomBytes(24).toString('hex');
  return `00-${id.slice(0, 32)}-${id.slice(32)}-01`;
}

/**
 * Runs one function exactly as the worker's `InvocationHandler`: programming model → getArguments →
 * preInvocation hooks (which may replace inputs and the callback) → invokeFunction → postInvocation hooks
 * (which may replace the result or error) → getResponse. A rejected promise means the invocation failed and
 * its outputs must not be flushed.
 */
export class Invoker {
  readonly stats: InvocationStats = { started: 0, succeeded: 0, failed: 0, inFlight: 0 };
  #idle: Array<() => void> = [];

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly logs: LogRouter,
    private readonly appHookData: HookData,
    private readonly functionTimeoutMs: number | undefined,
  ) {}

  async invoke(fn: RegisteredFunction, input: InvocationInput): Promise<RpcInvocationResponse> {
    const invocationId = randomUUID();
    const scope: LogScope = { functionName: fn.name, invocationId };
    const started = performance.now();
    this.stats.started++;
    this.stats.inFlight++;
    const logInvocations = this.logs.wants('information', scope);
    if (logInvocations) this.logs.emit('information', 'system', `Executing 'Functions.${fn.name}' (Reason='${input.reason ?? 'New trigger fired'}', Id=${invocationId})`, scope);
    try {
      const response = await this.withTimeout(fn, this.run(fn, invocationId, input, scope));
      this.stats.succeeded++;
      if (logInvocations) this.logs.emit('information', 'system', `Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${Math.round(performance.now() - started)}ms)`, scope);
      return response;
    } catch (error) {
      this.stats.failed++;
      const message = error instanceof Error ? error.message : String(error);
      this.logs.emit('error', 'system', `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${Math.round(performance.now() - started)}ms): ${message}`, scope);
      throw error;
    } finally {
      this.stats.inFlight--;
      if (this.stats.inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** Resolves once no invocation is running (graceful shutdown), or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.stats.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }

  private async withTimeout<T>(fn: RegisteredFunction, work: Promise<T>): Promise<T> {
    const limit = this.functionTimeoutMs;
    if (limit === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FunctionTimeoutError(`Timeout value of ${formatTimeSpan(limit)} was exceeded by function: Functions.${fn.name}`)),
        limit,
      );
      timer.unref();
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(fn: RegisteredFunction, invocationId: string, input: InvocationInput, scope: LogScope): Promise<RpcInvocationResponse> {
    const programmingModel = this.registry.programmingModel;
    if (!programmingModel) throw new Error('No programming model is registered.');
    const request: RpcInvocationRequest = {
      invocationId,
      functionId: fn.functionId,
      inputData: input.inputData,
      triggerMetadata: input.triggerMetadata ?? {},
      traceContext: input.traceContext ?? { traceParent: newTraceParent(), traceState: '', attributes: { OperationName: fn.name } },
      ...(input.retryContext ? { retryContext: input.retryContext } : {}),
    };
    const logs = this.logs;
    const coreContext: CoreInvocationContext = {
      invocationId,
      request,
      metadata: fn.metadata,
      log(level: RpcLogLevel, category: RpcLogCategory, message: string) {
        logs.emit(level, category, message, scope);
      },
    };
    const invocationModel = await programmingModel.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData: HookData = {};
    scope.hookData = hookData;
    scope.invocationContext = context;

    // Hook contexts are only built when hooks exist: most invocations have none, and this is the hot path.
    const { preInvocation, postInvocation } = this.registry.hooks;
    let inputsToUse = inputs;
    let callback = fn.callback;
    if (preInvocation.length > 0) {
      const pre = createHookContext({ hookData, appHookData: this.appHookData, invocationContext: context }, { inputs, functionCallback: fn.callback });
      coreContext.state = 'preInvocationHooks';
      try {
        await this.runHooks(preInvocation, pre);
      } finally {
        delete coreContext.state;
      }
      inputsToUse = pre['inputs'] as unknown[];
      callback = pre['functionCallback'] as RegisteredFunction['callback'];
    }

    let result: unknown = null;
    let error: unknown = null;
    coreContext.state = 'invocation';
    try {
      result = await invocationModel.invokeFunction(context, inputsToUse, callback);
    } catch (thrown) {
      error = thrown;
    }
    input.inspectContext?.(context);
    if (postInvocation.length > 0) {
      const post = createHookContext({ hookData, appHookData: this.appHookData, invocationContext: context }, { inputs: inputsToUse, result, error });
      coreContext.state = 'postInvocationHooks';
      try {
        await this.runHooks(postInvocation, post);
      } finally {
        delete coreContext.state;
      }
      result = post['result'];
      error = post['error'];
    } else {
      delete coreContext.state;
    }
    if (error !== null && error !== undefined) throw error;
    return invocationModel.getResponse(context, result);
  }

  private async runHooks(hooks: readonly HookCallback[], context: Record<string, unknown>): Promise<void> {
    for (const hook of hooks) await hook(context);
  }
}
