import type { RpcParameterBinding, RpcRetryOptions, RpcTypedData } from '../core/coreApi.js';
import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';
import type { InvocationInput } from '../core/invoker.js';
import { IndexingError } from '../bindings/outputBinding.js';
import type { HostSettings } from '../config/settings.js';
import type { IndexedFunction, TriggerProvider } from '../indexing/functionIndex.js';
import { parseTimerSchedule, type TimerSchedule } from './schedule.js';
import type { ScheduleMonitorStore } from './scheduleMonitor.js';
import { TimerListener, type TimerRetryPolicy } from './timerListener.js';

/** A timer trigger after indexing: the parsed schedule and the listener options from the binding. */
export interface PreparedTimer {
  schedule: TimerSchedule;
  useMonitor: boolean | undefined;
  runOnStartup: boolean;
  retry: TimerRetryPolicy | undefined;
}

function seconds(duration: RpcRetryOptions['delayInterval']): number | undefined {
  return duration?.seconds === undefined || duration.seconds === null ? undefined : Number(duration.seconds) * 1000;
}

/** The function-level `retry` option, which v4 honours only for timer (and a few other) triggers. */
function retryPolicy(options: RpcRetryOptions | undefined): TimerRetryPolicy | undefined {
  if (!options?.retryStrategy || options.maxRetryCount === undefined || options.maxRetryCount === null) return undefined;
  const policy: TimerRetryPolicy = { strategy: options.retryStrategy, maxRetryCount: options.maxRetryCount };
  const delay = seconds(options.delayInterval);
  const minimum = seconds(options.minimumInterval);
  const maximum = seconds(options.maximumInterval);
  if (delay !== undefined) policy.delayIntervalMs = delay;
  if (minimum !== undefined) policy.minimumIntervalMs = minimum;
  if (maximum !== undefined) policy.maximumIntervalMs = maximum;
  return policy;
}

/** Resolves `%setting%` in the schedule and parses it (an invalid schedule is an indexing error). */
export function timerTriggerProvider(settings: HostSettings, timeZone: string | undefined): TriggerProvider<PreparedTimer> {
  return {
    type: 'timertrigger',
    prepare(fn: RegisteredFunction, trigger: BindingDefinition): PreparedTimer {
      const expression = trigger['schedule'];
      if (typeof expression !== 'string' || expression.trim() === '') throw new IndexingError(`binding '${trigger.name}' has no 'schedule'.`);
      let schedule: TimerSchedule;
      try {
        schedule = parseTimerSchedule(settings.resolveWholeString(expression), timeZone ? { timeZone } : {});
      } catch (error) {
        throw new IndexingError(`the schedule of binding '${trigger.name}' is invalid: ${(error as Error).message}`);
      }
      const useMonitor = trigger['useMonitor'];
      return {
        schedule,
        useMonitor: typeof useMonitor === 'boolean' ? useMonitor : undefined,
        runOnStartup: trigger['runOnStartup'] === true,
        retry: retryPolicy(fn.metadata.retryOptions),
      };
    },
  };
}

export interface TimerListenerDependencies {
  monitor: ScheduleMonitorStore;
  timeZone?: string;
  execute(input: InvocationInput): Promise<unknown>;
  inputData(triggerData: RpcTypedData): RpcParameterBinding[];
  log(level: 'debug' | 'information' | 'warning' | 'error', message: string): void;
}

/** The listener that fires an indexed timer function: the TimerInfo JSON as input, the retry context passed on. */
export function createTimerListener(indexed: IndexedFunction, dependencies: TimerListenerDependencies): TimerListener {
  const prepared = indexed.prepared as PreparedTimer;
  return new TimerListener({
    name: indexed.fn.name,
    schedule: prepared.schedule,
    ...(dependencies.timeZone ? { timeZone: dependencies.timeZone } : {}),
    ...(prepared.useMonitor !== undefined ? { useMonitor: prepared.useMonitor } : {}),
    runOnStartup: prepared.runOnStartup,
    monitor: dependencies.monitor,
    ...(prepared.retry ? { retry: prepared.retry } : {}),
    log: dependencies.log,
    async invoke(payload, retryContext) {
      await dependencies.execute({
        inputData: dependencies.inputData({ json: JSON.stringify(payload) }),
        // The host's binding data: DateTime.Now as text (the library ignores timer trigger metadata).
        triggerMetadata: { TimerTrigger: { string: new Date().toISOString() } },
        ...(retryContext ? { retryContext } : {}),
        ...(payload.IsPastDue ? { reason: 'Timer fired (past due)' } : { reason: 'Timer fired' }),
      });
    },
  });
}
