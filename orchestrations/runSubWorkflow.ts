import type { OrchestrationContext, Task } from 'durable-functions';
import type { RunCompletion, SubWorkflowStart } from '../shared/domain/engine/index.js';
import { LIMITS } from '../shared/domain/workflow-language/constants.js';
import { Activities, type SubWorkflowLoad, type SubWorkflowRequest } from './activityHandles.js';
import type { StepResult } from './plannerLoop.js';
import type { RunWorkflowInput } from './runWorkflowInput.js';

/** The orchestrator every run executes (children too). */
export const RUN_WORKFLOW = 'runWorkflow';

/** A child run's input: a run's, plus where it sits among sub-workflows. */
export interface ChildRunWorkflowInput extends RunWorkflowInput {
  parentRunId: string;
  /** 1 for a child of a top-level run, 2 for its child, ... */
  depth: number;
}

/** What runWorkflow returns when it runs as a child (a top-level run returns its outputs). */
export type ChildRunOutcome = Pick<RunCompletion, 'status' | 'outputs' | 'error'>;

export function isChildRun(input: RunWorkflowInput): input is ChildRunWorkflowInput {
  return typeof (input as Partial<ChildRunWorkflowInput>).parentRunId === 'string';
}

/** The child run id of a subWorkflow step: its step instance id + `:sub` (the step instance id itself is taken). */
export function childRunIdOf(stepInstanceId: string): string {
  return `${stepInstanceId}:sub`;
}

/**
 * Runs a subWorkflow step inside its step sub-orchestration: `loadSubWorkflow` resolves the version and
 * creates the child run record (deterministic id, once), then the child runs as a `runWorkflow`
 * sub-orchestration whose instance id is the child run id (raced against the step's timeout if it has one).
 * The step's output is the child's outputs; a failed child fails the step with the child's error code.
 */
export function* runSubWorkflow(context: OrchestrationContext, input: RunWorkflowInput, start: SubWorkflowStart, instanceId: string): Generator<Task, StepResult, unknown> {
  const stepId = start.stepId;
  const depth = (isChildRun(input) ? input.depth : 0) + 1;
  if (depth > LIMITS.maxSubWorkflowDepth) {
    return { stepId, status: 'failed', error: { code: 'SUBWORKFLOW.TOO_DEEP', message: `Sub-workflows nest at most ${LIMITS.maxSubWorkflowDepth} levels deep; step '${stepId}' would start level ${depth}.` } };
  }
  const childRunId = childRunIdOf(instanceId);
  const request: SubWorkflowRequest = {
    tenantId: input.tenantId,
    parentRunId: input.runId,
    stepId,
    childRunId,
    idempotencyKey: `sub:${instanceId}`,
    workflowId: start.workflowId,
    version: start.version,
    inputs: start.inputs,
  };
  let load: SubWorkflowLoad;
  try {
    load = (yield context.df.callActivity(Activities.loadSubWorkflow.name, request)) as SubWorkflowLoad;
  } catch (error) {
    return { stepId, status: 'failed', error: { code: 'STEP.FAILED', message: `Could not start the child run of step '${stepId}': ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` } };
  }
  if (load.status === 'failed') return { stepId, status: 'failed', error: load.error };

  const childInput: ChildRunWorkflowInput = {
    tenantId: input.tenantId,
    runId: load.runId,
    workflowId: start.workflowId,
    workflowVersion: load.version,
    definition: load.definition,
    input: load.input,
    parentRunId: input.runId,
    depth,
  };
  const child = context.df.callSubOrchestrator(RUN_WORKFLOW, childInput, load.runId);
  let outcome: ChildRunOutcome;
  try {
    if (start.timeoutAt !== undefined) {
      const timeout = context.df.createTimer(new Date(start.timeoutAt));
      const winner = yield context.df.Task.any([child, timeout]);
      if (winner === timeout) {
        return { stepId, status: 'failed', error: { code: 'STEP.TIMEOUT', message: `Child run '${load.runId}' of step '${stepId}' did not finish within ${start.timeoutSeconds} s.` } };
      }
      timeout.cancel();
    } else {
      yield child;
    }
    outcome = child.result as ChildRunOutcome;
  } catch (error) {
    return { stepId, status: 'failed', error: { code: 'STEP.FAILED', message: `Child run '${load.runId}' of step '${stepId}' failed unexpectedly: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` } };
  }
  if (outcome.status === 'succeeded') return { stepId, status: 'succeeded', output: outcome.outputs ?? {} };
  const error = outcome.error ?? { code: 'STEP.FAILED', message: 'the child run failed' };
  return { stepId, status: 'failed', error: { code: error.code, message: `child run '${load.runId}' (${start.workflowId} v${load.version}) failed${error.stepId ? ` at step '${error.stepId}'` : ''}: ${error.message}` } };
}
