import { output, type InvocationContext } from '@azure/functions';
import { SettingNames } from '../../shared/config/settingNames.js';
import { type PublishedEvent, runEvent, runEventTypeOf } from '../../shared/domain/events.js';
import type { Run } from '../../shared/domain/run.js';

/**
 * The `eventGrid` output binding run events are published through: the platform's custom topic (its endpoint and
 * key are app settings; on the embedded host the endpoint names the topic for EMBEDDED_EVENTGRID_SUBSCRIPTIONS).
 * Declared by every function that changes a run's status — the run status activities (recordRunStatus,
 * finalizeRun) and every function that starts admitted runs (they mark them running) — never used in
 * orchestrator code: activities and triggers run once per attempt and are not replayed.
 */
export const runEventsOutput = output.eventGrid({ topicEndpointUri: SettingNames.eventsTopicEndpoint, topicKeySetting: SettingNames.eventsTopicKey });

/**
 * Adds the event of the run's status as stored (`run.started` for running, `run.completed`/`run.failed`/
 * `run.cancelled` at the end) to what the invocation publishes when it returns (several runs may change in one
 * invocation). The event id is fixed per run and type: a retried invocation publishes the same event again, which
 * subscribers drop by id. A function that does not declare the output publishes nothing.
 */
export function publishRunEvent(invocation: InvocationContext, run: Run, at: string): void {
  const type = runEventTypeOf(run.status);
  if (type === undefined || !invocation.options?.extraOutputs?.some((declared) => declared.name === runEventsOutput.name)) return;
  const event = runEvent(
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
  );
  const pending = invocation.extraOutputs.get(runEventsOutput) as PublishedEvent[] | undefined;
  invocation.extraOutputs.set(runEventsOutput, [...(pending ?? []), event]);
}
