import { randomUUID } from 'node:crypto';
import { Validator } from '@cfworker/json-schema';
import { AppError, ErrorCodes, ValidationError } from '../domain/errors.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { Run, RunStatus, RunTrigger } from '../domain/run.js';
import type { Tenant } from '../domain/tenant.js';
import type { WorkflowVersion } from '../domain/workflow.js';
import type { Page, RunQuery, TenantDataStore } from '../ports/appStore.js';
import type { RequestContext } from './requestContext.js';
import { startRunSchema } from './requestSchemas.js';
import { validateRequest } from './validateRequest.js';

export interface RunDependencies {
  data: TenantDataStore;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Tenant-supplied input schemas are validated by an interpreting validator (no code generation from
 * untrusted schemas), cached per workflow version.
 */
const inputValidators = new Map<string, Validator>();

function inputValidator(tenantId: string, version: WorkflowVersion): Validator | undefined {
  const schema = version.definition['inputs'];
  if (!schema || typeof schema !== 'object') return undefined;
  const key = `${tenantId}/${version.workflowId}/${version.version}`;
  let validator = inputValidators.get(key);
  if (!validator) {
    validator = new Validator(schema as object, '2020-12', false);
    inputValidators.set(key, validator);
    if (inputValidators.size > 1000) inputValidators.delete(inputValidators.keys().next().value as string);
  }
  return validator;
}

/** Fills top-level `default`s of the input schema, as a run's input is documented to get them. */
function withDefaults(input: JsonValue | undefined, schema: unknown): JsonValue {
  const properties = (schema as { properties?: Record<string, { default?: JsonValue }> } | undefined)?.properties;
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) return input;
  if (!properties) return input ?? {};
  const result: JsonObject = { ...((input as JsonObject | undefined) ?? {}) };
  for (const [name, property] of Object.entries(properties)) if (result[name] === undefined && property.default !== undefined) result[name] = property.default;
  return result;
}

export interface StartRunOptions {
  trigger: RunTrigger;
  idempotencyKey?: string | null;
}

/**
 * Starts a run of a published workflow version (latest unless one is named): input validated against the
 * workflow's input schema (defaults applied), the tenant's runs-per-day quota checked, the run inserted as
 * `queued` — once only per idempotency key.
 */
export async function startRun(
  ctx: RequestContext,
  tenant: Tenant,
  workflowId: string,
  body: unknown,
  options: StartRunOptions,
  deps: RunDependencies,
): Promise<{ run: Run; created: boolean }> {
  const request = validateRequest<{ input?: JsonValue; version?: number }>(startRunSchema, body ?? {});
  if (options.idempotencyKey != null && !IDEMPOTENCY_KEY.test(options.idempotencyKey)) {
    throw new AppError(ErrorCodes.requestInvalid, 'Idempotency-Key must be 1-200 printable ASCII characters.');
  }
  const workflow = await deps.data.workflows.get(workflowId);
  if (!workflow) throw new AppError(ErrorCodes.workflowNotFound, `Workflow '${workflowId}' was not found.`);
  const versionNumber = request.version ?? workflow.latestVersion;
  if (versionNumber === null || versionNumber === undefined) throw new AppError(ErrorCodes.workflowNotPublished, `Workflow '${workflowId}' has no published version yet.`);
  const version = await deps.data.workflows.getVersion(workflowId, versionNumber);
  if (!version) throw new AppError(ErrorCodes.versionNotFound, `Workflow '${workflowId}' has no version ${versionNumber}.`);

  const input = withDefaults(request.input, version.definition['inputs']);
  const validator = inputValidator(tenant.id, version);
  if (validator) {
    const result = validator.validate(input);
    if (!result.valid) {
      throw new ValidationError(
        ErrorCodes.runInputInvalid,
        `The input does not match the inputs schema of '${workflowId}' version ${versionNumber}.`,
        result.errors.map((error) => ({ pointer: `/input${error.instanceLocation.replace(/^#/, '')}`, message: error.error, kind: error.keyword })),
      );
    }
  }
  const since = new Date(ctx.now.getTime() - DAY_MS).toISOString();
  if ((await deps.data.runs.countCreatedSince(since)) >= tenant.quotas.runsPerDay) {
    throw new AppError(ErrorCodes.quotaExceeded, `Tenant '${tenant.id}' has used its ${tenant.quotas.runsPerDay} runs for the last 24 hours.`, { retryAfterSeconds: 3600 });
  }
  return deps.data.runs.create({
    id: randomUUID(),
    workflowId,
    workflowVersion: versionNumber,
    trigger: options.trigger,
    input,
    status: 'queued',
    output: null,
    error: null,
    idempotencyKey: options.idempotencyKey ?? null,
    correlationId: ctx.correlationId,
    createdAt: ctx.now.toISOString(),
    startedAt: null,
    completedAt: null,
  });
}

export async function getRun(runId: string, deps: RunDependencies): Promise<Run & { steps: Awaited<ReturnType<TenantDataStore['runs']['listSteps']>> }> {
  const run = await deps.data.runs.get(runId);
  if (!run) throw new AppError(ErrorCodes.runNotFound, `Run '${runId}' was not found.`);
  return { ...run, steps: await deps.data.runs.listSteps(runId) };
}

export async function listRuns(query: RunQuery, deps: RunDependencies): Promise<Page<Run>> {
  return deps.data.runs.list(query);
}

export function parseRunStatus(value: string | null): RunStatus | undefined {
  if (value === null) return undefined;
  if (!['queued', 'running', 'succeeded', 'failed', 'cancelled'].includes(value)) throw new AppError(ErrorCodes.requestInvalid, `status must be queued, running, succeeded, failed or cancelled (got '${value}').`);
  return value as RunStatus;
}
