import type { HistoryEvent } from './historyEvents.js';

/**
 * What the Durable HTTP API (and the `durableClient` binding behind it) can ask of the task hub. The
 * orchestration engine implements it over the SQLite store.
 */

/** Runtime status names as the Durable HTTP API reports them. */
export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Terminated' | 'Suspended' | 'Canceled';

export const TERMINAL_STATUSES: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

export interface InstanceRecord {
  instanceId: string;
  name: string;
  version: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  /** Serialized JSON (or raw text for failure/termination reasons), or null. */
  input: string | null;
  output: string | null;
  customStatus: string | null;
  createdTime: Date;
  lastUpdatedTime: Date;
  parentInstanceId: string | null;
}

export interface InstanceQuery {
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  runtimeStatus?: readonly RuntimeStatus[];
  instanceIdPrefix?: string;
  /** Page size; default 100. */
  top?: number;
  /** Opaque token from a previous page. */
  continuationToken?: string;
}

/** A client request the task hub refuses; `status` is the HTTP status the API answers with. */
export class TaskHubRequestError extends Error {
  override readonly name = 'TaskHubRequestError';
  constructor(
    readonly status: 400 | 404 | 409 | 410 | 501,
    message: string,
  ) {
    super(message);
  }
}

export interface TaskHubClient {
  readonly taskHubName: string;
  /**
   * Starts an orchestration. `input` is the serialized JSON body as received (null when there was none).
   * Throws TaskHubRequestError 400 (unknown orchestrator, invalid instance id) or 409 (an instance with this
   * id is Pending/Running/Suspended). An instance id of a finished instance is reused (its history replaced).
   */
  startNew(name: string, options: { instanceId?: string; input: string | null; version?: string }): string;
  getInstance(instanceId: string): InstanceRecord | undefined;
  /** The current execution's history events, oldest first (for `showHistory`). */
  getHistory(instanceId: string): HistoryEvent[];
  /** One page of instances ordered by creation time, and the token of the next page (if any). */
  listInstances(query: InstanceQuery): { instances: InstanceRecord[]; continuationToken: string | undefined };
  /** Throws 404 unknown, 410 finished, 400 for an event name made only of digits. `input` is serialized JSON or null. */
  raiseEvent(instanceId: string, eventName: string, input: string | null): void;
  /** Throws 404 unknown, 410 finished. */
  terminate(instanceId: string, reason: string | null): void;
  /** Throws 404 unknown, 410 finished, 409 when already suspended (suspend) or not suspended (resume). */
  suspend(instanceId: string, reason: string | null): void;
  resume(instanceId: string, reason: string | null): void;
  /** Deletes a finished instance and its history; returns how many were deleted (0 or 1). Throws 400 for a running one. */
  purge(instanceId: string): number;
  /** Deletes every finished instance matching the filter; `createdTimeFrom` is required by the API layer. */
  purgeBy(query: Pick<InstanceQuery, 'createdTimeFrom' | 'createdTimeTo' | 'runtimeStatus'>): number;
  /** Resolves when the instance reaches a terminal status or the time runs out (then with the current record). */
  waitForCompletion(instanceId: string, timeoutMs: number, signal?: AbortSignal): Promise<InstanceRecord | undefined>;
}
