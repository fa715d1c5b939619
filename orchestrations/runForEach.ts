import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  applyIterationResult,
  forEachNext,
  initialForEachLoop,
  initialIterationState,
  type ForEachStart,
  type RunCompletion,
  type RunInfo,
  type RunState,
} from '../shared/domain/engine/index.js';
import type { WorkflowDefinition } from '../shared/domain/workflow-language/index.js';
import { runPlannerLoop, type StepResult } from './plannerLoop.js';
import type { RunWorkflowInput } from './runWorkflowInput.js';

/** The orchestrator that runs one forEach iteration. */
export const RUN_ITERATION = 'runForEachIteration';

interface IterationInput {
  input: RunWorkflowInput;
  run: RunInfo;
  /** The iteration state ({@link initialIterationState}), built by the forEach step so the items travel once. */
  state: RunState;
  index: number;
  /** `${forEachStepInstanceId}:${index}`: the prefix of the iteration's step instance ids. */
  instanceId: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * Runs a forEach step inside its step sub-orchestration: iterations start in item order, at most
 * `concurrency` per wave (each a `runForEachIteration` sub-orchestration, instance id
 * `${stepInstanceId}:${index}`), the wave is awaited with Task.all (raced against the step's timeout if it has
 * one), the results are applied, and the next wave starts, until the loop helpers complete the step (the
 * iteration outputs in item order, or the error of the failed iteration with the lowest index).
 */
export function* runForEach(context: OrchestrationContext, input: RunWorkflowInput, run: RunInfo, start: ForEachStart, instanceId: string): Generator<Task, StepResult, unknown> {
  const definition = input.definition as unknown as WorkflowDefinition;
  const stepId = start.stepId;
  let loop = initialForEachLoop(start);
  for (;;) {
    const next = forEachNext(loop);
    loop = next.loop;
    if (next.complete) {
      return next.complete.status === 'succeeded'
        ? { stepId, status: 'succeeded', output: next.complete.output }
        : { stepId, status: 'failed', error: next.complete.error };
    }
    if (next.start.length === 0) {
      return { stepId, status: 'failed', error: { code: 'RUN.STUCK', message: `forEach '${stepId}': no iteration can start and the loop is not complete.` } };
    }
    const tasks = next.start.map((index) => {
      const iteration: IterationInput = { input, run, state: initialIterationState(definition, start, index), index, instanceId: `${instanceId}:${index}` };
      return context.df.callSubOrchestrator(RUN_ITERATION, iteration, iteration.instanceId);
    });
    const wave = context.df.Task.all(tasks);
    try {
      if (start.timeoutAt !== undefined) {
        const timeout = context.df.createTimer(new Date(start.timeoutAt));
        const winner = yield context.df.Task.any([wave, timeout]);
        if (winner === timeout) {
          return { stepId, status: 'failed', error: { code: 'STEP.TIMEOUT', message: `forEach '${stepId}' did not finish within its timeout of ${start.timeoutSeconds} s.` } };
        }
        timeout.cancel();
      } else {
        yield wave;
      }
    } catch (error) {
      // An iteration orchestration that threw (not a failed step: those complete the iteration as failed).
      return { stepId, status: 'failed', error: { code: 'STEP.FAILED', message: `forEach '${stepId}': an iteration failed unexpectedly: ${errorText(error)}` } };
    }
    const results = wave.result as RunCompletion[];
    next.start.forEach((index, i) => {
      loop = applyIterationResult(loop, index, results[i]!);
    });
  }
}

/** One forEach iteration: the planner loop on the iteration state; its completion is the iteration's result. */
export const runForEachIteration: OrchestrationHandler = function* (context: OrchestrationContext) {
  const iteration = context.df.getInput() as IterationInput;
  return yield* runPlannerLoop(context, {
    input: iteration.input,
    definition: iteration.input.definition as unknown as WorkflowDefinition,
    run: iteration.run,
    state: iteration.state,
    instancePrefix: iteration.instanceId,
    iteration: iteration.index,
  });
};

df.app.orchestration(RUN_ITERATION, runForEachIteration);
