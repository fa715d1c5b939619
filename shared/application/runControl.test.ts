import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import type { Principal } from '../domain/roles.js';
import type { Run } from '../domain/run.js';
import { canApprove, cancelDecision, eventPayload, findWaitingStep, parseApprovalDecision, parseRetryRequest, validateEventName } from './runControl.js';

const definition = ({
  schemaVersion: 1,
  steps: [
    { id: 'pay', type: 'waitForEvent', event: 'payment.received' },
    { id: 'review', type: 'approval', approvers: { roles: ['Tenant.Admin'], users: ['alice'] } },
    { id: 'log', type: 'action', connector: 'core', action: 'log' },
  ],
}) as unknown as JsonObject;
const principal = (roles: Principal['roles'], subject = 'bob'): Principal => ({ subject, name: null, roles, tenantId: 't' });
const run = (status: Run['status']): Run => ({ status, id: 'r' }) as Run;
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as AppError).code;
  }
  return undefined;
};

describe('run control decisions', () => {
  it('validates event names', () => {
    expect(validateEventName('payment.received')).toBe('payment.received');
    expect(validateEventName('approval:review')).toBe('approval:review');
    for (const bad of ['', '123', 'a b', 'x'.repeat(129), 'a/b']) expect(codeOf(() => validateEventName(bad)), bad).toBe('REQUEST.INVALID');
  });

  it('finds the waiting step by event name or approval:<stepId>', () => {
    expect(findWaitingStep(definition, 'payment.received')).toEqual({ kind: 'waitForEvent', stepId: 'pay' });
    expect(findWaitingStep(definition, 'approval:review')).toEqual({ kind: 'approval', stepId: 'review', approvers: { roles: ['Tenant.Admin'], users: ['alice'] } });
    expect(findWaitingStep(definition, 'approval:log')).toBeUndefined();
    expect(findWaitingStep(definition, 'review')).toBeUndefined();
  });

  it('lets approvers only decide, with a valid decision', () => {
    const approvers = { roles: ['Tenant.Admin'], users: ['alice'] };
    expect(canApprove(principal(['Tenant.Admin']), approvers)).toBe(true);
    expect(canApprove(principal(['Tenant.User']), approvers)).toBe(false);
    expect(canApprove(principal(['Tenant.User'], 'alice'), approvers)).toBe(true);
    expect(canApprove(principal(['Platform.Admin']), approvers)).toBe(true);
    expect(parseApprovalDecision({ decision: 'rejected', comment: 'no' })).toEqual({ decision: 'rejected', comment: 'no' });
    for (const bad of [undefined, null, [], { decision: 'maybe' }, { decision: 'approved', extra: 1 }, { decision: 'approved', comment: 3 }]) {
      expect(codeOf(() => parseApprovalDecision(bad as never)), JSON.stringify(bad)).toBe('REQUEST.INVALID');
    }
    const step = findWaitingStep(definition, 'approval:review')!;
    expect(eventPayload(step, { decision: 'approved' }, principal(['Tenant.Admin']), 'T')).toEqual({ decision: 'approved', decidedBy: 'bob', decidedAt: 'T' });
    expect(eventPayload(findWaitingStep(definition, 'payment.received')!, undefined, principal(['Tenant.User']), 'T')).toBeNull();
  });

  it('decides cancel by status', () => {
    expect(cancelDecision(run('running'))).toBe('cancel');
    expect(cancelDecision(run('queued'))).toBe('cancel');
    expect(cancelDecision(run('cancelled'))).toBe('alreadyCancelled');
    expect(codeOf(() => cancelDecision(run('succeeded')))).toBe('RUN.NOT_RUNNING');
    expect(codeOf(() => cancelDecision(run('failed')))).toBe('RUN.NOT_RUNNING');
  });

  it('parses retry requests with defaults', () => {
    expect(parseRetryRequest(undefined)).toEqual({ from: 'start', version: 'pinned' });
    expect(parseRetryRequest({ from: 'failedStep', version: 'latest' })).toEqual({ from: 'failedStep', version: 'latest' });
    for (const bad of [[], 'x', { from: 'middle' }, { version: 3 }, { other: 1 }]) expect(codeOf(() => parseRetryRequest(bad as never)), JSON.stringify(bad)).toBe('REQUEST.INVALID');
  });
});
