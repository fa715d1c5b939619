import { randomUUID } from 'node:crypto';
import { AppError, ErrorCodes } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import type { Run } from '../domain/run.js';
import {
  CronSpec,
  MAX_LISTED_FIRE_TIMES,
  MAX_SCHEDULES,
  type MissedFirePolicy,
  planFire,
  SCHEDULE_INPUT_KEY,
  type Schedule,
  ScheduleErrorCodes,
} from '../domain/schedule.js';
import type { Tenant } from '../domain/tenant.js';
import type { AppStore, Page, PageOptions, ScheduleChanges, TenantDataStore } from '../ports/appStore.js';
import type { ClaimedFire, DueSchedule, ScheduleDueIndex } from '../ports/scheduleDueIndex.js';
import type { RequestContext } from './requestContext.js';
import { createScheduleSchema, updateScheduleSchema } from './requestSchemas.js';
import { startRun } from './runUseCases.js';
import { validateRequest } from './validateRequest.js';

export interface ScheduleDependencies {
  data: TenantDataStore;
  /** The platform's due index (control plane). */
  due: ScheduleDueIndex;
}

interface ScheduleFields {
  cron?: string;
  timeZone?: string;
  input?: JsonObject;
  version?: number | null;
  missedFirePolicy?: MissedFirePolicy;
  enabled?: boolean;
}

/** The next fire time after `now` as the due index stores it (null: the cron never fires again). */
function nextFireTime(spec: CronSpec, now: Date): string | null {
  return spec.next(now)?.toISOString() ?? null;
}

async function assertVersionExists(data: TenantDataStore, workflowId: string, version: number | null | undefined): Promise<void> {
  if (version === null || version === undefined) return;
  if (!(await data.workflows.getVersion(workflowId, version))) throw new AppError(ErrorCodes.versionNotFound, `Workflow '${workflowId}' has no version ${version}.`);
}

/**
 * `POST .../schedules`: a schedule of one of the tenant's workflows, active unless `enabled: false`. The workflow
 * must exist; it need not be published yet (a fire before then records WORKFLOW.NOT_PUBLISHED as its error).
 */
export async function createSchedule(ctx: RequestContext, tenant: Tenant, body: unknown, deps: ScheduleDependencies): Promise<Schedule> {
  const request = validateRequest<ScheduleFields & { id?: string; workflowId: string; cron: string; timeZone: string }>(createScheduleSchema, body);
  const spec = CronSpec.parse(request.cron, request.timeZone);
  const limit = MAX_SCHEDULES[tenant.tier];
  if ((await deps.data.schedules.count()) >= limit) throw new AppError(ErrorCodes.quotaExceeded, `Tenant '${tenant.id}' has reached its limit of ${limit} schedules.`);
  await assertVersionExists(deps.data, request.workflowId, request.version);
  const schedule = await deps.data.schedules.create({
    id: request.id ?? `s-${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    workflowId: request.workflowId,
    cron: spec.expression,
    timeZone: request.timeZone,
    input: request.input ?? {},
    version: request.version ?? null,
    missedFirePolicy: request.missedFirePolicy ?? 'skip',
    status: request.enabled === false ? 'paused' : 'active',
    createdBy: ctx.principal.subject,
  });
  if (schedule.status === 'active') await deps.due.set(tenant.id, schedule.id, nextFireTime(spec, ctx.now));
  return schedule;
}

export async function getSchedule(scheduleId: string, deps: Pick<ScheduleDependencies, 'data'>): Promise<Schedule> {
  const schedule = await deps.data.schedules.get(scheduleId);
  if (!schedule) throw new AppError(ScheduleErrorCodes.notFound, `Schedule '${scheduleId}' was not found.`);
  return schedule;
}

export async function listSchedules(options: PageOptions & { workflowId?: string }, deps: Pick<ScheduleDependencies, 'data'>): Promise<Page<Schedule>> {
  return deps.data.schedules.list(options);
}

/**
 * The next `count` (1..{@link MAX_LISTED_FIRE_TIMES}) times the schedule's cron fires after `now` — what an active
 * schedule will do; a paused or errored one fires none of them until resumed.
 */
export function upcomingFireTimes(schedule: Schedule, now: Date, count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_LISTED_FIRE_TIMES) {
    throw new AppError(ErrorCodes.requestInvalid, `count must be an integer from 1 to ${MAX_LISTED_FIRE_TIMES} (got '${count}').`);
  }
  return CronSpec.parse(schedule.cron, schedule.timeZone)
    .nextTimes(now, count)
    .map((time) => time.toISOString());
}

/**
 * Puts the schedule's next fire in the due index (active) or takes it out (paused, errored), after its row was
 * written: a scheduler that meets the entry in between reads the row, and fires only an active schedule.
 */
async function syncDue(tenantId: string, schedule: Schedule, now: Date, due: ScheduleDueIndex): Promise<void> {
  if (schedule.status === 'active') await due.set(tenantId, schedule.id, nextFireTime(CronSpec.parse(schedule.cron, schedule.timeZone), now));
  else await due.remove(tenantId, schedule.id);
}

/**
 * `PATCH .../schedules/{id}` (If-Match required): changes the given fields. A new cron or time zone takes effect
 * from now (the next fire is recomputed); `enabled` pauses or resumes.
 */
export async function updateSchedule(
  ctx: RequestContext,
  tenantId: string,
  scheduleId: string,
  body: unknown,
  ifRevision: number | undefined,
  deps: ScheduleDependencies,
): Promise<Schedule> {
  if (ifRevision === undefined) throw new AppError(ErrorCodes.preconditionRequired, 'Updating a schedule needs If-Match with the ETag you read.');
  const request = validateRequest<ScheduleFields>(updateScheduleSchema, body);
  const current = await getSchedule(scheduleId, deps);
  const spec = CronSpec.parse(request.cron ?? current.cron, request.timeZone ?? current.timeZone);
  await assertVersionExists(deps.data, current.workflowId, request.version);
  const changes: ScheduleChanges = {};
  if (request.cron !== undefined) changes.cron = spec.expression;
  if (request.timeZone !== undefined) changes.timeZone = request.timeZone;
  if (request.input !== undefined) changes.input = request.input;
  if (request.version !== undefined) changes.version = request.version;
  if (request.missedFirePolicy !== undefined) changes.missedFirePolicy = request.missedFirePolicy;
  if (request.enabled !== undefined) {
    changes.status = request.enabled ? 'active' : 'paused';
    if (request.enabled) changes.lastError = null;
  }
  const updated = await deps.data.schedules.update(scheduleId, changes, { ifRevision });
  const timingChanged = changes.cron !== undefined || changes.timeZone !== undefined || updated.status !== current.status;
  if (timingChanged) await syncDue(tenantId, updated, ctx.now, deps.due);
  return updated;
}

/**
 * `:pause` / `:resume`. Resuming starts from now: slots that passed while paused are not fired. Idempotent; resuming
 * an active schedule keeps its next slot (and puts one in the due index if a crash left it without).
 */
export async function setScheduleEnabled(
  ctx: RequestContext,
  tenantId: string,
  scheduleId: string,
  enabled: boolean,
  ifRevision: number | undefined,
  deps: ScheduleDependencies,
): Promise<Schedule> {
  const current = await getSchedule(scheduleId, deps);
  const status = enabled ? 'active' : 'paused';
  if (enabled) CronSpec.parse(current.cron, current.timeZone);
  const unchanged = current.status === status && (ifRevision === undefined || ifRevision === current.revision);
  const updated = unchanged
    ? current
    : await deps.data.schedules.update(scheduleId, enabled ? { status, lastError: null } : { status }, ifRevision === undefined ? {} : { ifRevision });
  if (!unchanged || !enabled || (await deps.due.get(tenantId, scheduleId)) === undefined) await syncDue(tenantId, updated, ctx.now, deps.due);
  return updated;
}

/**
 * `DELETE .../schedules/{id}`: idempotent. The row goes first, then its due entry: a scheduler meeting the entry in
 * between finds no schedule and drops it, so nothing fires after the delete.
 */
export async function deleteSchedule(tenantId: string, scheduleId: string, ifRevision: number | undefined, deps: ScheduleDependencies): Promise<void> {
  if (ifRevision !== undefined) await getSchedule(scheduleId, deps);
  await deps.data.schedules.delete(scheduleId, ifRevision === undefined ? {} : { ifRevision });
  await deps.due.remove(tenantId, scheduleId);
}

/**
 * Before a workflow is deleted (the store deletes its schedules with it): the ids of its schedules, whose due
 * entries {@link forgetSchedules} then removes. A crash in between leaves due entries without schedules, which the
 * scheduler drops when it meets them.
 */
export async function forgetSchedules(tenantId: string, scheduleIds: readonly string[], due: ScheduleDueIndex): Promise<void> {
  for (const scheduleId of scheduleIds) await due.remove(tenantId, scheduleId);
}

// ------------------------------------------------------------------------------------------------ the scheduler

/** How long a claimed fire belongs to its scheduler before another one may finish it. */
export const FIRE_LEASE_MS = 5 * 60_000;
/** Due schedules read per query; the scheduler keeps reading while batches come back full. */
export const SCHEDULER_BATCH = 100;

export interface SchedulerDependencies {
  store: Pick<AppStore, 'tenants' | 'forTenant' | 'scheduleDue'>;
  /** The clock (injected: the scheduler's decisions are tested with chosen times). */
  now(): Date;
  /** Sends the run's dispatch message (the trigger's queue output binding). */
  dispatch(tenant: Tenant, run: Run): void;
  warn(message: string): void;
  error(message: string): void;
  /** Stops reading further batches after this time (the next tick continues); default: no limit. */
  deadline?: Date;
  batchSize?: number;
}

/** What one scheduler tick did. */
export interface SchedulerTick {
  /** Slots this tick claimed (won the compare-and-set), including skipped ones. */
  claimed: number;
  /** Runs started (or found already started, for a finished crash-interrupted fire). */
  started: number;
  /** Slots that passed without a run (skip policy after downtime, suspended tenants). */
  skipped: number;
  /** Fires whose run could not start (recorded as the schedule's lastError). */
  failed: number;
  /** Schedules taken out of service (status `errored`). */
  errored: number;
}

const SCHEDULER_PRINCIPAL = { subject: 'scheduler', name: 'AutomateIQ scheduler', roles: [], tenantId: null };

/**
 * One scheduler tick: claims every due slot (in batches, oldest first) and starts its run, and finishes fires a
 * crashed scheduler claimed but did not finish. Safe with any number of concurrent schedulers: every slot is
 * claimed by one compare-and-set, and the run of a fire is created once per (schedule, slot) idempotency key.
 * One bad schedule never stops the tick: it is logged (and, if it cannot be evaluated, marked `errored`).
 */
export async function fireDueSchedules(deps: SchedulerDependencies): Promise<SchedulerTick> {
  const tick: SchedulerTick = { claimed: 0, started: 0, skipped: 0, failed: 0, errored: 0 };
  const batchSize = deps.batchSize ?? SCHEDULER_BATCH;
  const seen = new Set<string>();
  for (;;) {
    const now = deps.now();
    if (deps.deadline && now > deps.deadline) break;
    const due = await deps.store.scheduleDue.listDue(now.toISOString(), batchSize);
    // A row this tick already handled and still sees is one it could not move (e.g. its store failed): next tick.
    const fresh = due.filter((row) => !seen.has(`${row.tenantId}/${row.scheduleId}`));
    for (const row of fresh) {
      seen.add(`${row.tenantId}/${row.scheduleId}`);
      try {
        await processDue(row, now, deps, tick);
      } catch (error) {
        deps.error(`Schedule '${row.scheduleId}' of tenant '${row.tenantId}' could not be processed (retried on a later tick): ${(error as Error)?.stack ?? String(error)}`);
      }
    }
    if (fresh.length === 0 || due.length < batchSize) break;
  }
  return tick;
}

async function processDue(row: DueSchedule, now: Date, deps: SchedulerDependencies, tick: SchedulerTick): Promise<void> {
  const { scheduleDue } = deps.store;
  const tenant = await deps.store.tenants.get(row.tenantId);
  if (!tenant) {
    await scheduleDue.remove(row.tenantId, row.scheduleId);
    return;
  }
  const data = await deps.store.forTenant(tenant.id);
  const schedule = await data.schedules.get(row.scheduleId);
  if (!schedule || schedule.status !== 'active') {
    // Deleted or paused while its entry stayed behind (a crash between the two writes): it must not fire.
    await scheduleDue.remove(row.tenantId, row.scheduleId);
    return;
  }
  const leaseUntil = new Date(now.getTime() + FIRE_LEASE_MS).toISOString();
  if (row.pending) {
    // A fire claimed by a scheduler that did not finish it (crash): finish it, once.
    if (!(await scheduleDue.reclaim(tenant.id, schedule.id, row.pending.scheduledTime, row.pending.leaseUntil, leaseUntil))) return;
    await fire(tenant, data, schedule, row.pending, now, deps, tick);
    return;
  }
  let plan;
  try {
    plan = planFire(CronSpec.parse(schedule.cron, schedule.timeZone), new Date(row.nextFireTime!), now, schedule.missedFirePolicy);
  } catch (error) {
    await markErrored(data, scheduleDue, schedule, error, now, deps, tick);
    return;
  }
  // A suspended tenant's slots pass without runs; it continues from its next slot once active again.
  const planned = tenant.status === 'active' ? plan.fire : null;
  if (!(await scheduleDue.claim(tenant.id, schedule.id, row.nextFireTime!, plan.nextFireTime, planned, leaseUntil))) return;
  tick.claimed += 1;
  const skipped = planned === null ? plan.missed + (plan.fire ? 1 : 0) : plan.missed - planned.missedFires;
  if (skipped > 0) {
    tick.skipped += skipped;
    deps.warn(`Schedule '${schedule.id}' of tenant '${tenant.id}': ${skipped} fire(s) from ${row.nextFireTime} passed without a run (${tenant.status === 'active' ? 'missed while the platform was down; policy skip' : `tenant ${tenant.status}`}).`);
  }
  if (planned) await fire(tenant, data, schedule, planned, now, deps, tick);
}

/** The run of a fire: input with the fire, trigger `schedule`, idempotency key from (schedule, slot). */
async function fire(
  tenant: Tenant,
  data: TenantDataStore,
  schedule: Schedule,
  planned: ClaimedFire,
  now: Date,
  deps: SchedulerDependencies,
  tick: SchedulerTick,
): Promise<void> {
  const input = { ...schedule.input, [SCHEDULE_INPUT_KEY]: { scheduleId: schedule.id, scheduledTime: planned.scheduledTime, missedFires: planned.missedFires } };
  const ctx: RequestContext = { principal: SCHEDULER_PRINCIPAL, correlationId: `schedule:${schedule.id}:${planned.scheduledTime}`, now };
  try {
    const { run, created } = await startRun(
      ctx,
      tenant,
      schedule.workflowId,
      { input, ...(schedule.version === null ? {} : { version: schedule.version }) },
      { trigger: { kind: 'schedule', source: schedule.id }, idempotencyKey: scheduleIdempotencyKey(schedule.id, planned.scheduledTime) },
      { data },
    );
    if (created || run.status === 'queued') deps.dispatch(tenant, run);
    await data.schedules.recordFire(schedule.id, { scheduledTime: planned.scheduledTime, runId: run.id, error: null });
    tick.started += 1;
  } catch (error) {
    // Anything but a business outcome (the store failed): the fire stays pending and is retried after its lease.
    if (!(error instanceof AppError)) throw error;
    tick.failed += 1;
    deps.warn(`Schedule '${schedule.id}' of tenant '${tenant.id}' could not start its run for ${planned.scheduledTime}: ${error.code} ${error.message}`);
    if (error.code === ErrorCodes.workflowNotFound) await markErrored(data, deps.store.scheduleDue, schedule, error, now, deps, tick);
    else await data.schedules.recordFire(schedule.id, { scheduledTime: planned.scheduledTime, runId: null, error: { code: error.code, message: error.message, at: now.toISOString(), scheduledTime: planned.scheduledTime } });
  }
  await deps.store.scheduleDue.finish(tenant.id, schedule.id, planned.scheduledTime);
}

/** The idempotency key of the run of a schedule's slot: a second start for the slot returns the first run. */
export function scheduleIdempotencyKey(scheduleId: string, scheduledTime: string): string {
  return `schedule:${scheduleId}:${scheduledTime}`;
}

/** Takes a schedule the scheduler cannot evaluate or fire out of service (`errored`), keeping the reason. */
async function markErrored(
  data: TenantDataStore,
  due: ScheduleDueIndex,
  schedule: Schedule,
  error: unknown,
  now: Date,
  deps: SchedulerDependencies,
  tick: SchedulerTick,
): Promise<void> {
  const code = error instanceof AppError ? error.code : ErrorCodes.internal;
  const message = error instanceof Error ? error.message : String(error);
  deps.error(`Schedule '${schedule.id}' of tenant '${schedule.tenantId}' is now errored and will not fire until updated or resumed: ${code} ${message}`);
  await data.schedules.update(schedule.id, { status: 'errored', lastError: { code, message, at: now.toISOString(), scheduledTime: null } });
  await due.remove(schedule.tenantId, schedule.id);
  tick.errored += 1;
}
