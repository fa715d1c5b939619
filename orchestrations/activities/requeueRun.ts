import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import { runQueueOutputs } from '../../functions/triggers/runQueues.js';
import { type DeferRunInput, REQUEUE_RUN } from '../deferRunDispatch.js';

/** Queues a deferred run's message again on its tier's queue (an output binding, flushed when this succeeds). */
export async function requeueRun(input: DeferRunInput, context: InvocationContext): Promise<void> {
  context.extraOutputs.set(runQueueOutputs[input.tier], input.message);
}

df.app.activity(REQUEUE_RUN, { extraOutputs: Object.values(runQueueOutputs), handler: requeueRun as never });
