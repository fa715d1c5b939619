import type { JsonValue } from './json.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run that has ended: it executes nothing more. */
export function isTerminalRunStatus(status: RunStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

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

/**
 * What one run used, recorded when its orchestration finishes (the `finalizeRun` activity; stored in the
 * `run_usage` table, one row per tenant and run). Only this run's own work counts: steps carried over from the
 * original run by a retry from the failed step are not executed again and are not counted.
 */
export interface RunUsage {
  tenantId: string;
  runId: string;
  /** Top-level steps that ran (succeeded, failed or handled; not skipped, not carried over). A forEach counts once. */
  stepsExecuted: number;
  /** startedAt → completedAt of the orchestration, in milliseconds (its own clock, so replays agree). */
  durationMs: number;
  /**
   * UTF-8 bytes of the serialized run input and output plus every step output this run recorded (forEach
   * iterations included); a claim-checked output counts as its artifact's size.
   */
  bytes: number;
  /** Connector call attempts, summed over the action step executions (retries included, forEach iterations included). */
  connectorCalls: number;
  recordedAt: string;
}
