import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminRoute, type HostStatus } from './admin/adminApi.js';
import type { OutputBindingProvider } from './bindings/outputBinding.js';
import { HostConfigError } from './config/configError.js';
import { getPath, type HostOptions, readHostJson } from './config/hostJson.js';
import { applyLocalSettings, type LocalSettings, readLocalSettings } from './config/localSettings.js';
import { HostSettings } from './config/settings.js';
import type { HookData, RpcInvocationResponse, RpcParameterBinding, RpcTypedData } from './core/coreApi.js';
import { installCoreModule, uninstallCoreModule } from './core/coreModule.js';
import { loadEntryPoints } from './core/entryPoints.js';
import { FunctionRegistry } from './core/functionRegistry.js';
import { createHookContext } from './core/hookContext.js';
import { type InvocationInput, Invoker } from './core/invoker.js';
import { LogRouter } from './core/logRouter.js';
import { eventGridInvocationInput, eventGridWebhookRoute } from './eventgrid/eventGridWebhook.js';
import { normalizeEvents } from './eventgrid/eventGridEvents.js';
import { eventGridDeliveryQueue, eventGridOutputProvider } from './eventgrid/eventGridOutput.js';
import { EVENT_GRID_SUBSCRIPTIONS_SETTING, type EventGridSubscription, loadEventGridSubscriptions } from './eventgrid/eventGridSubscriptions.js';
import { CorsPolicy } from './http/cors.js';
import type { ExtensionHost, HostExtension } from './extensions.js';
import { DurableExtension } from './durable/durableExtension.js';
import { HttpFrontDoor } from './http/httpServer.js';
import { httpTriggerProvider } from './http/httpTriggerProvider.js';
import { KeyAuthorizer, loadHostKeys } from './http/keys.js';
import { RequestLimiter } from './http/requestLimiter.js';
import { RouteIndexError, RouteTable } from './http/routeTable.js';
import { type IndexedFunction, indexFunction, type TriggerProvider } from './indexing/functionIndex.js';
import { createHostLogger, type HostLogger, type HostLogLevel, parseLogLevel } from './logging/hostLogger.js';
import { type BrokeredMessage, SqliteBroker } from './servicebus/broker.js';
import { applyServiceBusConfig, SERVICE_BUS_CONFIG_SETTING } from './servicebus/emulatorConfig.js';
import { startReceiver } from './servicebus/receiver.js';
import { serviceBusOutputProvider, serviceBusTriggerProvider, type ServiceBusTriggerTarget } from './servicebus/serviceBusBindings.js';
import { buildServiceBusTriggerInput } from './servicebus/serviceBusTrigger.js';
import { FileScheduleMonitorStore } from './timer/scheduleMonitor.js';
import type { TimerListener } from './timer/timerListener.js';
import { timerTimeZoneFromSettings } from './timer/timeZone.js';
import { createTimerListener, timerTriggerProvider } from './timer/timerTriggerProvider.js';

export const EMBEDDED_HOST_VERSION = '4.1037.0-embedded';

export interface EmbeddedHostOptions {
  /** The Functions app: the folder with host.json and package.json. */
  appDir: string;
  /** Default: local.settings.json `Host.LocalHttpPort`, else 7071. 0 picks a free port. */
  port?: number;
  /** The address to bind; default 127.0.0.1 (put a TLS reverse proxy in front to expose it). */
  hostname?: string;
  /** Key checks; default `disabled` in Development (as Core Tools), `enforce` otherwise. */
  auth?: 'enforce' | 'disabled';
  /** CORS origins; default local.settings.json `Host.CORS`. */
  cors?: readonly string[];
  corsCredentials?: boolean;
  /** Where the broker, timer status and keys are kept; default `<appDir>/.embedded-host`. */
  stateDir?: string;
  /** The environment the app's settings come from; default `process.env` (the app reads it too). */
  env?: NodeJS.ProcessEnv;
  logFormat?: 'pretty' | 'json';
  logDestination?: NodeJS.WritableStream;
  /** Keep client-sent `x-ms-client-principal*` headers: only behind a proxy that authenticates and sets them. */
  trustClientPrincipalHeaders?: boolean;
  /** How long shutdown waits for running invocations; default 30 s. */
  shutdownTimeoutMs?: number;
  /** Extra trigger/input/output providers and system routes (the durable task hub plugs in here). */
  extensions?: readonly HostExtension[];
}

export interface FunctionTableRow {
  name: string;
  trigger: string;
  /** For HTTP functions: `[GET,POST] http://127.0.0.1:7071/api/route`. */
  detail: string;
  disabled: boolean;
  error?: string;
}

const DEFAULT_PORT = 7071;

function logLevels(hostOptions: HostOptions): Record<string, HostLogLevel> {
  const configured = getPath(hostOptions.document as Record<string, unknown>, 'logging.logLevel');
  const levels: Record<string, HostLogLevel> = {};
  if (configured && typeof configured === 'object') {
    for (const [category, value] of Object.entries(configured)) {
      const level = parseLogLevel(value);
      if (!level) throw new HostConfigError(`host.json: "logging.logLevel.${category}" must be a log level such as "Information" (got ${JSON.stringify(value)}).`, 'host.json');
      levels[category] = level;
    }
  }
  return levels;
}

/**
 * The embedded Azure Functions host: runs an unchanged `@azure/functions` v4 app in this process the way the
 * Functions host and Node worker do together (see docs/embedded-host.md). One host per process.
 */
export class EmbeddedHost implements ExtensionHost {
  readonly id = randomUUID().replace(/-/g, '').slice(0, 32);
  readonly appDir: string;
  readonly env: NodeJS.ProcessEnv;
  #state: HostStatus['state'] = 'Initialized';
  #startedAt = Date.now();
  #settings!: HostSettings;
  #hostOptions!: HostOptions;
  #localSettings!: LocalSettings;
  #logger!: HostLogger;
  #logs!: LogRouter;
  #registry!: FunctionRegistry;
  #invoker!: Invoker;
  #broker!: SqliteBroker;
  #frontDoor: HttpFrontDoor | undefined;
  #baseUrl = '';
  #stateDir!: string;
  #indexed: IndexedFunction[] = [];
  #routes!: RouteTable<IndexedFunction>;
  #timers = new Map<string, TimerListener>();
  #receivers: Array<{ stop(): Promise<void> }> = [];
  #eventGridSubscriptions: EventGridSubscription[] = [];
  #timeZone: string | undefined;
  #authEnforced = false;
  #authorizer!: KeyAuthorizer;
  readonly #extensions: readonly HostExtension[];
  /** Durable Functions support, built in. */
  readonly durable = new DurableExtension();
  #appHookData: HookData = {};
  #appLevelHookData: HookData = {};
  #errors: string[] = [];

  constructor(private readonly options: EmbeddedHostOptions) {
    this.appDir = path.resolve(options.appDir);
    this.env = options.env ?? process.env;
    this.#extensions = [this.durable, ...(options.extensions ?? [])];
  }

  /** Whether function/system keys are checked (off in Development, as Core Tools). */
  get authEnforced(): boolean {
    return this.#authEnforced;
  }

  get authorizer(): KeyAuthorizer {
    return this.#authorizer;
  }

  /** Processors available to this process (the extensions' concurrency defaults scale with it). */
  get cpuCount(): number {
    return os.availableParallelism();
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  get settings(): HostSettings {
    return this.#settings;
  }

  get hostOptions(): HostOptions {
    return this.#hostOptions;
  }

  get stateDir(): string {
    return this.#stateDir;
  }

  get broker(): SqliteBroker {
    return this.#broker;
  }

  get logs(): LogRouter {
    return this.#logs;
  }

  get functions(): readonly IndexedFunction[] {
    return this.#indexed;
  }

  /** Loads configuration and the app, indexes its functions and starts every listener. */
  async start(): Promise<void> {
    this.#startedAt = Date.now();
    this.#localSettings = readLocalSettings(this.appDir);
    const skipped = applyLocalSettings(this.#localSettings, this.env);
    // Core Tools runs apps as Development unless told otherwise.
    this.env['AZURE_FUNCTIONS_ENVIRONMENT'] ||= 'Development';
    this.env['FUNCTIONS_WORKER_RUNTIME'] ||= 'node';
    this.#settings = new HostSettings(this.env);
    this.#hostOptions = readHostJson(this.appDir, this.env, os.availableParallelism());
    this.#timeZone = timerTimeZoneFromSettings(this.env);
    this.#logger = createHostLogger({
      levels: logLevels(this.#hostOptions),
      format: this.options.logFormat ?? 'pretty',
      ...(this.options.logDestination ? { destination: this.options.logDestination } : {}),
    });
    this.#stateDir = path.resolve(this.appDir, this.options.stateDir ?? this.#settings.get('EMBEDDED_HOST_STATE_DIR') ?? '.embedded-host');
    fs.mkdirSync(this.#stateDir, { recursive: true });

    this.#registry = new FunctionRegistry((level, message) => this.#logs.emit(level, 'system', message));
    this.#logs = new LogRouter(this.#logger, this.#registry.hooks.log, this.#appHookData);
    for (const name of skipped) this.#logs.emit('information', 'system', `Skipping '${name}' from local.settings.json as it's already defined in current environment variables.`);
    this.#invoker = new Invoker(this.#registry, this.#logs, this.#appHookData, this.#hostOptions.functionTimeoutMs);

    installCoreModule(this.#registry);
    try {
      await loadEntryPoints(this.appDir, (file) => {
        this.#registry.currentEntryPoint = file;
      });
    } finally {
      this.#registry.lock();
    }
    const programmingModel = this.#registry.programmingModel;
    if (!programmingModel) {
      throw new HostConfigError(
        'No programming model was registered: @azure/functions was used before the embedded host installed @azure/functions-core, so the library latched into "test mode". Start the app through the host (aiq-host) and do not call app.* before it loads.',
        'package.json',
      );
    }
    await this.runAppHooks('appStart', { functionAppDirectory: this.appDir });
    const defaultCapabilities = Object.fromEntries(
      ['RawHttpBodyBytes', 'RpcHttpTriggerMetadataRemoved', 'RpcHttpBodyOnly', 'IgnoreEmptyValuedRpcHttpHeaders', 'UseNullableValueDictionaryForHttp', 'WorkerStatus', 'TypedDataCollection', 'HandlesWorkerTerminateMessage'].map((name) => [name, 'true']),
    );
    const capabilities = programmingModel.getCapabilities ? await programmingModel.getCapabilities(defaultCapabilities) : defaultCapabilities;
    if (capabilities['HttpUri']) {
      throw new HostConfigError('HTTP streaming (app.setup({ enableHttpStream: true })) is not supported by the embedded host; remove it to run here.', 'app.setup');
    }

    this.#broker = SqliteBroker.open({ file: path.join(this.#stateDir, 'servicebus.db') });
    const serviceBusConfig = this.#settings.get(SERVICE_BUS_CONFIG_SETTING);
    if (serviceBusConfig) applyServiceBusConfig(this.#broker, this.appDir, serviceBusConfig);

    this.index();
    await this.listen();
    for (const extension of this.#extensions) await extension.start?.(this);
    this.startListeners();
    this.#state = 'Running';
    this.#logs.emit('information', 'system', `Host started (${this.#indexed.length} functions) at ${this.#baseUrl}`);
  }

  /** Stops taking work, lets running invocations finish (bounded), runs appTerminate hooks and closes state. */
  async stop(): Promise<void> {
    if (this.#state === 'Stopped' || this.#state === 'Stopping') return;
    this.#state = 'Stopping';
    const timeoutMs = this.options.shutdownTimeoutMs ?? 30_000;
    this.#logs?.emit('information', 'system', 'Stopping the host: draining running invocations.');
    // Stop taking work everywhere at once, then give running invocations until the deadline.
    const draining = Promise.all([
      this.#frontDoor?.close(),
      ...[...this.#timers.values()].map((timer) => timer.stop()),
      ...this.#receivers.map((receiver) => receiver.stop()),
      ...this.#extensions.map((extension) => extension.stop?.(this)),
      this.#invoker?.drain(timeoutMs),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      draining.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) this.#logs.emit('warning', 'system', `Shutdown did not finish within ${timeoutMs} ms; ${this.#invoker.stats.inFlight} invocations were still running.`);
    if (this.#registry) {
      try {
        await this.runAppHooks('appTerminate', {});
      } catch (error) {
        this.#logs.emit('error', 'system', `An appTerminate hook failed: ${(error as Error).message}`);
      }
      uninstallCoreModule(this.#registry);
    }
    this.#broker?.close();
    this.#logger?.flush();
    this.#state = 'Stopped';
  }

  status(): HostStatus {
    const enabled = this.#indexed.filter((indexed) => !indexed.disabled).length;
    return {
      id: this.id,
      state: this.#state,
      version: EMBEDDED_HOST_VERSION,
      versionDetails: `AutomateIQ embedded host; Node ${process.version}`,
      processUptime: Date.now() - this.#startedAt,
      ...(this.#errors.length ? { errors: [...this.#errors] } : {}),
      functions: { total: this.#indexed.length, enabled, disabled: this.#indexed.length - enabled, withErrors: this.#indexed.filter((indexed) => indexed.error).length },
      invocations: { ...this.#invoker.stats },
    };
  }

  /** The function table `func start` prints. */
  functionTable(): FunctionTableRow[] {
    return this.#indexed.map((indexed) => {
      const row: FunctionTableRow = { name: indexed.fn.name, trigger: indexed.trigger.type || 'none', detail: indexed.trigger.type || '', disabled: indexed.disabled };
      if (indexed.error) row.error = indexed.error;
      if (indexed.triggerType === 'httptrigger') {
        const route = this.#routes.routes().find((candidate) => candidate.functionName === indexed.fn.name);
        if (route) {
          const methods = route.methods.length ? route.methods.join(',') : 'ALL';
          row.detail = `[${methods}] ${this.#baseUrl}/${route.template}`;
        }
      }
      return row;
    });
  }

  /**
   * Runs a function and delivers its output bindings. Outputs are flushed only after a successful
   * invocation; a failed delivery fails the invocation (as a failed binding does on Azure).
   */
  async execute(indexed: IndexedFunction, input: InvocationInput): Promise<RpcInvocationResponse> {
    const response = await this.#invoker.invoke(indexed.fn, input);
    for (const output of response.outputData ?? []) {
      const prepared = indexed.outputs.get(output.name);
      if (prepared) await prepared.flush(output.data);
    }
    return response;
  }

  /** The input data for a trigger: the trigger's data first, then every other input binding's. */
  inputData(indexed: IndexedFunction, triggerData: RpcTypedData): RpcParameterBinding[] {
    const inputData: RpcParameterBinding[] = [{ name: indexed.trigger.name, data: triggerData }];
    for (const [name, prepared] of indexed.inputs) inputData.push({ name, data: prepared.data() });
    return inputData;
  }

  private async runAppHooks(name: 'appStart' | 'appTerminate', fields: Record<string, unknown>): Promise<void> {
    const context = createHookContext({ hookData: this.#appLevelHookData, appHookData: this.#appHookData, ...fields });
    for (const hook of this.#registry.hooks[name]) await hook(context);
  }

  private index(): void {
    const extensions = this.#extensions;
    const triggers: TriggerProvider[] = [
      httpTriggerProvider,
      timerTriggerProvider(this.#settings, this.#timeZone),
      serviceBusTriggerProvider(this.#settings, this.#broker),
      {
        type: 'eventgridtrigger',
        prepare: (fn) => {
          this.#broker.ensureQueue(eventGridDeliveryQueue(fn.name), { maxDeliveryCount: 30 });
          return undefined;
        },
      },
      ...extensions.flatMap((extension) => extension.triggers?.(this) ?? []),
    ];
    const outputs: OutputBindingProvider[] = [
      serviceBusOutputProvider(this.#settings, this.#broker),
      eventGridOutputProvider(this.#settings, this.#broker, () => this.#eventGridSubscriptions),
      ...extensions.flatMap((extension) => extension.outputs?.(this) ?? []),
    ];
    const inputs = extensions.flatMap((extension) => extension.inputs?.(this) ?? []);
    const providers = {
      triggers: new Map(triggers.map((provider) => [provider.type.toLowerCase(), provider])),
      outputs: new Map(outputs.map((provider) => [provider.type.toLowerCase(), provider])),
      inputs: new Map(inputs.map((provider) => [provider.type.toLowerCase(), provider])),
    };
    const byName = [...this.#registry.functions.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    this.#indexed = byName.map((fn) => indexFunction(fn, providers, this.#settings, this.#hostOptions.functions));

    this.#routes = new RouteTable<IndexedFunction>({ routePrefix: this.#hostOptions.http.routePrefix });
    for (const indexed of this.#indexed) {
      if (indexed.error || indexed.triggerType !== 'httptrigger') continue;
      const route = indexed.trigger['route'];
      try {
        this.#routes.add({
          functionName: indexed.fn.name,
          ...(typeof route === 'string' ? { route } : {}),
          methods: ((indexed.trigger['methods'] as string[] | undefined) ?? []).map((method) => method.toUpperCase()),
          target: indexed,
        });
      } catch (error) {
        if (!(error instanceof RouteIndexError)) throw error;
        indexed.disabled = true;
        indexed.error = error.message;
      }
    }
    for (const warning of this.#routes.warnings()) this.#logs.emit('warning', 'system', warning);
    for (const indexed of this.#indexed) {
      if (indexed.error) {
        this.#errors.push(indexed.error);
        this.#logs.emit('error', 'system', indexed.error);
      }
    }
    const eventGridFunctions = this.#indexed.filter((indexed) => indexed.triggerType === 'eventgridtrigger' && !indexed.error).map((indexed) => indexed.fn.name);
    this.#eventGridSubscriptions = loadEventGridSubscriptions(this.appDir, this.#settings.get(EVENT_GRID_SUBSCRIPTIONS_SETTING), eventGridFunctions);
  }

  private async listen(): Promise<void> {
    const enforce = (this.options.auth ?? (this.#settings.get('AZURE_FUNCTIONS_ENVIRONMENT') === 'Development' ? 'disabled' : 'enforce')) === 'enforce';
    const { keys, keyFile, generated } = loadHostKeys(this.#settings, this.#stateDir);
    if (enforce && generated) this.#logs.emit('information', 'system', `Generated host keys in ${keyFile} (readable only by this user).`);
    const authorizer = new KeyAuthorizer(keys, this.#settings);
    this.#authEnforced = enforce;
    this.#authorizer = authorizer;
    const execute = (indexed: IndexedFunction, input: InvocationInput): Promise<RpcInvocationResponse> => this.execute(indexed, input);
    const findFunction = (name: string): IndexedFunction | undefined => this.#indexed.find((indexed) => indexed.fn.name.toLowerCase() === name.toLowerCase());
    const extensions = this.#extensions;
    this.#frontDoor = new HttpFrontDoor({
      routes: this.#routes,
      authorizer,
      authEnforced: enforce,
      cors: new CorsPolicy({
        allowedOrigins: this.options.cors ?? this.#localSettings.host.cors ?? [],
        supportCredentials: this.options.corsCredentials ?? this.#localSettings.host.corsCredentials ?? false,
      }),
      limiter: new RequestLimiter(this.#hostOptions.http.maxConcurrentRequests, this.#hostOptions.http.maxOutstandingRequests),
      maxRequestBodyBytes: this.#hostOptions.http.maxRequestBodySizeBytes,
      stripIdentityHeaders: !(this.options.trustClientPrincipalHeaders ?? false),
      systemRoutes: [
        adminRoute({
          authorizer,
          authEnforced: enforce,
          functions: () => this.#indexed,
          status: () => this.status(),
          broker: this.#broker,
          invokeNonHttp: (indexed, input) => this.invokeFromAdmin(indexed, input),
        }),
        eventGridWebhookRoute({ findFunction, execute, authorizer, authEnforced: enforce }),
        ...extensions.flatMap((extension) => extension.routes?.(this) ?? []),
      ],
      execute,
      onError: (message, error) => this.#logs.emit('error', 'system', `${message}: ${(error as Error)?.stack ?? String(error)}`),
    });
    const port = this.options.port ?? this.#localSettings.host.localHttpPort ?? DEFAULT_PORT;
    const hostname = this.options.hostname ?? '127.0.0.1';
    let address;
    try {
      address = await this.#frontDoor.listen(port, hostname);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new HostConfigError(`Port ${port} is in use: stop what uses it or choose another with --port.`, '--port');
      throw error;
    }
    const shownHost = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname.includes(':') ? `[${hostname}]` : hostname;
    this.#baseUrl = `http://${shownHost}:${address.port}`;
    // durable-functions builds its management URLs from WEBSITE_HOSTNAME (and rewrites to localhost:7071 without it).
    this.env['WEBSITE_HOSTNAME'] = `${shownHost}:${address.port}`;
  }

  private startListeners(): void {
    const timeZone = this.#timeZone;
    const monitor = new FileScheduleMonitorStore(path.join(this.#stateDir, 'timers'));
    for (const indexed of this.#indexed) {
      if (indexed.disabled) continue;
      if (indexed.triggerType === 'timertrigger') {
        let listener: TimerListener;
        try {
          listener = createTimerListener(indexed, {
            monitor,
            ...(timeZone ? { timeZone } : {}),
            execute: (input) => this.execute(indexed, input),
            inputData: (data) => this.inputData(indexed, data),
            log: (level, message) => this.#logs.emit(level, 'system', message, { functionName: indexed.fn.name }),
          });
        } catch (error) {
          // An invalid retry policy is only found here; it disables the timer like any indexing error.
          indexed.disabled = true;
          indexed.error = `The function '${indexed.fn.name}' cannot run: ${(error as Error).message}`;
          this.#errors.push(indexed.error);
          this.#logs.emit('error', 'system', indexed.error);
          continue;
        }
        this.#timers.set(indexed.fn.name, listener);
        void listener.start();
      } else if (indexed.triggerType === 'servicebustrigger') {
        const target = indexed.prepared as ServiceBusTriggerTarget;
        this.#receivers.push(
          startReceiver(this.#broker, target.entityPath, {
            maxConcurrentCalls: this.#hostOptions.serviceBus.maxConcurrentCalls,
            maxAutoLockRenewalDurationMs: this.#hostOptions.serviceBus.maxAutoLockRenewalDurationMs,
            handler: async (message) => {
              await this.execute(indexed, this.serviceBusInput(indexed, message));
            },
            onError: (error) => this.#logs.emit('warning', 'system', `Service Bus settlement on '${target.entityPath}' failed: ${(error as Error).message}`, { functionName: indexed.fn.name }),
          }),
        );
      } else if (indexed.triggerType === 'eventgridtrigger') {
        this.#receivers.push(
          startReceiver(this.#broker, eventGridDeliveryQueue(indexed.fn.name), {
            maxConcurrentCalls: this.#hostOptions.serviceBus.maxConcurrentCalls,
            handler: async (message) => {
              await this.execute(indexed, eventGridInvocationInput(indexed, JSON.parse(message.body.toString('utf8'))));
            },
            onError: (error) => this.#logs.emit('warning', 'system', `Event Grid delivery failed: ${(error as Error).message}`, { functionName: indexed.fn.name }),
          }),
        );
      }
    }
  }

  private serviceBusInput(indexed: IndexedFunction, message: BrokeredMessage): InvocationInput {
    const { data, triggerMetadata } = buildServiceBusTriggerInput(message, (indexed.prepared as ServiceBusTriggerTarget).dataType);
    return { inputData: this.inputData(indexed, data), triggerMetadata };
  }

  /** `POST /admin/functions/{name}`: runs a non-HTTP function with the given input, as the real admin API. */
  private invokeFromAdmin(indexed: IndexedFunction, input: string): void {
    const reason = 'This function was programmatically called via the host APIs.';
    const run = async (): Promise<unknown> => {
      switch (indexed.triggerType) {
        case 'timertrigger': {
          const timer = this.#timers.get(indexed.fn.name);
          return timer?.fireNow();
        }
        case 'servicebustrigger': {
          const now = new Date();
          const message: BrokeredMessage = {
            body: Buffer.from(input, 'utf8'),
            messageId: randomUUID().replace(/-/g, ''),
            sequenceNumber: 0,
            enqueuedTimeUtc: now,
            expiresAtUtc: undefined,
            deliveryCount: 1,
            applicationProperties: {},
            state: 'active',
          };
          return this.execute(indexed, { ...this.serviceBusInput(indexed, message), reason });
        }
        case 'eventgridtrigger': {
          const [event] = normalizeEvents([JSON.parse(input)], undefined);
          return this.execute(indexed, { ...eventGridInvocationInput(indexed, event!), reason });
        }
        default:
          return this.execute(indexed, { inputData: this.inputData(indexed, { string: input }), reason });
      }
    };
    run().catch((error: unknown) => this.#logs.emit('error', 'system', `Admin invocation of '${indexed.fn.name}' failed: ${(error as Error).message}`, { functionName: indexed.fn.name }));
  }
}
