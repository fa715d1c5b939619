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
}
