import type { AuditEntry } from '../domain/audit.js';
import type { JsonObject } from '../domain/json.js';
import type { Schedule, ScheduleError } from '../domain/schedule.js';
import type { Run, RunStatus, RunUsage, StepExecution } from '../domain/run.js';
import type { Tenant, TenantStatus } from '../domain/tenant.js';
import type { EventSubscription } from '../domain/events.js';
import type { Hook, HookDelivery, HookDeliverySummary } from '../domain/webhook.js';
import type { Workflow, WorkflowVersion } from '../domain/workflow.js';
import type { RunAdmission } from './runAdmission.js';
import type { ScheduleDueIndex } from './scheduleDueIndex.js';

/** A page of a list and the opaque token of the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

export interface PageOptions {
  /** 1..100; default 50. */
  limit?: number;
  continuationToken?: string;
}

/**
 * Optimistic concurrency: when `ifRevision` is given and the stored revision differs, the store throws
 * AppError `REQUEST.PRECONDITION_FAILED`.
 */
export interface Precondition {
  ifRevision?: number;
}

/** The platform's tenant registry (control plane: not tenant-scoped). */
/** The fields of a tenant an update may change (absent: unchanged). */
export type TenantChanges = Partial<Pick<Tenant, 'name' | 'tier' | 'status' | 'quotas' | 'entraTenantId' | 'egress' | 'eventSources'>>;

export interface TenantRepository {
  /** Throws `TENANT.ALREADY_EXISTS` when the id (or the Entra tenant id) is taken. */
  create(tenant: Omit<Tenant, 'createdAt' | 'updatedAt' | 'revision'>): Promise<Tenant>;
  get(tenantId: string): Promise<Tenant | undefined>;
  getByEntraTenantId(entraTenantId: string): Promise<Tenant | undefined>;
  /** The tenant an event source (Event Grid topic, CloudEvents source) is registered to, compared case-insensitively. */
  getByEventSource(source: string): Promise<Tenant | undefined>;
  list(options: PageOptions & { status?: TenantStatus }): Promise<Page<Tenant>>;
  /** Throws `TENANT.NOT_FOUND` or `REQUEST.PRECONDITION_FAILED`. */
  update(tenantId: string, changes: TenantChanges, precondition?: Precondition): Promise<Tenant>;
  /** Removes the tenant and (through its data store) all of its data. Idempotent: false when there was none. */
  delete(tenantId: string, precondition?: Precondition): Promise<boolean>;
}

export interface WorkflowRepository {
  /** Throws `WORKFLOW.ALREADY_EXISTS`. */
  create(workflow: Omit<Workflow, 'tenantId' | 'createdAt' | 'updatedAt' | 'revision' | 'latestVersion'>): Promise<Workflow>;
  get(workflowId: string): Promise<Workflow | undefined>;
  list(options: PageOptions): Promise<Page<Workflow>>;
  count(): Promise<number>;
  /** Replaces the draft (and name/description). Throws `WORKFLOW.NOT_FOUND` or `REQUEST.PRECONDITION_FAILED`. */
  updateDraft(workflowId: string, changes: { name?: string; description?: string; draft?: JsonObject }, precondition?: Precondition): Promise<Workflow>;
  /** Deletes the workflow with its versions and schedules. Idempotent. */
  delete(workflowId: string, precondition?: Precondition): Promise<boolean>;
  /** Freezes the current draft as the next version (1, 2, ...). Throws `WORKFLOW.NOT_FOUND`. */
  publish(workflowId: string, publishedBy: string, precondition?: Precondition): Promise<WorkflowVersion>;
  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined>;
  listVersions(workflowId: string, options: PageOptions): Promise<Page<WorkflowVersion>>;
}

export interface RunQuery extends PageOptions {
  workflowId?: string;
  status?: RunStatus;
  /** ISO timestamps, inclusive. */
  createdFrom?: string;
  createdTo?: string;
}

export interface RunRepository {
  /**
   * Inserts a run. With an idempotency key, a second create with the same key (per tenant and workflow) returns
   * the first run and `created: false` instead of inserting.
   */
  create(run: Omit<Run, 'tenantId'>): Promise<{ run: Run; created: boolean }>;
  get(runId: string): Promise<Run | undefined>;
  /** Newest first. */
  list(query: RunQuery): Promise<Page<Run>>;
  /** Runs created since the ISO time (quota: runs per day). */
  countCreatedSince(since: string): Promise<number>;
  /**
   * Moves a queued run to `running` only while fewer than `maxRunning` of the tenant's runs are running, in one
   * atomic step (so concurrent dispatchers can never exceed the limit). `started`: it is now running;
   * `atLimit`: the tenant is at its limit (the run stays queued); `notQueued`: the run is not queued (or unknown).
   */
  claimStart(runId: string, maxRunning: number, at: string): Promise<'started' | 'atLimit' | 'notQueued'>;
  /** Applies a status transition and its fields. Throws `RUN.NOT_FOUND`. */
  update(runId: string, changes: Partial<Pick<Run, 'status' | 'output' | 'error' | 'startedAt' | 'completedAt'>>): Promise<Run>;
  /** Records (inserts or replaces) one step execution. */
  putStep(step: Omit<StepExecution, 'tenantId'>): Promise<void>;
  listSteps(runId: string): Promise<StepExecution[]>;
  /** Records (inserts or replaces) the run's usage. Throws `RUN.NOT_FOUND` when the run is not in the tenant. */
  putUsage(usage: Omit<RunUsage, 'tenantId'>): Promise<void>;
  /** The run's usage; undefined until its orchestration finished (or for a run of another tenant). */
  getUsage(runId: string): Promise<RunUsage | undefined>;
}

export interface AuditRepository {
  append(entry: Omit<AuditEntry, 'tenantId'>): Promise<void>;
  /** Newest first. */
  list(options: PageOptions & { action?: string; from?: string; to?: string }): Promise<Page<AuditEntry>>;
}

export type NewHook = Omit<Hook, 'tenantId' | 'createdAt' | 'updatedAt' | 'revision'>;
export type HookChanges = Partial<Pick<Hook, 'name' | 'enabled' | 'maxBodyBytes' | 'respondWith' | 'secretVersion' | 'previousSecretVersion' | 'previousSecretExpiresAt'>>;
export type NewHookDelivery = Omit<HookDelivery, 'tenantId'>;

/** A tenant's webhooks and their deliveries (the durable inbox). */
export interface HookRepository {
  create(hook: NewHook): Promise<Hook>;
  get(hookId: string): Promise<Hook | undefined>;
  /** By id. */
  list(options: PageOptions): Promise<Page<Hook>>;
  count(): Promise<number>;
  /** Throws `WEBHOOK.NOT_FOUND` or `REQUEST.PRECONDITION_FAILED`. */
  update(hookId: string, changes: HookChanges, precondition?: Precondition): Promise<Hook>;
  /** Deletes the hook with its deliveries. Idempotent: false when there was none. */
  delete(hookId: string, precondition?: Precondition): Promise<boolean>;
  /**
   * Records a delivery. An `accepted` one is an inbox entry, unique per hook and delivery id: when one exists
   * already, nothing is written and the existing entry comes back with `created: false` (atomically, so of
   * concurrent deliveries with one id exactly one is created). Other outcomes are always recorded.
   */
  recordDelivery(delivery: NewHookDelivery): Promise<{ delivery: HookDelivery; created: boolean }>;
  /** The inbox entry (accepted) of a delivery id, with its payload. */
  getInboxEntry(hookId: string, deliveryId: string): Promise<HookDelivery | undefined>;
  /** Records the run a delivery started, or why it could not (`reason`). */
  settleDelivery(id: string, outcome: { runId: string | null; reason: string | null }): Promise<void>;
  /** Newest first, with each run's status. */
  listDeliveries(hookId: string, options: PageOptions): Promise<Page<HookDeliverySummary>>;
  /** Inbox entries received before the time that have neither a run nor a reason (a crash between storing and starting). */
  listUnstartedDeliveries(receivedBefore: string, limit: number): Promise<HookDelivery[]>;
  /** Deletes deliveries received before the time (retention). Returns how many. */
  deleteDeliveriesBefore(receivedBefore: string): Promise<number>;
}

export type NewEventSubscription = Omit<EventSubscription, 'tenantId' | 'createdAt' | 'updatedAt' | 'revision'>;
export type EventSubscriptionChanges = Partial<Pick<EventSubscription, 'workflowId' | 'eventTypes' | 'subjectBeginsWith' | 'subjectEndsWith' | 'caseSensitive' | 'enabled'>>;

/** A tenant's Event Grid subscriptions (which events start runs of which workflow). */
export interface EventSubscriptionRepository {
  create(subscription: NewEventSubscription): Promise<EventSubscription>;
  get(subscriptionId: string): Promise<EventSubscription | undefined>;
  /** By id. */
  list(options: PageOptions): Promise<Page<EventSubscription>>;
  /** Every enabled subscription (at most the tenant's quota of them), by id: what the event router matches. */
  listEnabled(): Promise<EventSubscription[]>;
  count(): Promise<number>;
  /** Throws `EVENT_SUBSCRIPTION.NOT_FOUND` or `REQUEST.PRECONDITION_FAILED`. */
  update(subscriptionId: string, changes: EventSubscriptionChanges, precondition?: Precondition): Promise<EventSubscription>;
  /** Idempotent: false when there was none. */
  delete(subscriptionId: string, precondition?: Precondition): Promise<boolean>;
}

/** The control-plane index from hook id to tenant: the ingress URL carries no tenant. */
export interface HookIndex {
  put(hookId: string, tenantId: string): Promise<void>;
  tenantOf(hookId: string): Promise<string | undefined>;
  delete(hookId: string): Promise<void>;
}

/** What a schedule's owner can change (the scheduler changes `status` and `lastError` too). */
export type ScheduleChanges = Partial<Pick<Schedule, 'cron' | 'timeZone' | 'input' | 'version' | 'missedFirePolicy' | 'status' | 'lastError'>>;

/** What creating a schedule takes: the rest (fire bookkeeping, timestamps, revision) the store fills in. */
export type NewSchedule = Omit<Schedule, 'tenantId' | 'createdAt' | 'updatedAt' | 'revision' | 'lastFireTime' | 'lastRunId' | 'lastError'>;

export interface ScheduleRepository {
  /** Throws `SCHEDULE.ALREADY_EXISTS`, or `WORKFLOW.NOT_FOUND` when the workflow does not exist. */
  create(schedule: NewSchedule): Promise<Schedule>;
  get(scheduleId: string): Promise<Schedule | undefined>;
  /** By id ascending. */
  list(options: PageOptions & { workflowId?: string }): Promise<Page<Schedule>>;
  count(): Promise<number>;
  /** Throws `SCHEDULE.NOT_FOUND` or `REQUEST.PRECONDITION_FAILED`. */
  update(scheduleId: string, changes: ScheduleChanges, precondition?: Precondition): Promise<Schedule>;
  /**
   * Records the outcome of a fire (the run it started, or the error): the fire's bookkeeping, not a change of the
   * schedule, so the revision stays. False when the schedule is gone.
   */
  recordFire(scheduleId: string, fire: { scheduledTime: string; runId: string | null; error: ScheduleError | null }): Promise<boolean>;
  /** Idempotent. */
  delete(scheduleId: string, precondition?: Precondition): Promise<boolean>;
  /** The ids of the workflow's schedules (deleting a workflow deletes them with it). */
  listIdsByWorkflow(workflowId: string): Promise<string[]>;
}

/**
 * Everything of one tenant. Every operation is confined to that tenant: the SQLite adapter adds the tenant to
 * every statement; Azure SQL also enforces it with row-level security on the same connection.
 */
export interface TenantDataStore {
  readonly tenantId: string;
  readonly workflows: WorkflowRepository;
  readonly runs: RunRepository;
  readonly audit: AuditRepository;
  readonly hooks: HookRepository;
  readonly schedules: ScheduleRepository;
  readonly eventSubscriptions: EventSubscriptionRepository;
}

/** The application store: the tenant registry and each tenant's data (placed shared or dedicated). */
export interface AppStore {
  readonly tenants: TenantRepository;
  /** The platform's admission list of queued runs (control plane). */
  readonly admission: RunAdmission;
  /** Which tenant each webhook belongs to (control plane). */
  readonly hookIndex: HookIndex;
  /** When each active schedule fires next (control plane). */
  readonly scheduleDue: ScheduleDueIndex;
  /** The data store of one tenant, on the database its placement names. */
  forTenant(tenantId: string): Promise<TenantDataStore>;
  /** Checks that the store answers (health). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
