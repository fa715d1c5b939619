import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/roles.js';
import type { Run } from '../domain/run.js';
import { canApprove, cancelDecision, parseApprovalDecision, parseRetryRequest, routeEvent, validateEventName, type WaitingInstance } from './runControl.js';

const approvers = { roles: ['Tenant.Admin'], users: ['alice'] };
/** What the task hub lists for run 'r': waits at the top, in forEach iterations (with keys) and in a child run. */
const waiting: WaitingInstance[] = [
  { instanceId: 'r:pay', status: { waitingFor: 'payment.received', stepId: 'pay' } },
  { instanceId: 'r:orders:0:confirm', status: { waitingFor: 'order.confirmed', stepId: 'confirm', correlationKey: 'o-1' } },
  { instanceId: 'r:orders:1:confirm', status: { waitingFor: 'order.confirmed', stepId: 'confirm', correlationKey: 'o-2' } },
  { instanceId: 'r:child:sub:review', status: { waitingFor: 'approval:review', stepId: 'review', approvers, minApprovals: 2, decidedBy: ['carol'] } },
  { instanceId: 'r:items:0:sign', status: { waitingFor: 'approval:sign', stepId: 'sign', approvers, minApprovals: 1, decidedBy: [] } },
  { instanceId: 'r:items:1:sign', status: { waitingFor: 'approval:sign', stepId: 'sign', approvers, minApprovals: 1, decidedBy: [] } },
  { instanceId: 'other:pay', status: { waitingFor: 'payment.received', stepId: 'pay' } },
];
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

  it('routes an event to the instances of the run that wait for it now, at any depth, by correlation key', () => {
    const admin = principal(['Tenant.Admin']);
    const route = (request: Parameters<typeof routeEvent>[2], who = admin) => routeEvent('r', waiting, request, who, 'T');
    expect(route({ name: 'payment.received', body: { amount: 5 } })).toEqual([{ instanceId: 'r:pay', waitId: 'pay', stepId: 'pay', data: { amount: 5 } }]);
    expect(route({ name: 'payment.received', body: undefined })[0]!.data).toBeNull();
    // A key picks one iteration; without one, a keyed step takes nothing.
    expect(route({ name: 'order.confirmed', body: 1, correlationKey: 'o-2' }).map((d) => d.waitId)).toEqual(['orders:1:confirm']);
    expect(codeOf(() => route({ name: 'order.confirmed', body: 1 }))).toBe('EVENT.NOT_EXPECTED');
    expect(codeOf(() => route({ name: 'order.confirmed', body: 1, correlationKey: 'o-9' }))).toBe('EVENT.NOT_EXPECTED');
    expect(codeOf(() => route({ name: 'nothing', body: 1 }))).toBe('EVENT.NOT_EXPECTED');
    // Approvals: one at a time, by approvers, once each.
    expect(route({ name: 'approval:review', body: { decision: 'approved', comment: 'ok' } })).toEqual([
      { instanceId: 'r:child:sub:review', waitId: 'child:sub:review', stepId: 'review', data: { decision: 'approved', comment: 'ok', decidedBy: 'bob', decidedAt: 'T' } },
    ]);
    expect(codeOf(() => route({ name: 'approval:review', body: { decision: 'approved' } }, principal(['Tenant.Admin'], 'carol')))).toBe('APPROVAL.ALREADY_DECIDED');
    expect(codeOf(() => route({ name: 'approval:review', body: { decision: 'approved' } }, principal(['Tenant.User'])))).toBe('AUTH.FORBIDDEN');
    expect(codeOf(() => route({ name: 'approval:review', body: { decision: 'maybe' } }))).toBe('REQUEST.INVALID');
    expect(codeOf(() => route({ name: 'approval:sign', body: { decision: 'approved' } }))).toBe('EVENT.AMBIGUOUS');
    expect(route({ name: 'approval:sign', body: { decision: 'rejected' }, waitId: 'items:1:sign' }).map((d) => d.instanceId)).toEqual(['r:items:1:sign']);
  });

  it('lets approvers only decide, with a valid decision', () => {
    expect(canApprove(principal(['Tenant.Admin']), approvers)).toBe(true);
    expect(canApprove(principal(['Tenant.User']), approvers)).toBe(false);
    expect(canApprove(principal(['Tenant.User'], 'alice'), approvers)).toBe(true);
    expect(canApprove(principal(['Platform.Admin']), approvers)).toBe(true);
    expect(parseApprovalDecision({ decision: 'rejected', comment: 'no' })).toEqual({ decision: 'rejected', comment: 'no' });
    for (const bad of [undefined, null, [], { decision: 'maybe' }, { decision: 'approved', extra: 1 }, { decision: 'approved', comment: 3 }]) {
      expect(codeOf(() => parseApprovalDecision(bad as never)), JSON.stringify(bad)).toBe('REQUEST.INVALID');
    }
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
