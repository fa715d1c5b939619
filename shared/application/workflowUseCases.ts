import { AppError, ErrorCodes } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import type { Tenant } from '../domain/tenant.js';
import type { Workflow, WorkflowVersion } from '../domain/workflow.js';
import { validateDefinition, type ValidationContext, type WorkflowDefinition } from '../domain/workflow-language/index.js';
import type { Page, PageOptions, TenantDataStore } from '../ports/appStore.js';
import type { ScheduleDueIndex } from '../ports/scheduleDueIndex.js';
import type { RequestContext } from './requestContext.js';
import { forgetSchedules } from './scheduleUseCases.js';
import { createWorkflowSchema, updateWorkflowSchema, validateWorkflowSchema } from './requestSchemas.js';
import { validateRequest } from './validateRequest.js';

export interface WorkflowDependencies {
  data: TenantDataStore;
  /** Secret names the tenant has (for secret-reference checks). */
  secretNames: () => Promise<ReadonlySet<string>>;
  /** The connectors (and their actions) steps may name; `core` is always known. */
  connectors: ReadonlyMap<string, ReadonlySet<string>>;
  /** Checks literal action inputs against the action's input schema (see ValidationContext.actionInputProblems). */
  actionInputProblems?: ValidationContext['actionInputProblems'];
}

/** Builds what static checks need: known connectors, the tenant's secret names and workflow ids. */
async function validationContext(deps: WorkflowDependencies, definition: JsonObject): Promise<ValidationContext> {
  const text = JSON.stringify(definition);
  let workflowIds: Set<string> | undefined;
  if (text.includes('subWorkflow')) {
    workflowIds = new Set();
    let continuationToken: string | undefined;
    do {
      const page = await deps.data.workflows.list({ limit: 100, ...(continuationToken ? { continuationToken } : {}) });
      for (const workflow of page.items) workflowIds.add(workflow.id);
      continuationToken = page.continuationToken;
    } while (continuationToken);
  }
  const connectors = new Map([...deps.connectors].map(([name, actions]) => [name, { actions }]));
  return {
    connectors,
    secretNames: await deps.secretNames(),
    ...(deps.actionInputProblems ? { actionInputProblems: deps.actionInputProblems } : {}),
    ...(workflowIds ? { workflowExists: (id: string) => workflowIds!.has(id) } : {}),
  };
}

/** Validates a definition fully (schema and static checks); every problem is reported at once. */
export async function checkDefinition(definition: JsonObject, deps: WorkflowDependencies): Promise<WorkflowDefinition> {
  return validateDefinition(definition, await validationContext(deps, definition));
}

interface WorkflowBody {
  id?: string;
  name: string;
  description?: string;
  definition: JsonObject;
}

export async function createWorkflow(ctx: RequestContext, tenant: Tenant, body: unknown, deps: WorkflowDependencies): Promise<Workflow> {
  const request = validateRequest<Required<Pick<WorkflowBody, 'id'>> & WorkflowBody>(createWorkflowSchema, body);
  if ((await deps.data.workflows.count()) >= tenant.quotas.maxWorkflows) {
    throw new AppError(ErrorCodes.quotaExceeded, `Tenant '${tenant.id}' has reached its limit of ${tenant.quotas.maxWorkflows} workflows.`);
  }
  await checkDefinition(request.definition, deps);
  return deps.data.workflows.create({
    id: request.id,
    name: request.name,
    description: request.description ?? '',
    draft: request.definition,
    createdBy: ctx.principal.subject,
  });
}

export async function getWorkflow(workflowId: string, deps: Pick<WorkflowDependencies, 'data'>): Promise<Workflow> {
  const workflow = await deps.data.workflows.get(workflowId);
  if (!workflow) throw new AppError(ErrorCodes.workflowNotFound, `Workflow '${workflowId}' was not found.`);
  return workflow;
}

export async function listWorkflows(options: PageOptions, deps: Pick<WorkflowDependencies, 'data'>): Promise<Page<Workflow>> {
  return deps.data.workflows.list(options);
}

/** Replaces the draft. `If-Match` is required so concurrent editors cannot overwrite each other. */
export async function updateWorkflow(workflowId: string, body: unknown, ifRevision: number | undefined, deps: WorkflowDependencies): Promise<Workflow> {
  if (ifRevision === undefined) throw new AppError(ErrorCodes.preconditionRequired, 'Updating a workflow needs If-Match with the ETag you read.');
  const request = validateRequest<WorkflowBody>(updateWorkflowSchema, body);
  await getWorkflow(workflowId, deps);
  await checkDefinition(request.definition, deps);
  return deps.data.workflows.updateDraft(workflowId, { name: request.name, description: request.description ?? '', draft: request.definition }, { ifRevision });
}

/** Deletes the workflow with its versions and schedules; its schedules' due entries go after (see forgetSchedules). */
export async function deleteWorkflow(
  workflowId: string,
  ifRevision: number | undefined,
  deps: Pick<WorkflowDependencies, 'data'> & { scheduleDue: ScheduleDueIndex },
): Promise<void> {
  const schedules = await deps.data.schedules.listIdsByWorkflow(workflowId);
  await deps.data.workflows.delete(workflowId, ifRevision === undefined ? {} : { ifRevision });
  await forgetSchedules(deps.data.tenantId, schedules, deps.scheduleDue);
}

/** Freezes the draft as the next immutable version, after validating it again (secrets may have changed). */
export async function publishWorkflow(ctx: RequestContext, workflowId: string, ifRevision: number | undefined, deps: WorkflowDependencies): Promise<WorkflowVersion> {
  const workflow = await getWorkflow(workflowId, deps);
  await checkDefinition(workflow.draft, deps);
  return deps.data.workflows.publish(workflowId, ctx.principal.subject, ifRevision === undefined ? {} : { ifRevision });
}

export async function getWorkflowVersion(workflowId: string, version: number, deps: Pick<WorkflowDependencies, 'data'>): Promise<WorkflowVersion> {
  await getWorkflow(workflowId, deps);
  const found = await deps.data.workflows.getVersion(workflowId, version);
  if (!found) throw new AppError(ErrorCodes.versionNotFound, `Workflow '${workflowId}' has no version ${version}.`);
  return found;
}

export async function listWorkflowVersions(workflowId: string, options: PageOptions, deps: Pick<WorkflowDependencies, 'data'>): Promise<Page<WorkflowVersion>> {
  await getWorkflow(workflowId, deps);
  return deps.data.workflows.listVersions(workflowId, options);
}

/** `POST .../workflows:validate`: the problems a definition has, without saving it. */
export async function validateWorkflow(body: unknown, deps: WorkflowDependencies): Promise<{ valid: true }> {
  const request = validateRequest<{ definition: JsonObject }>(validateWorkflowSchema, body);
  await checkDefinition(request.definition, deps);
  return { valid: true };
}
