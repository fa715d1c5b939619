import type { JsonValue } from './json.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TRIGGER_KINDS = ['api', 'webhook', 'schedule', 'event', 'retry'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export interface RunTrigger {
  kind: TriggerKind;
  /** Who or what started it: a user's object id, a hook id, a schedule id, an event id, the original run id. */
  source: string;
}

export interface RunError {
  code: string;
  message: string;
  stepId?: string;
}

/** One execution of a pinned workflow version. */
export interface Run {
  tenantId: string;
  id: string;
  workflowId: string;
  workflowVersion: number;
  trigger: RunTrigger;
  input: JsonValue;
  status: RunStatus;
  output: JsonValue | null;
  error: RunError | null;
  idempotencyKey: string | null;
  correlationId: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** One step of a run (one per iteration for forEach). */
export interface StepExecution {
  tenantId: string;
  runId: string;
  stepId: string;
  iteration: number | null;
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  completedAt: string | null;
  error: RunError | null;
  /** The output, or a reference to the artifact holding it when it is large. */
  output: JsonValue | null;
  outputRef: string | null;
}
