import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { abortRun, applyStepResult, initialRunState, planNext, progressOf, runDeadline, timeOutRun, type ActionStart, type RunState, type StepStart } from '../shared/domain/engine/index.js';
import type { JsonValue } from '../shared/domain/json.js';
import type { WorkflowDefinition } from '../shared/domain/workflow-language/index.js';
import { Activities, type ConnectorCall, type StepCall, type StepOutcome } from './activityHandles.js';
import type { RunWorkflowInput } from './runWorkflowInput.js';

/** A thrown (transient) step failure carries `CODE: message`; after the last retry that is the step's error. */
function failureOf(error: unknown): { code: string; message: string } {
  const text = error instanceof Error ? error.message : String(error);
  const match = /([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+): (.*)$/.exec(text.split('\n')[0] ?? text);
  return match ? { code: match[1]!, message: match[2]!.trim() } : { code: 'STEP.FAILED', message: text };
}

interface StepResult {
  stepId: string;
  status: 'succeeded' | 'failed';
  output?: JsonValue;
  error?: { code: string; message: string };
  attempts?: number;
}

export const RUN_STEP = 'runWorkflowStep';

/**
 * Runs a workflow run: asks the pure planner which steps are ready, starts them, feeds their results back, and
 * repeats until the planner says the run is complete. Deterministic (no I/O, no clock but the orchestration's,
 * no randomness): every effect is an activity, a durable timer or an external event. The steps ready together
 * run together and are awaited together (a "wave"), raced against the run's deadline; no task is ever yielded
 * twice, which Durable Functions does not support.
 */
export const runWorkflow: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as RunWorkflowInput;
  const definition = input.definition as unknown as WorkflowDefinition;
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const startedAt = now();
  const run = { id: input.runId, workflowId: input.workflowId, version: input.workflowVersion, startedAt };
  const deadline = runDeadline(definition, startedAt);
  yield context.df.callActivity(Activities.recordRunStatus.name, { tenantId: input.tenantId, runId: input.runId, status: 'running', at: startedAt });

  let state: RunState = initialRunState(definition);
  for (;;) {
    const decision = planNext(definition, state, { inputs: input.input, run, now: now() });
    state = decision.state;
    context.df.setCustomStatus(progressOf(definition, state));
    if (decision.complete) {
      const outcome = decision.complete;
      yield context.df.callActivity(Activities.recordRunStatus.name, {
        tenantId: input.tenantId,
        runId: input.runId,
        status: outcome.status,
        ...(outcome.outputs ? { output: outcome.outputs } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
        at: now(),
      });
      return outcome.outputs ?? null;
    }
    if (decision.start.length === 0) {
      if (decision.skip.length > 0 || decision.fail.length > 0) continue;
      // Nothing to start, nothing changed, not complete: a planner invariant broke; fail rather than spin.
      state = abortRun(state, { code: 'RUN.STUCK', message: 'No step can start and the run is not complete.' }, now());
      continue;
    }
    const wave = context.df.Task.all(decision.start.map((start) => runStep(context, input, start)));
    const timeout = context.df.createTimer(new Date(deadline));
    const winner = yield context.df.Task.any([wave, timeout]);
    if (winner === timeout) {
      state = timeOutRun(definition, state, now());
      continue;
    }
    timeout.cancel();
    for (const result of wave.result as StepResult[]) {
      state = applyStepResult(definition, state, result.stepId, {
        status: result.status,
        ...(result.output !== undefined ? { output: result.output } : {}),
        ...(result.error ? { error: result.error } : {}),
        ...(result.attempts !== undefined ? { attempts: result.attempts } : {}),
        at: now(),
      });
    }
  }
};

/** The durable task of one step, as a sub-orchestration that always resolves with a result. */
function runStep(context: OrchestrationContext, input: RunWorkflowInput, start: StepStart): Task {
  return context.df.callSubOrchestrator(RUN_STEP, { input, start }, `${input.runId}:${start.stepId}`);
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
 * delay (a durable timer), a wait for an event or approval raced against its timeout.
 */
export const runWorkflowStep: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { input, start } = context.df.getInput() as { input: RunWorkflowInput; start: StepStart };
  const stepId = start.stepId;
  switch (start.kind) {
    case 'action': {
      const call: StepCall = { tenantId: input.tenantId, runId: input.runId, stepId, iteration: null, calls: connectorCalls(start) };
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
    case 'approval': {
      const event = context.df.waitForExternalEvent(start.eventName);
      const timeout = context.df.createTimer(new Date(start.timeoutAt));
      const winner = yield context.df.Task.any([event, timeout]);
      if (winner === event) {
        timeout.cancel();
        return { stepId, status: 'succeeded', output: (event.result ?? null) as JsonValue } satisfies StepResult;
      }
      return { stepId, status: 'failed', error: { code: 'STEP.TIMEOUT', message: `No '${start.eventName}' event arrived before ${start.timeoutAt}.` } } satisfies StepResult;
    }
    case 'forEach':
    case 'subWorkflow':
      // Fan-out and child runs come next in the engine's issue; until then the step fails with a clear code.
      return { stepId, status: 'failed', error: { code: 'STEP.NOT_SUPPORTED_YET', message: `Steps of type '${start.kind}' cannot run yet on this version of the engine.` } } satisfies StepResult;
  }
};

df.app.orchestration('runWorkflow', runWorkflow);
df.app.orchestration(RUN_STEP, runWorkflowStep);
