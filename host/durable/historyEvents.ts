/**
 * DurableTask.Core history events and durable-functions orchestrator actions, in the exact JSON shapes that cross
 * the wire between the Durable Functions extension and the `durable-functions@3` library (spec sections 4 and 5).
 *
 * History events are DurableTask.Core's `[DataContract]` classes as Newtonsoft serializes them by default:
 * PascalCase property names, a numeric `EventType`, ISO-8601 UTC timestamps. The library reads only a few of
 * the fields (marked "read by the library" below), but the host writes all of them so that the history looks
 * the same as in production and the `showHistory` API can render it.
 */

// ------------------------------------------------------------------------------------------------ enums

/** DurableTask.Core `EventType` numbers (spec 5.1). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  /** Never written: DTFx reports failures as ExecutionCompleted with OrchestrationStatus Failed. */
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
/** A DurableTask.Core `EventType` number. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** DurableTask.Core `OrchestrationStatus` numbers, as written inside history events (spec 5.1). */
export const OrchestrationStatus = {
  Running: 0,
  Completed: 1,
  ContinuedAsNew: 2,
  Failed: 3,
  Canceled: 4,
  Terminated: 5,
  Pending: 6,
  Suspended: 7,
} as const;
/** A DurableTask.Core `OrchestrationStatus` number. */
export type OrchestrationStatus = (typeof OrchestrationStatus)[keyof typeof OrchestrationStatus];

const eventTypeNames = new Map<number, string>(Object.entries(EventType).map(([name, value]) => [value, name]));
const statusNames = new Map<number, string>(Object.entries(OrchestrationStatus).map(([name, value]) => [value, name]));

/** The .NET enum name of an `EventType` number (`"TaskScheduled"`), or the number as text if unknown. */
export function eventTypeName(type: number): string {
  return eventTypeNames.get(type) ?? String(type);
}

/** The .NET enum name of an `OrchestrationStatus` number (`"Completed"`), or the number as text if unknown. */
export function orchestrationStatusName(status: number): string {
  return statusNames.get(status) ?? String(status);
}

// ------------------------------------------------------------------------------------------------ events

/** `DurableTask.Core.FailureDetails` (structured failure mode, spec 7). */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace: string | null;
  IsNonRetriable: boolean;
  Properties?: Record<string, unknown> | null;
  InnerFailure?: FailureDetails | null;
}

/** `OrchestrationInstance` as embedded in ExecutionStarted. */
export interface OrchestrationInstanceRef {
  InstanceId: string;
  ExecutionId: string;
}

/** `ParentInstance` of a sub-orchestration's ExecutionStarted. */
export interface ParentInstanceInfo {
  OrchestrationInstance: OrchestrationInstanceRef;
  Name: string;
  Version: string;
  /** Sequence id of the SubOrchestrationInstanceCreated event in the parent. */
  TaskScheduleId: number;
}

/** Fields every history event carries. */
export interface HistoryEventBase {
  /** Sequence id for scheduling events (and ExecutionCompleted/ContinueAsNew), -1 otherwise. */
  EventId: number;
  /** True for events from earlier episodes; the host sets it when it builds the trigger payload. */
  IsPlayed: boolean;
  /** ISO-8601 UTC. Stored as written and never reformatted: `newGuid()` hashes OrchestratorStarted's value. */
  Timestamp: string;
}

/** First event of every episode; its Timestamp is the orchestrator's `currentUtcDateTime` (read by the library). */
export interface OrchestratorStartedEvent extends HistoryEventBase {
  EventType: typeof EventType.OrchestratorStarted;
}

/** Last event of every episode. */
export interface OrchestratorCompletedEvent extends HistoryEventBase {
  EventType: typeof EventType.OrchestratorCompleted;
}

/** Starts an execution; must precede every completion. `Version` is read by the library (`context.df.version`). */
export interface ExecutionStartedEvent extends HistoryEventBase {
  EventType: typeof EventType.ExecutionStarted;
  OrchestrationInstance: OrchestrationInstanceRef;
  ParentInstance: ParentInstanceInfo | null;
  Name: string;
  Version: string;
  /** Serialized JSON, or null. */
  Input: string | null;
  Tags: Record<string, string> | null;
}

/** Ends an execution (Completed, Failed or Terminated). EventId = the next free sequence id (DTFx parity). */
export interface ExecutionCompletedEvent extends HistoryEventBase {
  EventType: typeof EventType.ExecutionCompleted;
  OrchestrationStatus: OrchestrationStatus;
  /** Serialized output for Completed; plain reason text for Failed/Terminated. */
  Result: string | null;
  FailureDetails: FailureDetails | null;
}

/** A terminate request; `Input` is the reason. */
export interface ExecutionTerminatedEvent extends HistoryEventBase {
  EventType: typeof EventType.ExecutionTerminated;
  Input: string | null;
}

/** An activity (or `BuiltIn::HttpActivity`) was scheduled; EventId = its sequence id. Ignored by the library. */
export interface TaskScheduledEvent extends HistoryEventBase {
  EventType: typeof EventType.TaskScheduled;
  Name: string;
  Version: string;
  /** JSON of the value the activity receives, or null. */
  Input: string | null;
}

/** An activity result. `TaskScheduledId` and `Result` are read by the library. */
export interface TaskCompletedEvent extends HistoryEventBase {
  EventType: typeof EventType.TaskCompleted;
  TaskScheduledId: number;
  /** Serialized JSON or null; a missing Result crashes the library's replay (spec 13.2). */
  Result: string | null;
}

/** An activity failure (spec 7). `Reason` and `Details` must be strings. */
export interface TaskFailedEvent extends HistoryEventBase {
  EventType: typeof EventType.TaskFailed;
  TaskScheduledId: number;
  Reason: string;
  Details: string;
  FailureDetails: FailureDetails | null;
}

/** A sub-orchestration was created; EventId = its sequence id. Ignored by the library. */
export interface SubOrchestrationInstanceCreatedEvent extends HistoryEventBase {
  EventType: typeof EventType.SubOrchestrationInstanceCreated;
  Name: string;
  Version: string;
  InstanceId: string;
  Input: string | null;
}

/** A child's output. `TaskScheduledId` and `Result` are read by the library. */
export interface SubOrchestrationInstanceCompletedEvent extends HistoryEventBase {
  EventType: typeof EventType.SubOrchestrationInstanceCompleted;
  TaskScheduledId: number;
  Result: string | null;
}

/** A child's failure (or termination). `Reason` and `Details` must be strings. */
export interface SubOrchestrationInstanceFailedEvent extends HistoryEventBase {
  EventType: typeof EventType.SubOrchestrationInstanceFailed;
  TaskScheduledId: number;
  Reason: string;
  Details: string;
  FailureDetails: FailureDetails | null;
}

/** A durable timer was created; EventId = its sequence id. Ignored by the library. */
export interface TimerCreatedEvent extends HistoryEventBase {
  EventType: typeof EventType.TimerCreated;
  FireAt: string;
}

/** A durable timer fired. `TimerId` (= TimerCreated.EventId) is read by the library. */
export interface TimerFiredEvent extends HistoryEventBase {
  EventType: typeof EventType.TimerFired;
  TimerId: number;
  FireAt: string;
}

/** Entity messages only; the embedded host never writes it (entities are rejected) but may read it. */
export interface EventSentEvent extends HistoryEventBase {
  EventType: typeof EventType.EventSent;
  InstanceId: string;
  Name: string;
  Input: string | null;
}

/** An external event. `Name` and `Input` are read by the library. */
export interface EventRaisedEvent extends HistoryEventBase {
  EventType: typeof EventType.EventRaised;
  Name: string;
  /** Serialized JSON or null (→ `undefined` in the orchestrator). */
  Input: string | null;
}

/** Ends an execution that continues as new; `Result` is the next generation's serialized input. */
export interface ContinueAsNewEvent extends HistoryEventBase {
  EventType: typeof EventType.ContinueAsNew;
  OrchestrationStatus: typeof OrchestrationStatus.ContinuedAsNew;
  Result: string | null;
  FailureDetails: FailureDetails | null;
}

/** Suspend request (the library ignores it). */
export interface ExecutionSuspendedEvent extends HistoryEventBase {
  EventType: typeof EventType.ExecutionSuspended;
  Reason: string | null;
}

/** Resume request (the library ignores it). */
export interface ExecutionResumedEvent extends HistoryEventBase {
  EventType: typeof EventType.ExecutionResumed;
  Reason: string | null;
}

/** Every history event the embedded host writes or reads, discriminated by `EventType`. */
export type HistoryEvent =
  | ExecutionStartedEvent
  | ExecutionCompletedEvent
  | ExecutionTerminatedEvent
  | TaskScheduledEvent
  | TaskCompletedEvent
  | TaskFailedEvent
  | SubOrchestrationInstanceCreatedEvent
  | SubOrchestrationInstanceCompletedEvent
  | SubOrchestrationInstanceFailedEvent
  | TimerCreatedEvent
  | TimerFiredEvent
  | OrchestratorStartedEvent
  | OrchestratorCompletedEvent
  | EventSentEvent
  | EventRaisedEvent
  | ContinueAsNewEvent
  | ExecutionSuspendedEvent
  | ExecutionResumedEvent;

/** The event interface for one `EventType`. */
export type HistoryEventOf<T extends HistoryEvent['EventType']> = Extract<HistoryEvent, { EventType: T }>;

/** Events that complete a durable task or event waiter: the ones the library routes to its open tasks. */
export type CompletionEvent =
  | TaskCompletedEvent
  | TaskFailedEvent
  | SubOrchestrationInstanceCompletedEvent
  | SubOrchestrationInstanceFailedEvent
  | TimerFiredEvent
  | EventRaisedEvent;

// ------------------------------------------------------------------------------------------------ builders

/**
 * A point in time for a builder: an ISO string is kept verbatim, a Date or epoch-ms number is ISO-formatted.
 * Every builder takes the event's Timestamp first; the engine supplies the clock (spec 5.4).
 */
export type TimestampInput = string | Date | number;

/** The ISO string of a builder timestamp. Strings pass through unchanged because stored timestamps are never reformatted. */
export function toIsoTimestamp(value: TimestampInput): string {
  if (typeof value === 'string') {
    if (Number.isNaN(Date.parse(value))) throw new RangeError(`Not an ISO-8601 timestamp: '${value}'.`);
    return value;
  }
  const date = typeof value === 'number' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid timestamp.');
  return date.toISOString();
}

function base(eventId: number, timestamp: TimestampInput): HistoryEventBase {
  return { EventId: eventId, IsPlayed: false, Timestamp: toIsoTimestamp(timestamp) };
}

/** OrchestratorStarted; `timestamp` is the episode's deterministic time (spec 5.4). */
export function orchestratorStarted(timestamp: TimestampInput): OrchestratorStartedEvent {
  return { EventType: EventType.OrchestratorStarted, ...base(-1, timestamp) };
}

/** OrchestratorCompleted, closing an episode. */
export function orchestratorCompleted(timestamp: TimestampInput): OrchestratorCompletedEvent {
  return { EventType: EventType.OrchestratorCompleted, ...base(-1, timestamp) };
}

/** A sub-orchestration's parent in camelCase, as the engine tracks it; {@link executionStarted} converts it. */
export interface ParentReference {
  instanceId: string;
  executionId: string;
  /** The parent orchestrator's name. */
  name: string;
  version?: string;
  /** Sequence id of the SubOrchestrationInstanceCreated event in the parent. */
  taskScheduleId: number;
}

/** Arguments of {@link executionStarted}. */
export interface ExecutionStartedArgs {
  instanceId: string;
  executionId: string;
  name: string;
  /** `context.df.version`; "" when none. */
  version?: string;
  /** Serialized JSON input, or null. */
  input: string | null;
  /** The parent of a sub-orchestration, in either shape; null or absent for top-level instances. */
  parent?: ParentInstanceInfo | ParentReference | null;
  tags?: Record<string, string> | null;
}

function toParentInstanceInfo(parent: ParentInstanceInfo | ParentReference | null | undefined): ParentInstanceInfo | null {
  if (!parent) return null;
  if ('OrchestrationInstance' in parent) return parent;
  return {
    OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
    Name: parent.name,
    Version: parent.version ?? '',
    TaskScheduleId: parent.taskScheduleId,
  };
}

/** ExecutionStarted, the first message of an execution. */
export function executionStarted(timestamp: TimestampInput, args: ExecutionStartedArgs): ExecutionStartedEvent {
  return {
    EventType: EventType.ExecutionStarted,
    ...base(-1, timestamp),
    OrchestrationInstance: { InstanceId: args.instanceId, ExecutionId: args.executionId },
    ParentInstance: toParentInstanceInfo(args.parent),
    Name: args.name,
    Version: args.version ?? '',
    Input: args.input,
    Tags: args.tags ?? null,
  };
}

/**
 * ExecutionCompleted. `eventId` is the replayer's `nextSequenceNumber`; `result` is the serialized output
 * (Completed) or the plain reason text (Failed, Terminated).
 */
export function executionCompleted(
  timestamp: TimestampInput,
  eventId: number,
  status: OrchestrationStatus,
  result: string | null,
  failureDetails: FailureDetails | null,
): ExecutionCompletedEvent {
  return { EventType: EventType.ExecutionCompleted, ...base(eventId, timestamp), OrchestrationStatus: status, Result: result, FailureDetails: failureDetails };
}

/** ContinueAsNew, ending the current execution; `input` is the next generation's serialized input. */
export function continueAsNew(timestamp: TimestampInput, eventId: number, input: string | null): ContinueAsNewEvent {
  return {
    EventType: EventType.ContinueAsNew,
    ...base(eventId, timestamp),
    OrchestrationStatus: OrchestrationStatus.ContinuedAsNew,
    Result: input,
    FailureDetails: null,
  };
}

/** ExecutionTerminated; the reason goes to `Input` as DTFx does. */
export function executionTerminated(timestamp: TimestampInput, reason: string | null): ExecutionTerminatedEvent {
  return { EventType: EventType.ExecutionTerminated, ...base(-1, timestamp), Input: reason };
}

/** ExecutionSuspended (the library ignores it). */
export function executionSuspended(timestamp: TimestampInput, reason: string | null): ExecutionSuspendedEvent {
  return { EventType: EventType.ExecutionSuspended, ...base(-1, timestamp), Reason: reason };
}

/** ExecutionResumed (the library ignores it). */
export function executionResumed(timestamp: TimestampInput, reason: string | null): ExecutionResumedEvent {
  return { EventType: EventType.ExecutionResumed, ...base(-1, timestamp), Reason: reason };
}

/** TaskScheduled for sequence id `id`; `input` is the JSON of the value the activity receives (or null). */
export function taskScheduled(timestamp: TimestampInput, id: number, name: string, input: string | null): TaskScheduledEvent {
  return { EventType: EventType.TaskScheduled, ...base(id, timestamp), Name: name, Version: '', Input: input };
}

/** TaskCompleted; `result` is the serialized return value, or null for `undefined` (never omit it). */
export function taskCompleted(timestamp: TimestampInput, scheduledId: number, result: string | null): TaskCompletedEvent {
  return { EventType: EventType.TaskCompleted, ...base(-1, timestamp), TaskScheduledId: scheduledId, Result: result };
}

/** TaskFailed; `details` must be a string ("" allowed) or the library cannot parse the failure (spec 7). */
export function taskFailed(
  timestamp: TimestampInput,
  scheduledId: number,
  reason: string,
  details: string,
  failureDetails: FailureDetails | null,
): TaskFailedEvent {
  return { EventType: EventType.TaskFailed, ...base(-1, timestamp), TaskScheduledId: scheduledId, Reason: reason, Details: details, FailureDetails: failureDetails };
}

/** TimerCreated for sequence id `id`. */
export function timerCreated(timestamp: TimestampInput, id: number, fireAt: TimestampInput): TimerCreatedEvent {
  return { EventType: EventType.TimerCreated, ...base(id, timestamp), FireAt: toIsoTimestamp(fireAt) };
}

/** TimerFired. Deliver it only when now ≥ FireAt, in an episode stamped ≥ FireAt (spec 5.4). */
export function timerFired(timestamp: TimestampInput, timerId: number, fireAt: TimestampInput): TimerFiredEvent {
  return { EventType: EventType.TimerFired, ...base(-1, timestamp), TimerId: timerId, FireAt: toIsoTimestamp(fireAt) };
}

/** SubOrchestrationInstanceCreated for sequence id `id`; `input` is the child's serialized input. */
export function subOrchestrationCreated(
  timestamp: TimestampInput,
  id: number,
  name: string,
  instanceId: string,
  input: string | null,
  version = '',
): SubOrchestrationInstanceCreatedEvent {
  return { EventType: EventType.SubOrchestrationInstanceCreated, ...base(id, timestamp), Name: name, Version: version, InstanceId: instanceId, Input: input };
}

/** SubOrchestrationInstanceCompleted; `result` is the child's serialized output (or null). */
export function subOrchestrationCompleted(timestamp: TimestampInput, scheduledId: number, result: string | null): SubOrchestrationInstanceCompletedEvent {
  return { EventType: EventType.SubOrchestrationInstanceCompleted, ...base(-1, timestamp), TaskScheduledId: scheduledId, Result: result };
}

/** SubOrchestrationInstanceFailed; `details` must be a string (spec 7, risk R13). */
export function subOrchestrationFailed(
  timestamp: TimestampInput,
  scheduledId: number,
  reason: string,
  details: string,
  failureDetails: FailureDetails | null,
): SubOrchestrationInstanceFailedEvent {
  return {
    EventType: EventType.SubOrchestrationInstanceFailed,
    ...base(-1, timestamp),
    TaskScheduledId: scheduledId,
    Reason: reason,
    Details: details,
    FailureDetails: failureDetails,
  };
}

/** EventRaised; `input` is the serialized payload or null. */
export function eventRaised(timestamp: TimestampInput, name: string, input: string | null): EventRaisedEvent {
  return { EventType: EventType.EventRaised, ...base(-1, timestamp), Name: name, Input: input };
}

/**
 * The `history` array for an orchestration trigger: a deep copy (the library mutates what it gets, spec 3) of
 * `played` with IsPlayed=true followed by `fresh` with IsPlayed=false. Keep the originals as the pristine history.
 */
export function historyForTrigger(played: readonly HistoryEvent[], fresh: readonly HistoryEvent[]): HistoryEvent[] {
  const copy = (e: HistoryEvent, isPlayed: boolean): HistoryEvent => ({ ...(JSON.parse(JSON.stringify(e)) as HistoryEvent), IsPlayed: isPlayed });
  return [...played.map((e) => copy(e, true)), ...fresh.map((e) => copy(e, false))];
}

// ------------------------------------------------------------------------------------------------ actions

/** durable-functions `ActionType` numbers (spec 4). 10 is unused. */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;
/** A durable-functions `ActionType` number. */
export type ActionType = (typeof ActionType)[keyof typeof ActionType];

const actionTypeNames = new Map<number, string>(Object.entries(ActionType).map(([name, value]) => [value, name]));

/** The name of an `ActionType` number (`"CallActivity"`), or `actionType <n>` if unknown. */
export function actionTypeName(type: number): string {
  return actionTypeNames.get(type) ?? `actionType ${type}`;
}

/** `RetryOptions` as serialized into retry actions; the optional fields appear only when set. */
export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** A CallHttp token source (`ManagedIdentityTokenSource`: `{resource, kind:"AzureManagedIdentity"}`). */
export interface TokenSourceJson {
  resource?: string;
  kind?: string;
  [key: string]: unknown;
}

/** `DurableHttpRequest` as serialized into CallHttp actions. */
export interface DurableHttpRequestJson {
  method: string;
  uri: string;
  /** A string; the library JSON-stringifies object bodies. */
  content?: string;
  headers?: Record<string, string>;
  tokenSource?: TokenSourceJson;
  asynchronousPatternEnabled?: boolean;
}

/** The `Result` JSON of a `BuiltIn::HttpActivity` TaskCompleted (spec 6.1). */
export interface DurableHttpResponseJson {
  statusCode: number;
  headers?: Record<string, string | string[]>;
  content?: string;
}

/** 0: call an activity. String inputs are pre-stringified by the library (`"Tokyo"` → `"\"Tokyo\""`). */
export interface CallActivityAction {
  actionType: typeof ActionType.CallActivity;
  functionName: string;
  input?: unknown;
}

/** 1: call an activity with retries. */
export interface CallActivityWithRetryAction {
  actionType: typeof ActionType.CallActivityWithRetry;
  functionName: string;
  retryOptions: RetryOptionsJson;
  input?: unknown;
}

/** 2: call a sub-orchestrator. The input is not pre-stringified. */
export interface CallSubOrchestratorAction {
  actionType: typeof ActionType.CallSubOrchestrator;
  functionName: string;
  instanceId?: string;
  version?: string;
  input?: unknown;
}

/** 3: call a sub-orchestrator with retries. */
export interface CallSubOrchestratorWithRetryAction {
  actionType: typeof ActionType.CallSubOrchestratorWithRetry;
  functionName: string;
  retryOptions: RetryOptionsJson;
  instanceId?: string;
  version?: string;
  input?: unknown;
}

/** 4: continue as new; never yielded, always the last action. */
export interface ContinueAsNewAction {
  actionType: typeof ActionType.ContinueAsNew;
  input?: unknown;
}

/** 5: a durable timer. For long timers `fireAt` is the final time; `isCanceled` is the state at the end of the replay. */
export interface CreateTimerAction {
  actionType: typeof ActionType.CreateTimer;
  fireAt: string;
  isCanceled: boolean;
}

/** 6: wait for an external event; consumes no sequence id. */
export interface WaitForExternalEventAction {
  actionType: typeof ActionType.WaitForExternalEvent;
  externalEventName: string;
  reason: string;
}

/** 7: call an entity (rejected by the embedded host). */
export interface CallEntityAction {
  actionType: typeof ActionType.CallEntity;
  /** `@name@key` */
  instanceId: string;
  operation: string;
  input?: unknown;
}

/** 8: an HTTP request made by the host (`BuiltIn::HttpActivity`). */
export interface CallHttpAction {
  actionType: typeof ActionType.CallHttp;
  httpRequest: DurableHttpRequestJson;
}

/** 9: signal an entity (rejected by the embedded host). */
export interface SignalEntityAction {
  actionType: typeof ActionType.SignalEntity;
  instanceId: string;
  operation: string;
  input?: unknown;
}

/** 11: `Task.any`. */
export interface WhenAnyAction {
  actionType: typeof ActionType.WhenAny;
  compoundActions: OrchestratorAction[];
}

/** 12: `Task.all`. */
export interface WhenAllAction {
  actionType: typeof ActionType.WhenAll;
  compoundActions: OrchestratorAction[];
}

/** 13: entity critical section (ReplaySchema V4 only; not advertised). */
export interface LockEntitiesAction {
  actionType: typeof ActionType.LockEntities;
  lockRequestId: string;
  lockSet: Array<{ name: string; key: string }>;
}

/** 14: end of an entity critical section (V4 only). */
export interface ReleaseEntitiesAction {
  actionType: typeof ActionType.ReleaseEntities;
}

/** One schema V2/V3 orchestrator action, discriminated by `actionType`. */
export type OrchestratorAction =
  | CallActivityAction
  | CallActivityWithRetryAction
  | CallSubOrchestratorAction
  | CallSubOrchestratorWithRetryAction
  | ContinueAsNewAction
  | CreateTimerAction
  | WaitForExternalEventAction
  | CallEntityAction
  | CallHttpAction
  | SignalEntityAction
  | WhenAnyAction
  | WhenAllAction
  | LockEntitiesAction
  | ReleaseEntitiesAction;

/**
 * What the orchestrator handler returns (or carries in its `OrchestrationFailureError`), after a JSON round trip.
 * For V2/V3 `actions` holds exactly one inner array: every action yielded since the execution started.
 */
export interface OrchestratorState {
  /** True when the generator returned or `continueAsNew` was called. */
  isDone: boolean;
  actions: OrchestratorAction[][];
  /** Only meaningful when `isDone`. */
  output?: unknown;
  /** Set when the orchestrator threw (the handler then throws OrchestrationFailureError). */
  error?: string;
  /** Omitted when falsy (0, "", false, null all read as null). */
  customStatus?: unknown;
  /** Only when the uncaught error was a TaskFailedError. */
  failureDetails?: FailureDetails;
  schemaVersion: number;
}

// ------------------------------------------------------------------------------------------------ showHistory

/**
 * The extension's `ParseToJToken`: null → null, blank → "", JSON → parsed value, anything else → the raw
 * string (failure and terminate reasons are plain text).
 */
export function parseToJToken(value: string | null | undefined): unknown {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed.length === 0) return '';
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    // The extension trims before parsing and returns the trimmed text when it is not JSON.
    return trimmed;
  }
}

/**
 * The `historyEvents` array of the HTTP status API with `showHistory=true`, mirroring the extension's
 * `DurableClient.GetDurableOrchestrationStatusAsync`: EventType as its name; EventId, IsPlayed and
 * OrchestratorStarted/Completed removed; TaskScheduled and SubOrchestrationInstanceCreated folded into their
 * completion as `ScheduledTime`/`FunctionName`/`Input` (and then removed); `Result` of completions and of
 * ExecutionCompleted only when `showOutput` (parsed as JSON where possible); `Input` everywhere only when
 * `showInput` (the API's default is true).
 */
export function toFriendlyHistory(events: readonly HistoryEvent[], showOutput: boolean, showInput = true): Array<Record<string, unknown>> {
  const scheduled = new Map<string, { index: number; name: string; timestamp: string; input: string | null }>();
  const dropped = new Set<number>();
  const out = events.map((event, index) => {
    const item: Record<string, unknown> = { ...event, EventType: eventTypeName(event.EventType) };
    switch (event.EventType) {
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        scheduled.set(`${event.EventType}_${event.EventId}`, { index, name: event.Name, timestamp: event.Timestamp, input: event.Input });
        delete item['Version'];
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const isTask = event.EventType === EventType.TaskCompleted || event.EventType === EventType.TaskFailed;
        const from = scheduled.get(`${isTask ? EventType.TaskScheduled : EventType.SubOrchestrationInstanceCreated}_${event.TaskScheduledId}`);
        if (from) {
          item['ScheduledTime'] = from.timestamp;
          item['FunctionName'] = from.name;
          if (showInput) item['Input'] = from.input;
          dropped.add(from.index);
        }
        delete item['TaskScheduledId'];
        if (event.EventType === EventType.TaskCompleted || event.EventType === EventType.SubOrchestrationInstanceCompleted) {
          if (showOutput) item['Result'] = parseToJToken(event.Result);
          else delete item['Result'];
        }
        break;
      }
      case EventType.ExecutionStarted:
        item['FunctionName'] = event.Name;
        delete item['Name'];
        delete item['OrchestrationInstance'];
        delete item['ParentInstance'];
        delete item['Version'];
        delete item['Tags'];
        break;
      case EventType.ExecutionCompleted:
        item['OrchestrationStatus'] = orchestrationStatusName(event.OrchestrationStatus);
        if (showOutput) item['Result'] = parseToJToken(event.Result);
        else delete item['Result'];
        break;
      case EventType.TimerFired:
        delete item['TimerId'];
        break;
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        dropped.add(index);
        break;
      default:
        break;
    }
    if (!showInput) delete item['Input'];
    delete item['EventId'];
    delete item['IsPlayed'];
    return item;
  });
  return out.filter((_, index) => !dropped.has(index));
}
