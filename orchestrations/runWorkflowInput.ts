import type { JsonObject, JsonValue } from '../shared/domain/json.js';

/** What the dispatcher hands the `runWorkflow` orchestrator: everything it needs, so it loads nothing itself. */
export interface RunWorkflowInput {
  tenantId: string;
  runId: string;
  workflowId: string;
  workflowVersion: number;
  /** The pinned, published definition. */
  definition: JsonObject;
  input: JsonValue;
  /**
   * The dispatcher already marked the run `running` when it took the tenant's slot. Child runs (sub-workflows) are
   * marked by the orchestrator itself.
   */
  alreadyRunning?: boolean;
  /**
   * A retry from the failed step: the top-level steps of the original run that succeeded, with their recorded
   * outputs (a claim-checked output as its artifact reference). They seed the planner state and are not run
   * again; everything else (the failed step, the steps after it, anything skipped) runs. Absent otherwise.
   */
  resumeFrom?: ResumeFrom;
}

/** Prior step results a retried run starts from (see {@link RunWorkflowInput.resumeFrom}). */
export interface ResumeFrom {
  /** The original run. */
  runId: string;
  steps: Record<string, { output: JsonValue; attempts?: number }>;
}
