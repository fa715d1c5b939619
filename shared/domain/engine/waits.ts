/**
 * Steps that wait (waitForEvent, approval), as the engine and the event API agree on them. A waiting step's
 * instance publishes a {@link WaitingStatus} as its custom status: the event API finds the instances that wait
 * for an event through it, at any depth (top-level steps, forEach iterations, child runs), checks correlation
 * keys and approvers against it, and raises the event only on instances that wait for it now.
 */
import type { JsonValue } from '../json.js';
import type { ApprovalStart, WaitForEventStart } from './planner.js';

export interface WaitingStatus {
  /** The event the instance waits for now. */
  waitingFor: string;
  stepId: string;
  /** Only an event raised with this key resumes the step. */
  correlationKey?: string;
  /** Approvals: who may decide, how many approvals are needed, who has decided so far. */
  approvers?: { users: string[]; roles: string[] };
  minApprovals?: number;
  decidedBy?: string[];
}

/** One approver's decision, as the event API raises it. */
export interface ApprovalVote {
  decision: 'approved' | 'rejected';
  comment?: string;
  decidedBy: string;
  decidedAt: string;
}

/** An approval step's output (see docs/workflow-language.md). */
export interface ApprovalOutcome {
  decision: 'approved' | 'rejected';
  approvals: Array<{ by: string; at: string; decision: 'approved' | 'rejected'; comment: string | null }>;
  comment: string | null;
}

export function waitingStatusOf(start: WaitForEventStart | ApprovalStart, decidedBy: readonly string[] = []): WaitingStatus {
  if (start.kind === 'waitForEvent') {
    return { waitingFor: start.eventName, stepId: start.stepId, ...(start.correlationKey !== undefined ? { correlationKey: start.correlationKey } : {}) };
  }
  return { waitingFor: start.eventName, stepId: start.stepId, approvers: start.approvers, minApprovals: start.minApprovals, decidedBy: [...decidedBy] };
}

/** Reads a custom status back; undefined for anything that is not a waiting step's. */
export function asWaitingStatus(value: unknown): WaitingStatus | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const status = value as Partial<WaitingStatus>;
  return typeof status.waitingFor === 'string' && typeof status.stepId === 'string' ? (status as WaitingStatus) : undefined;
}

/** Whether an event raised with `correlationKey` (if any) resumes a step waiting with this status. */
export function correlationMatches(status: WaitingStatus, correlationKey: string | undefined): boolean {
  return status.correlationKey === undefined || status.correlationKey === correlationKey;
}

/**
 * The approval's outcome once decided: one rejection rejects; `minApprovals` approvals from distinct approvers
 * approve (a second vote of the same approver is ignored). Undefined while undecided. The comment is the
 * deciding vote's.
 */
export function tallyApproval(votes: readonly ApprovalVote[], minApprovals: number): ApprovalOutcome | undefined {
  const counted: ApprovalVote[] = [];
  for (const vote of votes) if (!counted.some((earlier) => earlier.decidedBy === vote.decidedBy)) counted.push(vote);
  const approvals = counted.map((vote) => ({ by: vote.decidedBy, at: vote.decidedAt, decision: vote.decision, comment: vote.comment ?? null }));
  const last = counted[counted.length - 1];
  if (last === undefined) return undefined;
  if (last.decision === 'rejected') return { decision: 'rejected', approvals, comment: last.comment ?? null };
  if (counted.filter((vote) => vote.decision === 'approved').length >= minApprovals) return { decision: 'approved', approvals, comment: last.comment ?? null };
  return undefined;
}

/** A vote from an event's data, or undefined when it is not one (the event API only raises well-formed votes). */
export function asApprovalVote(data: JsonValue | undefined): ApprovalVote | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { decision, comment, decidedBy, decidedAt } = data as Record<string, JsonValue>;
  if ((decision !== 'approved' && decision !== 'rejected') || typeof decidedBy !== 'string' || typeof decidedAt !== 'string') return undefined;
  return { decision, decidedBy, decidedAt, ...(typeof comment === 'string' ? { comment } : {}) };
}
