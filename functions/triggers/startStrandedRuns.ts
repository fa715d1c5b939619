import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { getContainer } from '../../shared/composition/container.js';
import { admitAndStartRuns, restartAdmittedRun } from './admittedRuns.js';
import { runEventsOutput } from './runEvents.js';

/** An admitted run not started within this time was stranded by a crash between its admission and its start. */
const STRANDED_AFTER_MS = 10_000;

/**
 * Every 15 seconds: starts admitted runs whose start a crash interrupted (admission, marking the run running
 * and starting its orchestration are separate steps, and the message that led to the admission may belong to
 * another run), then fills free slots. Cheap when nothing is stranded: one indexed query.
 */
export async function startStrandedRuns(_timer: Timer, context: InvocationContext): Promise<void> {
  const { appStore } = getContainer();
  const client = df.getClient(context);
  const stranded = await appStore.admission.listAdmitted({ admittedBefore: new Date(Date.now() - STRANDED_AFTER_MS).toISOString(), limit: 100, unstarted: true });
  for (const run of stranded) await restartAdmittedRun(client, run, context);
  if (stranded.length > 0) context.warn(`Started ${stranded.length} admitted runs whose start was interrupted.`);
  await admitAndStartRuns(client, context);
}

app.timer('startStrandedRuns', {
  schedule: '*/15 * * * * *',
  extraInputs: [df.input.durableClient()],
  extraOutputs: [runEventsOutput],
  handler: startStrandedRuns,
});
