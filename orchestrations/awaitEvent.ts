import type { OrchestrationContext, Task } from 'durable-functions';
import { asApprovalVote, tallyApproval, waitingStatusOf, type ApprovalStart, type ApprovalVote, type WaitForEventStart } from '../shared/domain/engine/index.js';
import type { JsonValue } from '../shared/domain/json.js';
import type { StepResult } from './plannerLoop.js';

/**
 * A waitForEvent or approval step: publishes what it waits for as the instance's custom status (the event API
 * routes events by it: shared/domain/engine/waits.ts), then waits for the event raced against the step's
 * timeout. A waitForEvent step ends with the first event (the API raises only events whose correlation key
 * matches). An approval collects decisions until one rejects or `minApprovals` distinct approvers approved;
 * each vote updates the custom status, so an approver cannot vote twice. Every wait races a timer at the same
 * `timeoutAt`, so the deadline holds however many votes arrive.
 */
export function* awaitEvent(context: OrchestrationContext, start: WaitForEventStart | ApprovalStart): Generator<Task, StepResult, unknown> {
  const stepId = start.stepId;
  const votes: ApprovalVote[] = [];
  context.df.setCustomStatus(waitingStatusOf(start));
  for (;;) {
    const event = context.df.waitForExternalEvent(start.eventName);
    const timeout = context.df.createTimer(new Date(start.timeoutAt));
    const winner = yield context.df.Task.any([event, timeout]);
    if (winner !== event) {
      return { stepId, status: 'failed', error: { code: 'STEP.TIMEOUT', message: `No '${start.eventName}' event arrived before ${start.timeoutAt}.` } } satisfies StepResult;
    }
    timeout.cancel();
    const data = (event.result ?? null) as JsonValue;
    if (start.kind === 'waitForEvent') return { stepId, status: 'succeeded', output: data } satisfies StepResult;
    const vote = asApprovalVote(data);
    if (vote) votes.push(vote);
    const outcome = tallyApproval(votes, start.minApprovals);
    if (outcome) return { stepId, status: 'succeeded', output: outcome as unknown as JsonValue } satisfies StepResult;
    context.df.setCustomStatus(waitingStatusOf(start, votes.map((decided) => decided.decidedBy)));
  }
}
