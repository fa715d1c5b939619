/**
 * What the orchestrator shows and stores about a run state: the progress object it puts in the Durable
 * Functions custom status, and the mapping of planner statuses to the stored step statuses (shared/domain/run.ts).
 */
import type { StepStatus } from '../run.js';
import type { WorkflowDefinition } from '../workflow-language/types.js';
import { ENGINE_ERRORS, type RunState, type StepRunState } from './planner.js';

/** The run's progress, for the orchestration's custom status. Counts are over the state's steps list. */
export interface RunProgress {
  /** Steps that have finished in any way: succeeded, failed (including into a handler, or cancelled) or skipped. */
  completed: number;
  /** Steps running now. */
  running: number;
  /** Finished steps that failed (with `continue`, into a handler, with `fail`, or cancelled). Part of `completed`. */
  failed: number;
  /** Finished steps that were skipped. Part of `completed`. */
  skipped: number;
  /** Steps in the list (the top level for a run; the body for an iteration). */
  total: number;
  /** Ids of the running steps, in declaration order. */
  currentSteps: string[];
}

/**
 * The progress of a run (or iteration) state. Only the steps of the state's own list are counted (a forEach
 * counts as one step; its iterations are not broken down). `definition` gives the declaration order.
 */
export function progressOf(definition: WorkflowDefinition, state: RunState): RunProgress {
  const declared = state.scope ? undefined : definition.steps.map((s) => s.id);
  const ids = declared && declared.every((id) => id in state.steps) ? declared : Object.keys(state.steps);
  const progress: RunProgress = { completed: 0, running: 0, failed: 0, skipped: 0, total: ids.length, currentSteps: [] };
  for (const id of ids) {
    const status = (Object.prototype.hasOwnProperty.call(state.steps, id) ? state.steps[id]?.status : undefined) ?? 'pending';
    switch (status) {
      case 'running':
        progress.running++;
        progress.currentSteps.push(id);
        break;
      case 'succeeded':
        progress.completed++;
        break;
      case 'failed':
      case 'handled':
        progress.completed++;
        progress.failed++;
        break;
      case 'skipped':
        progress.completed++;
        progress.skipped++;
        break;
      case 'pending':
        break;
    }
  }
  return progress;
}

/** {@link progressOf} under the name the brief used. */
export const runProgress = progressOf;

/**
 * The stored status (shared/domain/run.ts `StepStatus`) of a planner step state: `handled` is stored as
 * `failed`, and a step cancelled because the run failed or timed out (`STEP.CANCELLED`) as `cancelled`.
 */
export function storedStepStatus(state: StepRunState): StepStatus {
  switch (state.status) {
    case 'handled':
      return 'failed';
    case 'failed':
      return state.error?.code === ENGINE_ERRORS.stepCancelled ? 'cancelled' : 'failed';
    default:
      return state.status;
  }
}
