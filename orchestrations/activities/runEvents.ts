import { output, type InvocationContext } from '@azure/functions';
import { SettingNames } from '../../shared/config/settingNames.js';
import { runEvent, runEventTypeOf } from '../../shared/domain/events.js';
import type { Run } from '../../shared/domain/run.js';

/**
 * The `eventGrid` output binding the run status activities publish through: the platform's custom topic (its
 * endpoint and key are app settings; on the embedded host the endpoint names the topic for
 * EMBEDDED_EVENTGRID_SUBSCRIPTIONS). Set on the activities that write run statuses (recordRunStatus, finalizeRun),
 * never in orchestrator code: activities run once per attempt and are not replayed.
 */
export const runEventsOutput = output.eventGrid({ topicEndpointUri: SettingNames.eventsTopicEndpoint, topicKeySetting: SettingNames.eventsTopicKey });

/**
 * Publishes the event of the run's status as stored (`run.started` for running, `run.completed`/`run.failed`/
 * `run.cancelled` at the end) when the activity returns. The event id is fixed per run and type: a retried
 * activity publishes the same event, which subscribers drop by id.
 */
export function publishRunEvent(invocation: InvocationContext, run: Run, at: string): void {
  const type = runEventTypeOf(run.status);
  if (type === undefined) return;
  invocation.extraOutputs.set(
    runEventsOutput,
    runEvent(
      type,
      {
        tenantId: run.tenantId,
        runId: run.id,
        workflowId: run.workflowId,
        workflowVersion: run.workflowVersion,
        status: run.status,
        trigger: run.trigger.kind,
        error: run.error,
        createdAt: run.createdAt,
        startedAt: run.startedAt,
        completedAt: run.completedAt,
      },
      at,
    ),
  );
}
