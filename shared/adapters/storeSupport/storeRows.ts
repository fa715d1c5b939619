import type { AuditEntry } from '../../domain/audit.js';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { MissedFirePolicy, Schedule, ScheduleError, ScheduleStatus } from '../../domain/schedule.js';
import type { Run, RunError, RunStatus, RunUsage, StepExecution, StepStatus, TriggerKind } from '../../domain/run.js';
import type { TenantEgress } from '../../domain/egress.js';
import type { Tenant, TenantPlacement, TenantQuotas, TenantStatus, TenantTier } from '../../domain/tenant.js';
import type { Workflow, WorkflowVersion } from '../../domain/workflow.js';
import type { TenantChanges } from '../../ports/appStore.js';
import type { DueSchedule } from '../../ports/scheduleDueIndex.js';
import { fromJsonText } from './storeSupport.js';

/**
 * The rows both SQL stores (SQLite and Azure SQL) read for tenants, workflows, versions, runs, steps, usage and audit — the same
 * columns in both schemas — and their mapping to the domain. One definition, so the stores cannot drift.
 */

export interface TenantRow {
  id: string;
  name: string;
  tier: string;
  status: string;
  quotas: string;
  entra_tenant_id: string | null;
  placement: string;
  /** JSON of the tenant's egress allow-list, NULL when it has none. */
  egress: string | null;
  /** JSON array of the tenant's event sources (lower-case). */
  event_sources: string;
  created_at: string;
  updated_at: string;
  revision: number;
}

export interface WorkflowRow {
  id: string;
  name: string;
  description: string;
  draft: string;
  latest_version: number | null;
  created_at: string;
  updated_at: string;
  created_by: string;
  revision: number;
}

export interface VersionRow {
  workflow_id: string;
  version: number;
  definition: string;
  published_at: string;
  published_by: string;
}

export interface RunRow {
  id: string;
  workflow_id: string;
  workflow_version: number;
  trigger_kind: string;
  trigger_source: string;
  input: string;
  status: string;
  output: string | null;
  error: string | null;
  idempotency_key: string | null;
  correlation_id: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

export interface StepRow {
  run_id: string;
  step_id: string;
  iteration: number;
  status: string;
  attempts: number;
  started_at: string | null;
  completed_at: string | null;
  error: string | null;
  output: string | null;
  output_ref: string | null;
}

export const TENANT_COLUMNS = 'id, name, tier, status, quotas, entra_tenant_id, placement, egress, event_sources, created_at, updated_at, revision';
export const WORKFLOW_COLUMNS = 'id, name, description, draft, latest_version, created_at, updated_at, created_by, revision';
export const VERSION_COLUMNS = 'workflow_id, version, definition, published_at, published_by';
export const RUN_COLUMNS =
  'id, workflow_id, workflow_version, trigger_kind, trigger_source, input, status, output, error, idempotency_key, correlation_id, created_at, started_at, completed_at';
export const STEP_COLUMNS = 'run_id, step_id, iteration, status, attempts, started_at, completed_at, error, output, output_ref';

/** The stored iteration of a step that is not in a forEach (the key column cannot be NULL). */
export const NO_ITERATION = -1;

export function tenantFromRow(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier as TenantTier,
    status: row.status as TenantStatus,
    quotas: JSON.parse(row.quotas) as TenantQuotas,
    entraTenantId: row.entra_tenant_id,
    placement: row.placement as TenantPlacement,
    egress: row.egress === null ? null : (JSON.parse(row.egress) as TenantEgress),
    eventSources: JSON.parse(row.event_sources) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revision: row.revision,
  };
}

/** The tenant after `changes` (one revision later, updated at `at`): the same rule in both SQL stores. */
export function changedTenant(current: Tenant, changes: TenantChanges, at: string): Tenant {
  return {
    ...current,
    name: changes.name ?? current.name,
    tier: changes.tier ?? current.tier,
    status: changes.status ?? current.status,
    quotas: changes.quotas === undefined ? current.quotas : { ...changes.quotas },
    entraTenantId: changes.entraTenantId === undefined ? current.entraTenantId : changes.entraTenantId,
    egress: changes.egress === undefined ? current.egress : changes.egress,
    eventSources: changes.eventSources === undefined ? current.eventSources : [...changes.eventSources],
    updatedAt: at,
    revision: current.revision + 1,
  };
}

/** The stored text of a tenant's egress allow-list (NULL when it has none). */
export function egressText(egress: Tenant['egress']): string | null {
  return egress === null ? null : JSON.stringify(egress);
}

export function workflowFromRow(tenantId: string, row: WorkflowRow): Workflow {
  return {
    tenantId,
    id: row.id,
    name: row.name,
    description: row.description,
    draft: JSON.parse(row.draft) as JsonObject,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    revision: row.revision,
  };
}

export function versionFromRow(tenantId: string, row: VersionRow): WorkflowVersion {
  return {
    tenantId,
    workflowId: row.workflow_id,
    version: row.version,
    definition: JSON.parse(row.definition) as JsonObject,
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  };
}

export function runFromRow(tenantId: string, row: RunRow): Run {
  return {
    tenantId,
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    trigger: { kind: row.trigger_kind as TriggerKind, source: row.trigger_source },
    input: JSON.parse(row.input) as JsonValue,
    status: row.status as RunStatus,
    output: fromJsonText(row.output),
    error: fromJsonText<RunError>(row.error),
    idempotencyKey: row.idempotency_key,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

export function stepFromRow(tenantId: string, row: StepRow): StepExecution {
  return {
    tenantId,
    runId: row.run_id,
    stepId: row.step_id,
    iteration: row.iteration === NO_ITERATION ? null : row.iteration,
    status: row.status as StepStatus,
    attempts: row.attempts,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    error: fromJsonText<RunError>(row.error),
    output: fromJsonText(row.output),
    outputRef: row.output_ref,
  };
}

export interface ScheduleRow {
  id: string;
  workflow_id: string;
  cron: string;
  time_zone: string;
  input: string;
  version: number | null;
  missed_fire_policy: string;
  status: string;
  last_fire_time: string | null;
  last_run_id: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  created_by: string;
  revision: number;
}

export const SCHEDULE_COLUMNS =
  'id, workflow_id, cron, time_zone, input, version, missed_fire_policy, status, last_fire_time, last_run_id, last_error, created_at, updated_at, created_by, revision';

export function scheduleFromRow(tenantId: string, row: ScheduleRow): Schedule {
  return {
    tenantId,
    id: row.id,
    workflowId: row.workflow_id,
    cron: row.cron,
    timeZone: row.time_zone,
    input: JSON.parse(row.input) as JsonObject,
    version: row.version,
    missedFirePolicy: row.missed_fire_policy as MissedFirePolicy,
    status: row.status as ScheduleStatus,
    lastFireTime: row.last_fire_time,
    lastRunId: row.last_run_id,
    lastError: fromJsonText<ScheduleError>(row.last_error),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    revision: row.revision,
  };
}

/** The control-plane row of a schedule's next fire (both stores). */
export interface ScheduleDueRow {
  tenant_id: string;
  schedule_id: string;
  next_fire_at: string | null;
  pending_fire_at: string | null;
  pending_missed: number | null;
  lease_until: string | null;
}

export const SCHEDULE_DUE_COLUMNS = 'tenant_id, schedule_id, next_fire_at, pending_fire_at, pending_missed, lease_until';

export function dueScheduleFromRow(row: ScheduleDueRow): DueSchedule {
  return {
    tenantId: row.tenant_id,
    scheduleId: row.schedule_id,
    nextFireTime: row.next_fire_at,
    pending:
      row.pending_fire_at === null || row.lease_until === null
        ? null
        : { scheduledTime: row.pending_fire_at, missedFires: row.pending_missed ?? 0, leaseUntil: row.lease_until },
  };
}

/** A run_usage row. Azure SQL returns the bigint counters as strings. */
export interface UsageRow {
  run_id: string;
  steps_executed: number;
  duration_ms: number | string;
  bytes: number | string;
  connector_calls: number;
  recorded_at: string;
}

export const USAGE_COLUMNS = 'run_id, steps_executed, duration_ms, bytes, connector_calls, recorded_at';

export function usageFromRow(tenantId: string, row: UsageRow): RunUsage {
  return {
    tenantId,
    runId: row.run_id,
    stepsExecuted: Number(row.steps_executed),
    durationMs: Number(row.duration_ms),
    bytes: Number(row.bytes),
    connectorCalls: Number(row.connector_calls),
    recordedAt: row.recorded_at,
  };
}

export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: string;
  error_code: string | null;
  correlation_id: string;
}

export const AUDIT_COLUMNS = 'id, at, actor, action, target_type, target_id, outcome, error_code, correlation_id';

export function auditEntryFromRow(tenantId: string, row: AuditRow): AuditEntry {
  return {
    tenantId,
    id: row.id,
    at: row.at,
    actor: JSON.parse(row.actor) as AuditEntry['actor'],
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    outcome: row.outcome as AuditEntry['outcome'],
    errorCode: row.error_code,
    correlationId: row.correlation_id,
  };
}
