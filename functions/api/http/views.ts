import type { EventSubscription } from '../../../shared/domain/events.js';
import type { AuditEntry } from '../../../shared/domain/audit.js';
import type { Run } from '../../../shared/domain/run.js';
import { CronSpec, type Schedule } from '../../../shared/domain/schedule.js';
import type { Tenant } from '../../../shared/domain/tenant.js';
import type { Hook, HookDeliverySummary } from '../../../shared/domain/webhook.js';
import type { Workflow, WorkflowVersion } from '../../../shared/domain/workflow.js';
import { etagOf } from './apiHandler.js';

/** How resources look on the wire: the stored fields, the ETag instead of the revision counter, and links. */
export function tenantView(tenant: Tenant): Record<string, unknown> {
  const { revision, ...fields } = tenant;
  return { ...fields, etag: etagOf(revision), links: { self: `/api/tenants/${tenant.id}`, workflows: `/api/tenants/${tenant.id}/workflows` } };
}

export function workflowView(workflow: Workflow): Record<string, unknown> {
  const { revision, draft, ...fields } = workflow;
  const base = `/api/tenants/${workflow.tenantId}/workflows/${workflow.id}`;
  return { ...fields, definition: draft, etag: etagOf(revision), links: { self: base, versions: `${base}/versions`, runs: `${base}/runs` } };
}

/** In lists: without the definition, which can be large. */
export function workflowSummaryView(workflow: Workflow): Record<string, unknown> {
  const { definition: _definition, ...summary } = workflowView(workflow);
  return summary;
}

export function versionView(version: WorkflowVersion): Record<string, unknown> {
  return { ...version, links: { self: `/api/tenants/${version.tenantId}/workflows/${version.workflowId}/versions/${version.version}` } };
}

export function runView(run: Run): Record<string, unknown> {
  return { ...run, links: { self: `/api/tenants/${run.tenantId}/runs/${run.id}`, workflow: `/api/tenants/${run.tenantId}/workflows/${run.workflowId}` } };
}

export function auditView(entry: AuditEntry): AuditEntry {
  return entry;
}

/** A hook: never its secret (shown once, when created or rotated), only until when the previous one is valid. */
export function hookView(hook: Hook, origin?: string): Record<string, unknown> {
  const { revision, secretVersion: _current, previousSecretVersion, previousSecretExpiresAt, ...fields } = hook;
  const base = `/api/tenants/${hook.tenantId}/hooks/${hook.id}`;
  const ingress = `/api/hooks/${hook.id}`;
  return {
    ...fields,
    url: origin === undefined ? ingress : `${origin}${ingress}`,
    previousSecretValidUntil: previousSecretVersion === null ? null : previousSecretExpiresAt,
    etag: etagOf(revision),
    links: { self: base, ingress, deliveries: `${base}/deliveries`, workflow: `/api/tenants/${hook.tenantId}/workflows/${hook.workflowId}` },
  };
}

export function hookDeliveryView(delivery: HookDeliverySummary): Record<string, unknown> {
  const { tenantId, ...fields } = delivery;
  return { ...fields, links: delivery.runId === null ? {} : { run: `/api/tenants/${tenantId}/runs/${delivery.runId}` } };
}
/**
 * A schedule: `enabled` (status active), `nextFireTime` (null unless active), the ETag and links. The due index's
 * own record is not shown: the cron is the truth, and an active schedule fires at its next slot.
 */
export function scheduleView(schedule: Schedule, now: Date): Record<string, unknown> {
  const { revision, ...fields } = schedule;
  const base = `/api/tenants/${schedule.tenantId}`;
  let nextFireTime: string | null = null;
  if (schedule.status === 'active') {
    try {
      nextFireTime = CronSpec.parse(schedule.cron, schedule.timeZone).next(now)?.toISOString() ?? null;
    } catch {
      nextFireTime = null;
    }
  }
  return {
    ...fields,
    enabled: schedule.status === 'active',
    nextFireTime,
    etag: etagOf(revision),
    links: { self: `${base}/schedules/${schedule.id}`, workflow: `${base}/workflows/${schedule.workflowId}`, runs: `${base}/runs?workflowId=${schedule.workflowId}` },
  };
}

export function eventSubscriptionView(subscription: EventSubscription): Record<string, unknown> {
  const { revision, ...fields } = subscription;
  return {
    ...fields,
    etag: etagOf(revision),
    links: { self: `/api/tenants/${subscription.tenantId}/eventSubscriptions/${subscription.id}`, workflow: `/api/tenants/${subscription.tenantId}/workflows/${subscription.workflowId}` },
  };
}
