import type { JsonObject, JsonValue } from '../shared/domain/json.js';

/**
 * The activities orchestrators call, by name, with their input and output types: orchestrators import these
 * handles (types and names only), never the activities' code.
 */
export interface ActivityHandle<TInput, TOutput> {
  readonly name: string;
  /** Phantom types: never read at run time. */
  readonly __types?: { input: TInput; output: TOutput };
}

function handle<TInput, TOutput>(name: string): ActivityHandle<TInput, TOutput> {
  return { name };
}

/** One connector call: the step's own, or a fallback. */
export interface ConnectorCall {
  connector: string;
  action: string;
  /** Rendered inputs: may hold artifact references (claim check) and the definition's secret references. */
  inputs: JsonValue;
  /** JSON Pointers of the `{ "$secret": name }` references that came from the definition: only these are resolved. */
  secretPointers: string[];
  timeoutSeconds: number;
}

export interface StepCall {
  tenantId: string;
  runId: string;
  stepId: string;
  iteration: number | null;
  /** The step's call, then its fallbacks, tried in order after a permanent failure. */
  calls: ConnectorCall[];
}

/** A permanent outcome; transient failures are thrown instead, so the durable retry policy retries them. */
export type StepOutcome =
  | { status: 'succeeded'; output: JsonValue; attempts: number }
  | { status: 'failed'; error: { code: string; message: string }; attempts: number };

export interface RunStatusChange {
  tenantId: string;
  runId: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  output?: JsonValue;
  error?: { code: string; message: string; stepId?: string };
  at: string;
}

/**
 * The end of a run: its final status (as {@link RunStatusChange}) and what the activity needs to record the
 * run's usage beside it (the rest it reads from the run's recorded step executions).
 */
export interface RunFinalization extends RunStatusChange {
  status: 'succeeded' | 'failed' | 'cancelled';
  /** When the orchestration started (its clock): the duration is `at - startedAt`. */
  startedAt: string;
  /** Top-level steps that ran in this run: succeeded, failed or handled, not skipped, not carried over. */
  stepsExecuted: number;
  /** Top-level steps carried over from the retried run (retry from the failed step): not this run's usage. */
  carriedOver: string[];
}

/** A subWorkflow step's child run to create (once: the id and the idempotency key are deterministic). */
export interface SubWorkflowRequest {
  tenantId: string;
  parentRunId: string;
  /** The parent step's instance id, for messages. */
  stepId: string;
  childRunId: string;
  idempotencyKey: string;
  workflowId: string;
  version: number | 'latest';
  /** The rendered inputs (defaults of the child's inputs schema are applied, then validated). */
  inputs: JsonObject;
}

/** The child run, created `queued` with its pinned definition; or why it could not be. */
export type SubWorkflowLoad =
  | { status: 'ready'; runId: string; version: number; definition: JsonObject; input: JsonValue }
  | { status: 'failed'; error: { code: string; message: string } };

export const Activities = {
  executeStep: handle<StepCall, StepOutcome>('executeStep'),
  recordRunStatus: handle<RunStatusChange, void>('recordRunStatus'),
  finalizeRun: handle<RunFinalization, void>('finalizeRun'),
  loadSubWorkflow: handle<SubWorkflowRequest, SubWorkflowLoad>('loadSubWorkflow'),
} as const;
