import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RpcInvocationResponse, RpcTypedData } from '../core/coreApi.js';
import type { InvocationInput } from '../core/invoker.js';
import { fromTypedData } from '../core/typedData.js';
import type { IndexedFunction } from '../indexing/functionIndex.js';
import * as history from './historyEvents.js';
import { EventType, type FailureDetails, OrchestrationStatus, type HistoryEvent, type OrchestratorState } from './historyEvents.js';
import { ActionReplayer, checkExternalEventName, HTTP_ACTIVITY_NAME, filterDuplicateCompletions, type NewDurableTask, type ReplayResult } from './replayer.js';
import {
  type InstanceQuery,
  type InstanceRecord,
  type RuntimeStatus,
  TaskHubRequestError,
  type TaskHubClient,
  TERMINAL_STATUSES,
} from './taskHubClient.js';
import type { EpisodeCommit, InboxMessage, InstanceState, NewInboxMessage, NewWorkItem, TaskHubStore, WorkItem } from './taskHubStore.js';

/** What the engine needs from the host: the app's functions and the invocation pipeline. */
export interface EngineHost {
  findFunction(name: string): IndexedFunction | undefined;
  execute(indexed: IndexedFunction, input: InvocationInput): Promise<RpcInvocationResponse>;
  log(level: 'debug' | 'information' | 'warning' | 'error', message: string): void;
}

export interface EngineOptions {
  taskHubName: string;
  maxConcurrentOrchestrations: number;
  maxConcurrentActivities: number;
  /** Timer limits advertised to the library (spec §3); the embedded store has no timer-length limit. */
  maximumShortTimerDuration: string;
  longRunningTimerIntervalDuration: string;
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
  /** Production caps an orchestration's actions; the same cap applies here. */
  maxOrchestrationActions: number;
  /** Timeout of a `callHttp` request. */
  httpTimeoutMs: number;
  /**
   * Compare the replayer's open task ids with the library's own after each episode (spec 6.2 step 4). It reads
   * durable-functions internals (pinned at 3.5.0) and catches patterns the action list cannot show, such as an
   * already-completed task yielded again inside Task.any. Skipped when the internals are not found.
   */
  crossCheck: boolean;
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'taskHubName'> = {
  maxConcurrentOrchestrations: 32,
  maxConcurrentActivities: 32,
  maximumShortTimerDuration: '36500.00:00:00',
  longRunningTimerIntervalDuration: '3.00:00:00',
  defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  maxOrchestrationActions: 100_000,
  httpTimeoutMs: 100_000,
  crossCheck: true,
};

/** What durable-functions itself believes after an episode: its open task ids and next sequence number. */
interface LibraryReplayView {
  openTaskIds: number[];
  sequenceNumber: number;
}

/** Reads the library's task executor from the invocation context (internal API of durable-functions 3.x). */
function libraryReplayView(context: unknown): LibraryReplayView | undefined {
  const executor = (context as { df?: { taskOrchestratorExecutor?: { openTasks?: Record<string, unknown>; sequenceNumber?: unknown } } } | undefined)?.df?.taskOrchestratorExecutor;
  if (!executor || typeof executor.sequenceNumber !== 'number' || typeof executor.openTasks !== 'object' || executor.openTasks === null) return undefined;
  const openTaskIds = Object.keys(executor.openTasks)
    .filter((key) => /^\d+$/.test(key))
    .map(Number)
    .sort((a, b) => a - b);
  return { openTaskIds, sequenceNumber: executor.sequenceNumber };
}

/** A mismatch between the library's and the replayer's view of a running orchestration, or undefined. */
function crossCheckProblem(name: string, state: OrchestratorState, replay: ReplayResult, view: LibraryReplayView | undefined): string | undefined {
  if (!view || state.isDone || (state.error !== undefined && state.error !== null)) return undefined;
  const hostIds = replay.openTaskIds.join(',');
  if (view.openTaskIds.join(',') === hostIds && view.sequenceNumber === replay.nextSequenceNumber) return undefined;
  return (
    `Orchestrator function '${name}' failed: replay divergence: durable-functions has open tasks [${view.openTaskIds.join(',')}] (next id ${view.sequenceNumber}) ` +
    `but the history implies [${hostIds}] (next id ${replay.nextSequenceNumber}). This happens when an already-yielded task is passed to Task.all/Task.any again, which Durable Functions does not support.`
  );
}

/** The failure-data marker durable-functions puts in an orchestrator's error message. */
const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';
const SCHEMA = { upperSchemaVersion: 1, upperSchemaVersionNew: 2 } as const;
const HISTORY_CACHE_LIMIT = 5_000;
const INSTANCE_ID = /^[^/\\#?\u0000-\u001f\u007f]{1,256}$/;

/** The cached history of an instance's current execution. */
interface CachedHistory {
  executionId: string;
  /** Serialized with IsPlayed: true, ready to splice into the next trigger. */
  playedJson: string[];
  /** Pristine parsed events (the library mutates its own copy, never these). */
  events: HistoryEvent[];
}

function serialize(event: HistoryEvent, played: boolean): string {
  return JSON.stringify({ ...event, IsPlayed: played });
}

/** Activity input as the worker delivers it: strings JSON-parsed when possible (spec §9). */
function activityInputData(payload: string | null): RpcTypedData {
  if (payload === null) return {};
  const value: unknown = JSON.parse(payload);
  if (value === undefined || value === null) return {};
  return typeof value === 'string' ? { string: value } : { json: JSON.stringify(value) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs orchestrations durably over a {@link TaskHubStore}: one episode at a time per instance, every inbox
 * message visible for it delivered in that episode, the app's orchestrator invoked through the host's
 * normal pipeline (durable-functions replays it), its actions reconciled by the {@link ActionReplayer}, and
 * the resulting history, timers, work items and messages committed in one transaction.
 */
export class OrchestrationEngine implements TaskHubClient {
  readonly taskHubName: string;
  readonly #options: EngineOptions;
  readonly #replayer: ActionReplayer;
  readonly #cache = new Map<string, CachedHistory>();
  readonly #ready = new Set<string>();
  readonly #runningEpisodes = new Set<string>();
  readonly #events = new EventEmitter();
  #runningActivities = 0;
  #pumpScheduled = false;
  #activityFetchScheduled = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #stopped = true;
  #idle: Array<() => void> = [];
  readonly #pendingCompletions: Array<{ workItemId: number; completion: NewInboxMessage }> = [];
  readonly stats = { episodes: 0, activities: 0, historyEventsReplayed: 0 };

  constructor(
    private readonly store: TaskHubStore,
    private readonly host: EngineHost,
    options: EngineOptions,
  ) {
    this.#options = options;
    this.taskHubName = options.taskHubName;
    this.#replayer = new ActionReplayer({
      maximumShortTimerDuration: options.maximumShortTimerDuration,
      longRunningTimerIntervalDuration: options.longRunningTimerIntervalDuration,
      defaultHttpAsyncRequestSleepTimeMillseconds: options.defaultHttpAsyncRequestSleepTimeMillseconds,
      schemaVersion: SCHEMA.upperSchemaVersionNew,
    });
    this.#events.setMaxListeners(0);
  }

  /** Picks up whatever the store holds (instances with messages, timers, unfinished work) and starts. */
  start(): void {
    this.#stopped = false;
    for (const id of this.store.readyInstances(Date.now())) this.#ready.add(id);
    this.armWake(this.store.nextVisibleAt(Date.now()));
    this.schedulePump();
    this.scheduleActivityFetch();
  }

  /** Stops taking work and waits for running episodes and activities. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#wakeTimer);
    if (this.#runningEpisodes.size > 0 || this.#runningActivities > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.flushCompletions();
  }

  // ------------------------------------------------------------------------------------------ scheduling

  private schedulePump(): void {
    if (this.#pumpScheduled || this.#stopped) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.#stopped) return;
    for (const instanceId of this.#ready) {
      if (this.#runningEpisodes.size >= this.#options.maxConcurrentOrchestrations) break;
      if (this.#runningEpisodes.has(instanceId)) continue;
      this.#ready.delete(instanceId);
      this.#runningEpisodes.add(instanceId);
      this.runEpisode(instanceId)
        .catch((error: unknown) => this.host.log('error', `Episode of instance '${instanceId}' failed unexpectedly: ${(error as Error)?.stack ?? String(error)}`))
        .finally(() => {
          this.#runningEpisodes.delete(instanceId);
          this.schedulePump();
          this.checkIdle();
        });
    }
  }

  private checkIdle(): void {
    if (this.#runningEpisodes.size === 0 && this.#runningActivities === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  private markReady(instanceId: string): void {
    this.#ready.add(instanceId);
    this.schedulePump();
  }

  /** Arms one timer for the earliest future inbox visibility (timers); chained for long waits. */
  private armWake(at: number | undefined): void {
    if (at === undefined || this.#stopped || at >= this.#wakeAt) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    const delay = Math.min(Math.max(0, at - Date.now()), 2_147_483_647);
    this.#wakeTimer = setTimeout(() => {
      this.#wakeAt = Number.POSITIVE_INFINITY;
      const now = Date.now();
      for (const id of this.store.readyInstances(now)) this.markReady(id);
      this.armWake(this.store.nextVisibleAt(now));
    }, delay);
  }

  /** Makes what a commit wrote known to the schedulers. */
  private afterWrite(messages: readonly NewInboxMessage[], workItems: number): void {
    const now = Date.now();
    for (const message of messages) {
      if (message.visibleAt <= now) this.markReady(message.instanceId);
      else this.armWake(message.visibleAt);
    }
    if (workItems > 0) this.scheduleActivityFetch();
  }

  // ------------------------------------------------------------------------------------------ episodes

  private history(instance: InstanceState): CachedHistory {
    let cached = this.#cache.get(instance.instanceId);
    if (!cached || cached.executionId !== instance.executionId) {
      const json = this.store.getHistoryJson(instance.instanceId);
      const events = json.map((text) => JSON.parse(text) as HistoryEvent);
      cached = { executionId: instance.executionId, events, playedJson: events.map((event) => serialize(event, true)) };
      this.#cache.set(instance.instanceId, cached);
      if (this.#cache.size > HISTORY_CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    return cached;
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const instance = this.store.getInstance(instanceId);
    const now = Date.now();
    const inbox = this.store.visibleInbox(instanceId, now);
    if (inbox.length === 0) return;
    if (!instance) {
      // Messages for a purged instance are dropped.
      this.commitDrop(instanceId, inbox);
      return;
    }
    const relevant: Array<{ message: InboxMessage; event: HistoryEvent }> = [];
    const dropped: number[] = [];
    for (const message of inbox) {
      if (message.executionId !== null && message.executionId !== instance.executionId) dropped.push(message.id);
      else relevant.push({ message, event: JSON.parse(message.eventJson) as HistoryEvent });
    }
    if (TERMINAL_STATUSES.has(instance.runtimeStatus)) {
      // Late messages for a finished instance are discarded.
      this.store.commit({ instanceId, instance, appendHistory: [], consumedInbox: inbox.map((m) => m.id), newInbox: [], newWorkItems: [] });
      return;
    }
    const cached = this.history(instance);

    if (instance.runtimeStatus === 'Suspended') {
      const control = relevant.findIndex(({ event }) => event.EventType === EventType.ExecutionResumed || event.EventType === EventType.ExecutionTerminated);
      if (control < 0) {
        if (dropped.length) this.store.commit({ instanceId, instance, appendHistory: [], consumedInbox: dropped, newInbox: [], newWorkItems: [] });
        return;
      }
    } else {
      const suspendAt = relevant.findIndex(({ event }) => event.EventType === EventType.ExecutionSuspended);
      if (suspendAt >= 0) {
        // Deliver what came before the suspension; hold the rest in the inbox until resumed.
        const before = relevant.slice(0, suspendAt);
        const suspend = relevant[suspendAt]!;
        if (before.length > 0) {
          await this.deliver(instance, cached, before, dropped, now);
          this.markReady(instanceId);
          return;
        }
        const ts = Math.max(now, instance.lastEpisodeTimestamp);
        const events = [history.orchestratorStarted(new Date(ts).toISOString()), suspend.event, history.orchestratorCompleted(new Date(ts).toISOString())];
        this.commitEpisode(instance, cached, events, [...dropped, suspend.message.id], { ...instance, runtimeStatus: 'Suspended', lastUpdatedTime: new Date(), lastEpisodeTimestamp: ts }, [], []);
        this.markReady(instanceId);
        return;
      }
    }
    await this.deliver(instance, cached, relevant, dropped, now);
  }

  private commitDrop(instanceId: string, inbox: readonly InboxMessage[]): void {
    this.store.deleteInbox(inbox.map((message) => message.id));
    this.#cache.delete(instanceId);
  }

  /** One episode over `messages` (already filtered to the current execution). */
  private async deliver(
    instance: InstanceState,
    cached: CachedHistory,
    messages: ReadonlyArray<{ message: InboxMessage; event: HistoryEvent }>,
    dropped: readonly number[],
    now: number,
  ): Promise<void> {
    const consumed = [...dropped, ...messages.map(({ message }) => message.id)];
    const started = messages.find(({ event }) => event.EventType === EventType.ExecutionStarted)?.event;
    const terminated = messages.find(({ event }) => event.EventType === EventType.ExecutionTerminated)?.event;
    // Activities run at least once: a second completion for the same task is dropped (DTFx logs it).
    const { accepted: inbound } = filterDuplicateCompletions(
      cached.events,
      messages.map(({ event }) => event).filter((event) => event !== started),
    );
    const isFirstEpisode = cached.events.length === 0;
    if (isFirstEpisode && !started) {
      // Nothing can be delivered before the execution has started; keep the messages.
      if (dropped.length) this.store.commit({ instanceId: instance.instanceId, instance, appendHistory: [], consumedInbox: dropped, newInbox: [], newWorkItems: [] });
      return;
    }
    let ts = Math.max(now, instance.lastEpisodeTimestamp);
    for (const event of inbound) if (event.EventType === EventType.TimerFired) ts = Math.max(ts, Date.parse(event.FireAt));
    const timestamp = new Date(ts).toISOString();
    const newEvents: HistoryEvent[] = [history.orchestratorStarted(timestamp), ...(started ? [started] : []), ...inbound.filter((event) => event !== terminated)];
    const base: InstanceState = { ...instance, lastEpisodeTimestamp: ts, lastUpdatedTime: new Date() };

    if (terminated) {
      const reason = 'Input' in terminated ? (terminated.Input as string | null) : null;
      const events = [
        history.orchestratorStarted(timestamp),
        ...(started ? [started] : []),
        terminated,
        history.executionCompleted(timestamp, instance.nextSequenceNumber, OrchestrationStatus.Terminated, reason, null),
        history.orchestratorCompleted(timestamp),
      ];
      const parent = this.parentNotification(instance, false, reason ?? '', '', null);
      this.commitEpisode(instance, cached, events, consumed, { ...base, runtimeStatus: 'Terminated', output: reason }, parent, []);
      return;
    }
    if (base.runtimeStatus === 'Suspended') base.runtimeStatus = 'Running';
    if (base.runtimeStatus === 'Pending') base.runtimeStatus = 'Running';

    const orchestrator = this.host.findFunction(instance.name);
    if (!orchestrator || orchestrator.disabled || orchestrator.triggerType !== 'orchestrationtrigger') {
      this.failInstance(instance, cached, base, newEvents, consumed, timestamp, 0, `The function '${instance.name}' doesn't exist, is disabled, or is not an orchestrator function.`, '');
      return;
    }

    // The trigger payload, as the extension serializes it (a fresh string per episode: the library mutates
    // what it parses, never our history).
    const newJson = newEvents.map((event) => serialize(event, false));
    const triggerJson =
      `{"history":[${[...cached.playedJson, ...newJson].join(',')}],"input":${instance.input ?? 'null'},` +
      `"instanceId":${JSON.stringify(instance.instanceId)},"isReplaying":${cached.events.length > 0},` +
      `"parentInstanceId":${JSON.stringify(instance.parentInstanceId)},"upperSchemaVersion":${SCHEMA.upperSchemaVersion},` +
      `"upperSchemaVersionNew":${SCHEMA.upperSchemaVersionNew},"longRunningTimerIntervalDuration":${JSON.stringify(this.#options.longRunningTimerIntervalDuration)},` +
      `"maximumShortTimerDuration":${JSON.stringify(this.#options.maximumShortTimerDuration)},` +
      `"defaultHttpAsyncRequestSleepTimeMillseconds":${this.#options.defaultHttpAsyncRequestSleepTimeMillseconds}}`;

    let state: OrchestratorState | undefined;
    let thrown: unknown;
    let libraryView: LibraryReplayView | undefined;
    try {
      const response = await this.host.execute(orchestrator, {
        inputData: [{ name: orchestrator.trigger.name, data: { string: triggerJson } }, ...[...orchestrator.inputs].map(([name, prepared]) => ({ name, data: prepared.data() }))],
        triggerMetadata: { instanceId: { string: instance.instanceId } },
        reason: 'Orchestration episode',
        ...(this.#options.crossCheck ? { inspectContext: (context: unknown) => (libraryView = libraryReplayView(context)) } : {}),
      });
      state = fromTypedData(response.returnValue) as OrchestratorState | undefined;
    } catch (error) {
      thrown = error;
      const message = errorMessage(error);
      const index = message.indexOf(OUT_OF_PROC_LABEL);
      if (index >= 0) state = JSON.parse(message.slice(index + OUT_OF_PROC_LABEL.length)) as OrchestratorState;
    }
    this.stats.episodes++;
    this.stats.historyEventsReplayed += cached.events.length + newEvents.length;
    if (!state || !Array.isArray(state.actions)) {
      const message = thrown ? errorMessage(thrown) : 'the orchestrator returned no orchestration state';
      this.failInstance(instance, cached, base, newEvents, consumed, timestamp, 0, `Orchestrator function '${instance.name}' failed: ${message}`, (thrown as Error | undefined)?.stack ?? '');
      return;
    }
    const actions = state.actions[0] ?? [];
    const replay = this.#replayer.run(actions, [...cached.events, ...newEvents]);
    this.host.log(
      'debug',
      `Episode of '${instance.instanceId}' (${instance.name}): ${newEvents.length} new events, ${actions.length} actions, isDone=${state.isDone}, ` +
        `new tasks=${replay.newTasks.length}, open=${replay.open}, unconsumed=${replay.unconsumedActions}, lastActionPending=${replay.lastActionPending}.`,
    );
    const failure = this.replayProblem(instance.name, state, replay, actions.length) ?? crossCheckProblem(instance.name, state, replay, libraryView);
    if (failure) {
      this.failInstance(instance, cached, base, newEvents, consumed, timestamp, replay.nextSequenceNumber, failure, failure);
      return;
    }

    const appended: HistoryEvent[] = [...newEvents];
    const newInbox: NewInboxMessage[] = [];
    const newWorkItems: NewWorkItem[] = [];
    const createInstances: InstanceState[] = [];
    for (const task of replay.newTasks) {
      const problem = this.schedule(instance, task, timestamp, appended, newInbox, newWorkItems, createInstances);
      if (problem) {
        this.failInstance(instance, cached, base, newEvents, consumed, timestamp, replay.nextSequenceNumber, `Orchestrator function '${instance.name}' failed: ${problem}`, '');
        return;
      }
    }

    const next: InstanceState = {
      ...base,
      customStatus: state.customStatus === undefined || state.customStatus === null ? null : JSON.stringify(state.customStatus),
      nextSequenceNumber: replay.nextSequenceNumber,
    };
    let parent: NewInboxMessage[] = [];
    let continueAsNew: { input: string | null } | undefined;
    const hasError = state.error !== undefined && state.error !== null;
    if (hasError && replay.open === 0) {
      // DTFx completes an instance only once it has no open tasks.
      const reason = `Orchestrator function '${instance.name}' failed: ${state.error}`;
      appended.push(history.executionCompleted(timestamp, replay.nextSequenceNumber, OrchestrationStatus.Failed, reason, null));
      next.runtimeStatus = 'Failed';
      next.output = reason;
      parent = this.parentNotification(instance, false, reason, `Message: ${state.error}, StackTrace: ${(thrown as Error | undefined)?.stack ?? ''}`, null);
    } else if (!hasError && state.isDone && replay.open === 0) {
      if (replay.continueAsNew) {
        const input = replay.continueAsNew.input === undefined ? null : JSON.stringify(replay.continueAsNew.input);
        appended.push(history.continueAsNew(timestamp, replay.nextSequenceNumber, input));
        continueAsNew = { input };
      } else {
        const output = state.output === undefined ? null : JSON.stringify(state.output);
        appended.push(history.executionCompleted(timestamp, replay.nextSequenceNumber, OrchestrationStatus.Completed, output, null));
        next.runtimeStatus = 'Completed';
        next.output = output;
        parent = this.parentNotification(instance, true, output, '', null);
      }
    }
    appended.push(history.orchestratorCompleted(timestamp));

    if (continueAsNew) {
      // A new execution: new id, empty history, the counter reset; messages for the old execution are dropped.
      const executionId = randomUUID().replace(/-/g, '');
      const restarted: InstanceState = { ...next, executionId, runtimeStatus: 'Running', input: continueAsNew.input, output: null, nextSequenceNumber: 0 };
      const startedEvent = history.executionStarted(new Date().toISOString(), {
        instanceId: instance.instanceId,
        executionId,
        name: instance.name,
        version: instance.version,
        input: continueAsNew.input,
        parent: this.parentReference(instance),
      });
      const message: NewInboxMessage = { instanceId: instance.instanceId, executionId, eventJson: JSON.stringify(startedEvent), visibleAt: 0 };
      this.store.commit({ instanceId: instance.instanceId, instance: restarted, appendHistory: [], resetHistory: true, consumedInbox: consumed, newInbox: [message], newWorkItems: [] });
      this.#cache.delete(instance.instanceId);
      this.afterWrite([message], 0);
      return;
    }
    this.commitEpisode(instance, cached, appended, consumed, next, [...newInbox, ...parent], newWorkItems, createInstances);
  }

  /** Why a replay cannot go on (non-determinism, unsupported actions, divergence), or undefined. */
  private replayProblem(name: string, state: OrchestratorState, replay: ReplayResult, actionCount: number): string | undefined {
    if (replay.nonDeterminism.length > 0) return `Non-Deterministic workflow detected: ${replay.nonDeterminism[0]}`;
    if (replay.unsupported.length > 0) return `Orchestrator function '${name}' failed: ${replay.unsupported.join('; ')}`;
    const failed = state.error !== undefined && state.error !== null;
    if (!failed && (replay.unconsumedActions > 0 || (state.isDone && replay.lastActionPending && !replay.continueAsNew))) {
      return `Orchestrator function '${name}' failed: replay divergence (the orchestrator's actions could not be matched to its history; an already-yielded task was probably passed to Task.all/Task.any again, which Durable Functions does not support).`;
    }
    if (actionCount > this.#options.maxOrchestrationActions) {
      return `Orchestrator function '${name}' failed: it scheduled more than ${this.#options.maxOrchestrationActions} actions (maxOrchestrationActions); use continueAsNew or sub-orchestrations.`;
    }
    return undefined;
  }

  /** Adds the scheduling event and the work for one new durable task; returns a problem message instead when it cannot run. */
  private schedule(
    instance: InstanceState,
    task: NewDurableTask,
    timestamp: string,
    appended: HistoryEvent[],
    newInbox: NewInboxMessage[],
    newWorkItems: NewWorkItem[],
    createInstances: InstanceState[],
  ): string | undefined {
    const executionId = instance.executionId;
    const fail = (event: HistoryEvent): void => {
      newInbox.push({ instanceId: instance.instanceId, executionId, eventJson: JSON.stringify(event), visibleAt: 0 });
    };
    if (task.alreadyCompleted) {
      // Its completion is already in history: record the scheduling event only.
      appended.push(
        task.kind === 'timer'
          ? history.timerCreated(timestamp, task.id, task.fireAt!)
          : task.kind === 'suborchestration'
            ? history.subOrchestrationCreated(timestamp, task.id, task.name ?? '', task.instanceId ?? `${executionId}:${task.id}`, task.input === undefined ? null : JSON.stringify(task.input))
            : history.taskScheduled(timestamp, task.id, task.kind === 'http' ? HTTP_ACTIVITY_NAME : (task.name ?? ''), task.input === undefined ? null : JSON.stringify(task.input)),
      );
      return undefined;
    }
    switch (task.kind) {
      case 'activity': {
        const activity = this.host.findFunction(task.name ?? '');
        if (!activity || activity.disabled || activity.triggerType !== 'activitytrigger') {
          return `The function '${task.name}' doesn't exist, is disabled, or is not an activity function.`;
        }
        const payload = task.input === undefined ? null : JSON.stringify(task.input);
        appended.push(history.taskScheduled(timestamp, task.id, task.name!, payload));
        if (task.fastFail) fail(history.taskFailed(timestamp, task.id, task.fastFail.reason, task.fastFail.details, task.fastFail.failureDetails ?? null));
        else newWorkItems.push({ instanceId: instance.instanceId, executionId, taskId: task.id, kind: 'activity', name: activity.fn.name, payload });
        return undefined;
      }
      case 'http': {
        const payload = JSON.stringify(task.httpRequest ?? null);
        appended.push(history.taskScheduled(timestamp, task.id, HTTP_ACTIVITY_NAME, payload));
        if (task.fastFail) fail(history.taskFailed(timestamp, task.id, task.fastFail.reason, task.fastFail.details, task.fastFail.failureDetails ?? null));
        else newWorkItems.push({ instanceId: instance.instanceId, executionId, taskId: task.id, kind: 'http', name: HTTP_ACTIVITY_NAME, payload });
        return undefined;
      }
      case 'timer': {
        const fireAt = task.fireAt!;
        appended.push(history.timerCreated(timestamp, task.id, fireAt));
        newInbox.push({ instanceId: instance.instanceId, executionId, eventJson: JSON.stringify(history.timerFired(fireAt, task.id, fireAt)), visibleAt: Date.parse(fireAt) });
        return undefined;
      }
      case 'suborchestration': {
        const child = this.host.findFunction(task.name ?? '');
        if (!child || child.disabled || child.triggerType !== 'orchestrationtrigger') {
          return `The function '${task.name}' doesn't exist, is disabled, or is not an orchestrator function.`;
        }
        const childId = task.instanceId ?? `${executionId}:${task.id}`;
        const input = task.input === undefined ? null : JSON.stringify(task.input);
        appended.push(history.subOrchestrationCreated(timestamp, task.id, child.fn.name, childId, input));
        if (task.fastFail) {
          fail(history.subOrchestrationFailed(timestamp, task.id, task.fastFail.reason, task.fastFail.details, task.fastFail.failureDetails ?? null));
          return undefined;
        }
        const existing = this.store.getInstance(childId);
        if (existing && !TERMINAL_STATUSES.has(existing.runtimeStatus)) {
          fail(history.subOrchestrationFailed(timestamp, task.id, `An orchestration with instance ID '${childId}' already exists and is ${existing.runtimeStatus}.`, '', null));
          return undefined;
        }
        const childExecutionId = randomUUID().replace(/-/g, '');
        const now = new Date();
        createInstances.push({
          instanceId: childId,
          name: child.fn.name,
          version: task.version ?? '',
          executionId: childExecutionId,
          runtimeStatus: 'Pending',
          input,
          output: null,
          customStatus: null,
          createdTime: now,
          lastUpdatedTime: now,
          parentInstanceId: instance.instanceId,
          parentExecutionId: executionId,
          parentName: instance.name,
          parentTaskId: task.id,
          nextSequenceNumber: 0,
          lastEpisodeTimestamp: 0,
        });
        const started = history.executionStarted(now.toISOString(), {
          instanceId: childId,
          executionId: childExecutionId,
          name: child.fn.name,
          version: task.version ?? '',
          input,
          parent: { instanceId: instance.instanceId, executionId, name: instance.name, taskScheduleId: task.id },
        });
        newInbox.push({ instanceId: childId, executionId: childExecutionId, eventJson: JSON.stringify(started), visibleAt: 0 });
        this.#cache.delete(childId);
        return undefined;
      }
      default:
        return `the durable task kind '${String((task as { kind: unknown }).kind)}' is not supported.`;
    }
  }

  private parentReference(instance: InstanceState): { instanceId: string; executionId: string; name: string; taskScheduleId: number } | null {
    if (!instance.parentInstanceId || !instance.parentExecutionId || instance.parentTaskId === null) return null;
    return { instanceId: instance.parentInstanceId, executionId: instance.parentExecutionId, name: instance.parentName ?? '', taskScheduleId: instance.parentTaskId };
  }

  /** The message that tells a parent orchestration its sub-orchestration finished. */
  private parentNotification(instance: InstanceState, succeeded: boolean, result: string | null, details: string, failureDetails: FailureDetails | null): NewInboxMessage[] {
    const parent = this.parentReference(instance);
    if (!parent) return [];
    const timestamp = new Date().toISOString();
    const event = succeeded
      ? history.subOrchestrationCompleted(timestamp, parent.taskScheduleId, result)
      : history.subOrchestrationFailed(timestamp, parent.taskScheduleId, result ?? '', details, failureDetails);
    return [{ instanceId: parent.instanceId, executionId: parent.executionId, eventJson: JSON.stringify(event), visibleAt: 0 }];
  }

  private failInstance(
    instance: InstanceState,
    cached: CachedHistory,
    base: InstanceState,
    newEvents: readonly HistoryEvent[],
    consumed: readonly number[],
    timestamp: string,
    sequenceNumber: number,
    reason: string,
    details: string,
  ): void {
    this.host.log('error', `Orchestration '${instance.instanceId}' (${instance.name}) failed: ${reason}`);
    const events = [...newEvents, history.executionCompleted(timestamp, sequenceNumber, OrchestrationStatus.Failed, reason, null), history.orchestratorCompleted(timestamp)];
    this.commitEpisode(instance, cached, events, consumed, { ...base, runtimeStatus: 'Failed', output: reason }, this.parentNotification(instance, false, reason, details, null), []);
  }

  private commitEpisode(
    instance: InstanceState,
    cached: CachedHistory,
    events: readonly HistoryEvent[],
    consumed: readonly number[],
    next: InstanceState,
    newInbox: readonly NewInboxMessage[],
    newWorkItems: readonly NewWorkItem[],
    createInstances: readonly InstanceState[] = [],
  ): void {
    const playedJson = events.map((event) => serialize(event, true));
    const change: EpisodeCommit = { instanceId: instance.instanceId, instance: next, appendHistory: playedJson, consumedInbox: consumed, newInbox, newWorkItems, createInstances };
    this.store.commit(change);
    cached.events.push(...events);
    cached.playedJson.push(...playedJson);
    if (TERMINAL_STATUSES.has(next.runtimeStatus)) {
      this.#cache.delete(instance.instanceId);
      this.#events.emit(`finished:${instance.instanceId}`);
    }
    this.afterWrite(newInbox, newWorkItems.length);
  }

  // ------------------------------------------------------------------------------------------ activities

  private scheduleActivityFetch(): void {
    if (this.#activityFetchScheduled || this.#stopped) return;
    this.#activityFetchScheduled = true;
    setImmediate(() => {
      this.#activityFetchScheduled = false;
      this.fetchActivities();
    });
  }

  private fetchActivities(): void {
    if (this.#stopped) return;
    const free = this.#options.maxConcurrentActivities - this.#runningActivities;
    if (free <= 0) return;
    // Leases last for this process's life: a new process releases them and runs the work again.
    const items = this.store.leaseWorkItems(Date.now(), Number.MAX_SAFE_INTEGER, free);
    for (const item of items) {
      this.#runningActivities++;
      this.runWorkItem(item)
        .then((completion) => this.queueCompletion(item.id, completion))
        .catch((error: unknown) => this.host.log('error', `Work item ${item.id} of '${item.instanceId}' failed unexpectedly: ${errorMessage(error)}`))
        .finally(() => {
          this.#runningActivities--;
          this.stats.activities++;
          this.scheduleActivityFetch();
          this.checkIdle();
        });
    }
  }

  private queueCompletion(workItemId: number, completion: NewInboxMessage): void {
    // Results finishing in the same turn share one transaction.
    this.#pendingCompletions.push({ workItemId, completion });
    if (this.#pendingCompletions.length === 1) setImmediate(() => this.flushCompletions());
  }

  private flushCompletions(): void {
    if (this.#pendingCompletions.length === 0) return;
    const batch = this.#pendingCompletions.splice(0);
    this.store.completeWorkItems(batch);
    this.afterWrite(
      batch.map(({ completion }) => completion),
      0,
    );
  }

  private async runWorkItem(item: WorkItem): Promise<NewInboxMessage> {
    const timestamp = (): string => new Date().toISOString();
    const message = (event: HistoryEvent): NewInboxMessage => ({ instanceId: item.instanceId, executionId: item.executionId, eventJson: JSON.stringify(event), visibleAt: 0 });
    if (item.kind === 'http') return message(await this.runHttpRequest(item, timestamp));
    const activity = this.host.findFunction(item.name);
    if (!activity || activity.disabled || activity.triggerType !== 'activitytrigger') {
      return message(history.taskFailed(timestamp(), item.taskId, `The function '${item.name}' doesn't exist, is disabled, or is not an activity function.`, '', null));
    }
    try {
      const response = await this.host.execute(activity, {
        inputData: [{ name: activity.trigger.name, data: activityInputData(item.payload) }, ...[...activity.inputs].map(([name, prepared]) => ({ name, data: prepared.data() }))],
        triggerMetadata: { instanceId: { string: item.instanceId } },
        reason: 'Activity scheduled by an orchestration',
      });
      const value = fromTypedData(response.returnValue);
      return message(history.taskCompleted(timestamp(), item.taskId, value === undefined ? null : JSON.stringify(value)));
    } catch (error) {
      return message(this.activityFailure(item, error, timestamp()));
    }
  }

  /** The legacy failure shape current extension bundles write for Node activities (spec §7). */
  private activityFailure(item: WorkItem, error: unknown, timestamp: string): HistoryEvent {
    const failure = error instanceof Error ? error : new Error(String(error));
    const reason = `Activity function '${item.name}' failed: ${failure.message}`;
    const details = JSON.stringify({
      $type: 'System.Exception, System.Private.CoreLib',
      ClassName: 'System.Exception',
      Message: failure.message,
      InnerException: { ClassName: 'Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException', Message: `Result: Failure\nException: ${failure.message}\nStack: ${failure.stack ?? ''}` },
    });
    return history.taskFailed(timestamp, item.taskId, reason, details, null);
  }

  private async runHttpRequest(item: WorkItem, timestamp: () => string): Promise<HistoryEvent> {
    const request = JSON.parse(item.payload ?? 'null') as { method: string; uri: string; content?: string; headers?: Record<string, string> } | null;
    if (!request) return history.taskFailed(timestamp(), item.taskId, 'The HTTP request is missing.', '', null);
    try {
      const response = await fetch(request.uri, {
        method: request.method,
        ...(request.headers ? { headers: request.headers } : {}),
        ...(request.content !== undefined ? { body: request.content } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.httpTimeoutMs),
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const content = await response.text();
      return history.taskCompleted(timestamp(), item.taskId, JSON.stringify({ statusCode: response.status, headers, content }));
    } catch (error) {
      return this.activityFailure({ ...item, name: HTTP_ACTIVITY_NAME }, error, timestamp());
    }
  }

  // ------------------------------------------------------------------------------------------ client operations

  startNew(name: string, options: { instanceId?: string; input: string | null; version?: string }): string {
    const orchestrator = this.host.findFunction(name);
    if (!orchestrator || orchestrator.disabled || orchestrator.triggerType !== 'orchestrationtrigger') {
      throw new TaskHubRequestError(400, `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    }
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    if (!INSTANCE_ID.test(instanceId) || instanceId.startsWith('@')) {
      throw new TaskHubRequestError(400, 'Orchestration instance ids must be 1-256 characters, must not start with @ and must not contain /, \\, #, ? or control characters.');
    }
    const existing = this.store.getInstance(instanceId);
    if (existing && !TERMINAL_STATUSES.has(existing.runtimeStatus)) {
      throw new TaskHubRequestError(409, `An orchestration instance with the ID '${instanceId}' already exists and is ${existing.runtimeStatus}.`);
    }
    const executionId = randomUUID().replace(/-/g, '');
    const now = new Date();
    const state: InstanceState = {
      instanceId,
      name: orchestrator.fn.name,
      version: options.version ?? '',
      executionId,
      runtimeStatus: 'Pending',
      input: options.input,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      parentInstanceId: null,
      parentExecutionId: null,
      parentName: null,
      parentTaskId: null,
      nextSequenceNumber: 0,
      lastEpisodeTimestamp: 0,
    };
    const started = history.executionStarted(now.toISOString(), { instanceId, executionId, name: orchestrator.fn.name, version: options.version ?? '', input: options.input, parent: null });
    const message: NewInboxMessage = { instanceId, executionId, eventJson: JSON.stringify(started), visibleAt: 0 };
    this.store.createInstance(state, message);
    this.#cache.delete(instanceId);
    this.afterWrite([message], 0);
    return instanceId;
  }

  getInstance(instanceId: string): InstanceRecord | undefined {
    return this.store.getInstance(instanceId);
  }

  getHistory(instanceId: string): HistoryEvent[] {
    return this.store.getHistoryJson(instanceId).map((text) => JSON.parse(text) as HistoryEvent);
  }

  listInstances(query: InstanceQuery): { instances: InstanceRecord[]; continuationToken: string | undefined } {
    try {
      return this.store.listInstances(query);
    } catch (error) {
      if (query.continuationToken && error instanceof SyntaxError) throw new TaskHubRequestError(400, 'The continuation token is not valid.');
      throw error;
    }
  }

  private requireActive(instanceId: string): InstanceState {
    const instance = this.store.getInstance(instanceId);
    if (!instance) throw new TaskHubRequestError(404, `No instance with ID '${instanceId}' found.`);
    if (TERMINAL_STATUSES.has(instance.runtimeStatus)) throw new TaskHubRequestError(410, `The instance '${instanceId}' is ${instance.runtimeStatus}.`);
    return instance;
  }

  private send(instanceId: string, event: HistoryEvent): void {
    const message: NewInboxMessage = { instanceId, executionId: null, eventJson: JSON.stringify(event), visibleAt: 0 };
    this.store.enqueue([message]);
    this.afterWrite([message], 0);
  }

  raiseEvent(instanceId: string, eventName: string, input: string | null): void {
    const invalid = checkExternalEventName(eventName);
    if (invalid) throw new TaskHubRequestError(400, invalid);
    this.requireActive(instanceId);
    this.send(instanceId, history.eventRaised(new Date().toISOString(), eventName, input));
  }

  terminate(instanceId: string, reason: string | null): void {
    this.requireActive(instanceId);
    this.send(instanceId, history.executionTerminated(new Date().toISOString(), reason));
  }

  suspend(instanceId: string, reason: string | null): void {
    const instance = this.requireActive(instanceId);
    if (instance.runtimeStatus === 'Suspended') throw new TaskHubRequestError(409, `The instance '${instanceId}' is already suspended.`);
    this.send(instanceId, history.executionSuspended(new Date().toISOString(), reason));
  }

  resume(instanceId: string, reason: string | null): void {
    const instance = this.requireActive(instanceId);
    if (instance.runtimeStatus !== 'Suspended') throw new TaskHubRequestError(409, `The instance '${instanceId}' is not suspended.`);
    this.send(instanceId, history.executionResumed(new Date().toISOString(), reason));
  }

  purge(instanceId: string): number {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return 0;
    if (!TERMINAL_STATUSES.has(instance.runtimeStatus)) {
      throw new TaskHubRequestError(400, `The instance '${instanceId}' is ${instance.runtimeStatus}; only completed, failed or terminated instances can be purged.`);
    }
    this.#cache.delete(instanceId);
    return this.store.purge(instanceId);
  }

  purgeBy(query: Pick<InstanceQuery, 'createdTimeFrom' | 'createdTimeTo' | 'runtimeStatus'>): number {
    let deleted = 0;
    for (const id of this.store.finishedInstanceIds(query)) {
      this.#cache.delete(id);
      deleted += this.store.purge(id);
    }
    return deleted;
  }

  async waitForCompletion(instanceId: string, timeoutMs: number, signal?: AbortSignal): Promise<InstanceRecord | undefined> {
    const done = (): boolean => {
      const instance = this.store.getInstance(instanceId);
      return !instance || TERMINAL_STATUSES.has(instance.runtimeStatus);
    };
    if (!done()) {
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          clearInterval(poll);
          this.#events.off(`finished:${instanceId}`, finish);
          signal?.removeEventListener('abort', finish);
          resolve();
        };
        const timer = setTimeout(finish, timeoutMs);
        // A status can also change through paths that do not emit (purge, another process): poll slowly too.
        const poll = setInterval(() => done() && finish(), 1_000);
        this.#events.on(`finished:${instanceId}`, finish);
        signal?.addEventListener('abort', finish, { once: true });
      });
    }
    return this.store.getInstance(instanceId);
  }

  /** The runtime status names the API accepts in filters. */
  static isRuntimeStatus(value: string): value is RuntimeStatus {
    return ['Pending', 'Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Terminated', 'Suspended', 'Canceled'].includes(value);
  }
}
