import { randomUUID } from 'node:crypto';
import { AppError, ErrorCodes } from '../domain/errors.js';
import { correlationMatches, type WaitingStatus } from '../domain/engine/index.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import { hasRole, isPlatformAdmin, type Principal } from '../domain/roles.js';
import type { Run, StepExecution } from '../domain/run.js';
import type { Tenant } from '../domain/tenant.js';
import type { TenantDataStore } from '../ports/appStore.js';
import type { RequestContext } from './requestContext.js';

/**
 * Run control: raising the events a running run waits for, cancelling a run, retrying a failed or cancelled one.
 * The decisions are pure (tested in runControl.test.ts); the durable side effects stay in the HTTP functions.
 */

/** The error codes of run control (their HTTP statuses: functions/api/runs/runControlHttp.ts). */
export const RunControlErrorCodes = {
  /** The run is finished (or, for cancel, ended otherwise than cancelled): 409. */
  runNotRunning: ErrorCodes.runNotRunning,
  /** No step of the run waits for that event (now): 404. */
  eventNotExpected: ErrorCodes.eventNotExpected,
  /** Several approvals wait for the decision and the request names none: 409. */
  eventAmbiguous: 'EVENT.AMBIGUOUS',
  /** The approver has voted on this approval already: 409. */
  approvalAlreadyDecided: 'APPROVAL.ALREADY_DECIDED',
  /** Retry from the failed step on a version other than the pinned one: 400. */
  retryFromStepUnsupported: ErrorCodes.runRetryFromStepUnsupported,
} as const;

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const EVENT_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

export function isFinished(run: Pick<Run, 'status'>): boolean {
  return FINISHED.has(run.status);
}

/** An event name of the route: 1-128 of `A-Z a-z 0-9 . _ : -`, not all digits. */
export function validateEventName(name: string): string {
  if (!EVENT_NAME.test(name) || /^\d+$/.test(name)) {
    throw new AppError(ErrorCodes.requestInvalid, `The event name must be 1-128 characters of letters, digits, '.', '_', ':' or '-', and not only digits (got '${name.slice(0, 140)}').`);
  }
  return name;
}

/** An instance of the run that waits for an event now, as the task hub lists it. */
export interface WaitingInstance {
  instanceId: string;
  status: WaitingStatus;
}

/** Where an event goes: the instance and the data to raise on it. */
export interface EventDelivery {
  instanceId: string;
  /** The instance id below the run (`<stepId>`, `<forEachStepId>:<index>:<stepId>`, `<stepId>:sub:<childStepId>`…). */
  waitId: string;
  stepId: string;
  data: JsonValue;
}

export interface EventRequest {
  name: string;
  body: JsonValue | undefined;
  /** `?correlationKey=`: steps waiting with a correlation key take only events raised with the same key. */
  correlationKey?: string;
  /** `?waitId=`: one of several instances waiting for the same event (approvals in forEach iterations). */
  waitId?: string;
}

/**
 * Routes an event to the instances of a run that wait for it now, at any depth: every waitForEvent step
 * waiting for the name whose correlation key matches takes it (a correlation key picks one iteration among
 * many); an approval decision goes to exactly one approval — when several wait (forEach iterations), the
 * caller names one with `waitId`. Checks the approvers and refuses a second vote of the same approver. Throws
 * EVENT.NOT_EXPECTED when nothing waits for the event now, EVENT.AMBIGUOUS (listing the waitIds) when an approval
 * decision has several candidates, APPROVAL.ALREADY_DECIDED, FORBIDDEN.
 */
export function routeEvent(runId: string, waiting: readonly WaitingInstance[], request: EventRequest, principal: Principal, at: string): EventDelivery[] {
  const prefix = `${runId}:`;
  let candidates = waiting
    .filter(({ instanceId, status }) => instanceId.startsWith(prefix) && status.waitingFor === request.name && correlationMatches(status, request.correlationKey))
    .map(({ instanceId, status }) => ({ instanceId, status, waitId: instanceId.slice(prefix.length) }));
  if (request.waitId !== undefined) candidates = candidates.filter((candidate) => candidate.waitId === request.waitId);
  if (candidates.length === 0) {
    throw new AppError(RunControlErrorCodes.eventNotExpected, `No step of run '${runId}' waits for the event '${request.name}'${request.correlationKey !== undefined ? ` with correlation key '${request.correlationKey.slice(0, 200)}'` : ''} now (not started yet, already done, or another key).`);
  }
  const approvals = candidates.filter(({ status }) => status.approvers !== undefined);
  if (approvals.length === 0) {
    const data = request.body ?? null;
    return candidates.map(({ instanceId, waitId, status }) => ({ instanceId, waitId, stepId: status.stepId, data }));
  }
  if (approvals.length > 1) {
    throw new AppError(RunControlErrorCodes.eventAmbiguous, `${approvals.length} approvals wait for '${request.name}'; name one with ?waitId= (${approvals.map((candidate) => candidate.waitId).join(', ')}).`);
  }
  const [approval] = approvals as [(typeof approvals)[number]];
  if (!canApprove(principal, approval.status.approvers!)) {
    throw new AppError(ErrorCodes.forbidden, `Only the approvers of step '${approval.status.stepId}' (roles ${approval.status.approvers!.roles.join(', ') || 'none'}) may decide it.`);
  }
  if (approval.status.decidedBy?.includes(principal.subject)) {
    throw new AppError(RunControlErrorCodes.approvalAlreadyDecided, `You have already decided step '${approval.status.stepId}'; it waits for other approvers.`);
  }
  const decision = parseApprovalDecision(request.body);
  return [{ instanceId: approval.instanceId, waitId: approval.waitId, stepId: approval.status.stepId, data: { ...decision, decidedBy: principal.subject, decidedAt: at } }];
}

/** Whether the caller may decide an approval: a listed user, a holder of a listed role, or a platform admin. */
export function canApprove(principal: Principal, approvers: { users: string[]; roles: string[] }): boolean {
  if (isPlatformAdmin(principal)) return true;
  if (approvers.users.includes(principal.subject)) return true;
  return approvers.roles.some((role) => hasRole(principal, role as Principal['roles'][number]));
}

export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  comment?: string;
}

/** The body of an approval event: `{decision: 'approved'|'rejected', comment?}`. */
export function parseApprovalDecision(body: JsonValue | undefined): ApprovalDecision {
  const problem = (message: string): AppError => new AppError(ErrorCodes.requestInvalid, message);
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw problem("An approval needs a body {\"decision\": \"approved\" | \"rejected\", \"comment\"?: string}.");
  for (const key of Object.keys(body)) if (key !== 'decision' && key !== 'comment') throw problem(`An approval body has only 'decision' and 'comment' (got '${key}').`);
  const { decision, comment } = body as { decision?: unknown; comment?: unknown };
  if (decision !== 'approved' && decision !== 'rejected') throw problem("decision must be 'approved' or 'rejected'.");
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > 2000)) throw problem('comment must be a string of at most 2000 characters.');
  return comment === undefined ? { decision } : { decision, comment };
}

/** Events are accepted while the run is not finished. Throws RUN.NOT_RUNNING otherwise. */
export function assertAcceptsEvents(run: Run): void {
  if (isFinished(run)) throw new AppError(RunControlErrorCodes.runNotRunning, `Run '${run.id}' is ${run.status}; it no longer accepts events.`);
}

/** `cancel` for a queued or running run, `alreadyCancelled` for a cancelled one; RUN.NOT_RUNNING otherwise. */
export function cancelDecision(run: Run): 'cancel' | 'alreadyCancelled' {
  if (run.status === 'cancelled') return 'alreadyCancelled';
  if (isFinished(run)) throw new AppError(RunControlErrorCodes.runNotRunning, `Run '${run.id}' is ${run.status}; only a queued or running run can be cancelled.`);
  return 'cancel';
}

export interface RetryRequest {
  from: 'start' | 'failedStep';
  version: 'pinned' | 'latest';
}

export function parseRetryRequest(body: JsonValue | undefined): RetryRequest {
  const problem = (message: string): AppError => new AppError(ErrorCodes.requestInvalid, message);
  if (body === undefined || body === null) return { from: 'start', version: 'pinned' };
  if (typeof body !== 'object' || Array.isArray(body)) throw problem("The retry body is {\"from\"?: \"start\" | \"failedStep\", \"version\"?: \"pinned\" | \"latest\"}.");
  for (const key of Object.keys(body)) if (key !== 'from' && key !== 'version') throw problem(`A retry body has only 'from' and 'version' (got '${key}').`);
  const { from = 'start', version = 'pinned' } = body as { from?: unknown; version?: unknown };
  if (from !== 'start' && from !== 'failedStep') throw problem("from must be 'start' or 'failedStep'.");
  if (version !== 'pinned' && version !== 'latest') throw problem("version must be 'pinned' or 'latest'.");
  return { from, version };
}

const DAY_MS = 24 * 3600 * 1000;

interface StepLike {
  id?: unknown;
  type?: unknown;
}

/** The top-level action step ids of a definition: the steps whose executions are recorded (and can be carried over). */
function topLevelActionIds(definition: JsonObject): Set<string> {
  const steps = Array.isArray(definition['steps']) ? (definition['steps'] as StepLike[]) : [];
  return new Set(steps.flatMap((step) => (step && typeof step.id === 'string' && step.type === 'action' ? [step.id] : [])));
}

/**
 * The step executions a retry from the failed step carries over to the new run: the original's top-level
 * action steps that succeeded (their recorded output, or the reference of their claim-checked output).
 */
export function carriedOverSteps(definition: JsonObject, steps: readonly StepExecution[]): StepExecution[] {
  const actions = topLevelActionIds(definition);
  return steps.filter((step) => step.iteration === null && step.status === 'succeeded' && actions.has(step.stepId));
}

/**
 * Retries a failed or cancelled run as a NEW run (trigger `retry` from the original, same input); the original
 * stays as it was.
 *
 * - `from: 'start'`: on the pinned or the latest published version; every step runs again.
 * - `from: 'failedStep'`: on the pinned version only (`version: 'latest'` is accepted only when the latest IS
 *   the pinned version; otherwise 400 RUN.RETRY_FROM_STEP_UNSUPPORTED: outputs of one version's steps cannot be
 *   trusted to fit another version's steps of the same id). The original's top-level action steps that
 *   succeeded are copied onto the new run as its step executions (same attempts, times and outputs); the
 *   dispatcher hands them to the orchestrator (`resumeFrom`), which seeds the planner with them and does not
 *   run them again. The failed step, the steps after it and every step without a recorded execution (delay,
 *   waits, approvals, forEach, subWorkflow) run again.
 */
export async function retryRun(ctx: RequestContext, tenant: Tenant, original: Run, request: RetryRequest, deps: { data: TenantDataStore }): Promise<Run> {
  if (original.status !== 'failed' && original.status !== 'cancelled') {
    throw new AppError(ErrorCodes.conflict, `Run '${original.id}' is ${original.status}; only failed or cancelled runs can be retried.`);
  }
  let versionNumber = original.workflowVersion;
  if (request.version === 'latest') {
    const workflow = await deps.data.workflows.get(original.workflowId);
    if (!workflow) throw new AppError(ErrorCodes.workflowNotFound, `Workflow '${original.workflowId}' was not found.`);
    if (workflow.latestVersion === null || workflow.latestVersion === undefined) throw new AppError(ErrorCodes.workflowNotPublished, `Workflow '${original.workflowId}' has no published version.`);
    versionNumber = workflow.latestVersion;
  }
  if (request.from === 'failedStep' && versionNumber !== original.workflowVersion) {
    throw new AppError(
      RunControlErrorCodes.retryFromStepUnsupported,
      `Run '${original.id}' ran version ${original.workflowVersion} of '${original.workflowId}'; a retry from the failed step reuses the outputs of its steps, so it runs on that version only, not on the latest (${versionNumber}). Retry with version 'pinned', or from the start on the latest version.`,
    );
  }
  const version = await deps.data.workflows.getVersion(original.workflowId, versionNumber);
  if (!version) throw new AppError(ErrorCodes.versionNotFound, `Workflow '${original.workflowId}' has no version ${versionNumber}.`);
  const since = new Date(ctx.now.getTime() - DAY_MS).toISOString();
  if ((await deps.data.runs.countCreatedSince(since)) >= tenant.quotas.runsPerDay) {
    throw new AppError(ErrorCodes.quotaExceeded, `Tenant '${tenant.id}' has used its ${tenant.quotas.runsPerDay} runs for the last 24 hours.`, { retryAfterSeconds: 3600 });
  }
  const carried = request.from === 'failedStep' ? carriedOverSteps(version.definition, await deps.data.runs.listSteps(original.id)) : [];
  const { run } = await deps.data.runs.create({
    id: randomUUID(),
    workflowId: original.workflowId,
    workflowVersion: versionNumber,
    trigger: { kind: 'retry', source: original.id },
    input: original.input,
    status: 'queued',
    output: null,
    error: null,
    idempotencyKey: null,
    correlationId: ctx.correlationId,
    createdAt: ctx.now.toISOString(),
    startedAt: null,
    completedAt: null,
  });
  // Before the dispatch message is sent (the HTTP function's output binding, after this returns).
  for (const step of carried) {
    const { tenantId: _tenant, ...execution } = step;
    await deps.data.runs.putStep({ ...execution, runId: run.id });
  }
  return run;
}
