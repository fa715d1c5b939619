/**
 * The action replayer (spec 6.2): recovers the sequence ids that durable-functions gave the tasks behind an
 * orchestrator's actions, finds the tasks that are new in this episode, and detects non-determinism.
 *
 * durable-functions returns the cumulative list of actions its orchestrator has yielded since the execution
 * started, but not the sequence numbers (history EventIds) it assigned. Those numbers are the only thing the
 * library uses to route completions, so the host must write exactly the ids the library expects. The extension
 * recovers them by replaying the action list in a DTFx context; this module does the same without .NET. It walks
 * the history in order, "yields" the next top-level action whenever the previous one has finished, and numbers
 * tasks exactly as the library's `TaskOrchestrationExecutor` does: depth first over compound children when a
 * task is yielded, plus the ids that `RetryableTask`, `LongTimerTask` and `CallHttpWithPollingTask` consume
 * while history events are processed. Where the .NET extension and the JS library disagree, this mirrors the
 * library, because the library is the party that must stay in lock-step with the ids written to history.
 */

import { parseDotNetTimeSpan } from '../config/timeSpan.js';
import {
  ActionType,
  EventType,
  actionTypeName,
  type DurableHttpRequestJson,
  type DurableHttpResponseJson,
  type FailureDetails,
  type HistoryEvent,
  type OrchestratorAction,
  type RetryOptionsJson,
  type SubOrchestrationInstanceFailedEvent,
  type TaskFailedEvent,
} from './historyEvents.js';

/** The activity name under which CallHttp requests are scheduled (TaskScheduled.Name). */
export const HTTP_ACTIVITY_NAME = 'BuiltIn::HttpActivity';

/** Message for every entity action (spec 9). */
export const ENTITIES_NOT_SUPPORTED = 'Durable Entities are not supported by the embedded host';

/** The extension's default `maxRetryIntervalInMilliseconds`: 6 days (spec 6.1). */
const DEFAULT_MAX_RETRY_INTERVAL_MS = 6 * 86_400_000;

/** Constructor options; pass exactly what the orchestration trigger advertises (spec 3). */
export interface ActionReplayerOptions {
  /** .NET TimeSpan, `[d.]hh:mm[:ss[.fff]]`; timers further away than this become long timers (schema V3). */
  maximumShortTimerDuration: string;
  /** .NET TimeSpan; the length of one long-timer segment. */
  longRunningTimerIntervalDuration: string;
  /** Poll interval for CallHttp 202 responses without Retry-After (sic: "Millseconds", as on the wire). */
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
  /** ReplaySchema number advertised as `upperSchemaVersionNew`: 1 = V2, 2 = V3 (the host's choice), 3 = V4. */
  schemaVersion: number;
}

/** What a new durable task is: each kind needs one scheduling event and one kind of work. */
export type NewDurableTaskKind = 'activity' | 'timer' | 'suborchestration' | 'http';

/** Why a timer exists; only `user` timers come from a CreateTimer action of their own. */
export type TimerPurpose = 'user' | 'retry' | 'longTimerSegment' | 'httpPoll';

/**
 * A retry attempt that must fail without running (retry timeout exceeded, or the previous failure was
 * `IsNonRetriable`): write TaskFailed (SubOrchestrationInstanceFailed for sub-orchestrations) with these fields
 * as the attempt's completion, in a later episode, instead of running the activity or creating the child.
 */
export interface FastFailInfo {
  reason: string;
  details: string;
  failureDetails: FailureDetails | null;
}

/** Retry bookkeeping of an attempt or a retry timer. */
export interface RetryInfo {
  /** Attempts: this attempt's 1-based number. Retry timers: the number of the attempt that just failed. */
  attempt: number;
  maxNumberOfAttempts: number;
  /** Retry timers only: no attempt follows; this is DTFx's "dummy" timer (FireAt = now) after the last attempt. */
  last?: boolean;
}

/** A durable task the replay produced that has no scheduling event in history yet. */
export interface NewDurableTask {
  /** Sequence id: the EventId of the scheduling event, and the TaskScheduledId/TimerId of the completion. */
  id: number;
  kind: NewDurableTaskKind;
  /** Activity or sub-orchestrator name; `BuiltIn::HttpActivity` for http. */
  name?: string;
  /**
   * The input as the action carried it. Activity string inputs are pre-stringified by the library (spec 9:
   * decode with a JSON parse before handing them to the activity); sub-orchestrator inputs are not.
   */
  input?: unknown;
  /** Timers: when TimerFired is due (ISO). */
  fireAt?: string;
  /** Timers: cancelled by the orchestrator. Still write TimerCreated (the id is consumed); arming it is optional. */
  canceled?: boolean;
  /** Timers: why the timer exists. */
  timerPurpose?: TimerPurpose;
  /** Sub-orchestrations: the explicit child instance id; absent means the DTFx default `<executionId>:<id>`. */
  instanceId?: string;
  /** Sub-orchestrations: the requested version. */
  version?: string;
  /** Http: the request to perform (for 202 polls: GET Location, original headers minus x-functions-key). */
  httpRequest?: DurableHttpRequestJson;
  /** Attempts and timers of CallActivityWithRetry / CallSubOrchestratorWithRetry. */
  retry?: RetryInfo;
  /** Retry attempts only: do not run; complete the attempt with this failure instead (spec 6.1, x13). */
  fastFail?: FastFailInfo;
  /** A completion for this id is already in history (it arrived before the task was numbered): write the scheduling event, dispatch nothing. */
  alreadyCompleted?: boolean;
}

/** The outcome of one replay. */
export interface ReplayResult {
  /** Tasks to schedule in this episode, by ascending id: one scheduling event each, plus work (see NewDurableTask). */
  newTasks: NewDurableTask[];
  /** Unfinished, uncancelled durable tasks (including HTTP polls still waiting for their timer). Complete only at 0. */
  open: number;
  /** Ids the library still holds in its open-task table (includes cancelled timers); for the debug cross-check (spec 6.2 step 4). */
  openTaskIds: number[];
  /** Non-empty = the orchestrator code changed under a running instance: fail it with `Non-Deterministic workflow detected: <first>`. */
  nonDeterminism: string[];
  /** Actions the embedded host cannot execute (entities, managed-identity CallHttp, unknown types): fail the instance. */
  unsupported: string[];
  /** Set when the orchestrator called continueAsNew; `input` as the action carried it (strings pre-stringified). */
  continueAsNew: { input: unknown } | undefined;
  /** The next free sequence id; the EventId for ExecutionCompleted / ContinueAsNew. */
  nextSequenceNumber: number;
  /** Actions the replay could not reach: the library and the host diverged (spec x12); fail the instance. */
  unconsumedActions: number;
  /**
   * The last action the library yielded is still unfinished in the replay. The library cannot finish while a
   * yielded task is pending, so together with `isDone` this means divergence (an already-completed task yielded
   * again inside Task.all/Task.any: the host would run it a second time).
   */
  lastActionPending: boolean;
  /** Event names with at least one waiter (most recent waiter receives the next event). */
  waitingForEvents: string[];
  /** The orchestrator's `currentUtcDateTime`: the latest OrchestratorStarted Timestamp, verbatim. */
  currentUtcDateTime: string | undefined;
  /** Timers already in history, not fired, that the orchestrator has since cancelled: their pending fire may be dropped. */
  canceledTimerIds: number[];
  /** Completions for a task that had already completed (the library ignores them); drop them before appending next time (spec 8). */
  duplicateCompletions: number[];
  /** Completions for ids the replay never numbered (stale or foreign messages); the library parks them forever. */
  unmatchedCompletions: number[];
}

/**
 * Event names made only of digits collide with task ids: the library looks up `openTasks[Name]` first, so
 * raising `"0"` completes task #0 with the event payload (spec gotcha 9). Returns why `name` must be rejected
 * by `raiseEvent` (HTTP 400), or undefined when it is fine.
 */
export function checkExternalEventName(name: string): string | undefined {
  if (name.length === 0) return 'The event name must not be empty.';
  if (/^\d+$/.test(name)) {
    return `The event name '${name}' consists only of digits; durable-functions would deliver it to the task with sequence id ${name} instead of to an event waiter. Use a name that contains a non-digit character.`;
  }
  return undefined;
}

/** The sequence id a completion targets (`TaskScheduledId` or `TimerId`), or undefined for any other event. */
export function completionTargetId(event: HistoryEvent): number | undefined {
  switch (event.EventType) {
    case EventType.TaskCompleted:
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceCompleted:
    case EventType.SubOrchestrationInstanceFailed:
      return event.TaskScheduledId;
    case EventType.TimerFired:
      return event.TimerId;
    default:
      return undefined;
  }
}

/**
 * Splits inbound events into those to append and duplicate completions: a completion whose target id already
 * has one in `history` or earlier in `incoming` (activities are at-least-once; spec 8). Apply before appending.
 */
export function filterDuplicateCompletions(
  history: readonly HistoryEvent[],
  incoming: readonly HistoryEvent[],
): { accepted: HistoryEvent[]; duplicates: HistoryEvent[] } {
  const completed = new Set<number>();
  for (const event of history) {
    const id = completionTargetId(event);
    if (id !== undefined) completed.add(id);
  }
  const accepted: HistoryEvent[] = [];
  const duplicates: HistoryEvent[] = [];
  for (const event of incoming) {
    const id = completionTargetId(event);
    if (id !== undefined && completed.has(id)) {
      duplicates.push(event);
      continue;
    }
    if (id !== undefined) completed.add(id);
    accepted.push(event);
  }
  return { accepted, duplicates };
}

// ------------------------------------------------------------------------------------------------ task model

type FailureEvent = TaskFailedEvent | SubOrchestrationInstanceFailedEvent;
type LeafKind = NewDurableTaskKind | 'event' | 'entity' | 'noop';

/** A mirror of the library's TaskBase: Running → Completed | Failed, propagating to the parent once. */
abstract class ReplayTask {
  state: 'running' | 'completed' | 'failed' = 'running';
  parent: CompositeTask | undefined;

  get done(): boolean {
    return this.state !== 'running';
  }

  settle(ok: boolean): void {
    if (this.done) return;
    this.state = ok ? 'completed' : 'failed';
    this.parent?.onChildSettled(this);
  }
}

interface LeafProps {
  name?: string;
  input?: unknown;
  hasInput?: boolean;
  fireAtMs?: number;
  canceled?: boolean;
  timerPurpose?: TimerPurpose;
  instanceId?: string;
  version?: string;
  httpRequest?: DurableHttpRequestJson;
  retry?: RetryInfo;
  fastFail?: FastFailInfo;
  /** HTTP polls: numbered at once (as the library does) but scheduled only after this timer has fired. */
  readyAfter?: ReplayTask;
  /** Numbered (the library numbers it too) but never scheduled: the action is unsupported. */
  unsupported?: boolean;
}

/** A task the library tracks individually: a durable task (gets an id), an event waiter, or a finished no-op. */
class Leaf extends ReplayTask {
  id: number | undefined;
  /** Parsed Result of the completing event (CallHttp responses are inspected for 202 polling). */
  result: unknown;
  failure: FailureEvent | undefined;

  constructor(
    readonly kind: LeafKind,
    readonly props: LeafProps,
  ) {
    super();
  }

  get durable(): boolean {
    return this.kind === 'activity' || this.kind === 'timer' || this.kind === 'suborchestration' || this.kind === 'http';
  }
}

/** A task made of children; ids go depth first over `children` at the moment it is tracked. */
abstract class CompositeTask extends ReplayTask {
  readonly children: ReplayTask[] = [];

  addChild(child: ReplayTask): void {
    child.parent = this;
    this.children.push(child);
  }

  abstract onChildSettled(child: ReplayTask): void;
}

/** `Task.all`: fails fast on the first failed child (unlike .NET's WhenAll). */
class WhenAllTask extends CompositeTask {
  private failed = false;

  onChildSettled(child: ReplayTask): void {
    if (child.state === 'completed') {
      if (this.children.every((c) => c.state === 'completed')) this.settle(true);
    } else if (!this.failed) {
      this.failed = true;
      this.settle(false);
    }
  }
}

/** `Task.any`: resolves (successfully) with the first child to finish, even a failed one. */
class WhenAnyTask extends CompositeTask {
  onChildSettled(): void {
    this.settle(true);
  }
}

/** The attempt a retry task repeats. */
interface AttemptTemplate {
  kind: 'activity' | 'suborchestration';
  name: string;
  input: unknown;
  hasInput: boolean;
  instanceId?: string;
  version?: string;
}

/**
 * durable-functions `RetryableTask` (which only counts attempts and numbers a task after every failure and after
 * every timer) plus what DTFx's `RetryInterceptor` makes of those numbers: attempt, retry timer, attempt, ...,
 * and a zero-delay "dummy" timer after the last attempt before the library surfaces the error (spec 6.1).
 */
class RetryTask extends CompositeTask {
  private attemptNumber = 1;
  private waitingOnTimer = false;
  private readonly firstAttemptAt: number;
  /** Retry timeout passed or the failure was non-retriable: DTFx would stop here, the host fast-fails instead. */
  private stopRetrying = false;
  private lastFailure: FailureEvent | undefined;

  constructor(
    private readonly replay: Replay,
    private readonly template: AttemptTemplate,
    private readonly options: RetryOptionsJson,
  ) {
    super();
    this.firstAttemptAt = replay.now;
    this.addChild(this.newAttempt());
  }

  private newAttempt(): Leaf {
    const t = this.template;
    const fastFail: FastFailInfo | undefined =
      this.stopRetrying && this.lastFailure
        ? { reason: this.lastFailure.Reason, details: this.lastFailure.Details ?? '', failureDetails: this.lastFailure.FailureDetails ?? null }
        : undefined;
    return new Leaf(t.kind, {
      name: t.name,
      input: t.input,
      hasInput: t.hasInput,
      instanceId: t.instanceId,
      version: t.version,
      retry: { attempt: this.attemptNumber, maxNumberOfAttempts: this.options.maxNumberOfAttempts },
      fastFail,
    });
  }

  onChildSettled(child: ReplayTask): void {
    if (this.waitingOnTimer) {
      this.waitingOnTimer = false;
      if (this.attemptNumber > this.options.maxNumberOfAttempts) {
        this.settle(false);
      } else {
        const attempt = this.newAttempt();
        this.addChild(attempt);
        this.replay.track(attempt);
      }
    } else if (child.state === 'completed') {
      this.settle(true);
    } else {
      this.lastFailure = child instanceof Leaf ? child.failure : undefined;
      const failedAttempt = this.attemptNumber;
      const isLast = failedAttempt >= this.options.maxNumberOfAttempts;
      const timer = new Leaf('timer', {
        fireAtMs: this.replay.now + this.nextDelayMs(failedAttempt, isLast),
        canceled: false,
        timerPurpose: 'retry',
        retry: { attempt: failedAttempt, maxNumberOfAttempts: this.options.maxNumberOfAttempts, ...(isLast ? { last: true } : {}) },
      });
      this.addChild(timer);
      this.replay.track(timer);
      this.waitingOnTimer = true;
      this.attemptNumber++;
    }
  }

  /** DTFx `RetryInterceptor.ComputeNextDelay`: first · backoff^(k−1), capped, zero once retrying has stopped. */
  private nextDelayMs(failedAttempt: number, isLast: boolean): number {
    if (this.lastFailure?.FailureDetails?.IsNonRetriable === true) this.stopRetrying = true;
    if (isLast || this.stopRetrying) return 0;
    const o = this.options;
    const timeout = o.retryTimeoutInMilliseconds;
    if (typeof timeout === 'number' && this.replay.now >= this.firstAttemptAt + timeout) {
      this.stopRetrying = true;
      return 0;
    }
    const delay = o.firstRetryIntervalInMilliseconds * Math.pow(o.backoffCoefficient ?? 1, failedAttempt - 1);
    const max = o.maxRetryIntervalInMilliseconds ?? DEFAULT_MAX_RETRY_INTERVAL_MS;
    const capped = delay < max ? delay : max;
    return Number.isFinite(capped) && capped > 0 ? Math.round(capped) : 0;
  }
}

/**
 * durable-functions `LongTimerTask` (schema V3, timers beyond maximumShortTimerDuration): a chain of segments;
 * whenever one fires and the final time is still ahead of `currentUtcDateTime`, the next segment gets the next id.
 */
class LongTimerTask extends CompositeTask {
  private failed = false;

  constructor(
    private readonly replay: Replay,
    private readonly finalFireAt: number,
    private readonly canceled: boolean,
  ) {
    super();
    this.addChild(this.nextSegment());
  }

  private nextSegment(): Leaf {
    const now = this.replay.now;
    const at = this.finalFireAt - now > this.replay.maxShortTimerMs ? this.replay.addLongRunningInterval(now) : this.finalFireAt;
    return new Leaf('timer', { fireAtMs: at, canceled: this.canceled, timerPurpose: 'longTimerSegment' });
  }

  onChildSettled(child: ReplayTask): void {
    if (this.finalFireAt > this.replay.now) {
      const segment = this.nextSegment();
      this.addChild(segment);
      this.replay.track(segment);
    }
    if (child.state === 'completed') {
      if (this.children.every((c) => c.state === 'completed')) this.settle(true);
    } else if (!this.failed) {
      this.failed = true;
      this.settle(false);
    }
  }
}

/**
 * durable-functions `CallHttpWithPollingTask` (schema V3, asynchronousPatternEnabled): a 202 with Location numbers
 * a timer (id n) and the next poll (id n+1) at once; the host schedules the poll only after the timer has fired,
 * as the extension's polling loop does.
 */
class HttpPollingTask extends CompositeTask {
  private failed = false;

  constructor(
    private readonly replay: Replay,
    private readonly request: DurableHttpRequestJson,
  ) {
    super();
    this.addChild(new Leaf('http', { name: HTTP_ACTIVITY_NAME, httpRequest: request, unsupported: hasTokenSource(request) }));
  }

  onChildSettled(child: ReplayTask): void {
    if (child.state === 'completed') {
      // A polling timer firing changes nothing; only HTTP responses are inspected.
      if (!(child instanceof Leaf) || child.kind !== 'http') return;
      const response = asHttpResponse(child.result);
      // The library tests the raw header value for truthiness; mirror that so the numbering cannot differ.
      const rawLocation = headerOf(response, 'Location');
      if (response?.statusCode === 202 && rawLocation) {
        const retryAfter = headerOf(response, 'Retry-After');
        const delayMs = retryAfter ? momentSecondsToMs(retryAfter) : this.replay.httpSleepMs;
        const timer = this.replay.buildTimer(this.replay.now + delayMs, false, 'httpPoll');
        const poll = new Leaf('http', {
          name: HTTP_ACTIVITY_NAME,
          httpRequest: pollRequest(this.request, firstHeaderValue(rawLocation) ?? String(rawLocation)),
          readyAfter: timer,
          unsupported: hasTokenSource(this.request),
        });
        // Same interleaving as the library's addNewChildren: add and track one child after the other.
        for (const next of [timer, poll]) {
          this.addChild(next);
          this.replay.track(next);
        }
      } else {
        this.settle(true);
      }
    } else if (!this.failed) {
      this.failed = true;
      this.settle(false);
    }
  }
}

// ------------------------------------------------------------------------------------------------ helpers

function hasTokenSource(request: DurableHttpRequestJson): boolean {
  return request.tokenSource !== undefined && request.tokenSource !== null;
}

function asHttpResponse(value: unknown): DurableHttpResponseJson | undefined {
  return typeof value === 'object' && value !== null ? (value as DurableHttpResponseJson) : undefined;
}

/** `DurableHttpResponse.getHeader`: case-insensitive header lookup. */
function headerOf(response: DurableHttpResponseJson | undefined, name: string): string | string[] | undefined {
  const headers = response?.headers;
  if (!headers || typeof headers !== 'object') return undefined;
  const lower = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : headers[key];
}

function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length > 0 ? first : undefined;
}

/**
 * `moment.duration(value, "s")` as the library computes the Retry-After delay: anything numeric (`"5"`, `["5"]`)
 * is seconds, `hh:mm[:ss]` is a TimeSpan, everything else (an HTTP date, say) is 0.
 */
function momentSecondsToMs(value: string | string[]): number {
  const numeric = Number(value);
  if (!Number.isNaN(numeric)) return Math.round(numeric * 1000);
  const match = /^([-+])?(?:(\d*)[. ])?(\d+):(\d+)(?::(\d+)(\.\d*)?)?$/.exec(String(value));
  if (!match) return 0;
  const n = (s: string | undefined): number => (s ? Number(s) : 0);
  const ms = n(match[2]) * 86_400_000 + n(match[3]) * 3_600_000 + n(match[4]) * 60_000 + n(match[5]) * 1000 + Math.round(Number(match[6] ?? 0) * 1000);
  return match[1] === '-' ? -ms : ms;
}

/** The extension's `CreateLocationPollRequest`: GET Location with the original headers minus x-functions-key. */
function pollRequest(original: DurableHttpRequestJson, location: string): DurableHttpRequestJson {
  let uri = location;
  try {
    // A relative Location is resolved against the request it answers, so the poll does not fail to parse.
    uri = new URL(location, original.uri).toString();
  } catch {
    // Not resolvable: keep the header value; the HTTP request then fails with a clear error.
  }
  const request: DurableHttpRequestJson = { method: 'GET', uri };
  if (original.headers) {
    // The first request may carry a function-level key that the status endpoint rejects.
    request.headers = Object.fromEntries(Object.entries(original.headers).filter(([k]) => k.toLowerCase() !== 'x-functions-key'));
  }
  if (hasTokenSource(original)) request.tokenSource = original.tokenSource;
  request.asynchronousPatternEnabled = true;
  return request;
}

function parseResult(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A TimeSpan split the way moment stores it: whole days (added in local calendar days) plus milliseconds. */
interface SplitTimeSpan {
  days: number;
  ms: number;
}

/**
 * Parses a TimeSpan option with `parseDotNetTimeSpan`, accepting only `[d.]hh:mm[:ss[.f]]` with hours below 24:
 * the forms where .NET and moment (which the library uses on the same string) agree. A bare number is days for
 * .NET but milliseconds for moment, and "25:00:00" is 25 days for .NET but 25 hours for moment.
 */
function parseTimerOption(name: string, text: string): SplitTimeSpan {
  const m = /^\s*(?:(\d+)\.)?(\d+):(\d+)(?::(\d+)(?:\.\d{1,7})?)?\s*$/.exec(text);
  if (!m || Number(m[2]) > 23) {
    throw new RangeError(`ActionReplayer: ${name} '${text}' must be a TimeSpan of the form 'd.hh:mm:ss' or 'hh:mm:ss' (hours below 24).`);
  }
  const parsed = parseDotNetTimeSpan(text);
  if ('reason' in parsed) throw new RangeError(`ActionReplayer: ${name} '${text}' is invalid: ${parsed.reason}`);
  const days = m[1] ? Number(m[1]) : 0;
  return { days, ms: parsed.ms - days * 86_400_000 };
}

function timestampMs(event: HistoryEvent): number {
  const value: unknown = event.Timestamp;
  if (typeof value !== 'string') {
    // The library turns Timestamp strings into Dates in place (spec 3). A Date here means the caller passed the
    // trigger copy, whose values may have lost precision; refuse it rather than number tasks from it.
    throw new TypeError('ActionReplayer.run needs the pristine history (Timestamp strings), not the copy handed to the orchestrator.');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`ActionReplayer.run: invalid OrchestratorStarted Timestamp '${value}'.`);
  return ms;
}

function describeScheduled(event: HistoryEvent): string {
  switch (event.EventType) {
    case EventType.TaskScheduled:
      return event.Name === HTTP_ACTIVITY_NAME ? 'an HTTP request (BuiltIn::HttpActivity)' : `activity '${event.Name}'`;
    case EventType.TimerCreated:
      return 'a durable timer';
    case EventType.SubOrchestrationInstanceCreated:
      return `sub-orchestration '${event.Name}'`;
    case EventType.EventSent:
      return 'an entity message';
    default:
      return 'a task';
  }
}

function describeLeaf(leaf: Leaf): string {
  switch (leaf.kind) {
    case 'activity':
      return `activity '${leaf.props.name ?? ''}'`;
    case 'timer':
      return 'a durable timer';
    case 'suborchestration':
      return `sub-orchestration '${leaf.props.name ?? ''}'`;
    case 'http':
      return 'an HTTP request (BuiltIn::HttpActivity)';
    case 'entity':
      return 'an entity call';
    default:
      return 'a task';
  }
}

/** Leaf kinds each scheduling event type may stand for. */
function expectedKinds(event: HistoryEvent): readonly LeafKind[] {
  switch (event.EventType) {
    case EventType.TaskScheduled:
      return ['activity', 'http'];
    case EventType.TimerCreated:
      return ['timer'];
    case EventType.SubOrchestrationInstanceCreated:
      return ['suborchestration'];
    default:
      return ['entity'];
  }
}

function scheduledName(event: HistoryEvent): string | undefined {
  switch (event.EventType) {
    case EventType.TaskScheduled:
    case EventType.SubOrchestrationInstanceCreated:
      return event.Name;
    default:
      return undefined;
  }
}

const NON_DETERMINISM_HINT = 'Was a change made to the orchestrator code after this instance had already started running?';

// ------------------------------------------------------------------------------------------------ one replay

interface Deferred {
  /** Completion events carry the numeric id they target; EventRaised carries none. */
  completionId: number | undefined;
  run: () => void;
}

/** The state of a single `run`: the host-side mirror of one `TaskOrchestrationExecutor.execute`. */
class Replay {
  /** `context.df.currentUtcDateTime` in ms: the first OrchestratorStarted, then any later, greater one. */
  now = 0;
  private nowText: string | undefined;
  private seq = 0;
  private index = 0;
  private current: ReplayTask | undefined;
  /** The library's `openTasks`: string keys, because it indexes one object by ids and by event names alike. */
  private readonly openByKey = new Map<string, Leaf>();
  /** The library's `openEvents`: waiters per name; the most recent waiter is popped first. */
  private readonly waiters = new Map<string, Leaf[]>();
  /** The library's `deferredTasks`: completions that arrived before their task was tracked, FIFO per key. */
  private readonly deferred = new Map<string, Deferred[]>();
  private readonly completedKeys = new Set<string>();
  private readonly leaves: Leaf[] = [];
  private readonly unsupported: string[] = [];
  private readonly duplicates: number[] = [];
  private continueAsNew: { input: unknown } | undefined;

  constructor(
    private readonly actions: readonly OrchestratorAction[],
    private readonly schemaVersion: number,
    readonly maxShortTimerMs: number,
    private readonly longInterval: SplitTimeSpan,
    readonly httpSleepMs: number,
  ) {}

  run(history: readonly HistoryEvent[]): ReplayResult {
    const firstStarted = history.find((e) => e.EventType === EventType.OrchestratorStarted);
    if (firstStarted) {
      this.now = timestampMs(firstStarted);
      this.nowText = firstStarted.Timestamp;
    }
    const scheduled = new Map<number, HistoryEvent>();
    const nonDeterminism: string[] = [];

    for (const event of history) {
      switch (event.EventType) {
        case EventType.OrchestratorStarted: {
          const ms = timestampMs(event);
          if (ms > this.now) {
            this.now = ms;
            this.nowText = event.Timestamp;
          }
          break;
        }
        case EventType.ExecutionStarted:
          this.advance();
          break;
        case EventType.TaskScheduled:
        case EventType.TimerCreated:
        case EventType.SubOrchestrationInstanceCreated:
        case EventType.EventSent:
          if (scheduled.has(event.EventId)) {
            nonDeterminism.push(`The history contains two scheduling events with sequence ID ${event.EventId}; it is corrupt or was written by a diverged replay.`);
          } else {
            scheduled.set(event.EventId, event);
          }
          break;
        case EventType.TaskCompleted:
        case EventType.SubOrchestrationInstanceCompleted:
          this.deliverCompletion(event.TaskScheduledId, (leaf) => {
            leaf.result = parseResult(event.Result);
            leaf.settle(true);
          });
          this.advance();
          break;
        case EventType.TaskFailed:
        case EventType.SubOrchestrationInstanceFailed:
          this.deliverCompletion(event.TaskScheduledId, (leaf) => {
            leaf.failure = event;
            leaf.settle(false);
          });
          this.advance();
          break;
        case EventType.TimerFired:
          this.deliverCompletion(event.TimerId, (leaf) => leaf.settle(true));
          this.advance();
          break;
        case EventType.EventRaised:
          this.deliver(event.Name, undefined, (leaf) => {
            leaf.result = parseResult(event.Input);
            leaf.settle(true);
          });
          this.advance();
          break;
        default:
          break;
      }
    }

    const byId = new Map<number, Leaf>();
    for (const leaf of this.leaves) if (leaf.id !== undefined) byId.set(leaf.id, leaf);
    for (const [id, event] of scheduled) {
      const leaf = byId.get(id);
      const what = describeScheduled(event);
      if (!leaf) {
        nonDeterminism.push(
          `A previous execution of this orchestration scheduled ${what} with sequence ID ${id}, but the current replay execution hasn't (yet?) scheduled this task. ${NON_DETERMINISM_HINT}`,
        );
        continue;
      }
      const name = scheduledName(event);
      const sameKind = expectedKinds(event).includes(leaf.kind);
      const sameName = name === undefined || leaf.props.name === undefined || name.toLowerCase() === leaf.props.name.toLowerCase();
      if (!sameKind || !sameName) {
        nonDeterminism.push(
          `A previous execution of this orchestration scheduled ${what} with sequence ID ${id}, but the current replay instead scheduled ${describeLeaf(leaf)} with this sequence ID. ${NON_DETERMINISM_HINT}`,
        );
      }
    }

    const newTasks: NewDurableTask[] = [];
    let open = 0;
    const canceledTimerIds: number[] = [];
    for (const leaf of this.leaves) {
      if (!leaf.durable || leaf.props.unsupported || leaf.id === undefined) continue;
      if (!leaf.done && !leaf.props.canceled) open++;
      if (scheduled.has(leaf.id)) {
        if (leaf.kind === 'timer' && leaf.props.canceled && !leaf.done) canceledTimerIds.push(leaf.id);
        continue;
      }
      if (leaf.props.readyAfter && !leaf.props.readyAfter.done) continue;
      newTasks.push(toNewTask(leaf));
    }

    const unmatchedCompletions: number[] = [];
    for (const queue of this.deferred.values()) {
      for (const entry of queue) if (entry.completionId !== undefined) unmatchedCompletions.push(entry.completionId);
    }

    return {
      newTasks,
      open,
      openTaskIds: [...this.openByKey.values()].map((leaf) => leaf.id ?? -1).sort((a, b) => a - b),
      nonDeterminism,
      unsupported: this.unsupported,
      continueAsNew: this.continueAsNew,
      nextSequenceNumber: this.seq,
      unconsumedActions: this.actions.length - this.index,
      lastActionPending: this.current !== undefined && !this.current.done,
      waitingForEvents: [...this.waiters.keys()],
      currentUtcDateTime: this.nowText,
      canceledTimerIds,
      duplicateCompletions: this.duplicates,
      unmatchedCompletions: unmatchedCompletions.sort((a, b) => a - b),
    };
  }

  /** Resume "user code": while the awaited top-level task is finished, yield (build and track) the next action. */
  private advance(): void {
    while (this.index < this.actions.length && (this.current === undefined || this.current.done)) {
      const action = this.actions[this.index++] as OrchestratorAction;
      const task = this.build(action);
      this.current = task;
      if (!task.done) this.track(task);
    }
  }

  private build(action: OrchestratorAction): ReplayTask {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return new Leaf('activity', { name: action.functionName, input: action.input, hasInput: 'input' in action });
      case ActionType.CallActivityWithRetry:
        return new RetryTask(this, { kind: 'activity', name: action.functionName, input: action.input, hasInput: 'input' in action }, action.retryOptions);
      case ActionType.CallSubOrchestrator:
        return new Leaf('suborchestration', {
          name: action.functionName,
          input: action.input,
          hasInput: 'input' in action,
          instanceId: action.instanceId,
          version: action.version,
        });
      case ActionType.CallSubOrchestratorWithRetry:
        return new RetryTask(
          this,
          { kind: 'suborchestration', name: action.functionName, input: action.input, hasInput: 'input' in action, instanceId: action.instanceId, version: action.version },
          action.retryOptions,
        );
      case ActionType.ContinueAsNew:
        this.continueAsNew = { input: action.input };
        return finished();
      case ActionType.CreateTimer: {
        const fireAt = new Date(action.fireAt).getTime();
        if (Number.isNaN(fireAt)) {
          this.unsupported.push(`CreateTimer with an invalid fireAt '${String(action.fireAt)}' cannot be scheduled.`);
          return new Leaf('timer', { unsupported: true });
        }
        return this.buildTimer(fireAt, action.isCanceled === true, 'user');
      }
      case ActionType.WaitForExternalEvent:
        return new Leaf('event', { name: action.externalEventName });
      case ActionType.CallHttp: {
        const request = action.httpRequest;
        if (hasTokenSource(request)) {
          const resource = typeof request.tokenSource?.resource === 'string' ? ` for resource '${request.tokenSource.resource}'` : '';
          this.unsupported.push(
            `CallHttp ${request.method} ${request.uri} asks for a managed identity token${resource}; managed identity tokens cannot be obtained by the embedded host (offline). Pass an Authorization header instead of tokenSource.`,
          );
        }
        if (this.schemaVersion >= 2 && request.asynchronousPatternEnabled === true) return new HttpPollingTask(this, request);
        return new Leaf('http', { name: HTTP_ACTIVITY_NAME, httpRequest: request, unsupported: hasTokenSource(request) });
      }
      case ActionType.CallEntity:
        // The library numbers entity calls like any task; keep the numbering even though the instance will fail.
        this.unsupported.push(`CallEntity '${action.operation}' on '${action.instanceId}': ${ENTITIES_NOT_SUPPORTED}.`);
        return new Leaf('entity', { name: action.operation, unsupported: true });
      case ActionType.SignalEntity:
        // Fire-and-forget; the library consumes one sequence number when it records the signal.
        this.unsupported.push(`SignalEntity '${action.operation}' on '${action.instanceId}': ${ENTITIES_NOT_SUPPORTED}.`);
        this.seq++;
        return finished();
      case ActionType.LockEntities:
        this.unsupported.push(`${actionTypeName(action.actionType)}: ${ENTITIES_NOT_SUPPORTED} (entity critical sections need ReplaySchema V4, which the host does not advertise).`);
        return new Leaf('entity', { unsupported: true });
      case ActionType.ReleaseEntities:
        // Fire-and-forget, like SignalEntity; only reachable after a LockEntities, which is reported already.
        this.unsupported.push(`${actionTypeName(action.actionType)}: ${ENTITIES_NOT_SUPPORTED}.`);
        return finished();
      case ActionType.WhenAll:
      case ActionType.WhenAny: {
        const compound = action.actionType === ActionType.WhenAll ? new WhenAllTask() : new WhenAnyTask();
        for (const child of action.compoundActions) compound.addChild(this.build(child));
        // The library rejects empty Task.all/any when the orchestrator builds it, so this never reaches the host.
        if (compound.children.length === 0) compound.settle(true);
        return compound;
      }
      default: {
        const type: unknown = (action as { actionType?: unknown }).actionType;
        this.unsupported.push(`Unknown orchestrator action type ${String(type)}: the embedded host cannot execute it.`);
        return new Leaf('noop', { unsupported: true });
      }
    }
  }

  /** `context.df.createTimer`: a LongTimerTask under schema V3 when fireAt − now exceeds maximumShortTimerDuration. */
  buildTimer(fireAtMs: number, canceled: boolean, purpose: TimerPurpose): ReplayTask {
    if (this.schemaVersion >= 2 && fireAtMs - this.now > this.maxShortTimerMs) return new LongTimerTask(this, fireAtMs, canceled);
    return new Leaf('timer', { fireAtMs, canceled, timerPurpose: purpose });
  }

  /**
   * `moment(now).add(longRunningTimerIntervalDuration)` as the library computes a segment's FireAt: the
   * milliseconds first, then whole days in local calendar days (so a segment spanning a DST change keeps its
   * wall-clock time exactly as the library expects).
   */
  addLongRunningInterval(now: number): number {
    const date = new Date(now + this.longInterval.ms);
    if (this.longInterval.days !== 0) date.setDate(date.getDate() + this.longInterval.days);
    return date.getTime();
  }

  /** `TaskOrchestrationExecutor.trackOpenTask`: number leaves depth first, register waiters, apply one deferred completion. */
  track(task: ReplayTask): void {
    if (task instanceof CompositeTask) {
      // Live iteration on purpose: a child settled by a deferred completion may append children (retry timer,
      // next long-timer segment) that the library's for..of over the same array visits too.
      for (const child of task.children) this.track(child);
      return;
    }
    if (!(task instanceof Leaf) || task.kind === 'noop') return;
    let key: string;
    if (task.kind === 'event') {
      key = task.props.name ?? '';
      const list = this.waiters.get(key) ?? [];
      list.push(task);
      this.waiters.set(key, list);
    } else {
      if (task.id === undefined) {
        task.id = this.seq++;
        this.openByKey.set(String(task.id), task);
        this.leaves.push(task);
      }
      key = String(task.id);
    }
    const queue = this.deferred.get(key);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.deferred.delete(key);
    next?.run();
  }

  /** A completion event keyed by sequence id. */
  private deliverCompletion(id: number, apply: (leaf: Leaf) => void): void {
    this.deliver(String(id), id, apply);
  }

  /**
   * `TaskOrchestrationExecutor.setTaskValue`: an open task with this key, else the most recent waiter of an
   * event with this name, else park the completion until a task with this key is tracked. Ids and event names
   * share one key space, exactly as in the library (the all-digit event name gotcha).
   */
  private deliver(key: string, completionId: number | undefined, apply: (leaf: Leaf) => void): void {
    const task = this.openByKey.get(key);
    if (task) {
      this.openByKey.delete(key);
      this.completedKeys.add(key);
      apply(task);
      return;
    }
    const list = this.waiters.get(key);
    if (list && list.length > 0) {
      const waiter = list.pop() as Leaf;
      if (list.length === 0) this.waiters.delete(key);
      apply(waiter);
      return;
    }
    if (completionId !== undefined && this.completedKeys.has(key)) {
      // The library would park it forever; it can never be used, so report it for de-duplication instead.
      this.duplicates.push(completionId);
      return;
    }
    const queue = this.deferred.get(key) ?? [];
    queue.push({ completionId, run: () => this.deliver(key, completionId, apply) });
    this.deferred.set(key, queue);
  }
}

function finished(): Leaf {
  const leaf = new Leaf('noop', {});
  leaf.state = 'completed';
  return leaf;
}

function toNewTask(leaf: Leaf): NewDurableTask {
  const p = leaf.props;
  const task: NewDurableTask = { id: leaf.id as number, kind: leaf.kind as NewDurableTaskKind };
  if (p.name !== undefined) task.name = p.name;
  if (p.hasInput && p.input !== undefined) task.input = p.input;
  if (leaf.kind === 'timer') {
    task.fireAt = new Date(p.fireAtMs ?? Number.NaN).toISOString();
    task.canceled = p.canceled === true;
    task.timerPurpose = p.timerPurpose ?? 'user';
  }
  if (p.instanceId) task.instanceId = p.instanceId;
  if (p.version !== undefined) task.version = p.version;
  if (p.httpRequest !== undefined) task.httpRequest = p.httpRequest;
  if (p.retry !== undefined) task.retry = p.retry;
  if (p.fastFail !== undefined) task.fastFail = p.fastFail;
  if (leaf.done) task.alreadyCompleted = true;
  return task;
}

// ------------------------------------------------------------------------------------------------ public class

/**
 * Recovers sequence ids from an orchestrator's actions and the pristine history (spec 6.2). Stateless between
 * runs; one instance per host configuration.
 */
export class ActionReplayer {
  private readonly maxShortTimerMs: number;
  private readonly longInterval: SplitTimeSpan;
  private readonly httpSleepMs: number;
  private readonly schemaVersion: number;

  /** Throws a RangeError for options the library would misread (unparseable TimeSpans, schema V1). */
  constructor(options: ActionReplayerOptions) {
    const maxShort = parseTimerOption('maximumShortTimerDuration', options.maximumShortTimerDuration);
    this.maxShortTimerMs = maxShort.days * 86_400_000 + maxShort.ms;
    this.longInterval = parseTimerOption('longRunningTimerIntervalDuration', options.longRunningTimerIntervalDuration);
    const sleep = options.defaultHttpAsyncRequestSleepTimeMillseconds;
    if (!Number.isFinite(sleep) || sleep <= 0) {
      // The library throws on callHttp when this is falsy, so a zero here would only move the failure.
      throw new RangeError(`ActionReplayer: defaultHttpAsyncRequestSleepTimeMillseconds must be a positive number, got ${String(sleep)}.`);
    }
    this.httpSleepMs = sleep;
    if (!Number.isInteger(options.schemaVersion) || options.schemaVersion < 1 || options.schemaVersion > 3) {
      throw new RangeError(
        `ActionReplayer: schemaVersion ${String(options.schemaVersion)} is not supported; use 2 (ReplaySchema V3). V1 (0) flattens Task.all/Task.any and loses their semantics.`,
      );
    }
    this.schemaVersion = options.schemaVersion;
  }

  /**
   * Replays `actions` (`state.actions[0]`, after a JSON round trip) against `history` (the host's pristine
   * events of this execution: every earlier episode plus this episode's OrchestratorStarted, ExecutionStarted
   * if first, and inbound events; not yet the scheduling events this replay asks for).
   */
  run(actions: readonly OrchestratorAction[], history: readonly HistoryEvent[]): ReplayResult {
    return new Replay(actions, this.schemaVersion, this.maxShortTimerMs, this.longInterval, this.httpSleepMs).run(history);
  }
}
