import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../json.js';
import { EXAMPLES, type ExampleName } from '../workflow-language/examples.js';
import type { StepDefinition, WorkflowDefinition } from '../workflow-language/types.js';
import { validateDefinition } from '../workflow-language/validateDefinition.js';
import {
  abortRun,
  applyIterationResult,
  applyStepResult,
  forEachNext,
  initialForEachLoop,
  initialIterationState,
  initialRunState,
  markStarted,
  planNext,
  resolveRetry,
  retryDelaySeconds,
  runDeadline,
  timeOutRun,
  type ActionStart,
  type ForEachStart,
  type PlanContext,
  type PlanDecision,
  type RunCompletion,
  type RunState,
  type StepError,
  type StepStart,
} from './planner.js';
import { progressOf, storedStepStatus } from './runOutcome.js';

// ---------------------------------------------------------------------------------------------------------
// A tiny orchestrator: plans, "runs" every started step with a simulated result, feeds results back one at a
// time in start order (first in, first out), and runs forEach iterations with the same loop.

const NOW = '2030-01-01T00:00:00.000Z';
const RUN = { id: 'run-1', workflowId: 'wf-1', version: 7, startedAt: NOW };

type SimResult = { status: 'succeeded'; output?: JsonValue; attempts?: number } | { status: 'failed'; error?: StepError; attempts?: number };

interface Scenario {
  inputs?: JsonValue;
  /** A result for a started step; undefined → the default simulation. `path` holds the iteration indexes. */
  result?: (start: StepStart, path: readonly number[]) => SimResult | undefined;
  /** Order in which in-flight steps complete: 'fifo' (default) or 'lifo'. */
  order?: 'fifo' | 'lifo';
}

interface Trace {
  /** Every decision, with the iteration path it belongs to. */
  decisions: Array<{ path: number[]; start: string[]; skip: PlanDecision['skip']; fail: PlanDecision['fail']; complete?: RunCompletion }>;
  /** Every started step, by `path/stepId`. */
  starts: Map<string, StepStart>;
  /** Completion order of steps, by `path/stepId`. */
  completed: string[];
  /** forEach id → most iterations running at once. */
  maxConcurrent: Map<string, number>;
}

const key = (path: readonly number[], stepId: string): string => (path.length ? `${path.join('.')}/${stepId}` : stepId);

function simulateAction(start: ActionStart): SimResult {
  if (start.connector !== 'core') return { status: 'succeeded', output: { called: `${start.connector}.${start.action}`, inputs: start.inputs } };
  switch (start.action) {
    case 'noop':
    case 'log':
      return { status: 'succeeded', output: null };
    case 'set':
      return { status: 'succeeded', output: start.inputs['value'] ?? null };
    case 'fail': {
      const code = typeof start.inputs['code'] === 'string' ? start.inputs['code'] : 'CORE.FAIL';
      return { status: 'failed', error: { code, message: String(start.inputs['message']) } };
    }
    default:
      return { status: 'failed', error: { code: 'TEST.UNKNOWN_ACTION', message: start.action } };
  }
}

function defaultResult(start: StepStart): SimResult {
  switch (start.kind) {
    case 'action':
      return simulateAction(start);
    case 'delay':
      return { status: 'succeeded', output: null };
    case 'waitForEvent':
      return { status: 'succeeded', output: { received: start.eventName } };
    case 'approval':
      return { status: 'succeeded', output: { decision: 'approved', approvals: [{ by: 'admin@contoso.com', at: NOW, comment: null }], comment: null } };
    case 'subWorkflow':
      return { status: 'succeeded', output: { child: start.workflowId } };
    case 'forEach':
      throw new Error('forEach is run by the loop');
  }
}

function newTrace(): Trace {
  return { decisions: [], starts: new Map(), completed: [], maxConcurrent: new Map() };
}

function runScope(definition: WorkflowDefinition, initial: RunState, context: PlanContext, scenario: Scenario, trace: Trace, path: number[]): { completion: RunCompletion; state: RunState } {
  let state = initial;
  const inFlight: StepStart[] = [];
  for (let round = 0; round < 10_000; round++) {
    const decision = planNext(definition, state, context);
    trace.decisions.push({ path, start: decision.start.map((s) => s.stepId), skip: decision.skip, fail: decision.fail, ...(decision.complete ? { complete: decision.complete } : {}) });
    state = decision.state;
    if (decision.complete) return { completion: decision.complete, state };
    for (const start of decision.start) {
      trace.starts.set(key(path, start.stepId), start);
      inFlight.push(start);
    }
    const next = scenario.order === 'lifo' ? inFlight.pop() : inFlight.shift();
    if (!next) throw new Error('nothing in flight and not complete');
    const result = next.kind === 'forEach' ? runForEach(definition, next, context, scenario, trace, path) : (scenario.result?.(next, path) ?? defaultResult(next));
    trace.completed.push(key(path, next.stepId));
    state = applyStepResult(definition, state, next.stepId, { ...result, at: NOW });
  }
  throw new Error('too many rounds');
}

function runForEach(definition: WorkflowDefinition, start: ForEachStart, context: PlanContext, scenario: Scenario, trace: Trace, path: number[]): SimResult {
  const custom = scenario.result?.(start, path);
  if (custom) return custom;
  let loop = initialForEachLoop(start);
  const running: number[] = [];
  for (;;) {
    const decision = forEachNext(loop);
    loop = decision.loop;
    running.push(...decision.start);
    trace.maxConcurrent.set(start.stepId, Math.max(trace.maxConcurrent.get(start.stepId) ?? 0, running.length));
    if (decision.complete) return decision.complete;
    const index = scenario.order === 'lifo' ? running.pop()! : running.shift()!;
    const iteration = runScope(definition, initialIterationState(definition, start, index), context, scenario, trace, [...path, index]);
    loop = applyIterationResult(loop, index, iteration.completion);
  }
}

function run(definition: WorkflowDefinition, scenario: Scenario = {}): { completion: RunCompletion; state: RunState; trace: Trace } {
  const trace = newTrace();
  const context: PlanContext = { inputs: scenario.inputs ?? {}, run: RUN, now: NOW };
  const { completion, state } = runScope(definition, initialRunState(definition), context, scenario, trace, []);
  return { completion, state, trace };
}

function example(name: ExampleName): WorkflowDefinition {
  const result = validateDefinition(EXAMPLES[name], { connectors: new Map(), secretNames: new Set(), workflowExists: () => true });
  return result as WorkflowDefinition;
}

const action = (id: string, extra: Partial<StepDefinition> & Record<string, unknown> = {}): StepDefinition =>
  ({ id, type: 'action', connector: 'core', action: 'noop', ...extra }) as StepDefinition;
const setStep = (id: string, value: JsonValue, extra: Record<string, unknown> = {}): StepDefinition => action(id, { action: 'set', inputs: { value }, ...extra });
const failStep = (id: string, extra: Record<string, unknown> = {}): StepDefinition => action(id, { action: 'fail', inputs: { code: `FAIL.${id.toUpperCase()}`, message: `${id} failed` }, ...extra });
const workflow = (steps: StepDefinition[], extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition => ({ schemaVersion: 1, name: 'test', steps, ...extra });
const ctx = (inputs: JsonValue = {}, now = NOW): PlanContext => ({ inputs, run: RUN, now });
const statuses = (state: RunState): Record<string, string> => Object.fromEntries(Object.entries(state.steps).map(([id, s]) => [id, s.status]));

// ---------------------------------------------------------------------------------------------------------

describe('the examples, driven to completion', () => {
  it('validates every example through the workflow language first', () => {
    for (const name of Object.keys(EXAMPLES) as ExampleName[]) expect(() => example(name)).not.toThrow();
  });

  it('sequence: runs one step after the other and returns the greeting', () => {
    const { completion, state, trace } = run(example('sequence'), { inputs: { name: 'Ada' } });
    expect(completion).toEqual({ status: 'succeeded', outputs: { greeting: 'Hello, Ada!' } });
    expect(trace.decisions.map((d) => d.start)).toEqual([['makeGreeting'], ['logGreeting'], ['finish'], []]);
    expect((trace.starts.get('logGreeting') as ActionStart).inputs).toEqual({ message: 'Hello, Ada!', level: 'info' });
    expect(statuses(state)).toEqual({ makeGreeting: 'succeeded', logGreeting: 'succeeded', finish: 'succeeded' });
    expect(state.steps['makeGreeting']).toEqual({ status: 'succeeded', output: 'Hello, Ada!', startedAt: NOW, completedAt: NOW });
  });

  it('parallelBranches: starts both branches together, then the join', () => {
    const { completion, trace } = run(example('parallelBranches'), { inputs: { customerId: 'c-9', country: 'NL' } });
    expect(trace.decisions.map((d) => d.start)).toEqual([['prepare'], ['setUpBilling', 'setUpShipping'], [], ['report'], []]);
    expect(completion).toEqual({ status: 'succeeded', outputs: { account: 'ACC-c-9', zone: 'domestic' } });
    expect((trace.starts.get('report') as ActionStart).inputs).toEqual({ message: 'Customer ready', data: { account: 'ACC-c-9', zone: 'domestic' } });
    expect(run(example('parallelBranches'), { inputs: { customerId: 'c-9', country: 'BE' } }).completion.outputs).toEqual({ account: 'ACC-c-9', zone: 'eu' });
  });

  it('condition: a large order goes to review; the join "any" runs after the skipped branch', () => {
    const { completion, state, trace } = run(example('condition'), { inputs: { amount: 5000, currency: 'EUR' } });
    expect(completion).toEqual({ status: 'succeeded', outputs: { route: 'review' } });
    expect(statuses(state)).toEqual({ classify: 'succeeded', sendToReview: 'succeeded', accept: 'skipped', done: 'succeeded' });
    expect(trace.decisions[1]).toMatchObject({ start: ['sendToReview'], skip: [{ stepId: 'accept', reason: 'condition' }] });
    expect((trace.starts.get('sendToReview') as ActionStart).inputs).toEqual({ message: 'Review needed for 5000 EUR', level: 'warn' });
  });

  it('condition: a small order is accepted', () => {
    const { completion, state } = run(example('condition'), { inputs: { amount: 10, currency: 'EUR' } });
    expect(completion).toEqual({ status: 'succeeded', outputs: { route: 'accepted' } });
    expect(statuses(state)).toEqual({ classify: 'succeeded', sendToReview: 'skipped', accept: 'succeeded', done: 'succeeded' });
  });

  it('forEach: renders the items, runs the body per item, and returns the results in item order', () => {
    const lines = [
      { sku: 'A', quantity: 2, price: 300 },
      { sku: 'B', quantity: 1, price: 20 },
      { sku: 'C', quantity: 10, price: 99.5 },
    ];
    for (const order of ['fifo', 'lifo'] as const) {
      const { completion, state, trace } = run(example('forEach'), { inputs: { lines }, order });
      const checkLines = trace.starts.get('checkLines') as ForEachStart;
      expect(checkLines).toMatchObject({ kind: 'forEach', items: lines, concurrency: 5, body: { kind: 'steps', stepIds: ['lineTotal', 'flagLarge'] } });
      expect(trace.maxConcurrent.get('checkLines')).toBe(3);
      const logTotals = trace.starts.get('logTotals') as ForEachStart;
      expect(logTotals).toMatchObject({ concurrency: 1, body: { kind: 'action', connector: 'core', action: 'log' } });
      expect(trace.maxConcurrent.get('logTotals')).toBe(1);
      const results = [
        { sku: 'A', total: 600 },
        { sku: 'B', total: 20 },
        { sku: 'C', total: 995 },
      ];
      expect(logTotals.items).toEqual(results);
      expect(completion).toEqual({ status: 'succeeded', outputs: { lines: results, largeLines: ['A', 'C'] } });
      expect(state.steps['checkLines']?.output).toEqual(results);
      expect(state.steps['logTotals']?.output).toEqual([null, null, null]);
      expect((trace.starts.get('0/flagLarge') as ActionStart).inputs).toEqual({ message: 'Large line 0: A', level: 'warn' });
      expect(trace.starts.has('1/flagLarge')).toBe(false);
      expect((trace.starts.get('2/flagLarge') as ActionStart).inputs['message']).toBe('Large line 2: C');
      expect((trace.starts.get('1/logTotals') as ActionStart).inputs).toEqual({ message: 'B: 20' });
    }
  });

  it('delay: computes fireAt from now, and resumes at once for a time in the past', () => {
    const future = run(example('delay'), { inputs: { remindAt: '2030-02-01T09:00:00+01:00', subject: 'your plan' } });
    expect(future.completion).toEqual({ status: 'succeeded', outputs: {} });
    expect(future.trace.starts.get('coolDown')).toEqual({ kind: 'delay', stepId: 'coolDown', fireAt: '2030-01-01T00:00:02.000Z' });
    expect(future.trace.starts.get('waitUntilDue')).toEqual({ kind: 'delay', stepId: 'waitUntilDue', fireAt: '2030-02-01T08:00:00.000Z' });
    expect((future.trace.starts.get('finalReminder') as ActionStart).inputs).toEqual({ message: 'Final reminder about your plan', level: 'warn' });
    const past = run(example('delay'), { inputs: { remindAt: '2020-01-01T00:00:00Z', subject: 'x' } });
    expect(past.trace.starts.get('waitUntilDue')).toEqual({ kind: 'delay', stepId: 'waitUntilDue', fireAt: NOW });
  });

  it('subWorkflow: starts the children with rendered inputs; a failed notification continues', () => {
    const ok = run(example('subWorkflow'), { inputs: { month: '2030-01' }, result: (s) => (s.stepId === 'invoice' ? { status: 'succeeded', output: { count: 12 } } : undefined) });
    expect(ok.trace.starts.get('invoice')).toEqual({
      kind: 'subWorkflow',
      stepId: 'invoice',
      workflowId: 'invoice-customers',
      version: 3,
      inputs: { period: '2030-01', dryRun: false },
      timeoutSeconds: 7200,
      timeoutAt: '2030-01-01T02:00:00.000Z',
    });
    expect(ok.trace.starts.get('notify')).toEqual({ kind: 'subWorkflow', stepId: 'notify', workflowId: 'notify-finance', version: 'latest', inputs: { subject: 'Invoices for 2030-01', count: 12 } });
    expect((ok.trace.starts.get('summary') as ActionStart).inputs).toEqual({ message: 'Invoiced and notified' });
    expect(ok.completion).toEqual({ status: 'succeeded', outputs: { invoices: 12 } });

    const notifyFails = run(example('subWorkflow'), {
      inputs: { month: '2030-01' },
      result: (s) =>
        s.stepId === 'invoice' ? { status: 'succeeded', output: { count: 3 } } : s.stepId === 'notify' ? { status: 'failed', error: { code: 'RUN.FAILED', message: 'child failed' } } : undefined,
    });
    expect((notifyFails.trace.starts.get('summary') as ActionStart).inputs).toEqual({ message: 'Invoiced; notification failed' });
    expect(notifyFails.state.steps['notify']).toMatchObject({ status: 'failed', error: { code: 'RUN.FAILED', message: 'child failed' } });
    expect(notifyFails.completion).toEqual({ status: 'succeeded', outputs: { invoices: 3 } });
  });

  it('approval: approved → refund; the escalation handler is not activated', () => {
    const { completion, state, trace } = run(example('approval'), { inputs: { orderId: 'o-1', amount: 25.5 } });
    expect(trace.starts.get('review')).toEqual({
      kind: 'approval',
      stepId: 'review',
      eventName: 'approval:review',
      approvers: { users: [], roles: ['Tenant.Admin'] },
      minApprovals: 1,
      title: 'Refund request',
      message: 'Refund 25.5 for order o-1?',
      timeoutSeconds: 172800,
      timeoutAt: '2030-01-03T00:00:00.000Z',
    });
    expect(trace.decisions[1]).toMatchObject({ start: ['refund'], skip: [{ stepId: 'escalate', reason: 'notActivated' }] });
    expect(statuses(state)).toEqual({ review: 'succeeded', refund: 'succeeded', escalate: 'skipped' });
    expect(completion).toEqual({ status: 'succeeded', outputs: { decision: 'approved' } });
  });

  it('approval: rejected with onReject "continue" → the step succeeds, refund is skipped by its condition', () => {
    const rejected = { status: 'succeeded' as const, output: { decision: 'rejected', approvals: [], comment: 'no' } };
    const { completion, state } = run(example('approval'), { inputs: { orderId: 'o-1', amount: 5 }, result: (s) => (s.kind === 'approval' ? rejected : undefined) });
    expect(statuses(state)).toEqual({ review: 'succeeded', refund: 'skipped', escalate: 'skipped' });
    expect(state.steps['review']?.output).toEqual(rejected.output);
    expect(completion).toEqual({ status: 'succeeded', outputs: { decision: 'rejected' } });
  });

  it('approval: a timeout goes to the escalation handler (and the example\'s outputs then read a null output)', () => {
    const { completion, state, trace } = run(example('approval'), {
      inputs: { orderId: 'o-1', amount: 5 },
      result: (s) => (s.kind === 'approval' ? { status: 'failed', error: { code: 'STEP.TIMEOUT', message: 'nobody decided within 172800 s' } } : undefined),
    });
    expect(statuses(state)).toEqual({ review: 'handled', refund: 'skipped', escalate: 'succeeded' });
    expect(state.handlers['escalate']).toEqual({ error: { stepId: 'review', code: 'STEP.TIMEOUT', message: 'nobody decided within 172800 s' }, at: NOW });
    expect((trace.starts.get('escalate') as ActionStart).inputs).toEqual({ message: 'No decision on order o-1: nobody decided within 172800 s', level: 'error' });
    // outputs.decision reads steps.review.output.decision, and a handled step's output is null.
    expect(completion.status).toBe('failed');
    expect(completion.error?.code).toBe('EXPRESSION.FAILED');
    expect(completion.error?.message).toMatch(/^the run: the expression at outputs\/decision failed: No such key: decision/);
    expect(completion.error?.stepId).toBeUndefined();
  });

  it('waitForEvent: the payment arrives → ship; the cancel handler is skipped', () => {
    const { completion, state, trace } = run(example('waitForEvent'), {
      inputs: { orderId: 'o-7' },
      result: (s) => (s.kind === 'waitForEvent' ? { status: 'succeeded', output: { amount: 42 } } : undefined),
    });
    expect(trace.starts.get('awaitPayment')).toEqual({
      kind: 'waitForEvent',
      stepId: 'awaitPayment',
      eventName: 'payment.received',
      correlationKey: 'o-7',
      timeoutSeconds: 3600,
      timeoutAt: '2030-01-01T01:00:00.000Z',
    });
    expect((trace.starts.get('ship') as ActionStart).inputs).toEqual({ message: 'Paid 42, shipping o-7' });
    expect(statuses(state)).toEqual({ awaitPayment: 'succeeded', ship: 'succeeded', cancelOrder: 'skipped' });
    expect(completion).toEqual({ status: 'succeeded', outputs: {} });
  });

  it('waitForEvent: a timeout goes to cancelOrder, whose failure fails the run with its code', () => {
    const { completion, state, trace } = run(example('waitForEvent'), {
      inputs: { orderId: 'o-7' },
      result: (s) => (s.kind === 'waitForEvent' ? { status: 'failed', error: { code: 'STEP.TIMEOUT', message: 'no event' } } : undefined),
    });
    expect(trace.decisions[1]).toMatchObject({ start: ['cancelOrder'], skip: [{ stepId: 'ship', reason: 'upstream' }] });
    expect((trace.starts.get('cancelOrder') as ActionStart).inputs).toEqual({ code: 'PAYMENT_TIMEOUT', message: 'No payment for o-7 (STEP.TIMEOUT)' });
    expect(statuses(state)).toEqual({ awaitPayment: 'handled', ship: 'skipped', cancelOrder: 'failed' });
    expect(completion).toEqual({ status: 'failed', error: { code: 'PAYMENT_TIMEOUT', message: 'No payment for o-7 (STEP.TIMEOUT)', stepId: 'cancelOrder' } });
  });

  it('errorHandling: retry defaults and fallbacks, continue, and a goto handler that the run continues after', () => {
    const { completion, state, trace } = run(example('errorHandling'));
    const publish = trace.starts.get('publish') as ActionStart;
    const stepRetry = { maxRetries: 5, intervalSeconds: 2, backoffCoefficient: 2, maxIntervalSeconds: 30, maxAttempts: 6, initialIntervalMs: 2000, maxIntervalMs: 30000 };
    expect(publish).toEqual({
      kind: 'action',
      stepId: 'publish',
      connector: 'core',
      action: 'log',
      inputs: { message: 'primary channel' },
      secrets: [],
      retry: stepRetry,
      timeoutSeconds: 10,
      fallbacks: [
        { connector: 'core', action: 'log', inputs: { message: 'secondary channel' }, secrets: [], retry: stepRetry, timeoutSeconds: 10 },
        {
          connector: 'core',
          action: 'set',
          inputs: { value: 'gave up publishing' },
          secrets: [],
          retry: { maxRetries: 0, intervalSeconds: 1, backoffCoefficient: 2, maxIntervalSeconds: 60, maxAttempts: 1, initialIntervalMs: 1000, maxIntervalMs: 60000 },
          timeoutSeconds: 10,
        },
      ],
    });
    expect((trace.starts.get('validate') as ActionStart).inputs).toEqual({ message: 'optional ended as failed' });
    expect((trace.starts.get('recover') as ActionStart).inputs).toEqual({ message: 'Step validate failed: optional ended as failed', level: 'error' });
    expect(statuses(state)).toEqual({ publish: 'succeeded', optional: 'failed', validate: 'handled', recover: 'succeeded', cleanUp: 'succeeded' });
    expect(state.steps['optional']).toMatchObject({ error: { code: 'OPTIONAL', message: 'this step may fail' } });
    expect(completion).toEqual({ status: 'succeeded', outputs: {} });
  });

  it('is deterministic: the same run twice gives deep-equal decisions and states', () => {
    for (const name of Object.keys(EXAMPLES) as ExampleName[]) {
      const inputs = { name: 'x', customerId: 'c', country: 'NL', amount: 2000, currency: 'EUR', lines: [{ sku: 'A', quantity: 1, price: 1 }], remindAt: '2031-01-01T00:00:00Z', month: '2030-01', orderId: 'o' };
      const result = (s: StepStart): SimResult | undefined => (s.kind === 'subWorkflow' ? { status: 'succeeded', output: { count: 1 } } : s.kind === 'waitForEvent' ? { status: 'succeeded', output: { amount: 1 } } : undefined);
      const first = run(example(name), { inputs, result });
      const second = run(example(name), { inputs, result });
      expect(second.trace.decisions).toEqual(first.trace.decisions);
      expect([...second.trace.starts]).toEqual([...first.trace.starts]);
      expect(second.state).toEqual(first.state);
      expect(second.completion).toEqual(first.completion);
      expect(JSON.parse(JSON.stringify(first.state))).toEqual(first.state);
    }
  });
});

describe('planNext', () => {
  it('is idempotent: steps marked running are not started again', () => {
    const definition = example('parallelBranches');
    const state = initialRunState(definition);
    const inputs = { customerId: 'c', country: 'NL' };
    const first = planNext(definition, state, ctx(inputs));
    expect(planNext(definition, state, ctx(inputs))).toEqual(first);
    const again = planNext(definition, first.state, ctx(inputs));
    expect(again.start).toEqual([]);
    expect(again.skip).toEqual([]);
    expect(again.complete).toBeUndefined();
    expect(again.state).toEqual(first.state);
    expect(first.state.steps['prepare']).toEqual({ status: 'running', startedAt: NOW });
  });

  it('gives the same state whether the decision is applied through decision.state or step by step', () => {
    const definition = example('condition');
    let viaState = initialRunState(definition);
    let viaCalls = initialRunState(definition);
    for (let i = 0; i < 6; i++) {
      const decision = planNext(definition, viaState, ctx({ amount: 10, currency: 'EUR' }));
      const manual = planNext(definition, viaCalls, ctx({ amount: 10, currency: 'EUR' }));
      expect(manual).toEqual(decision);
      viaState = decision.state;
      for (const s of manual.skip) viaCalls = applyStepResult(definition, viaCalls, s.stepId, { status: 'skipped', at: NOW });
      viaCalls = markStarted(viaCalls, manual.start.map((s) => s.stepId), NOW);
      expect(viaCalls).toEqual(viaState);
      if (decision.complete) return;
      for (const start of decision.start) {
        const result = { ...simulateAction(start as ActionStart), at: NOW };
        viaState = applyStepResult(definition, viaState, start.stepId, result);
        viaCalls = applyStepResult(definition, viaCalls, start.stepId, result);
      }
    }
    throw new Error('did not complete');
  });

  it('does not change the state it is given', () => {
    const definition = example('errorHandling');
    const state = initialRunState(definition);
    const snapshot = JSON.stringify(state);
    const decision = planNext(definition, state, ctx());
    applyStepResult(definition, decision.state, 'publish', { status: 'succeeded', output: null, at: NOW });
    expect(JSON.stringify(state)).toBe(snapshot);
  });

  it('rejects an invalid now', () => {
    expect(() => planNext(example('sequence'), initialRunState(example('sequence')), ctx({}, 'yesterday'))).toThrow(/not a valid RFC 3339/);
  });
});

describe('joins and skipping', () => {
  const join = (mode: 'all' | 'any'): WorkflowDefinition =>
    workflow([
      setStep('a', 1, { condition: { $expr: 'inputs.runA' } }),
      setStep('b', 2, { condition: { $expr: 'inputs.runB' } }),
      action('slow'),
      action('j', { dependsOn: ['a', 'b', 'slow'], join: mode }),
      action('after', { dependsOn: ['j'] }),
    ]);

  it('join "all" skips as soon as one dependency is skipped, without waiting for the others', () => {
    const d = planNext(join('all'), initialRunState(join('all')), ctx({ runA: false, runB: true }));
    expect(d.start.map((s) => s.stepId)).toEqual(['b', 'slow']);
    expect(d.skip).toEqual([
      { stepId: 'a', reason: 'condition' },
      { stepId: 'j', reason: 'upstream' },
      { stepId: 'after', reason: 'upstream' },
    ]);
  });

  it('join "all" runs when every dependency succeeded', () => {
    const { state } = run(join('all'), { inputs: { runA: true, runB: true } });
    expect(statuses(state)).toEqual({ a: 'succeeded', b: 'succeeded', slow: 'succeeded', j: 'succeeded', after: 'succeeded' });
  });

  it('join "any" waits for every dependency, then runs when one was not skipped', () => {
    const definition = join('any');
    let d = planNext(definition, initialRunState(definition), ctx({ runA: false, runB: false }));
    expect(d.start.map((s) => s.stepId)).toEqual(['slow']);
    expect(d.skip.map((s) => s.stepId)).toEqual(['a', 'b']);
    d = planNext(definition, applyStepResult(definition, d.state, 'slow', { status: 'succeeded', output: null, at: NOW }), ctx({ runA: false, runB: false }));
    expect(d.start.map((s) => s.stepId)).toEqual(['j']);
  });

  it('join "any" is skipped when every dependency was skipped', () => {
    const definition = workflow([action('a', { condition: { $expr: 'false' } }), action('b', { condition: { $expr: 'false' } }), action('j', { dependsOn: ['a', 'b'], join: 'any' })]);
    const { state, completion } = run(definition);
    expect(statuses(state)).toEqual({ a: 'skipped', b: 'skipped', j: 'skipped' });
    expect(completion.status).toBe('succeeded');
  });

  it('counts a dependency that failed with "continue" as finished, and one that failed into a handler as skipped', () => {
    const definition = workflow([
      failStep('soft', { onError: 'continue' }),
      failStep('handledFailure', { onError: { goto: 'handler' } }),
      action('handler'),
      setStep('afterSoft', { $expr: 'steps.soft.status + ":" + steps.soft.error.code' }, { dependsOn: ['soft'] }),
      action('afterHandled', { dependsOn: ['handledFailure'] }),
      action('anyOfBoth', { dependsOn: ['soft', 'handledFailure'], join: 'any' }),
    ]);
    const { state, completion } = run(definition);
    expect(statuses(state)).toEqual({ soft: 'failed', handledFailure: 'handled', handler: 'succeeded', afterSoft: 'succeeded', afterHandled: 'skipped', anyOfBoth: 'succeeded' });
    expect(state.steps['afterSoft']?.output).toBe('failed:FAIL.SOFT');
    expect(completion.status).toBe('succeeded');
  });

  it('a condition can read a skipped step as null output and "skipped" status', () => {
    const definition = workflow([action('a', { condition: { $expr: 'false' } }), setStep('b', { $expr: 'steps.a.status + "/" + string(steps.a.output == null)' }, { dependsOn: ['a'], join: 'any' })]);
    // join any with only a skipped dependency: b is skipped too.
    expect(statuses(run(definition).state)).toEqual({ a: 'skipped', b: 'skipped' });
    const viaOther = workflow([action('a', { condition: { $expr: 'false' } }), action('x'), setStep('b', { $expr: 'steps.a.status + "/" + string(steps.a.output == null)' }, { dependsOn: ['a', 'x'], join: 'any' })]);
    expect(run(viaOther).state.steps['b']?.output).toBe('skipped/true');
  });
});

describe('onError', () => {
  it('"fail" fails the run at once with the step\'s error; running steps are cancelled, later results ignored', () => {
    const definition = workflow([failStep('bad'), action('slow'), action('next', { dependsOn: ['bad'] })]);
    let d = planNext(definition, initialRunState(definition), ctx());
    expect(d.start.map((s) => s.stepId)).toEqual(['bad', 'slow']);
    let state = applyStepResult(definition, d.state, 'bad', { status: 'failed', error: { code: 'FAIL.BAD', message: 'bad failed' }, attempts: 1, at: '2030-01-01T00:00:05.000Z' });
    expect(state.failure).toEqual({ code: 'FAIL.BAD', message: 'bad failed', stepId: 'bad', at: '2030-01-01T00:00:05.000Z' });
    expect(state.steps['bad']).toEqual({ status: 'failed', error: { code: 'FAIL.BAD', message: 'bad failed' }, startedAt: NOW, completedAt: '2030-01-01T00:00:05.000Z', attempts: 1 });
    expect(state.steps['slow']).toEqual({ status: 'failed', error: { code: 'STEP.CANCELLED', message: "cancelled: step 'bad' failed" }, startedAt: NOW, completedAt: '2030-01-01T00:00:05.000Z' });
    expect(state.steps['next']).toEqual({ status: 'pending' });
    d = planNext(definition, state, ctx());
    expect(d).toEqual({ start: [], skip: [], fail: [], complete: { status: 'failed', error: { code: 'FAIL.BAD', message: 'bad failed', stepId: 'bad' } }, state });
    state = applyStepResult(definition, state, 'slow', { status: 'succeeded', output: 1, at: NOW });
    expect(state).toBe(d.state);
    expect(storedStepStatus(state.steps['slow']!)).toBe('cancelled');
  });

  it('"fail" is the default, and the run fails with the step\'s code', () => {
    const { completion } = run(workflow([action('a'), failStep('b', { dependsOn: ['a'] })]));
    expect(completion).toEqual({ status: 'failed', error: { code: 'FAIL.B', message: 'b failed', stepId: 'b' } });
  });

  it('a failed result without an error gets STEP.FAILED', () => {
    const { completion } = run(workflow([action('a')]), { result: () => ({ status: 'failed' }) });
    expect(completion.error).toEqual({ code: 'STEP.FAILED', message: 'the step failed', stepId: 'a' });
  });

  it('goto activates the handler once, with the first failure as `error`', () => {
    const definition = workflow([
      failStep('first', { onError: { goto: 'handler' } }),
      action('gate'),
      failStep('second', { dependsOn: ['gate'], onError: { goto: 'handler' } }),
      setStep('handler', { $expr: 'error' }),
      action('afterHandler', { dependsOn: ['handler'] }),
    ]);
    const { state, trace } = run(definition);
    expect(statuses(state)).toEqual({ first: 'handled', gate: 'succeeded', second: 'handled', handler: 'succeeded', afterHandler: 'succeeded' });
    expect(state.steps['handler']?.output).toEqual({ stepId: 'first', code: 'FAIL.FIRST', message: 'first failed' });
    expect(trace.decisions.flatMap((d) => d.start).filter((id) => id === 'handler')).toHaveLength(1);
  });

  it('a handler failing applies its own onError', () => {
    const definition = workflow([failStep('a', { onError: { goto: 'h1' } }), failStep('h1', { onError: { goto: 'h2' } }), setStep('h2', { $expr: 'error.stepId' })]);
    const { state, completion } = run(definition);
    expect(statuses(state)).toEqual({ a: 'handled', h1: 'handled', h2: 'succeeded' });
    expect(state.steps['h2']?.output).toBe('h1');
    expect(completion.status).toBe('succeeded');
    const failing = workflow([failStep('a', { onError: { goto: 'h' } }), failStep('h')]);
    expect(run(failing).completion).toEqual({ status: 'failed', error: { code: 'FAIL.H', message: 'h failed', stepId: 'h' } });
  });

  it('a handler that is never activated is skipped with its dependents once every source has finished', () => {
    const definition = workflow([action('ok', { onError: { goto: 'handler' } }), action('slow'), action('handler'), action('afterHandler', { dependsOn: ['handler'] }), action('end', { dependsOn: ['afterHandler', 'slow'], join: 'any' })]);
    const d0 = planNext(definition, initialRunState(definition), ctx());
    expect(d0.skip).toEqual([]);
    const d1 = planNext(definition, applyStepResult(definition, d0.state, 'ok', { status: 'succeeded', output: null, at: NOW }), ctx());
    expect(d1.skip).toEqual([
      { stepId: 'handler', reason: 'notActivated' },
      { stepId: 'afterHandler', reason: 'upstream' },
    ]);
    expect(d1.start).toEqual([]);
    const d2 = planNext(definition, applyStepResult(definition, d1.state, 'slow', { status: 'succeeded', output: null, at: NOW }), ctx());
    expect(d2.start.map((s) => s.stepId)).toEqual(['end']);
  });
});

describe('planning failures (expressions)', () => {
  it('a condition error fails the step; with onError "continue" its dependents run', () => {
    const definition = workflow([action('check', { condition: { $expr: '10 / (1 - 1) > 1' }, onError: 'continue' }), setStep('next', { $expr: 'steps.check.error.message' }, { dependsOn: ['check'] })]);
    const first = planNext(definition, initialRunState(definition), ctx());
    expect(first.fail).toEqual([{ stepId: 'check', error: { code: 'EXPRESSION.FAILED', message: expect.stringContaining("step 'check': the expression at condition failed: division by zero") } }]);
    expect(first.start.map((s) => s.stepId)).toEqual(['next']);
    expect(first.state.steps['check']?.status).toBe('failed');
    const { completion, state } = run(definition);
    expect(completion.status).toBe('succeeded');
    expect(String(state.steps['next']?.output)).toContain('division by zero');
  });

  it('an input expression error fails the run with EXPRESSION.FAILED naming the step and the expression', () => {
    const definition = workflow([action('other'), setStep('divide', { $expr: '10 / (2 - 2)' })]);
    const d = planNext(definition, initialRunState(definition), ctx());
    expect(d.start).toEqual([]);
    expect(d.state.steps['other']).toEqual({ status: 'pending' });
    expect(d.complete).toEqual({
      status: 'failed',
      error: { code: 'EXPRESSION.FAILED', message: 'step \'divide\': the expression at inputs/value failed: division by zero (expression: "10 / (2 - 2)")', stepId: 'divide' },
    });
  });

  it('an expression error can go to a handler', () => {
    const definition = workflow([setStep('calc', { $expr: 'inputs.missing.value' }, { onError: { goto: 'fix' } }), setStep('fix', { $expr: 'error.code' })]);
    const { state } = run(definition, { inputs: {} });
    expect(statuses(state)).toEqual({ calc: 'handled', fix: 'succeeded' });
    expect(state.steps['fix']?.output).toBe('EXPRESSION.FAILED');
  });

  it('a condition must give a bool', () => {
    const { completion } = run(workflow([action('a', { condition: { $expr: 'inputs.flag' } })]), { inputs: { flag: 'yes' } });
    expect(completion.error?.message).toContain('a condition must give a bool, not a string');
  });

  it('an outputs error fails the run after the steps', () => {
    const { completion, state } = run(workflow([setStep('a', 1)], { outputs: { ok: { $expr: 'steps.a.output' }, bad: { $expr: 'steps.a.output.x' } } }));
    expect(statuses(state)).toEqual({ a: 'succeeded' });
    expect(completion).toEqual({ status: 'failed', error: { code: 'EXPRESSION.FAILED', message: expect.stringContaining('the run: the expression at outputs/bad failed') } });
  });

  it('evaluates whole-object inputs, and rejects a non-object', () => {
    const ok = run(workflow([action('a', { connector: 'crm', action: 'get', inputs: { $expr: '{"id": inputs.id}' } })]), { inputs: { id: 'c-1' } });
    expect((ok.trace.starts.get('a') as ActionStart).inputs).toEqual({ id: 'c-1' });
    const bad = run(workflow([action('a', { connector: 'crm', action: 'get', inputs: { $expr: '[1]' } })]));
    expect(bad.completion.error?.message).toContain('inputs must give a map, not a list');
  });
});

describe('action starts', () => {
  it('leaves $secret references for the activity and lists their slots; $literal is unwrapped', () => {
    const definition = workflow([
      action('call', {
        connector: 'crm',
        action: 'createNote',
        inputs: {
          headers: { Authorization: { $secret: 'crm-token' } },
          body: { text: { $expr: 'inputs.text' }, raw: { $literal: { $expr: 'kept', $secret: 'not-a-slot' } }, echo: { $expr: 'inputs.sneaky' } },
        },
        fallbacks: [{ inputs: { token: { $secret: 'backup-token' } } }, { action: 'other' }],
      }),
    ]);
    const d = planNext(definition, initialRunState(definition), ctx({ text: 'hi', sneaky: { $secret: 'crm-token' } }));
    const start = d.start[0] as ActionStart;
    expect(start.inputs).toEqual({
      headers: { Authorization: { $secret: 'crm-token' } },
      body: { text: 'hi', raw: { $expr: 'kept', $secret: 'not-a-slot' }, echo: { $secret: 'crm-token' } },
    });
    expect(start.secrets).toEqual([{ pointer: '/headers/Authorization', name: 'crm-token' }]);
    expect(start.fallbacks[0]).toMatchObject({ connector: 'crm', action: 'createNote', inputs: { token: { $secret: 'backup-token' } }, secrets: [{ pointer: '/token', name: 'backup-token' }] });
    expect(start.fallbacks[1]).toMatchObject({ connector: 'crm', action: 'other', inputs: start.inputs, secrets: start.secrets });
    expect(start.retry).toEqual(resolveRetry(undefined));
    expect(start.timeoutSeconds).toBe(30);
  });

  it('applies the retry defaults: 3 retries after 1 s, 2 s and 4 s', () => {
    const policy = resolveRetry(undefined);
    expect(policy).toEqual({ maxRetries: 3, intervalSeconds: 1, backoffCoefficient: 2, maxIntervalSeconds: 60, maxAttempts: 4, initialIntervalMs: 1000, maxIntervalMs: 60000 });
    expect([1, 2, 3].map((k) => retryDelaySeconds(policy, k))).toEqual([1, 2, 4]);
    expect(retryDelaySeconds({ intervalSeconds: 2, backoffCoefficient: 2, maxIntervalSeconds: 30 }, 5)).toBe(30);
    expect(retryDelaySeconds(undefined, 7)).toBe(60);
  });
});

describe('waits and approvals', () => {
  /** The handler `h` exists only when something goes to it (otherwise it would be an ordinary first step). */
  const withHandler = (steps: StepDefinition[], ...dispositions: unknown[]): WorkflowDefinition =>
    workflow(dispositions.some((d) => typeof d === 'object' && d !== null && 'goto' in d) ? [...steps, setStep('h', { $expr: 'error.code' })] : steps);
  const wait = (onTimeout: unknown, onError: unknown = 'fail'): WorkflowDefinition =>
    withHandler(
      [{ id: 'w', type: 'waitForEvent', event: 'go', timeoutSeconds: 60, onTimeout, onError } as StepDefinition, setStep('after', { $expr: 'steps.w.output' }, { dependsOn: ['w'] })],
      onTimeout,
      onError,
    );
  const timedOut: SimResult = { status: 'failed', error: { code: 'STEP.TIMEOUT', message: 'no go' } };

  it('onTimeout "continue" succeeds with {timedOut: true}', () => {
    const { state } = run(wait('continue'), { result: (s) => (s.kind === 'waitForEvent' ? timedOut : undefined) });
    expect(state.steps['w']).toMatchObject({ status: 'succeeded', output: { timedOut: true } });
    expect(state.steps['after']?.output).toEqual({ timedOut: true });
  });

  it('onTimeout "fail" fails the step with STEP.TIMEOUT, then onError applies', () => {
    expect(run(wait('fail'), { result: (s) => (s.kind === 'waitForEvent' ? timedOut : undefined) }).completion).toEqual({ status: 'failed', error: { code: 'STEP.TIMEOUT', message: 'no go', stepId: 'w' } });
    const continued = run(wait('fail', 'continue'), { result: (s) => (s.kind === 'waitForEvent' ? timedOut : undefined) });
    expect(statuses(continued.state)).toMatchObject({ w: 'failed', after: 'succeeded' });
    const handled = run(wait('fail', { goto: 'h' }), { result: (s) => (s.kind === 'waitForEvent' ? timedOut : undefined) });
    expect(statuses(handled.state)).toEqual({ w: 'handled', after: 'skipped', h: 'succeeded' });
  });

  it('onTimeout goto hands the timeout to the handler', () => {
    const { state } = run(wait({ goto: 'h' }), { result: (s) => (s.kind === 'waitForEvent' ? timedOut : undefined) });
    expect(statuses(state)).toEqual({ w: 'handled', after: 'skipped', h: 'succeeded' });
    expect(state.steps['h']?.output).toBe('STEP.TIMEOUT');
  });

  it('other wait failures apply onError, not onTimeout', () => {
    const { state } = run(wait('continue', 'continue'), { result: (s) => (s.kind === 'waitForEvent' ? { status: 'failed', error: { code: 'EVENT.BAD', message: 'bad payload' } } : undefined) });
    expect(state.steps['w']).toMatchObject({ status: 'failed', error: { code: 'EVENT.BAD' } });
  });

  const approval = (extra: Record<string, unknown>): WorkflowDefinition =>
    withHandler([{ id: 'review', type: 'approval', approvers: { users: ['a@contoso.com'] }, minApprovals: 2, ...extra } as StepDefinition], ...Object.values(extra));

  it('onReject "fail" (default) fails with APPROVAL.REJECTED; goto hands it to the handler', () => {
    const rejected: SimResult = { status: 'succeeded', output: { decision: 'rejected', approvals: [], comment: 'no' } };
    expect(run(approval({}), { result: (s) => (s.kind === 'approval' ? rejected : undefined) }).completion).toEqual({
      status: 'failed',
      error: { code: 'APPROVAL.REJECTED', message: 'the approval was rejected', stepId: 'review' },
    });
    const handled = run(approval({ onReject: { goto: 'h' } }), { result: (s) => (s.kind === 'approval' ? rejected : undefined) });
    expect(statuses(handled.state)).toEqual({ review: 'handled', h: 'succeeded' });
    expect(handled.state.steps['h']?.output).toBe('APPROVAL.REJECTED');
  });

  it('onTimeout "continue" on an approval gives decision "timedOut"', () => {
    const { state, trace } = run(approval({ onTimeout: 'continue', timeoutSeconds: 60, message: { $expr: '"Approve " + run.id' } }), {
      result: (s) => (s.kind === 'approval' ? { status: 'failed', error: { code: 'STEP.TIMEOUT', message: 'late' } } : undefined),
    });
    expect(trace.starts.get('review')).toMatchObject({ approvers: { users: ['a@contoso.com'], roles: [] }, minApprovals: 2, message: 'Approve run-1', timeoutAt: '2030-01-01T00:01:00.000Z' });
    expect(state.steps['review']).toMatchObject({ status: 'succeeded', output: { decision: 'timedOut', approvals: [], comment: null } });
  });
});

describe('forEach', () => {
  const loop = (extra: Record<string, unknown>, more: StepDefinition[] = []): WorkflowDefinition =>
    workflow([setStep('source', { $expr: 'inputs.list' }), { id: 'each', type: 'forEach', dependsOn: ['source'], items: { $expr: 'steps.source.output' }, ...extra } as StepDefinition, ...more]);

  it('caps concurrency and keeps item order whatever the completion order', () => {
    const list = Array.from({ length: 7 }, (_, i) => i);
    for (const order of ['fifo', 'lifo'] as const) {
      const { state, trace } = run(loop({ concurrency: 3, action: { connector: 'core', action: 'set', inputs: { value: { $expr: 'item * 10.0 + double(index)' } } } }), { inputs: { list }, order });
      expect(trace.maxConcurrent.get('each')).toBe(3);
      expect(state.steps['each']?.output).toEqual([0, 11, 22, 33, 44, 55, 66]);
    }
  });

  it('defaults the concurrency to 1 and the output to the body steps\' outputs', () => {
    const { state, trace } = run(loop({ steps: [setStep('double', { $expr: 'item * 2.0' }), action('skipMe', { condition: { $expr: 'false' } })] }), { inputs: { list: [1, 2] } });
    expect(trace.maxConcurrent.get('each')).toBe(1);
    expect(state.steps['each']?.output).toEqual([
      { double: 2, skipMe: null },
      { double: 4, skipMe: null },
    ]);
  });

  it('an empty list gives an empty output', () => {
    expect(run(loop({ action: { connector: 'core', action: 'noop' } }), { inputs: { list: [] } }).state.steps['each']).toMatchObject({ status: 'succeeded', output: [] });
  });

  it('renders a literal list as a value template', () => {
    const definition = workflow([{ id: 'each', type: 'forEach', items: [{ $expr: 'inputs.a' }, { $literal: { $expr: 'x' } }, 3], action: { connector: 'core', action: 'set', inputs: { value: { $expr: 'item' } } } } as StepDefinition]);
    expect(run(definition, { inputs: { a: 'A' } }).state.steps['each']?.output).toEqual(['A', { $expr: 'x' }, 3]);
  });

  it('fails with FOREACH.TOO_MANY_ITEMS over 1000 items, and with EXPRESSION.FAILED on a non-list', () => {
    const many = run(loop({ action: { connector: 'core', action: 'noop' } }), { inputs: { list: Array.from({ length: 1001 }, () => 0) } });
    expect(many.completion.error).toEqual({ code: 'FOREACH.TOO_MANY_ITEMS', message: "step 'each': items gave 1001 items; a forEach takes at most 1000", stepId: 'each' });
    const notList = run(loop({ action: { connector: 'core', action: 'noop' } }), { inputs: { list: 'abc' } });
    expect(notList.completion.error?.code).toBe('EXPRESSION.FAILED');
    expect(notList.completion.error?.message).toContain('items must give a list, not a string');
  });

  it('after a failed iteration starts no new iteration, lets running ones finish, and fails with the lowest failed index', () => {
    const list = [0, 1, 2, 3, 4, 5];
    const definition = loop({ concurrency: 3, action: { connector: 'core', action: 'set', inputs: { value: { $expr: 'item' } } }, onError: 'continue' }, [setStep('after', { $expr: 'steps.each.error' }, { dependsOn: ['each'] })]);
    const started: number[] = [];
    const { state } = run(definition, {
      inputs: { list },
      order: 'lifo',
      result: (s, path) => {
        if (s.kind !== 'action' || path.length === 0) return undefined;
        started.push(path[0]!);
        return path[0] === 1 || path[0] === 2 ? { status: 'failed', error: { code: 'ITEM.BAD', message: `item ${path[0]} is bad` } } : undefined;
      },
    });
    // lifo: 2 completes (fails) first; 1 and 0 finish; nothing else starts.
    expect(started.sort()).toEqual([0, 1, 2]);
    expect(state.steps['each']).toMatchObject({ status: 'failed', error: { code: 'ITEM.BAD', message: 'iteration 1: item 1 is bad' } });
    expect(state.steps['after']?.output).toEqual({ code: 'ITEM.BAD', message: 'iteration 1: item 1 is bad' });
  });

  it('a body step failing with "fail" fails the iteration; the message names the step', () => {
    const definition = loop({ steps: [failStep('inner')] });
    const { completion } = run(definition, { inputs: { list: [1] } });
    expect(completion).toEqual({ status: 'failed', error: { code: 'FAIL.INNER', message: "iteration 0 (step 'inner'): inner failed", stepId: 'each' } });
  });

  it('body steps read the forEach\'s upstream steps, item and index; handlers work per iteration', () => {
    const definition = workflow([
      setStep('prefix', 'P'),
      {
        id: 'each',
        type: 'forEach',
        dependsOn: ['prefix'],
        items: ['a', 'b'],
        steps: [
          setStep('label', { $expr: 'steps.prefix.output + "-" + item + "-" + string(index)' }),
          failStep('maybe', { dependsOn: ['label'], condition: { $expr: 'index == 1' }, onError: { goto: 'recover' } }),
          setStep('recover', { $expr: 'error.stepId + "@" + string(index)' }),
        ],
        output: { label: { $expr: 'steps.label.output' }, recovered: { $expr: 'steps.recover.output' } },
      } as StepDefinition,
    ]);
    const { state } = run(definition);
    expect(state.steps['each']?.output).toEqual([
      { label: 'P-a-0', recovered: null },
      { label: 'P-b-1', recovered: 'maybe@1' },
    ]);
  });

  it('nested loops: the inner items come from the outer item; item and index are the innermost', () => {
    const definition = workflow([
      {
        id: 'orders',
        type: 'forEach',
        items: { $expr: 'inputs.orders' },
        steps: [
          {
            id: 'lines',
            type: 'forEach',
            items: { $expr: 'item.lines.map(l, {"order": item.id, "line": l})' },
            concurrency: 2,
            action: { connector: 'core', action: 'set', inputs: { value: { $expr: 'item.order + ":" + item.line + "#" + string(index)' } } },
          },
        ],
        output: { $expr: 'steps.lines.output' },
      } as StepDefinition,
    ]);
    const { state, trace } = run(definition, { inputs: { orders: [{ id: 'o1', lines: ['x', 'y'] }, { id: 'o2', lines: ['z'] }] } });
    expect(state.steps['orders']?.output).toEqual([['o1:x#0', 'o1:y#1'], ['o2:z#0']]);
    expect((trace.starts.get('0/lines') as ForEachStart).iteration.outerSteps).toEqual({});
  });

  it('a forEach that is a handler passes `error` to its body', () => {
    const definition = workflow([
      failStep('bad', { onError: { goto: 'cleanup' } }),
      { id: 'cleanup', type: 'forEach', items: [1, 2], action: { connector: 'core', action: 'set', inputs: { value: { $expr: 'error.stepId + string(item)' } } } } as StepDefinition,
    ]);
    expect(run(definition).state.steps['cleanup']?.output).toEqual(['bad1', 'bad2']);
  });

  it('passes only the forEach\'s upstream steps to the iterations, and its timeout', () => {
    const definition = workflow([setStep('up', 1), setStep('unrelated', 2), { id: 'each', type: 'forEach', dependsOn: ['up'], items: [1], timeoutSeconds: 600, action: { connector: 'core', action: 'noop' } } as StepDefinition]);
    const start = planNext(definition, { steps: { up: { status: 'succeeded', output: 1 }, unrelated: { status: 'succeeded', output: 2 }, each: { status: 'pending' } }, handlers: {} }, ctx()).start[0] as ForEachStart;
    expect(start.iteration).toEqual({ forEachStepId: 'each', outerSteps: { up: { output: 1, status: 'succeeded', error: null } } });
    expect(start.timeoutAt).toBe('2030-01-01T00:10:00.000Z');
  });

  it('iteration helpers validate their arguments', () => {
    const definition = loop({ action: { connector: 'core', action: 'noop' } });
    const start: ForEachStart = { kind: 'forEach', stepId: 'each', items: [1], concurrency: 1, body: { kind: 'action', connector: 'core', action: 'noop' }, iteration: { forEachStepId: 'each', outerSteps: {} } };
    expect(() => initialIterationState(definition, start, 1)).toThrow(/has no item 1/);
    const l = forEachNext(initialForEachLoop(start)).loop;
    expect(() => applyIterationResult(l, 3, { status: 'succeeded' })).toThrow(/no iteration 3/);
    const done = applyIterationResult(l, 0, { status: 'succeeded', output: 5 });
    expect(applyIterationResult(done, 0, { status: 'failed' })).toBe(done);
    expect(forEachNext(done).complete).toEqual({ status: 'succeeded', output: [5] });
  });
});

describe('delays', () => {
  const delay = (extra: Record<string, unknown>): WorkflowDefinition => workflow([{ id: 'd', type: 'delay', ...extra } as StepDefinition]);
  const first = (definition: WorkflowDefinition, inputs: JsonValue = {}): PlanDecision => planNext(definition, initialRunState(definition), ctx(inputs));

  it('durationSeconds may be an expression; fireAt is computed from the given now', () => {
    expect(first(delay({ durationSeconds: { $expr: 'inputs.wait * 2.0' } }), { wait: 1.5 }).start).toEqual([{ kind: 'delay', stepId: 'd', fireAt: '2030-01-01T00:00:03.000Z' }]);
    const later = planNext(delay({ durationSeconds: 60 }), initialRunState(delay({ durationSeconds: 60 })), ctx({}, '2031-06-01T12:00:00Z'));
    expect(later.start).toEqual([{ kind: 'delay', stepId: 'd', fireAt: '2031-06-01T12:01:00.000Z' }]);
  });

  it('rejects negative or too long durations and bad dates', () => {
    expect(first(delay({ durationSeconds: { $expr: '-1.0' } })).complete?.error?.message).toContain('durationSeconds gave -1; it must be between 0 and 2592000');
    expect(first(delay({ durationSeconds: { $expr: '"10"' } })).complete?.error?.message).toContain('durationSeconds must give a number, not a string');
    expect(first(delay({ until: { $expr: '"tomorrow"' } })).complete?.error?.message).toContain('until must give an RFC 3339 date-time');
    expect(first(delay({ until: { $expr: 'timestamp("2030-01-02T00:00:00Z")' } })).start).toEqual([{ kind: 'delay', stepId: 'd', fireAt: '2030-01-02T00:00:00.000Z' }]);
  });
});

describe('run-level timeout and abort', () => {
  it('computes the deadline from the definition (default 7 days)', () => {
    expect(runDeadline(workflow([action('a')]), NOW)).toBe('2030-01-08T00:00:00.000Z');
    expect(runDeadline(example('parallelBranches'), NOW)).toBe('2030-01-01T01:00:00.000Z');
  });

  it('timeOutRun fails the run with RUN.TIMEOUT and cancels running steps', () => {
    const definition = workflow([action('a'), action('b', { dependsOn: ['a'] })]);
    const started = planNext(definition, initialRunState(definition), ctx()).state;
    const timedOut = timeOutRun(definition, started, '2030-01-08T00:00:00.000Z');
    expect(timedOut.steps['a']).toMatchObject({ status: 'failed', error: { code: 'STEP.CANCELLED', message: 'cancelled: the run timed out' } });
    expect(planNext(definition, timedOut, ctx()).complete).toEqual({ status: 'failed', error: { code: 'RUN.TIMEOUT', message: 'the run did not finish within its timeout of 604800 s' } });
    expect(abortRun(timedOut, { code: 'X', message: 'y' }, NOW)).toBe(timedOut);
  });

  it('reports RUN.STUCK for a definition that can never finish (a cycle)', () => {
    const cyclic = workflow([action('a', { dependsOn: ['b'] }), action('b', { dependsOn: ['a'] })]);
    expect(planNext(cyclic, initialRunState(cyclic), ctx()).complete).toEqual({ status: 'failed', error: { code: 'RUN.STUCK', message: 'no step can start, yet these never finished: a, b' } });
  });
});

describe('step ids that are Object.prototype member names', () => {
  it('treats ids such as constructor, toString and hasOwnProperty as ordinary steps', () => {
    const definition = workflow([
      setStep('toString', 'ts', { onError: { goto: 'constructor' } }),
      setStep('constructor', { $expr: 'error.code' }),
      setStep('hasOwnProperty', { $expr: 'steps.toString.output + "/" + steps.constructor.status' }, { dependsOn: ['toString', 'constructor'], join: 'any' }),
      action('valueOf', { dependsOn: ['constructor'] }),
    ]);
    const { state, completion } = run(definition);
    expect(statuses(state)).toEqual({ toString: 'succeeded', constructor: 'skipped', hasOwnProperty: 'succeeded', valueOf: 'skipped' });
    expect(state.steps['hasOwnProperty']?.output).toBe('ts/skipped');
    expect(state.handlers).toEqual({});
    expect(completion.status).toBe('succeeded');
    expect(progressOf(definition, state)).toMatchObject({ completed: 4, skipped: 2 });
  });
});

describe('delay results', () => {
  it('stores null as a delay\'s output, whatever the orchestrator reports', () => {
    const definition = workflow([{ id: 'd', type: 'delay', durationSeconds: 5 } as StepDefinition]);
    const state = applyStepResult(definition, planNext(definition, initialRunState(definition), ctx()).state, 'd', { status: 'succeeded', output: { firedAt: NOW }, at: NOW });
    expect(state.steps['d']).toEqual({ status: 'succeeded', output: null, startedAt: NOW, completedAt: NOW });
  });
});

describe('applyStepResult and markStarted', () => {
  const definition = workflow([action('a'), action('b')]);

  it('ignores results for finished steps and throws for unknown steps', () => {
    const state = applyStepResult(definition, planNext(definition, initialRunState(definition), ctx()).state, 'a', { status: 'succeeded', output: { x: 1 }, attempts: 2, at: NOW });
    expect(state.steps['a']).toEqual({ status: 'succeeded', output: { x: 1 }, startedAt: NOW, completedAt: NOW, attempts: 2 });
    expect(applyStepResult(definition, state, 'a', { status: 'failed', at: NOW })).toBe(state);
    expect(() => applyStepResult(definition, state, 'nope', { status: 'succeeded', at: NOW })).toThrow(/not in the steps list/);
  });

  it('markStarted only starts pending steps', () => {
    const state = initialRunState(definition);
    const started = markStarted(state, ['a', 'nope'], NOW);
    expect(started.steps['a']).toEqual({ status: 'running', startedAt: NOW });
    expect(markStarted(started, ['a'], '2040-01-01T00:00:00Z')).toBe(started);
    expect(state.steps['a']).toEqual({ status: 'pending' });
  });
});

describe('progressOf', () => {
  it('counts completed, running, failed and skipped steps, and names the current ones', () => {
    const definition = workflow([action('a'), failStep('b', { onError: 'continue' }), action('c', { condition: { $expr: 'false' } }), action('d'), action('e', { dependsOn: ['a'] })]);
    const d = planNext(definition, initialRunState(definition), ctx());
    expect(progressOf(definition, d.state)).toEqual({ completed: 1, running: 3, failed: 0, skipped: 1, total: 5, currentSteps: ['a', 'b', 'd'] });
    let state = applyStepResult(definition, d.state, 'b', { status: 'failed', error: { code: 'X', message: 'y' }, at: NOW });
    state = applyStepResult(definition, state, 'a', { status: 'succeeded', at: NOW });
    expect(progressOf(definition, state)).toEqual({ completed: 3, running: 1, failed: 1, skipped: 1, total: 5, currentSteps: ['d'] });
    const done = run(definition);
    expect(progressOf(definition, done.state)).toEqual({ completed: 5, running: 0, failed: 1, skipped: 1, total: 5, currentSteps: [] });
    expect(JSON.parse(JSON.stringify(progressOf(definition, done.state)))).toEqual(progressOf(definition, done.state));
  });

  it('maps planner statuses to stored step statuses', () => {
    expect(storedStepStatus({ status: 'handled' })).toBe('failed');
    expect(storedStepStatus({ status: 'failed', error: { code: 'X', message: '' } })).toBe('failed');
    expect(storedStepStatus({ status: 'skipped' })).toBe('skipped');
    expect(storedStepStatus({ status: 'running' })).toBe('running');
  });
});

// Keep the helper types honest.
const _object: JsonObject = {};
void _object;
