import path from 'node:path';
import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';
import { IndexingError } from '../bindings/outputBinding.js';
import { HostConfigError } from '../config/configError.js';
import { getPath, type JsonObject } from '../config/hostJson.js';
import type { ExtensionHost, HostExtension } from '../extensions.js';
import type { SystemRoute } from '../http/httpServer.js';
import type { InputBindingProvider, PreparedInput, TriggerProvider } from '../indexing/functionIndex.js';
import { durableClientBindingData, durableHttpApiRoute } from './durableHttpApi.js';
import { DEFAULT_ENGINE_OPTIONS, OrchestrationEngine } from './orchestrationEngine.js';
import { TaskHubStore } from './taskHubStore.js';

const DEFAULT_HUB_NAME = 'TestHubName';

function positiveInteger(document: JsonObject, dottedPath: string, fallback: number): number {
  const value = getPath(document, dottedPath);
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new HostConfigError(`host.json: "${dottedPath}" must be a positive integer (got ${JSON.stringify(value)}).`, 'host.json');
  }
  return value as number;
}

/**
 * Durable Functions on the embedded host: `orchestrationTrigger`, `activityTrigger` and `durableClient`
 * bindings, a task hub persisted in SQLite (`durabletask.db` in the state directory), and the Durable HTTP API
 * under `/runtime/webhooks/durabletask/`. Entities are refused with a clear indexing error.
 */
export class DurableExtension implements HostExtension {
  readonly name = 'durableTask';
  #store: TaskHubStore | undefined;
  #engine: OrchestrationEngine | undefined;
  #hubName = DEFAULT_HUB_NAME;

  get engine(): OrchestrationEngine {
    if (!this.#engine) throw new Error('The durable task hub is not started.');
    return this.#engine;
  }

  triggers(): readonly TriggerProvider[] {
    const accept = (type: string): TriggerProvider => ({ type, prepare: () => undefined });
    return [
      accept('orchestrationtrigger'),
      accept('activitytrigger'),
      {
        type: 'entitytrigger',
        prepare: (fn: RegisteredFunction) => {
          throw new IndexingError(`'${fn.name}' is a Durable Entity; Durable Entities are not supported by the embedded host.`);
        },
      },
    ];
  }

  inputs(host: ExtensionHost): readonly InputBindingProvider[] {
    return [
      {
        type: 'durableclient',
        prepare: (_fn: RegisteredFunction, _binding: BindingDefinition): PreparedInput => ({
          data: () => ({ string: JSON.stringify(durableClientBindingData(host.baseUrl, this.#hubName, this.requiredQueryString(host))) }),
        }),
      },
    ];
  }

  routes(host: ExtensionHost): readonly SystemRoute[] {
    const hubName = (): string => this.#hubName;
    return [
      durableHttpApiRoute({
        // The engine exists once the host has started; the route is only called after that.
        client: {
          get taskHubName() {
            return hubName();
          },
          startNew: (...args) => this.engine.startNew(...args),
          getInstance: (...args) => this.engine.getInstance(...args),
          getHistory: (...args) => this.engine.getHistory(...args),
          listInstances: (...args) => this.engine.listInstances(...args),
          raiseEvent: (...args) => this.engine.raiseEvent(...args),
          terminate: (...args) => this.engine.terminate(...args),
          suspend: (...args) => this.engine.suspend(...args),
          resume: (...args) => this.engine.resume(...args),
          purge: (...args) => this.engine.purge(...args),
          purgeBy: (...args) => this.engine.purgeBy(...args),
          waitForCompletion: (...args) => this.engine.waitForCompletion(...args),
        },
        baseUrl: () => host.baseUrl,
        authorizer: host.authorizer,
        authEnforced: host.authEnforced,
      }),
    ];
  }

  /** `code=<key>` for the client URLs when keys are enforced, so the links the app hands out work. */
  private requiredQueryString(host: ExtensionHost): string {
    return host.authEnforced ? `code=${encodeURIComponent(host.authorizer.systemKey('durabletask_extension'))}` : '';
  }

  async start(host: ExtensionHost): Promise<void> {
    const document = host.hostOptions.document as JsonObject;
    const hubSetting = getPath(document, 'extensions.durableTask.hubName');
    this.#hubName = typeof hubSetting === 'string' ? host.settings.resolveWholeString(hubSetting) : DEFAULT_HUB_NAME;
    const cpus = host.cpuCount;
    this.#store = TaskHubStore.open(path.join(host.stateDir, 'durabletask.db'));
    this.#engine = new OrchestrationEngine(
      this.#store,
      {
        findFunction: (name) => host.functions.find((indexed) => indexed.fn.name.toLowerCase() === name.toLowerCase()),
        execute: (indexed, input) => host.execute(indexed, input),
        log: (level, message) => host.logs.emit(level, 'system', message),
      },
      {
        ...DEFAULT_ENGINE_OPTIONS,
        taskHubName: this.#hubName,
        // The extension's defaults: 10 × processor count for both.
        maxConcurrentOrchestrations: positiveInteger(document, 'extensions.durableTask.maxConcurrentOrchestratorFunctions', 10 * cpus),
        maxConcurrentActivities: positiveInteger(document, 'extensions.durableTask.maxConcurrentActivityFunctions', 10 * cpus),
      },
    );
    this.#engine.start();
  }

  async stop(): Promise<void> {
    await this.#engine?.stop();
    this.#store?.close();
  }
}
