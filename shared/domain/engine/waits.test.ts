import { describe, expect, it } from 'vitest';
import { asApprovalVote, asWaitingStatus, tallyApproval, waitingStatusOf, type ApprovalVote } from './waits.js';

const vote = (decidedBy: string, decision: 'approved' | 'rejected' = 'approved', comment?: string): ApprovalVote => ({ decision, decidedBy, decidedAt: `at-${decidedBy}`, ...(comment ? { comment } : {}) });

describe('waiting steps', () => {
  it('tallies approvals: minApprovals distinct approvers approve, one rejection rejects, repeated votes count once', () => {
    expect(tallyApproval([], 2)).toBeUndefined();
    expect(tallyApproval([vote('a')], 2)).toBeUndefined();
    expect(tallyApproval([vote('a'), vote('a')], 2)).toBeUndefined();
    expect(tallyApproval([vote('a'), vote('b', 'approved', 'fine')], 2)).toEqual({
      decision: 'approved',
      approvals: [
        { by: 'a', at: 'at-a', decision: 'approved', comment: null },
        { by: 'b', at: 'at-b', decision: 'approved', comment: 'fine' },
      ],
      comment: 'fine',
    });
    expect(tallyApproval([vote('a'), vote('b', 'rejected', 'no')], 3)).toMatchObject({ decision: 'rejected', comment: 'no' });
    expect(tallyApproval([vote('a', 'approved')], 1)).toMatchObject({ decision: 'approved' });
  });

  it('publishes and reads back what a step waits for', () => {
    const wait = waitingStatusOf({ kind: 'waitForEvent', stepId: 's', eventName: 'e', correlationKey: 'k', timeoutSeconds: 1, timeoutAt: 'T' });
    expect(wait).toEqual({ waitingFor: 'e', stepId: 's', correlationKey: 'k' });
    const approval = waitingStatusOf({ kind: 'approval', stepId: 'r', eventName: 'approval:r', approvers: { users: ['u'], roles: [] }, minApprovals: 2, timeoutSeconds: 1, timeoutAt: 'T' }, ['u']);
    expect(approval).toEqual({ waitingFor: 'approval:r', stepId: 'r', approvers: { users: ['u'], roles: [] }, minApprovals: 2, decidedBy: ['u'] });
    expect(asWaitingStatus(approval)).toEqual(approval);
    for (const other of [null, 'x', [], { progress: 1 }, { waitingFor: 1, stepId: 's' }]) expect(asWaitingStatus(other)).toBeUndefined();
    expect(asApprovalVote({ decision: 'approved', decidedBy: 'u', decidedAt: 'T', comment: 'c' })).toEqual({ decision: 'approved', decidedBy: 'u', decidedAt: 'T', comment: 'c' });
    expect(asApprovalVote({ decision: 'maybe', decidedBy: 'u', decidedAt: 'T' })).toBeUndefined();
  });
});
