import * as df from 'durable-functions';
import { Validator } from '@cfworker/json-schema';
import { getContainer } from '../../shared/composition/container.js';
import { ErrorCodes } from '../../shared/domain/errors.js';
import type { JsonObject, JsonValue } from '../../shared/domain/json.js';
import { Activities, type SubWorkflowLoad, type SubWorkflowRequest } from '../activityHandles.js';

/** Fills top-level `default`s of the child's input schema, as a run's input is documented to get them. */
function withDefaults(input: JsonObject, schema: unknown): JsonObject {
  const properties = (schema as { properties?: Record<string, { default?: JsonValue }> } | undefined)?.properties;
  if (!properties || typeof properties !== 'object') return input;
  const result: JsonObject = { ...input };
  for (const [name, property] of Object.entries(properties)) {
    if (result[name] === undefined && property && typeof property === 'object' && property.default !== undefined) result[name] = property.default;
  }
  return result;
}

/**
 * Resolves a subWorkflow step's child: the workflow's published version (`latest` = the latest when the step
 * starts), its input (defaults applied, validated against the child's inputs schema), and the child run record
 * (`queued`, trigger `api` from `run:<parentRunId>`), created once: a replayed or retried activity finds the
 * run of the same idempotency key. A missing workflow or version, or an invalid input, is a permanent outcome.
 */
export async function loadSubWorkflow(request: SubWorkflowRequest): Promise<SubWorkflowLoad> {
  const data = await getContainer().appStore.forTenant(request.tenantId);
  const fail = (code: string, message: string): SubWorkflowLoad => ({ status: 'failed', error: { code, message } });
  const workflow = await data.workflows.get(request.workflowId);
  if (!workflow) return fail(ErrorCodes.workflowNotFound, `Workflow '${request.workflowId}' (called by step '${request.stepId}') was not found.`);
  const versionNumber = request.version === 'latest' ? workflow.latestVersion : request.version;
  if (versionNumber === null) return fail(ErrorCodes.versionNotFound, `Workflow '${request.workflowId}' (called by step '${request.stepId}') has no published version.`);
  const version = await data.workflows.getVersion(request.workflowId, versionNumber);
  if (!version) return fail(ErrorCodes.versionNotFound, `Workflow '${request.workflowId}' (called by step '${request.stepId}') has no version ${versionNumber}.`);

  const schema = version.definition['inputs'];
  const input = withDefaults(request.inputs, schema);
  if (schema && typeof schema === 'object') {
    const result = new Validator(schema as object, '2020-12', false).validate(input);
    if (!result.valid) {
      const first = result.errors[0];
      const where = first ? ` (${first.instanceLocation.replace(/^#/, '') || '/'}: ${first.error})` : '';
      return fail(ErrorCodes.runInputInvalid, `The inputs of step '${request.stepId}' do not match the inputs schema of '${request.workflowId}' version ${versionNumber}${where}.`);
    }
  }

  const parent = await data.runs.get(request.parentRunId);
  const { run } = await data.runs.create({
    id: request.childRunId,
    workflowId: request.workflowId,
    workflowVersion: versionNumber,
    trigger: { kind: 'api', source: `run:${request.parentRunId}` },
    input,
    status: 'queued',
    output: null,
    error: null,
    idempotencyKey: request.idempotencyKey,
    correlationId: parent?.correlationId ?? request.parentRunId,
    createdAt: new Date().toISOString(),
    startedAt: null,
    completedAt: null,
  });
  // A run created by an earlier attempt keeps the version it pinned.
  const pinned = run.workflowVersion === versionNumber ? version : await data.workflows.getVersion(request.workflowId, run.workflowVersion);
  if (!pinned) return fail(ErrorCodes.versionNotFound, `Workflow '${request.workflowId}' has no version ${run.workflowVersion}.`);
  return { status: 'ready', runId: run.id, version: run.workflowVersion, definition: pinned.definition, input: run.input };
}

df.app.activity(Activities.loadSubWorkflow.name, { handler: loadSubWorkflow as never });
