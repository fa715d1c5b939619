/**
 * The workflow engine's planner: a pure, deterministic state machine that interprets a pinned workflow
 * definition (docs/workflow-language.md). The `runWorkflow` orchestrator loops:
 *
 * ```
 * let state = initialRunState(definition);
 * for (;;) {
 *   const decision = planNext(definition, state, { inputs, run, now: context.df.currentUtcDateTime.toISOString() });
 *   state = decision.state;                 // skips, planning failures and started steps applied
 *   if (decision.complete) return decision.complete;
 *   start every decision.start; await any; state = applyStepResult(definition, state, stepId, result);
 * }
 * ```
 *
 * (Equivalently, without `decision.state`: apply each `skip` with `applyStepResult(…, {status: 'skipped'})`,
 * each `fail` with `applyStepResult(…, {status: 'failed', error})`, then `markStarted` the starts.)
 *
 * A forEach step's iterations are run with the same loop on an *iteration state*
 * ({@link initialIterationState}), whose `complete.output` is the iteration's result; {@link forEachNext} and
 * {@link applyIterationResult} schedule the iterations within the concurrency cap and assemble the step's
 * output (the iteration results in item order).
 *
 * ## Semantics decisions
 *
 * - **Readiness.** A step without `dependsOn` (and not a handler) is ready at once. `join: "all"`: ready when
 *   every dependency has finished and none was skipped; skipped as soon as one dependency is skipped
 *   (`upstream`), without waiting for the others. `join: "any"`: waits until every dependency has finished,
 *   then runs when at least one was not skipped, else is skipped (`upstream`). A dependency that failed with
 *   `continue` counts as finished; one that failed into a handler (status `handled`) counts as skipped.
 * - **Handlers** (goto targets of onError/onTimeout/onReject) start only when activated, once per state (the
 *   first failure wins; later failures into an activated handler do not start it again); a handler is skipped
 *   (`notActivated`) as soon as every step that can go to it has finished without doing so.
 * - **Conditions** are evaluated when the step is ready; `false` skips it (`condition`); a non-bool or an
 *   evaluation error fails the step (then `onError` applies), as does any expression error while rendering its
 *   inputs (all of a step's inputs, fallbacks included, are rendered when it starts).
 * - **Run failure is immediate.** When a step fails with `onError: "fail"` (or its `onTimeout`/`onReject` is
 *   `fail` and then its `onError` is), the state fails at once with that step's error code and message:
 *   steps still running are marked `failed` with `STEP.CANCELLED` (the orchestrator abandons or cancels their
 *   tasks), pending steps stay `pending`, and `planNext` returns `complete: {status: 'failed'}`. Results that
 *   arrive later are ignored. In an iteration state the same makes the iteration fail.
 * - **Waits.** A waitForEvent/approval result `failed` with `STEP.TIMEOUT` (or an approval output with
 *   `decision: "timedOut"`) applies `onTimeout`; an approval output with `decision: "rejected"` (or a failure
 *   with `APPROVAL.REJECTED`) applies `onReject`. `continue` makes the step succeed (output
 *   `{"timedOut": true}` for waitForEvent, the approval output with the decision otherwise); `fail` fails the
 *   step with `STEP.TIMEOUT`/`APPROVAL.REJECTED` and then `onError` applies; `{goto}` hands the failure to
 *   the handler.
 * - **forEach.** `items` is evaluated once, at start (a literal list is rendered as a value template); more
 *   than 1000 items fails the step (`FOREACH.TOO_MANY_ITEMS`), a non-list fails it (`EXPRESSION.FAILED`).
 *   Iterations start in item order, at most `concurrency` at a time. When an iteration fails, no new
 *   iteration starts, the running ones finish, and the step fails with the error of the failed iteration with
 *   the lowest index (code kept, message prefixed with the iteration and step). Otherwise the output is the
 *   list of iteration results in item order. A single-action body runs as a one-step iteration whose step id
 *   is the forEach's own id.
 * - **Outputs** are evaluated when every step has finished; an error there fails the run (`EXPRESSION.FAILED`).
 * - **Statuses.** `handled` is "failed into a handler"; expressions see it as `failed`. A failed or skipped
 *   step's `output` reads as `null`.
 */
import type { JsonObject, JsonValue } from '../json.js';
import { DEFAULTS, LIMITS } from '../workflow-language/constants.js';
import { ancestors, createGraph, stepGraph, topologicalOrder, type StepGraph } from '../workflow-language/graph.js';
import {
  isExpression,
  type ActionCall,
  type ActionStep,
  type ApprovalStep,
  type DelayStep,
  type Expression,
  type ForEachStep,
  type InputMap,
  type OnError,
  type RetryPolicy,
  type StepDefinition,
  type SubWorkflowStep,
  type WaitForEventStep,
  type WorkflowDefinition,
} from '../workflow-language/types.js';
import {
  evaluateCondition,
  evaluateExpression,
  ExpressionError,
  jsonTypeName,
  renderTemplate,
  renderValue,
  setOwn,
  type ExpressionContext,
  type ExpressionSite,
  type HandlerErrorInfo,
  type RunInfo,
  type SecretSlot,
  type StepView,
} from './expressionEvaluator.js';

// ---------------------------------------------------------------------------------------------------------
// Error codes

/** The error codes the planner produces (besides the codes step results carry). */
export const ENGINE_ERRORS = {
  expressionFailed: 'EXPRESSION.FAILED',
  /** A failed result without an error. */
  stepFailed: 'STEP.FAILED',
  /** A wait or approval that timed out (the orchestrator reports it with this code). */
  stepTimeout: 'STEP.TIMEOUT',
  /** A step that was running when the run (or iteration) failed or timed out. */
  stepCancelled: 'STEP.CANCELLED',
  approvalRejected: 'APPROVAL.REJECTED',
  forEachTooManyItems: 'FOREACH.TOO_MANY_ITEMS',
  runTimeout: 'RUN.TIMEOUT',
  /** No step is running or can start, yet some never finished: only with an invalid definition. */
  runStuck: 'RUN.STUCK',
} as const;

// ---------------------------------------------------------------------------------------------------------
// State

/** A step's status in a run (or iteration) state. `handled`: failed, and the failure went to a handler (goto). */
export type StepRunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'handled';

/** A step error: a stable code and a message. */
export interface StepError {
  code: string;
  message: string;
}

/** One step of a run state. */
export interface StepRunState {
  status: StepRunStatus;
  /** Set when succeeded. */
  output?: JsonValue;
  /** Set when failed or handled. */
  error?: StepError;
  startedAt?: string;
  completedAt?: string;
  attempts?: number;
}

/** A handler started by a failure (the first one that went to it). */
export interface HandlerActivation {
  error: HandlerErrorInfo;
  at: string;
}

/** Why the run (or iteration) failed. */
export interface RunFailure {
  code: string;
  message: string;
  /** The step whose failure failed the run; absent for a run timeout or an outputs error. */
  stepId?: string;
  at: string;
}

/** What an iteration state interprets: one iteration of a forEach body. */
export interface IterationScope {
  forEachStepId: string;
  index: number;
  item: JsonValue;
  /** What body expressions can read of the enclosing steps lists (the forEach's upstream steps). */
  outerSteps: Record<string, StepView>;
  /** `error` for the body when the forEach (or an enclosing one) is a handler. */
  error?: HandlerErrorInfo;
}

/**
 * The state of a run (top-level steps) or of one forEach iteration (`scope` set). JSON-serializable; treat
 * it as immutable (every function here returns a new state).
 */
export interface RunState {
  /** Every step of the steps list this state interprets. */
  steps: Record<string, StepRunState>;
  /** Handler id → its activation. */
  handlers: Record<string, HandlerActivation>;
  /** Set when the run (iteration) has failed; nothing more is planned. */
  failure?: RunFailure;
  /** Set for a forEach iteration. */
  scope?: IterationScope;
}

/** What the planner needs besides the definition and the state. */
export interface PlanContext {
  /** The run input, defaults applied. */
  inputs: JsonValue;
  run: RunInfo;
  /** The current time, RFC 3339: in an orchestrator, `context.df.currentUtcDateTime.toISOString()`. */
  now: string;
}

// ---------------------------------------------------------------------------------------------------------
// Decisions

/** A retry policy with its defaults applied, also in the units Durable Functions' RetryOptions use. */
export type RetryPlan = {
  maxRetries: number;
  intervalSeconds: number;
  backoffCoefficient: number;
  maxIntervalSeconds: number;
  /** maxRetries + 1. */
  maxAttempts: number;
  initialIntervalMs: number;
  maxIntervalMs: number;
};

/** One connector call of an action step (the call itself or a fallback), fully resolved. */
export type ActionCallPlan = {
  connector: string;
  action: string;
  inputs: JsonObject;
  /** Where `inputs` holds `$secret` references that came from the definition: resolve these, and only these. */
  secrets: SecretSlot[];
  retry: RetryPlan;
  timeoutSeconds: number;
};

interface StartBase {
  stepId: string;
}

/** Start an action: call `connector.action` with `inputs` (retries per `retry`), then the fallbacks in order. */
export interface ActionStart extends StartBase, ActionCallPlan {
  kind: 'action';
  fallbacks: ActionCallPlan[];
}

/** The body of a forEach. */
export type ForEachBody = { kind: 'steps'; stepIds: string[] } | { kind: 'action'; connector: string; action: string };

/** What each iteration state of a forEach starts from (see {@link initialIterationState}). */
export interface IterationSeed {
  forEachStepId: string;
  outerSteps: Record<string, StepView>;
  error?: HandlerErrorInfo;
}

/** Start a forEach: run one iteration per item, `concurrency` at a time (see {@link forEachNext}). */
export interface ForEachStart extends StartBase {
  kind: 'forEach';
  items: JsonValue[];
  concurrency: number;
  body: ForEachBody;
  iteration: IterationSeed;
  timeoutSeconds?: number;
  /** now + timeoutSeconds. */
  timeoutAt?: string;
}

/** Start a delay: a durable timer firing at `fireAt` (never before the start). Output: null. */
export interface DelayStart extends StartBase {
  kind: 'delay';
  fireAt: string;
}

/** Start waiting for an external event (raced against a timer firing at `timeoutAt`). */
export interface WaitForEventStart extends StartBase {
  kind: 'waitForEvent';
  eventName: string;
  correlationKey?: string;
  timeoutSeconds: number;
  timeoutAt: string;
}

/** Start an approval: ask the approvers, wait for `eventName` (the decision), raced against `timeoutAt`. */
export interface ApprovalStart extends StartBase {
  kind: 'approval';
  eventName: string;
  approvers: { users: string[]; roles: string[] };
  minApprovals: number;
  title?: string;
  message?: string;
  timeoutSeconds: number;
  timeoutAt: string;
}

/** Start a child run of `workflowId` at `version` with `inputs`, as a sub-orchestration. */
export interface SubWorkflowStart extends StartBase {
  kind: 'subWorkflow';
  workflowId: string;
  version: number | 'latest';
  inputs: JsonObject;
  timeoutSeconds?: number;
  timeoutAt?: string;
}

/** A step to start now, discriminated by `kind` (the step type). */
export type StepStart = ActionStart | ForEachStart | DelayStart | WaitForEventStart | ApprovalStart | SubWorkflowStart;

/** Why a step was skipped. */
export type SkipReason = 'condition' | 'upstream' | 'notActivated';

/** How a run (or iteration) ended. */
export interface RunCompletion {
  status: 'succeeded' | 'failed';
  /** The run's outputs (top level, succeeded). */
  outputs?: Record<string, JsonValue>;
  /** The iteration's result (iteration state, succeeded). */
  output?: JsonValue;
  error?: { code: string; message: string; stepId?: string };
}

/** What to do next. */
export interface PlanDecision {
  /** Steps to start now, in topological order (declaration order among independent steps). */
  start: StepStart[];
  /** Steps skipped now. */
  skip: Array<{ stepId: string; reason: SkipReason }>;
  /** Steps that failed while being planned (condition or input expression errors, too many items). */
  fail: Array<{ stepId: string; error: StepError }>;
  /** Set when the run (iteration) is over. */
  complete?: RunCompletion;
  /** The state with this decision applied: skips, failures, and the starts marked running at `now`. */
  state: RunState;
}

/** A step's result, as the orchestrator reports it. `skipped` is accepted to apply a decision's skips. */
export interface StepResult {
  status: 'succeeded' | 'failed' | 'skipped';
  output?: JsonValue;
  error?: StepError;
  attempts?: number;
  /** RFC 3339. */
  at: string;
}

// ---------------------------------------------------------------------------------------------------------
// Definition index (cached per definition object)

interface Scope {
  /** '' for the top level, else the forEach id. */
  readonly key: string;
  readonly owner: ForEachStep | undefined;
  readonly steps: readonly StepDefinition[];
  readonly byId: ReadonlyMap<string, StepDefinition>;
  readonly order: readonly string[];
  readonly graph: StepGraph;
  /** Handler id → the steps that can go to it. */
  readonly handlerSources: ReadonlyMap<string, readonly string[]>;
}

interface DefinitionIndex {
  readonly scopes: ReadonlyMap<string, Scope>;
}

const indexes = new WeakMap<WorkflowDefinition, DefinitionIndex>();

function gotoTargets(step: StepDefinition): string[] {
  const targets: string[] = [];
  const add = (value: OnError | undefined): void => {
    if (typeof value === 'object' && value !== null && typeof value.goto === 'string') targets.push(value.goto);
  };
  add(step.onError);
  if (step.type === 'waitForEvent' || step.type === 'approval') add(step.onTimeout);
  if (step.type === 'approval') add(step.onReject);
  return targets;
}

function buildScope(key: string, owner: ForEachStep | undefined, steps: readonly StepDefinition[]): Scope {
  const byId = new Map(steps.map((s) => [s.id, s] as const));
  const graph = stepGraph(steps);
  let order: string[];
  try {
    order = topologicalOrder(graph);
  } catch {
    order = steps.map((s) => s.id);
  }
  const handlerSources = new Map<string, string[]>();
  for (const step of steps) {
    for (const target of gotoTargets(step)) {
      if (!byId.has(target)) continue;
      const list = handlerSources.get(target) ?? [];
      if (!list.includes(step.id)) list.push(step.id);
      handlerSources.set(target, list);
    }
  }
  return { key, owner, steps, byId, order, graph, handlerSources };
}

function singleActionStep(owner: ForEachStep, action: ActionCall): ActionStep {
  return { ...action, id: owner.id, type: 'action', onError: 'fail' };
}

function indexOf(definition: WorkflowDefinition): DefinitionIndex {
  const cached = indexes.get(definition);
  if (cached) return cached;
  const scopes = new Map<string, Scope>();
  const visit = (key: string, owner: ForEachStep | undefined, steps: readonly StepDefinition[]): void => {
    scopes.set(key, buildScope(key, owner, steps));
    for (const step of steps) {
      if (step.type !== 'forEach') continue;
      if (step.steps) visit(step.id, step, step.steps);
      else if (step.action) scopes.set(step.id, buildScope(step.id, step, [singleActionStep(step, step.action)]));
      else scopes.set(step.id, { ...buildScope(step.id, step, []), graph: createGraph([], []) });
    }
  };
  visit('', undefined, definition.steps);
  const index: DefinitionIndex = { scopes };
  indexes.set(definition, index);
  return index;
}

function scopeOf(definition: WorkflowDefinition, state: RunState): Scope {
  const key = state.scope?.forEachStepId ?? '';
  const scope = indexOf(definition).scopes.get(key);
  if (!scope) throw new Error(`The definition has no forEach step '${key}' for this iteration state.`);
  return scope;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

/**
 * Reads an own property of a record. Step ids such as `constructor` or `toString` are valid, so plain
 * indexing could return Object.prototype members.
 */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

const TERMINAL: ReadonlySet<StepRunStatus> = new Set(['succeeded', 'failed', 'skipped', 'handled']);

function isTerminal(state: StepRunState | undefined): boolean {
  return state !== undefined && TERMINAL.has(state.status);
}

/** Skipped, or failed into a handler: what joins treat as "skipped". */
function isSkippedLike(state: StepRunState | undefined): boolean {
  return state === undefined || state.status === 'skipped' || state.status === 'handled';
}

/** How expressions see a finished step. */
export function stepView(state: StepRunState): StepView {
  const status = state.status === 'succeeded' ? 'succeeded' : state.status === 'skipped' ? 'skipped' : 'failed';
  return {
    output: state.status === 'succeeded' ? (state.output ?? null) : null,
    status,
    error: state.error ? { code: state.error.code, message: state.error.message } : null,
  };
}

function parseTime(value: string, what: string): number {
  const time = Date.parse(value);
  if (!Number.isFinite(time)) throw new Error(`${what} is not a valid RFC 3339 date-time: ${value}`);
  return time;
}

function addSeconds(now: string, seconds: number): string {
  return new Date(parseTime(now, 'now') + Math.round(seconds * 1000)).toISOString();
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The retry policy with defaults. */
export function resolveRetry(policy: RetryPolicy | undefined): RetryPlan {
  const maxRetries = policy?.maxRetries ?? DEFAULTS.retry.maxRetries;
  const intervalSeconds = policy?.intervalSeconds ?? DEFAULTS.retry.intervalSeconds;
  const backoffCoefficient = policy?.backoffCoefficient ?? DEFAULTS.retry.backoffCoefficient;
  const maxIntervalSeconds = policy?.maxIntervalSeconds ?? DEFAULTS.retry.maxIntervalSeconds;
  return {
    maxRetries,
    intervalSeconds,
    backoffCoefficient,
    maxIntervalSeconds,
    maxAttempts: maxRetries + 1,
    initialIntervalMs: Math.round(intervalSeconds * 1000),
    maxIntervalMs: Math.round(maxIntervalSeconds * 1000),
  };
}

/** Seconds to wait before retry `retry` (1-based): min(interval × coefficient^(retry−1), maxInterval). */
export function retryDelaySeconds(policy: RetryPlan | RetryPolicy | undefined, retry: number): number {
  const p = policy && 'maxAttempts' in policy ? policy : resolveRetry(policy);
  return Math.min(p.intervalSeconds * p.backoffCoefficient ** Math.max(0, retry - 1), p.maxIntervalSeconds);
}

/** When the run times out: `startedAt` + the definition's `timeoutSeconds` (default 7 days). */
export function runDeadline(definition: WorkflowDefinition, startedAt: string): string {
  return addSeconds(startedAt, definition.timeoutSeconds ?? DEFAULTS.runTimeoutSeconds);
}

/** The event an approval step waits for (raised with the decision when the approvers have decided). */
export function approvalEventName(stepId: string): string {
  return `approval:${stepId}`;
}

/** A planning failure that is not an expression error (e.g. too many forEach items). */
class PlanningError extends Error {
  override readonly name = 'PlanningError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Initial states

/** The state of a new run: every top-level step pending. */
export function initialRunState(definition: WorkflowDefinition): RunState {
  const steps: Record<string, StepRunState> = {};
  for (const step of definition.steps) steps[step.id] = { status: 'pending' };
  return { steps, handlers: {} };
}

/** The state of iteration `index` of a started forEach (see {@link ForEachStart}). */
export function initialIterationState(definition: WorkflowDefinition, start: ForEachStart, index: number): RunState {
  if (!Number.isInteger(index) || index < 0 || index >= start.items.length) {
    throw new Error(`forEach '${start.stepId}' has no item ${index} (it has ${start.items.length}).`);
  }
  const scope = indexOf(definition).scopes.get(start.stepId);
  if (!scope) throw new Error(`The definition has no forEach step '${start.stepId}'.`);
  const steps: Record<string, StepRunState> = {};
  for (const step of scope.steps) steps[step.id] = { status: 'pending' };
  const iteration: IterationScope = {
    forEachStepId: start.stepId,
    index,
    item: start.items[index]!,
    outerSteps: start.iteration.outerSteps,
  };
  if (start.iteration.error) iteration.error = start.iteration.error;
  return { steps, handlers: {}, scope: iteration };
}

// ---------------------------------------------------------------------------------------------------------
// Planning

type Readiness = { kind: 'wait' } | { kind: 'ready' } | { kind: 'skip'; reason: SkipReason };

function readinessOf(scope: Scope, steps: Readonly<Record<string, StepRunState>>, handlers: Readonly<Record<string, HandlerActivation>>, step: StepDefinition): Readiness {
  const sources = scope.handlerSources.get(step.id);
  if (sources) {
    if (own(handlers, step.id)) return { kind: 'ready' };
    if (sources.every((s) => own(steps, s) === undefined || isTerminal(own(steps, s)))) return { kind: 'skip', reason: 'notActivated' };
    return { kind: 'wait' };
  }
  const deps = step.dependsOn ?? [];
  if (deps.length === 0) return { kind: 'ready' };
  const states = deps.map((d) => own(steps, d));
  if ((step.join ?? DEFAULTS.join) === 'any') {
    if (!states.every((s) => s === undefined || isTerminal(s))) return { kind: 'wait' };
    return states.some((s) => !isSkippedLike(s)) ? { kind: 'ready' } : { kind: 'skip', reason: 'upstream' };
  }
  if (states.some((s) => s === undefined || (isTerminal(s) && isSkippedLike(s)))) return { kind: 'skip', reason: 'upstream' };
  return states.every(isTerminal) ? { kind: 'ready' } : { kind: 'wait' };
}

/** Views of the finished steps visible in a scope: the enclosing lists' (iteration) and this list's. */
function visibleViews(state: RunState, scope: Scope, steps: Readonly<Record<string, StepRunState>>): Record<string, StepView> {
  const views: Record<string, StepView> = { ...(state.scope?.outerSteps ?? {}) };
  for (const id of scope.order) {
    const s = own(steps, id);
    if (s && isTerminal(s)) views[id] = stepView(s);
  }
  return views;
}

function handlerErrorFor(state: RunState, handlers: Readonly<Record<string, HandlerActivation>>, stepId: string): HandlerErrorInfo | undefined {
  return own(handlers, stepId)?.error ?? state.scope?.error;
}

function expressionContext(state: RunState, plan: PlanContext, views: Record<string, StepView>, error: HandlerErrorInfo | undefined): ExpressionContext {
  const context: { -readonly [K in keyof ExpressionContext]: ExpressionContext[K] } = { inputs: plan.inputs, steps: views, run: plan.run };
  if (state.scope) {
    context.item = state.scope.item;
    context.index = state.scope.index;
  }
  if (error) context.error = error;
  return context;
}

function renderInputs(inputs: InputMap | undefined, context: ExpressionContext, site: ExpressionSite): { inputs: JsonObject; secrets: SecretSlot[] } {
  if (inputs === undefined) return { inputs: {}, secrets: [] };
  if (isExpression(inputs)) {
    const value = evaluateExpression(inputs, context, site);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ExpressionError(site, inputs.$expr, `inputs must give a map, not ${jsonTypeName(value)}`);
    }
    return { inputs: value, secrets: [] };
  }
  const rendered = renderTemplate(inputs as JsonValue, context, site);
  return { inputs: rendered.value as JsonObject, secrets: [...rendered.secrets] };
}

function callPlan(call: ActionCall, context: ExpressionContext, stepId: string, field: string): ActionCallPlan {
  const { inputs, secrets } = renderInputs(call.inputs, context, { stepId, field: `${field}inputs` });
  return {
    connector: call.connector,
    action: call.action,
    inputs,
    secrets,
    retry: resolveRetry(call.retry),
    timeoutSeconds: call.timeoutSeconds ?? DEFAULTS.actionTimeoutSeconds,
  };
}

function planAction(step: ActionStep, context: ExpressionContext): ActionStart {
  const primary = callPlan(step, context, step.id, '');
  const fallbacks = (step.fallbacks ?? []).map((fallback, i): ActionCallPlan => {
    const rendered = fallback.inputs !== undefined ? renderInputs(fallback.inputs, context, { stepId: step.id, field: `fallbacks/${i}/inputs` }) : { inputs: primary.inputs, secrets: primary.secrets };
    return {
      connector: fallback.connector ?? step.connector,
      action: fallback.action ?? step.action,
      inputs: rendered.inputs,
      secrets: rendered.secrets,
      retry: resolveRetry(fallback.retry ?? step.retry),
      timeoutSeconds: fallback.timeoutSeconds ?? primary.timeoutSeconds,
    };
  });
  return { kind: 'action', stepId: step.id, ...primary, fallbacks };
}

function planForEach(step: ForEachStep, scope: Scope, state: RunState, views: Record<string, StepView>, context: ExpressionContext, now: string): ForEachStart {
  const site: ExpressionSite = { stepId: step.id, field: 'items' };
  const items = isExpression(step.items) ? evaluateExpression(step.items, context, site) : renderValue(step.items as JsonValue[], context, site);
  if (!Array.isArray(items)) {
    throw new ExpressionError(site, isExpression(step.items) ? step.items.$expr : '', `items must give a list, not ${jsonTypeName(items)}`);
  }
  if (items.length > LIMITS.maxForEachItems) {
    throw new PlanningError(ENGINE_ERRORS.forEachTooManyItems, `step '${step.id}': items gave ${items.length} items; a forEach takes at most ${LIMITS.maxForEachItems}`);
  }
  const outerSteps: Record<string, StepView> = { ...(state.scope?.outerSteps ?? {}) };
  for (const id of ancestors(scope.graph, step.id)) {
    const view = own(views, id);
    if (view) outerSteps[id] = view;
  }
  const iteration: IterationSeed = { forEachStepId: step.id, outerSteps };
  if (context.error) iteration.error = context.error;
  const concurrency = Math.min(Math.max(1, Math.floor(step.concurrency ?? DEFAULTS.forEachConcurrency)), LIMITS.maxConcurrency);
  const body: ForEachBody = step.steps
    ? { kind: 'steps', stepIds: step.steps.map((s) => s.id) }
    : { kind: 'action', connector: step.action?.connector ?? '', action: step.action?.action ?? '' };
  const start: ForEachStart = { kind: 'forEach', stepId: step.id, items, concurrency, body, iteration };
  if (step.timeoutSeconds !== undefined) {
    start.timeoutSeconds = step.timeoutSeconds;
    start.timeoutAt = addSeconds(now, step.timeoutSeconds);
  }
  return start;
}

function planDelay(step: DelayStep, context: ExpressionContext, now: string): DelayStart {
  if (step.durationSeconds !== undefined) {
    const site: ExpressionSite = { stepId: step.id, field: 'durationSeconds' };
    const value = isExpression(step.durationSeconds) ? evaluateExpression(step.durationSeconds, context, site) : step.durationSeconds;
    const source = isExpression(step.durationSeconds) ? step.durationSeconds.$expr : String(step.durationSeconds);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ExpressionError(site, source, `durationSeconds must give a number, not ${jsonTypeName(value)}`);
    if (value < 0 || value > LIMITS.maxWaitSeconds) throw new ExpressionError(site, source, `durationSeconds gave ${value}; it must be between 0 and ${LIMITS.maxWaitSeconds}`);
    return { kind: 'delay', stepId: step.id, fireAt: addSeconds(now, value) };
  }
  const site: ExpressionSite = { stepId: step.id, field: 'until' };
  const until = step.until ?? now;
  const value = isExpression(until) ? evaluateExpression(until, context, site) : until;
  const source = isExpression(until) ? until.$expr : String(until);
  if (typeof value !== 'string' || !RFC3339.test(value) || !Number.isFinite(Date.parse(value))) {
    throw new ExpressionError(site, source, `until must give an RFC 3339 date-time, not ${typeof value === 'string' ? 'that string' : jsonTypeName(value)}`);
  }
  const fireAt = Math.max(Date.parse(value), parseTime(now, 'now'));
  return { kind: 'delay', stepId: step.id, fireAt: new Date(fireAt).toISOString() };
}

/** A template value that must end up as text (correlation keys, approval messages). */
function textOf(value: string | Expression | undefined, context: ExpressionContext, site: ExpressionSite): string | undefined {
  if (value === undefined) return undefined;
  if (!isExpression(value)) return value;
  const result = evaluateExpression(value, context, site);
  return typeof result === 'string' ? result : JSON.stringify(result);
}

function planWaitForEvent(step: WaitForEventStep, context: ExpressionContext, now: string): WaitForEventStart {
  const timeoutSeconds = step.timeoutSeconds ?? DEFAULTS.waitTimeoutSeconds;
  const start: WaitForEventStart = { kind: 'waitForEvent', stepId: step.id, eventName: step.event, timeoutSeconds, timeoutAt: addSeconds(now, timeoutSeconds) };
  const key = textOf(step.correlationKey, context, { stepId: step.id, field: 'correlationKey' });
  if (key !== undefined) start.correlationKey = key;
  return start;
}

function planApproval(step: ApprovalStep, context: ExpressionContext, now: string): ApprovalStart {
  const timeoutSeconds = step.timeoutSeconds ?? DEFAULTS.waitTimeoutSeconds;
  const start: ApprovalStart = {
    kind: 'approval',
    stepId: step.id,
    eventName: approvalEventName(step.id),
    approvers: { users: [...(step.approvers.users ?? [])], roles: [...(step.approvers.roles ?? [])] },
    minApprovals: step.minApprovals ?? DEFAULTS.minApprovals,
    timeoutSeconds,
    timeoutAt: addSeconds(now, timeoutSeconds),
  };
  if (step.title !== undefined) start.title = step.title;
  const message = textOf(step.message, context, { stepId: step.id, field: 'message' });
  if (message !== undefined) start.message = message;
  return start;
}

function planSubWorkflow(step: SubWorkflowStep, context: ExpressionContext, now: string): SubWorkflowStart {
  const { inputs } = renderInputs(step.inputs, context, { stepId: step.id, field: 'inputs' });
  const start: SubWorkflowStart = { kind: 'subWorkflow', stepId: step.id, workflowId: step.workflowId, version: step.version ?? DEFAULTS.subWorkflowVersion, inputs };
  if (step.timeoutSeconds !== undefined) {
    start.timeoutSeconds = step.timeoutSeconds;
    start.timeoutAt = addSeconds(now, step.timeoutSeconds);
  }
  return start;
}

function planStart(step: StepDefinition, scope: Scope, state: RunState, views: Record<string, StepView>, context: ExpressionContext, now: string): StepStart {
  switch (step.type) {
    case 'action':
      return planAction(step, context);
    case 'forEach':
      return planForEach(step, scope, state, views, context, now);
    case 'delay':
      return planDelay(step, context, now);
    case 'waitForEvent':
      return planWaitForEvent(step, context, now);
    case 'approval':
      return planApproval(step, context, now);
    case 'subWorkflow':
      return planSubWorkflow(step, context, now);
  }
}

/** A mutable working copy of a state (fresh containers; step states are replaced, never mutated). */
interface Working {
  steps: Record<string, StepRunState>;
  handlers: Record<string, HandlerActivation>;
  failure?: RunFailure;
}

function workingCopy(state: RunState): Working {
  const work: Working = { steps: { ...state.steps }, handlers: { ...state.handlers } };
  if (state.failure) work.failure = state.failure;
  return work;
}

function finish(state: RunState, work: Working): RunState {
  const next: RunState = { steps: work.steps, handlers: work.handlers };
  if (work.failure) next.failure = work.failure;
  if (state.scope) next.scope = state.scope;
  return next;
}

function failRunInPlace(work: Working, failure: RunFailure): void {
  if (work.failure) return;
  work.failure = failure;
  for (const [id, s] of Object.entries(work.steps)) {
    if (s.status !== 'running') continue;
    work.steps[id] = {
      ...s,
      status: 'failed',
      error: { code: ENGINE_ERRORS.stepCancelled, message: `cancelled: ${failure.stepId !== undefined ? `step '${failure.stepId}' failed` : failure.code === ENGINE_ERRORS.runTimeout ? 'the run timed out' : 'the run failed'}` },
      completedAt: failure.at,
    };
  }
}

/** Applies a step failure with a disposition (fail / continue / goto) to a working copy. */
function failStepInPlace(scope: Scope, work: Working, stepId: string, error: StepError, disposition: OnError, at: string, attempts: number | undefined): void {
  const previous = own(work.steps, stepId) ?? { status: 'pending' };
  const base: StepRunState = { status: 'failed', error: { code: error.code, message: error.message }, completedAt: at };
  if (previous.startedAt !== undefined) base.startedAt = previous.startedAt;
  const tries = attempts ?? previous.attempts;
  if (tries !== undefined) base.attempts = tries;
  const target = typeof disposition === 'object' && disposition !== null ? disposition.goto : undefined;
  if (target !== undefined && scope.byId.has(target) && target !== stepId) {
    work.steps[stepId] = { ...base, status: 'handled' };
    if (!own(work.handlers, target)) work.handlers[target] = { error: { stepId, code: error.code, message: error.message }, at };
    return;
  }
  work.steps[stepId] = base;
  if (disposition === 'continue') return;
  failRunInPlace(work, { code: error.code, message: error.message, stepId, at });
}

function completionOfFailure(failure: RunFailure): RunCompletion {
  const error: { code: string; message: string; stepId?: string } = { code: failure.code, message: failure.message };
  if (failure.stepId !== undefined) error.stepId = failure.stepId;
  return { status: 'failed', error };
}

/**
 * Decides what happens next: skips what can be skipped, evaluates the conditions and renders the inputs of the
 * ready steps, and says whether the run (iteration) is complete. Pure and idempotent: steps already running
 * are never started again, and planning `decision.state` again gives no new starts until a result is applied.
 */
export function planNext(definition: WorkflowDefinition, state: RunState, context: PlanContext): PlanDecision {
  const scope = scopeOf(definition, state);
  if (state.failure) return { start: [], skip: [], fail: [], complete: completionOfFailure(state.failure), state };
  const now = context.now;
  parseTime(now, 'now');
  const work = workingCopy(state);
  const views = visibleViews(state, scope, work.steps);
  const start: StepStart[] = [];
  const skip: PlanDecision['skip'] = [];
  const fail: PlanDecision['fail'] = [];

  let changed = true;
  while (changed && !work.failure) {
    changed = false;
    for (const id of scope.order) {
      if (work.failure) break;
      if (own(work.steps, id)?.status !== 'pending') continue;
      const step = scope.byId.get(id)!;
      const readiness = readinessOf(scope, work.steps, work.handlers, step);
      if (readiness.kind === 'wait') continue;
      changed = true;
      if (readiness.kind === 'skip') {
        work.steps[id] = { status: 'skipped', completedAt: now };
        views[id] = stepView({ status: 'skipped' });
        skip.push({ stepId: id, reason: readiness.reason });
        continue;
      }
      const exprContext = expressionContext(state, context, views, handlerErrorFor(state, work.handlers, id));
      try {
        if (step.condition && !evaluateCondition(step.condition, exprContext, { stepId: id, field: 'condition' })) {
          work.steps[id] = { status: 'skipped', completedAt: now };
          views[id] = stepView({ status: 'skipped' });
          skip.push({ stepId: id, reason: 'condition' });
          continue;
        }
        start.push(planStart(step, scope, state, views, exprContext, now));
        work.steps[id] = { status: 'running', startedAt: now };
      } catch (error) {
        if (!(error instanceof ExpressionError || error instanceof PlanningError)) throw error;
        const stepError: StepError = { code: error.code, message: error.message };
        fail.push({ stepId: id, error: stepError });
        work.steps[id] = { status: 'running', startedAt: now };
        const disposition = dispositionOf(step, scope);
        if (disposition === 'fail') {
          // The run fails: steps planned in this pass never started, so they go back to pending (not cancelled).
          for (const started of start) work.steps[started.stepId] = own(state.steps, started.stepId) ?? { status: 'pending' };
          start.length = 0;
        }
        failStepInPlace(scope, work, id, stepError, disposition, now, undefined);
        views[id] = stepView(own(work.steps, id)!);
      }
    }
  }

  let complete: RunCompletion | undefined;
  if (work.failure) {
    complete = completionOfFailure(work.failure);
  } else if (scope.order.every((id) => isTerminal(own(work.steps, id)))) {
    try {
      complete = completionOf(definition, scope, state, context, work);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      work.failure = { code: error.code, message: error.message, at: now };
      complete = completionOfFailure(work.failure);
    }
  } else if (!Object.values(work.steps).some((s) => s.status === 'running')) {
    const stuck = scope.order.filter((id) => !isTerminal(own(work.steps, id)));
    work.failure = { code: ENGINE_ERRORS.runStuck, message: `no step can start, yet these never finished: ${stuck.join(', ')}`, at: now };
    complete = completionOfFailure(work.failure);
  }
  const decision: PlanDecision = { start, skip, fail, state: finish(state, work) };
  if (complete) decision.complete = complete;
  return decision;
}

/** The onError disposition of a step (a goto to a step outside its list counts as fail). */
function dispositionOf(step: StepDefinition, scope: Scope): OnError {
  const value = step.onError ?? DEFAULTS.onError;
  if (typeof value === 'object' && value !== null && !scope.byId.has(value.goto)) return 'fail';
  return value;
}

function completionOf(definition: WorkflowDefinition, scope: Scope, state: RunState, context: PlanContext, work: Working): RunCompletion {
  const views = visibleViews(state, scope, work.steps);
  if (!state.scope) {
    const exprContext = expressionContext(state, context, views, undefined);
    const outputs: Record<string, JsonValue> = {};
    for (const [name, template] of Object.entries(definition.outputs ?? {})) {
      setOwn(outputs, name, renderValue(template, exprContext, { field: `outputs/${name}` }));
    }
    return { status: 'succeeded', outputs };
  }
  const owner = scope.owner!;
  if (owner.output !== undefined) {
    const exprContext = expressionContext(state, context, views, state.scope.error);
    return { status: 'succeeded', output: renderValue(owner.output, exprContext, { stepId: owner.id, field: `output (iteration ${state.scope.index})` }) };
  }
  if (!owner.steps) return { status: 'succeeded', output: own(views, owner.id)?.output ?? null };
  const output: JsonObject = {};
  for (const step of owner.steps) setOwn(output, step.id, own(views, step.id)?.output ?? null);
  return { status: 'succeeded', output };
}

// ---------------------------------------------------------------------------------------------------------
// Applying results

/** Marks pending steps as running (idempotent: other steps are left as they are). */
export function markStarted(state: RunState, stepIds: readonly string[], at: string): RunState {
  let steps: Record<string, StepRunState> | undefined;
  for (const id of stepIds) {
    const current = own(state.steps, id);
    if (!current || current.status !== 'pending') continue;
    steps ??= { ...state.steps };
    steps[id] = { ...current, status: 'running', startedAt: at };
  }
  return steps ? { ...state, steps } : state;
}

type Interpretation = { kind: 'success'; output: JsonValue } | { kind: 'failure'; error: StepError; disposition: OnError };

function outputField(output: JsonValue | undefined, field: string): JsonValue | undefined {
  return typeof output === 'object' && output !== null && !Array.isArray(output) ? output[field] : undefined;
}

function interpret(step: StepDefinition, scope: Scope, result: StepResult): Interpretation {
  const onError = dispositionOf(step, scope);
  const handling = (value: OnError | undefined, code: string, message: string, success: () => JsonValue): Interpretation => {
    const mode = value ?? 'fail';
    const error = { code, message };
    if (mode === 'continue') return { kind: 'success', output: success() };
    if (mode === 'fail') return { kind: 'failure', error, disposition: onError };
    return { kind: 'failure', error, disposition: scope.byId.has(mode.goto) ? mode : 'fail' };
  };
  if (step.type === 'waitForEvent' || step.type === 'approval') {
    const decision = outputField(result.output, 'decision');
    const timedOut = (result.status === 'failed' && result.error?.code === ENGINE_ERRORS.stepTimeout) || (step.type === 'approval' && result.status === 'succeeded' && decision === 'timedOut');
    if (timedOut) {
      const message = result.error?.message ?? (step.type === 'approval' ? `no decision within ${step.timeoutSeconds ?? DEFAULTS.waitTimeoutSeconds} s` : `no '${step.event}' event within ${step.timeoutSeconds ?? DEFAULTS.waitTimeoutSeconds} s`);
      return handling(step.onTimeout, ENGINE_ERRORS.stepTimeout, message, (): JsonValue =>
        step.type === 'approval' ? { decision: 'timedOut', approvals: arrayField(result.output, 'approvals'), comment: outputField(result.output, 'comment') ?? null } : { timedOut: true },
      );
    }
    if (step.type === 'approval') {
      const rejected = (result.status === 'succeeded' && decision === 'rejected') || (result.status === 'failed' && result.error?.code === ENGINE_ERRORS.approvalRejected);
      if (rejected) {
        const message = result.error?.message ?? 'the approval was rejected';
        return handling(step.onReject, ENGINE_ERRORS.approvalRejected, message, () =>
          result.status === 'succeeded' && result.output !== undefined ? result.output : { decision: 'rejected', approvals: arrayField(result.output, 'approvals'), comment: outputField(result.output, 'comment') ?? null },
        );
      }
    }
  }
  if (result.status === 'succeeded') return { kind: 'success', output: step.type === 'delay' ? null : (result.output ?? null) };
  const error = result.error ?? { code: ENGINE_ERRORS.stepFailed, message: 'the step failed' };
  return { kind: 'failure', error: { code: error.code, message: error.message }, disposition: onError };
}

function arrayField(output: JsonValue | undefined, field: string): JsonValue[] {
  const value = outputField(output, field);
  return Array.isArray(value) ? value : [];
}

/**
 * Applies a step's result (immutable update): success; failure with the step's `onError` (and
 * `onTimeout`/`onReject` for waits and approvals); or `skipped` (to apply a decision's skip). Results for
 * steps that already finished, or after the state failed, are ignored (the state is returned unchanged).
 */
export function applyStepResult(definition: WorkflowDefinition, state: RunState, stepId: string, result: StepResult): RunState {
  const scope = scopeOf(definition, state);
  const step = scope.byId.get(stepId);
  if (!step) throw new Error(`Step '${stepId}' is not in the steps list of this state.`);
  if (state.failure) return state;
  const current = own(state.steps, stepId) ?? { status: 'pending' };
  if (isTerminal(current)) return state;
  const work = workingCopy(state);
  if (result.status === 'skipped') {
    work.steps[stepId] = { status: 'skipped', completedAt: result.at };
    return finish(state, work);
  }
  const outcome = interpret(step, scope, result);
  if (outcome.kind === 'success') {
    const next: StepRunState = { status: 'succeeded', output: outcome.output, completedAt: result.at };
    if (current.startedAt !== undefined) next.startedAt = current.startedAt;
    const attempts = result.attempts ?? current.attempts;
    if (attempts !== undefined) next.attempts = attempts;
    work.steps[stepId] = next;
  } else {
    failStepInPlace(scope, work, stepId, outcome.error, outcome.disposition, result.at, result.attempts);
  }
  return finish(state, work);
}

/**
 * Ends the run (or iteration) as failed with `error`, e.g. when the run-level timeout fires: running steps are
 * marked failed with `STEP.CANCELLED`; `planNext` then completes with this error.
 */
export function abortRun(state: RunState, error: StepError, at: string): RunState {
  if (state.failure) return state;
  const work = workingCopy(state);
  failRunInPlace(work, { code: error.code, message: error.message, at });
  return finish(state, work);
}

/** {@link abortRun} with `RUN.TIMEOUT`, for when the run-level timer ({@link runDeadline}) fires first. */
export function timeOutRun(definition: WorkflowDefinition, state: RunState, at: string): RunState {
  const seconds = definition.timeoutSeconds ?? DEFAULTS.runTimeoutSeconds;
  return abortRun(state, { code: ENGINE_ERRORS.runTimeout, message: `the run did not finish within its timeout of ${seconds} s` }, at);
}

// ---------------------------------------------------------------------------------------------------------
// forEach iterations

/** One iteration of a forEach loop. */
export interface IterationRecord {
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  output?: JsonValue;
  error?: { code: string; message: string; stepId?: string };
}

/** The progress of a forEach step's iterations (JSON-serializable; treat as immutable). */
export interface ForEachLoopState {
  stepId: string;
  concurrency: number;
  iterations: IterationRecord[];
}

/** What to do next in a forEach loop. */
export interface ForEachDecision {
  /** Iteration indexes to start now (lowest first). */
  start: number[];
  /** The loop with those iterations marked running. */
  loop: ForEachLoopState;
  /** The forEach step's result, once no iteration is running and none will start. */
  complete?: { status: 'succeeded'; output: JsonValue[] } | { status: 'failed'; error: StepError };
}

/** The loop of a started forEach: every iteration pending. */
export function initialForEachLoop(start: ForEachStart): ForEachLoopState {
  return { stepId: start.stepId, concurrency: start.concurrency, iterations: start.items.map((): IterationRecord => ({ status: 'pending' })) };
}

/**
 * Starts pending iterations in item order up to the concurrency cap (none once an iteration has failed), and
 * completes the step when nothing is running and nothing will start: with the results in item order, or with
 * the error of the lowest-index failed iteration.
 */
export function forEachNext(loop: ForEachLoopState): ForEachDecision {
  const failedIndex = loop.iterations.findIndex((it) => it.status === 'failed');
  let running = loop.iterations.filter((it) => it.status === 'running').length;
  const start: number[] = [];
  let iterations = loop.iterations;
  if (failedIndex < 0) {
    for (let i = 0; i < iterations.length && running < loop.concurrency; i++) {
      if (iterations[i]!.status !== 'pending') continue;
      if (iterations === loop.iterations) iterations = [...loop.iterations];
      iterations[i] = { status: 'running' };
      start.push(i);
      running++;
    }
  }
  const next: ForEachLoopState = iterations === loop.iterations ? loop : { ...loop, iterations };
  const decision: ForEachDecision = { start, loop: next };
  if (running > 0) return decision;
  if (failedIndex >= 0) {
    const failed = next.iterations[failedIndex]!;
    const error = failed.error ?? { code: ENGINE_ERRORS.stepFailed, message: 'the iteration failed' };
    const where = error.stepId !== undefined && error.stepId !== loop.stepId ? ` (step '${error.stepId}')` : '';
    decision.complete = { status: 'failed', error: { code: error.code, message: `iteration ${failedIndex}${where}: ${error.message}` } };
  } else if (next.iterations.every((it) => it.status === 'succeeded')) {
    decision.complete = { status: 'succeeded', output: next.iterations.map((it) => it.output ?? null) };
  }
  return decision;
}

/** Records how an iteration ended (its state's `complete`). Iterations that already ended are left as they are. */
export function applyIterationResult(loop: ForEachLoopState, index: number, result: RunCompletion): ForEachLoopState {
  const current = loop.iterations[index];
  if (!current) throw new Error(`forEach '${loop.stepId}' has no iteration ${index}.`);
  if (current.status === 'succeeded' || current.status === 'failed') return loop;
  const record: IterationRecord =
    result.status === 'succeeded'
      ? { status: 'succeeded', output: result.output ?? null }
      : { status: 'failed', error: result.error ?? { code: ENGINE_ERRORS.stepFailed, message: 'the iteration failed' } };
  const iterations = [...loop.iterations];
  iterations[index] = record;
  return { ...loop, iterations };
}
