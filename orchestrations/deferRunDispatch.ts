import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { TenantTier } from '../shared/domain/tenant.js';

export const DEFER_RUN_DISPATCH = 'deferRunDispatch';
export const REQUEUE_RUN = 'requeueRun';

export interface DeferRunInput {
  message: { tenantId: string; runId: string; deferrals: number };
  tier: TenantTier;
  delaySeconds: number;
}

/** Waits (a durable timer), then puts a deferred run's message back on its tier's queue. */
export const deferRunDispatch: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as DeferRunInput;
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.delaySeconds * 1000));
  yield context.df.callActivity(REQUEUE_RUN, input);
};

df.app.orchestration(DEFER_RUN_DISPATCH, deferRunDispatch);
