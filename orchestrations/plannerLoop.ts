import type { OrchestrationContext, Task } from 'durable-functions';
import { abortRun, applyStepResult, planNext, timeOutRun, type RunCompletion, type RunInfo, type RunState, type StepStart } from '../shared/domain/engine/index.js';
import type { JsonValue } from '../shared/domain/json.js';
import type { WorkflowDefinition } from '../shared/domain/workflow-language/index.js';
import type { RunWorkflowInput } from './runWorkflowInput.js';

/** The orchestrator that runs one step (see runWorkflow.ts). */
export const RUN_STEP = 'runWorkflowStep';

/** A step's result, as the step sub-orchestration returns it (it always resolves). */
export interface StepResult {
  stepId: string;
  status: 'succeeded' | 'failed';
  output?: JsonValue;
  error?: { code: string; message: string };
  attempts?: number;
}

/** What the step sub-orchestration gets. */
export interface StepInput {
  input: RunWorkflowInput;
  run: RunInfo;
  start: StepStart;
  /** The forEach iteration index the step runs in (null at the top level). */
  iteration: number | null;
  /** The step's own instance id: `${runId}:${stepId}` at the top level, `${iterationInstanceId}:${stepId}` in an iteration. */
  instanceId: string;
}

/** How to run one steps list (a run's top-level steps, or one forEach iteration's). */
export interface PlannerLoop {
  input: RunWorkflowInput;
  definition: WorkflowDefinition;
  run: RunInfo;
  /** The run state or iteration state to start from. */
  state: RunState;
  /** Prefix of the step instance ids: the run id, or the iteration's instance id. */
  instancePrefix: string;
  iteration: number | null;
  /** When set, every wave is raced against a timer firing then; when it fires the state times out (RUN.TIMEOUT). */
  deadline?: string;
  /** Called with the state after each planning pass (the top level reports progress with it). */
  onState?: (state: RunState) => void;
}

/** The durable task of one step, as a sub-orchestration that always resolves with a {@link StepResult}. */
export function stepTask(context: OrchestrationContext, loop: PlannerLoop, start: StepStart): Task {
  const instanceId = `${loop.instancePrefix}:${start.stepId}`;
  const stepInput: StepInput = { input: loop.input, run: loop.run, start, iteration: loop.iteration, instanceId };
  return context.df.callSubOrchestrator(RUN_STEP, stepInput, instanceId);
}

/**
 * The planner loop shared by a run and a forEach iteration: asks the pure planner which steps are ready,
 * starts them together (a "wave" awaited with Task.all, raced against the deadline if any), feeds their
 * results back, and repeats until the planner completes the state. Deterministic; no task is yielded twice.
 */
export function* runPlannerLoop(context: OrchestrationContext, loop: PlannerLoop): Generator<Task, RunCompletion, unknown> {
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const { definition } = loop;
  let state = loop.state;
  for (;;) {
    const decision = planNext(definition, state, { inputs: loop.input.input, run: loop.run, now: now() });
    state = decision.state;
    loop.onState?.(state);
    if (decision.complete) return decision.complete;
    if (decision.start.length === 0) {
      if (decision.skip.length > 0 || decision.fail.length > 0) continue;
      // Nothing to start, nothing changed, not complete: a planner invariant broke; fail rather than spin.
      state = abortRun(state, { code: 'RUN.STUCK', message: 'No step can start and the run is not complete.' }, now());
      continue;
    }
    const wave = context.df.Task.all(decision.start.map((start) => stepTask(context, loop, start)));
    if (loop.deadline !== undefined) {
      const timeout = context.df.createTimer(new Date(loop.deadline));
      const winner = yield context.df.Task.any([wave, timeout]);
      if (winner === timeout) {
        state = timeOutRun(definition, state, now());
        continue;
      }
      timeout.cancel();
    } else {
      yield wave;
    }
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
}
