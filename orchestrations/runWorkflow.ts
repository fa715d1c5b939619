import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { applyStepResult, initialRunState, progressOf, runDeadline, type ActionStart, type RunState } from '../shared/domain/engine/index.js';
import type { WorkflowDefinition } from '../shared/domain/workflow-language/index.js';
import { awaitEvent } from './awaitEvent.js';
import { Activities, type ConnectorCall, type RunFinalization, type StepCall, type StepOutcome } from './activityHandles.js';
import { RUN_STEP, runPlannerLoop, type StepInput, type StepResult } from './plannerLoop.js';
import { runForEach } from './runForEach.js';
import { isChildRun, RUN_WORKFLOW, runSubWorkflow, type ChildRunOutcome } from './runSubWorkflow.js';
import type { ResumeFrom, RunWorkflowInput } from './runWorkflowInput.js';

/** A thrown (transient) step failure carries `CODE: message`; after the last retry that is the step's error. */
function failureOf(error: unknown): { code: string; message: string } {
  const text = error instanceof Error ? error.message : String(error);
  const match = /([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+): (.*)$/.exec(text.split('\n')[0] ?? text);
  return match ? { code: match[1]!, message: match[2]!.trim() } : { code: 'STEP.FAILED', message: text };
}

/**
 * Runs a workflow run: asks the pure planner which steps are ready, starts them, feeds their results back, and
 * repeats until the planner says the run is complete (the planner loop shared with forEach iterations, see
 * plannerLoop.ts). Deterministic (no I/O, no clock but the orchestration's, no randomness): every effect is an
 * activity, a durable timer, an external event or a sub-orchestration. The steps ready together run together
 * and are awaited together (a "wave"), raced against the run's deadline; no task is ever yielded twice, which
 * Durable Functions does not support. A child run (subWorkflow) returns its whole outcome to its parent; a
 * top-level run returns its outputs.
 */
export const runWorkflow: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { resumeFrom, ...input } = context.df.getInput() as RunWorkflowInput;
  const definition = input.definition as unknown as WorkflowDefinition;
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const startedAt = now();
  const run = { id: input.runId, workflowId: input.workflowId, version: input.workflowVersion, startedAt };
  if (!input.alreadyRunning) {
    yield context.df.callActivity(Activities.recordRunStatus.name, { tenantId: input.tenantId, runId: input.runId, status: 'running', at: startedAt });
  }

  const seeded = seedState(definition, resumeFrom, startedAt);
  let finalState = seeded.state;
  const outcome = yield* runPlannerLoop(context, {
    // Without resumeFrom: the steps get the run input, and the prior outputs are in the state already.
    input,
    definition,
    run,
    state: seeded.state,
    instancePrefix: input.runId,
    iteration: null,
    deadline: runDeadline(definition, startedAt),
    onState: (state) => {
      finalState = state;
      context.df.setCustomStatus(progressOf(definition, state));
    },
  });
  const carriedOver = new Set(seeded.carriedOver);
  const stepsExecuted = Object.entries(finalState.steps).filter(
    ([id, step]) => !carriedOver.has(id) && (step.status === 'succeeded' || step.status === 'failed' || step.status === 'handled'),
  ).length;
  yield context.df.callActivity(Activities.finalizeRun.name, {
    tenantId: input.tenantId,
    runId: input.runId,
    status: outcome.status,
    ...(outcome.outputs ? { output: outcome.outputs } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
    at: now(),
    startedAt,
    stepsExecuted,
    carriedOver: seeded.carriedOver,
  } satisfies RunFinalization);
  if (isChildRun(input)) {
    return {
      status: outcome.status,
      ...(outcome.outputs ? { outputs: outcome.outputs } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    } satisfies ChildRunOutcome;
  }
  return outcome.outputs ?? null;
};

/**
 * The state a run starts from: every step pending, then (a retry from the failed step) each carried-over step
 * of the definition's top level applied as succeeded with its recorded output, in the order the input lists
 * them (deterministic on replay). Ids the definition does not have at its top level are ignored.
 */
export function seedState(definition: WorkflowDefinition, resumeFrom: ResumeFrom | undefined, at: string): { state: RunState; carriedOver: string[] } {
  let state = initialRunState(definition);
  const carriedOver: string[] = [];
  for (const [stepId, prior] of Object.entries(resumeFrom?.steps ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(state.steps, stepId)) continue;
    state = applyStepResult(definition, state, stepId, { status: 'succeeded', output: prior.output, ...(prior.attempts !== undefined ? { attempts: prior.attempts } : {}), at });
    if (state.steps[stepId]?.status === 'succeeded') carriedOver.push(stepId);
  }
  return { state, carriedOver };
}

function connectorCalls(start: ActionStart): ConnectorCall[] {
  return [start, ...start.fallbacks].map((call) => ({
    connector: call.connector,
    action: call.action,
    inputs: call.inputs,
    secretPointers: call.secrets.map((slot) => slot.pointer),
    timeoutSeconds: call.timeoutSeconds,
  }));
}

/**
 * One step: an action (executeStep with the step's retry policy: transient faults are retried durably), a
 * delay (a durable timer), a wait for an event or approval raced against its timeout, a forEach (its
 * iterations as `runForEachIteration` sub-orchestrations, in waves: runForEach.ts), a sub-workflow (a child run
 * as a `runWorkflow` sub-orchestration: runSubWorkflow.ts). Input: {@link StepInput}.
 */
export const runWorkflowStep: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { input, run, start, iteration, instanceId } = context.df.getInput() as StepInput;
  const stepId = start.stepId;
  switch (start.kind) {
    case 'action': {
      const call: StepCall = { tenantId: input.tenantId, runId: input.runId, stepId, iteration, calls: connectorCalls(start) };
      const retry = new df.RetryOptions(start.retry.initialIntervalMs, start.retry.maxAttempts);
      retry.backoffCoefficient = start.retry.backoffCoefficient;
      retry.maxRetryIntervalInMilliseconds = start.retry.maxIntervalMs;
      try {
        const outcome = (yield context.df.callActivityWithRetry(Activities.executeStep.name, retry, call)) as StepOutcome;
        return outcome.status === 'succeeded'
          ? ({ stepId, status: 'succeeded', output: outcome.output, attempts: outcome.attempts } satisfies StepResult)
          : ({ stepId, status: 'failed', error: outcome.error, attempts: outcome.attempts } satisfies StepResult);
      } catch (error) {
        return { stepId, status: 'failed', error: failureOf(error), attempts: start.retry.maxAttempts } satisfies StepResult;
      }
    }
    case 'delay': {
      yield context.df.createTimer(new Date(start.fireAt));
      return { stepId, status: 'succeeded', output: null } satisfies StepResult;
    }
    case 'waitForEvent':
    case 'approval':
      return yield* awaitEvent(context, start);
    case 'forEach':
      return yield* runForEach(context, input, run, start, instanceId);
    case 'subWorkflow':
      return yield* runSubWorkflow(context, input, start, instanceId);
  }
};

df.app.orchestration(RUN_WORKFLOW, runWorkflow);
df.app.orchestration(RUN_STEP, runWorkflowStep);
