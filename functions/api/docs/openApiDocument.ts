import {
  createEventSubscriptionSchema,
  createHookSchema,
  createScheduleSchema,
  eventSourcesSchema,
  updateEventSubscriptionSchema,
  createTenantSchema,
  createWorkflowSchema,
  quotasSchema,
  rotateHookSecretSchema,
  startRunSchema,
  tenantEgressSchema,
  updateHookSchema,
  updateScheduleSchema,
  updateTenantSchema,
  updateWorkflowSchema,
  validateWorkflowSchema,
} from '../../../shared/application/requestSchemas.js';
import { RUN_EVENT_TYPES } from '../../../shared/domain/events.js';
import { DELIVERY_OUTCOMES, HOOK_SIGNATURE_FORMATS } from '../../../shared/domain/webhook.js';
import { MISSED_FIRE_POLICIES, SCHEDULE_INPUT_KEY, SCHEDULE_STATUSES } from '../../../shared/domain/schedule.js';
import { RUN_STATUSES, STEP_STATUSES, TRIGGER_KINDS } from '../../../shared/domain/run.js';
import { TENANT_PLACEMENTS, TENANT_STATUSES, TENANT_TIERS } from '../../../shared/domain/tenant.js';
import { definitionSchema } from '../../../shared/domain/workflow-language/index.js';

type Json = Record<string, unknown>;

/** Request schemas are used as they are: the same objects validate requests. Only their `$id`s are dropped. */
function component(schema: Json): Json {
  const { $id: _id, ...rest } = schema;
  return rest;
}

/**
 * The workflow definition schema's `$defs` become components of their own (`WorkflowDefinition.<name>`), and its
 * internal references are rewritten to point at them, so they resolve inside the OpenAPI document.
 */
function definitionComponents(): Record<string, Json> {
  const { $id: _id, $schema: _schema, $defs, ...root } = definitionSchema as unknown as Json & { $defs?: Record<string, Json> };
  const rewrite = (value: Json): Json => JSON.parse(JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, '"#/components/schemas/WorkflowDefinition.$1"')) as Json;
  const components: Record<string, Json> = { WorkflowDefinition: rewrite(root) };
  for (const [name, schema] of Object.entries($defs ?? {})) components[`WorkflowDefinition.${name}`] = rewrite(schema);
  return components;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const problem = (description: string): Json => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const json = (schema: Json, description: string, headers?: Json): Json => ({ description, content: { 'application/json': { schema } }, ...(headers ? { headers } : {}) });
const page = (item: string): Json => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: ref(item) }, continuationToken: { type: 'string' }, nextLink: { type: 'string' } },
});
const errors = { '400': problem('Invalid input: every problem is listed.'), '401': problem('No valid bearer token.'), '403': problem('The role or tenant does not allow it.'), '404': problem('Not found (also: another tenant’s resource).'), '429': problem('Rate limit or quota exceeded; see Retry-After.') };
const tenantPath = { name: 'tenantId', in: 'path', required: true, schema: { type: 'string' } };
const runPath = { name: 'runId', in: 'path', required: true, schema: { type: 'string' } };
const hookPath = { name: 'hookId', in: 'path', required: true, schema: { type: 'string', pattern: '^wh-[0-9a-f]{32}$' } };
const schedulePath = { name: 'scheduleId', in: 'path', required: true, schema: { type: 'string' } };
const subscriptionPath = { name: 'subscriptionId', in: 'path', required: true, schema: { type: 'string', pattern: '^es-[0-9a-f]{32}$' } };
const workflowPath = { name: 'workflowId', in: 'path', required: true, schema: { type: 'string' } };
const paging = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
  { name: 'continuationToken', in: 'query', schema: { type: 'string' } },
];
const ifMatch = { name: 'If-Match', in: 'header', schema: { type: 'string' }, description: 'The ETag you read, e.g. "r3".' };
const etag = { ETag: { schema: { type: 'string' } } };
const body = (name: string): Json => ({ required: true, content: { 'application/json': { schema: ref(name) } } });

/** The OpenAPI 3.1 document of the management API, built from the schemas that validate its requests. */
export function buildOpenApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'AutomateIQ management API', version, description: 'Tenants, workflows, runs, webhooks, schedules, secrets and audit. Authenticate with an Entra ID bearer token carrying an AutomateIQ app role.' },
    servers: [{ url: '/api' }],
    security: [{ bearer: [] }],
    paths: {
      '/tenants': {
        post: { operationId: 'createTenant', summary: 'Onboard a tenant (Platform.Admin)', requestBody: body('CreateTenantRequest'), responses: { '201': json(ref('Tenant'), 'Created', etag), '409': problem('The id or Entra tenant is taken.'), ...errors } },
        get: { operationId: 'listTenants', summary: 'List tenants (Platform.Admin)', parameters: [...paging, { name: 'status', in: 'query', schema: { enum: [...TENANT_STATUSES] } }], responses: { '200': json(page('Tenant'), 'A page of tenants'), ...errors } },
      },
      '/tenants/{tenantId}': {
        parameters: [tenantPath],
        get: { operationId: 'getTenant', summary: 'Get a tenant', responses: { '200': json(ref('Tenant'), 'The tenant', etag), ...errors } },
        patch: { operationId: 'updateTenant', summary: 'Change a tenant (Platform.Admin)', parameters: [ifMatch], requestBody: body('UpdateTenantRequest'), responses: { '200': json(ref('Tenant'), 'Updated', etag), '412': problem('The ETag no longer matches.'), ...errors } },
        delete: { operationId: 'deleteTenant', summary: 'Offboard a tenant and delete its data (Platform.Admin)', parameters: [ifMatch], responses: { '204': { description: 'Deleted' }, ...errors } },
      },
      '/tenants/{tenantId}/workflows': {
        parameters: [tenantPath],
        post: { operationId: 'createWorkflow', summary: 'Create a workflow (Tenant.Admin)', requestBody: body('CreateWorkflowRequest'), responses: { '201': json(ref('Workflow'), 'Created', etag), '409': problem('The id is taken.'), ...errors } },
        get: { operationId: 'listWorkflows', summary: 'List workflows', parameters: paging, responses: { '200': json(page('WorkflowSummary'), 'A page of workflows'), ...errors } },
      },
      '/tenants/{tenantId}/workflows:validate': {
        parameters: [tenantPath],
        post: { operationId: 'validateWorkflow', summary: 'Validate a definition without saving it', requestBody: body('ValidateWorkflowRequest'), responses: { '200': json({ type: 'object', properties: { valid: { const: true } } }, 'Valid'), ...errors } },
      },
      '/tenants/{tenantId}/workflows/{workflowId}': {
        parameters: [tenantPath, workflowPath],
        get: { operationId: 'getWorkflow', summary: 'Get a workflow with its draft', responses: { '200': json(ref('Workflow'), 'The workflow', etag), ...errors } },
        put: { operationId: 'updateWorkflow', summary: 'Replace the draft (Tenant.Admin; If-Match required)', parameters: [{ ...ifMatch, required: true }], requestBody: body('UpdateWorkflowRequest'), responses: { '200': json(ref('Workflow'), 'Updated', etag), '412': problem('The ETag no longer matches.'), '428': problem('If-Match is missing.'), ...errors } },
        delete: { operationId: 'deleteWorkflow', summary: 'Delete a workflow with its versions and schedules (Tenant.Admin)', parameters: [ifMatch], responses: { '204': { description: 'Deleted' }, ...errors } },
      },
      '/tenants/{tenantId}/workflows/{workflowId}/versions': {
        parameters: [tenantPath, workflowPath],
        post: { operationId: 'publishWorkflow', summary: 'Publish the draft as the next version (Tenant.Admin)', parameters: [ifMatch], responses: { '201': json(ref('WorkflowVersion'), 'Published'), ...errors } },
        get: { operationId: 'listWorkflowVersions', summary: 'List published versions', parameters: paging, responses: { '200': json(page('WorkflowVersion'), 'A page of versions'), ...errors } },
      },
      '/tenants/{tenantId}/workflows/{workflowId}/versions/{version}': {
        parameters: [tenantPath, workflowPath, { name: 'version', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
        get: { operationId: 'getWorkflowVersion', summary: 'Get one published version', responses: { '200': json(ref('WorkflowVersion'), 'The version'), ...errors } },
      },
      '/tenants/{tenantId}/workflows/{workflowId}/runs': {
        parameters: [tenantPath, workflowPath],
        post: {
          operationId: 'startRun',
          summary: 'Start a run of the latest (or a given) published version',
          parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 }, description: 'The same key returns the first run instead of starting another.' }],
          requestBody: { content: { 'application/json': { schema: ref('StartRunRequest') } } },
          responses: { '202': json(ref('Run'), 'Queued', { Location: { schema: { type: 'string' } } }), '409': problem('The workflow has no published version.'), ...errors },
        },
      },
      '/tenants/{tenantId}/runs': {
        parameters: [tenantPath],
        get: {
          operationId: 'listRuns',
          summary: 'List runs, newest first',
          parameters: [...paging, { name: 'workflowId', in: 'query', schema: { type: 'string' } }, { name: 'status', in: 'query', schema: { enum: [...RUN_STATUSES] } }, { name: 'createdFrom', in: 'query', schema: { type: 'string', format: 'date-time' } }, { name: 'createdTo', in: 'query', schema: { type: 'string', format: 'date-time' } }],
          responses: { '200': json(page('Run'), 'A page of runs'), ...errors },
        },
      },
      '/tenants/{tenantId}/runs/{runId}': {
        parameters: [tenantPath, runPath],
        get: { operationId: 'getRun', summary: 'Get a run with its steps', responses: { '200': json(ref('RunWithSteps'), 'The run'), ...errors } },
      },
      '/tenants/{tenantId}/runs/{runId}:cancel': {
        parameters: [tenantPath, runPath],
        post: {
          operationId: 'cancelRun',
          summary: 'Cancel a queued or running run (cancelling a cancelled run answers it again)',
          responses: { '200': json(ref('RunWithSteps'), 'The cancelled run'), ...errors, '409': problem('The run has already finished (RUN.NOT_RUNNING).') },
        },
      },
      '/tenants/{tenantId}/runs/{runId}:retry': {
        parameters: [tenantPath, runPath],
        post: {
          operationId: 'retryRun',
          summary: 'Start a new run from a finished one, from the start or from its failed step',
          requestBody: { required: false, content: { 'application/json': { schema: ref('RetryRunRequest') } } },
          responses: { '202': json(ref('Run'), 'The new run (retryOf names the original)', { Location: { schema: { type: 'string' } } }), ...errors, '409': problem('Only a failed or cancelled run can be retried.') },
        },
      },
      '/tenants/{tenantId}/runs/{runId}/events/{name}': {
        parameters: [tenantPath, runPath, { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'The event a waitForEvent step waits on, or approval:<stepId>.' }],
        post: {
          operationId: 'raiseRunEvent',
          summary: 'Deliver an event (or an approval decision) to the steps of a run waiting on it now, at any depth',
          parameters: [
            { name: 'correlationKey', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 200 }, description: 'Steps waiting with a correlation key take only events raised with the same key.' },
            { name: 'waitId', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 200 }, description: 'One of several waiting approvals (the EVENT.AMBIGUOUS answer lists them).' },
          ],
          requestBody: { required: false, content: { 'application/json': { schema: {} } } },
          responses: {
            '202': json(
              {
                type: 'object',
                properties: {
                  runId: { type: 'string' },
                  stepId: { type: 'string' },
                  event: { type: 'string' },
                  accepted: { type: 'boolean' },
                  deliveredTo: { type: 'array', items: { type: 'object', properties: { waitId: { type: 'string' }, stepId: { type: 'string' } } } },
                },
              },
              'Accepted',
            ),
            ...errors,
            '409': problem('The run has finished (RUN.NOT_RUNNING), several approvals wait (EVENT.AMBIGUOUS), or the approver has voted (APPROVAL.ALREADY_DECIDED).'),
          },
        },
      },
      '/tenants/{tenantId}/schedules': {
        parameters: [tenantPath],
        post: {
          operationId: 'createSchedule',
          summary: 'Create a cron schedule of a workflow (Tenant.Admin)',
          requestBody: body('CreateScheduleRequest'),
          responses: { '201': json(ref('Schedule'), 'Created', { ...etag, Location: { schema: { type: 'string' } } }), '409': problem('The id is taken (SCHEDULE.ALREADY_EXISTS).'), ...errors },
        },
        get: { operationId: 'listSchedules', summary: 'List schedules by id', parameters: [...paging, { name: 'workflowId', in: 'query', schema: { type: 'string' } }], responses: { '200': json(page('Schedule'), 'A page of schedules'), ...errors } },
      },
      '/tenants/{tenantId}/schedules/{scheduleId}': {
        parameters: [tenantPath, schedulePath],
        get: {
          operationId: 'getSchedule',
          summary: 'Get a schedule with its next fire times',
          parameters: [{ name: 'count', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 5 }, description: 'How many next fire times to list.' }],
          responses: { '200': json(ref('ScheduleWithFireTimes'), 'The schedule', etag), ...errors },
        },
        patch: {
          operationId: 'updateSchedule',
          summary: 'Change a schedule (Tenant.Admin; If-Match required)',
          parameters: [{ ...ifMatch, required: true }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('UpdateScheduleRequest') }, 'application/merge-patch+json': { schema: ref('UpdateScheduleRequest') } } },
          responses: { '200': json(ref('Schedule'), 'Updated', etag), '412': problem('The ETag no longer matches.'), '428': problem('If-Match is missing.'), ...errors },
        },
        delete: { operationId: 'deleteSchedule', summary: 'Delete a schedule (idempotent, Tenant.Admin)', parameters: [ifMatch], responses: { '204': { description: 'Deleted' }, ...errors } },
      },
      '/tenants/{tenantId}/schedules/{scheduleId}:pause': {
        parameters: [tenantPath, schedulePath],
        post: { operationId: 'pauseSchedule', summary: 'Stop firing until resumed (idempotent, Tenant.Admin)', parameters: [ifMatch], responses: { '200': json(ref('Schedule'), 'Paused', etag), '412': problem('The ETag no longer matches.'), ...errors } },
      },
      '/tenants/{tenantId}/schedules/{scheduleId}:resume': {
        parameters: [tenantPath, schedulePath],
        post: {
          operationId: 'resumeSchedule',
          summary: 'Fire again from the next slot after now; slots passed while paused are not fired (idempotent, Tenant.Admin)',
          parameters: [ifMatch],
          responses: { '200': json(ref('Schedule'), 'Resumed', etag), '412': problem('The ETag no longer matches.'), ...errors },
        },
      },
      '/tenants/{tenantId}/secrets': {
        parameters: [tenantPath],
        get: { operationId: 'listSecrets', summary: 'The names and latest versions of the tenant’s secrets, never values (Tenant.Admin)', responses: { '200': json(page('Secret'), 'The secrets'), ...errors } },
      },
      '/tenants/{tenantId}/secrets/{name}': {
        parameters: [tenantPath, { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,127}$' } }],
        put: {
          operationId: 'putSecret',
          summary: 'Create a secret (201) or rotate it to a new version (200) (Tenant.Admin)',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: { type: 'string', minLength: 1 } } } } } },
          responses: { '200': json(ref('Secret'), 'Rotated'), '201': json(ref('Secret'), 'Created'), ...errors, '413': problem('The value exceeds 64 KB.') },
        },
        get: { operationId: 'getSecret', summary: 'A secret’s metadata, never its value (Tenant.Admin)', responses: { '200': json(ref('Secret'), 'The secret'), ...errors } },
        delete: { operationId: 'deleteSecret', summary: 'Delete a secret with every version (idempotent, Tenant.Admin)', responses: { '204': { description: 'Deleted' }, ...errors } },
      },
      '/tenants/{tenantId}/audit': {
        parameters: [tenantPath],
        get: {
          operationId: 'listAudit',
          summary: 'The audit log of every mutating call (Tenant.Admin)',
          parameters: [...paging, { name: 'action', in: 'query', schema: { type: 'string' } }, { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } }, { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } }],
          responses: { '200': json(page('AuditEntry'), 'A page of audit entries'), ...errors },
        },
      },
      '/tenants/{tenantId}/eventSubscriptions': {
        parameters: [tenantPath],
        post: {
          operationId: 'createEventSubscription',
          summary: 'Subscribe a workflow to Event Grid event types with subject filters (Tenant.Admin); events from the tenant’s registered eventSources only (docs/events.md)',
          requestBody: body('CreateEventSubscriptionRequest'),
          responses: {
            '201': json(ref('EventSubscription'), 'Created', { ...etag, Location: { schema: { type: 'string' } } }),
            ...errors,
            '400': problem('Invalid subscription (EVENT_SUBSCRIPTION.INVALID, every problem listed).'),
            '404': problem('No such workflow (WORKFLOW.NOT_FOUND) or tenant.'),
            '429': problem('The tenant has its maximum of maxWorkflows subscriptions (QUOTA.EXCEEDED).'),
          },
        },
        get: { operationId: 'listEventSubscriptions', summary: 'The tenant’s event subscriptions (Tenant.User+)', parameters: paging, responses: { '200': json(page('EventSubscription'), 'A page of event subscriptions'), ...errors } },
      },
      '/tenants/{tenantId}/eventSubscriptions/{subscriptionId}': {
        parameters: [tenantPath, subscriptionPath],
        get: { operationId: 'getEventSubscription', summary: 'Get an event subscription (Tenant.User+)', responses: { '200': json(ref('EventSubscription'), 'The subscription', etag), ...errors, '404': problem('No such subscription (EVENT_SUBSCRIPTION.NOT_FOUND).') } },
        patch: {
          operationId: 'updateEventSubscription',
          summary: 'Change an event subscription (Tenant.Admin)',
          parameters: [ifMatch],
          requestBody: body('UpdateEventSubscriptionRequest'),
          responses: { '200': json(ref('EventSubscription'), 'Updated', etag), '412': problem('If-Match does not match.'), ...errors, '404': problem('No such subscription (EVENT_SUBSCRIPTION.NOT_FOUND) or workflow.') },
        },
        delete: { operationId: 'deleteEventSubscription', summary: 'Delete an event subscription (idempotent, Tenant.Admin)', parameters: [ifMatch], responses: { '204': { description: 'Deleted' }, '412': problem('If-Match does not match.'), ...errors } },
      },
      '/tenants/{tenantId}/hooks': {
        parameters: [tenantPath],
        post: {
          operationId: 'createHook',
          summary: 'Create a webhook for a workflow; the answer holds its ingress url and signing secret, shown this once (Tenant.Admin)',
          requestBody: body('CreateHookRequest'),
          responses: { '201': json(ref('HookWithSecret'), 'Created', { ...etag, Location: { schema: { type: 'string' } } }), ...errors },
        },
        get: { operationId: 'listHooks', summary: 'The tenant’s webhooks, never secrets (Tenant.Admin)', parameters: paging, responses: { '200': json(page('Hook'), 'A page of hooks'), ...errors } },
      },
      '/tenants/{tenantId}/hooks/{hookId}': {
        parameters: [tenantPath, hookPath],
        get: { operationId: 'getHook', summary: 'Get a webhook (Tenant.Admin)', responses: { '200': json(ref('Hook'), 'The hook', etag), ...errors } },
        patch: {
          operationId: 'updateHook',
          summary: 'Change a webhook’s name, enabled flag, body limit or response mode (Tenant.Admin)',
          parameters: [ifMatch],
          requestBody: body('UpdateHookRequest'),
          responses: { '200': json(ref('Hook'), 'Updated', etag), '412': problem('If-Match does not match.'), ...errors },
        },
        delete: { operationId: 'deleteHook', summary: 'Delete a webhook with its deliveries and secret (idempotent, Tenant.Admin)', parameters: [ifMatch], responses: { '204': { description: 'Deleted' }, '412': problem('If-Match does not match.'), ...errors } },
      },
      '/tenants/{tenantId}/hooks/{hookId}:rotateSecret': {
        parameters: [tenantPath, hookPath],
        post: {
          operationId: 'rotateHookSecret',
          summary: 'A new signing secret (shown this once); the previous one stays valid for the grace period (Tenant.Admin)',
          parameters: [ifMatch],
          requestBody: { content: { 'application/json': { schema: ref('RotateHookSecretRequest') } } },
          responses: { '200': json(ref('HookWithSecret'), 'Rotated', etag), '412': problem('If-Match does not match.'), ...errors },
        },
      },
      '/tenants/{tenantId}/hooks/{hookId}:revokePreviousSecret': {
        parameters: [tenantPath, hookPath],
        post: {
          operationId: 'revokePreviousHookSecret',
          summary: 'End the rotation’s grace period now: only the current secret verifies (Tenant.Admin)',
          parameters: [ifMatch],
          responses: { '200': json(ref('Hook'), 'Revoked', etag), '409': problem('There is no previous secret (WEBHOOK.NO_PREVIOUS_SECRET).'), ...errors },
        },
      },
      '/tenants/{tenantId}/hooks/{hookId}/deliveries': {
        parameters: [tenantPath, hookPath],
        get: { operationId: 'listHookDeliveries', summary: 'Recent deliveries, newest first, with outcome, reason, run id and run status (Tenant.Admin)', parameters: paging, responses: { '200': json(page('HookDelivery'), 'A page of deliveries'), ...errors } },
      },
      '/tenants/{tenantId}/hooks/{hookId}/deliveries/{deliveryId}:replay': {
        parameters: [tenantPath, hookPath, { name: 'deliveryId', in: 'path', required: true, schema: { type: 'string' }, description: 'The sender’s delivery id (webhook-id or X-GitHub-Delivery).' }],
        post: {
          operationId: 'replayHookDelivery',
          summary: 'Start a new run from a stored delivery’s payload; the original stays (Tenant.Admin)',
          responses: { '202': json({ type: 'object', properties: { deliveryId: { type: 'string' }, replayId: { type: 'string' }, run: ref('Run') } }, 'Queued', { Location: { schema: { type: 'string' } } }), ...errors },
        },
      },
      '/hooks/{hookId}': {
        parameters: [hookPath],
        post: {
          operationId: 'receiveWebhook',
          summary: 'Webhook ingress: authenticated by its HMAC signature (Standard Webhooks or X-Hub-Signature-256), stored before the answer, deduplicated by delivery id',
          security: [],
          parameters: [
            { name: 'webhook-id', in: 'header', schema: { type: 'string' }, description: 'Standard Webhooks: the delivery id (deduplication key).' },
            { name: 'webhook-timestamp', in: 'header', schema: { type: 'string' }, description: 'Standard Webhooks: Unix seconds, within 5 minutes of the server time.' },
            { name: 'webhook-signature', in: 'header', schema: { type: 'string' }, description: 'Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`.' },
            { name: 'X-Hub-Signature-256', in: 'header', schema: { type: 'string' }, description: 'GitHub: `sha256=<hex HMAC-SHA256 of the body>`.' },
            { name: 'X-GitHub-Delivery', in: 'header', schema: { type: 'string' }, description: 'GitHub: the delivery id (deduplication key).' },
          ],
          requestBody: { content: { 'application/json': { schema: {} }, 'application/x-www-form-urlencoded': { schema: { type: 'object' } }, 'text/plain': { schema: { type: 'string' } } } },
          responses: {
            '200': json(ref('WebhookAnswer'), 'A duplicate delivery (the first delivery’s run), or, for a hook that answers with the output, the ended run'),
            '202': json(ref('WebhookAnswer'), 'Stored and queued'),
            '400': problem('No usable delivery id, or a body that is not what its Content-Type says.'),
            '401': problem('Signature missing or invalid, or webhook-timestamp outside 5 minutes (WEBHOOK.SIGNATURE_MISSING, WEBHOOK.SIGNATURE_INVALID, WEBHOOK.TIMESTAMP_OUT_OF_RANGE).'),
            '404': problem('No such enabled hook (WEBHOOK.NOT_FOUND).'),
            '413': problem('The body exceeds the hook’s limit (WEBHOOK.BODY_TOO_LARGE).'),
            '415': problem('Not JSON, a form or text (WEBHOOK.UNSUPPORTED_MEDIA_TYPE).'),
            '429': problem('The hook’s rate limit or the tenant’s run quota.'),
          },
        },
      },
      '/platform/admission': {
        get: { operationId: 'getRunAdmission', summary: 'Run slots of the platform: capacity, held, waiting per tier (Platform.Admin)', responses: { '200': json(ref('RunAdmission'), 'The admission state'), ...errors } },
      },
      '/health': { get: { operationId: 'health', summary: 'Version and backend health', security: [], responses: { '200': { description: 'Healthy' }, '503': { description: 'A backend is down' } } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail', 'correlationId'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string', description: 'Stable error code, e.g. WORKFLOW.INVALID.' },
            detail: { type: 'string' },
            correlationId: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' }, kind: { type: 'string' } } } },
          },
        },
        CreateTenantRequest: component(createTenantSchema),
        UpdateTenantRequest: component(updateTenantSchema),
        CreateWorkflowRequest: { ...component(createWorkflowSchema), properties: { ...createWorkflowSchema.properties, definition: ref('WorkflowDefinition') } },
        UpdateWorkflowRequest: { ...component(updateWorkflowSchema), properties: { ...updateWorkflowSchema.properties, definition: ref('WorkflowDefinition') } },
        ValidateWorkflowRequest: { ...component(validateWorkflowSchema), properties: { definition: ref('WorkflowDefinition') } },
        StartRunRequest: component(startRunSchema),
        CreateScheduleRequest: component(createScheduleSchema),
        UpdateScheduleRequest: component(updateScheduleSchema),
        Schedule: {
          type: 'object',
          properties: {
            tenantId: { type: 'string' },
            id: { type: 'string' },
            workflowId: { type: 'string' },
            cron: { type: 'string' },
            timeZone: { type: 'string' },
            input: { type: 'object', description: `Each run gets it, plus '${SCHEDULE_INPUT_KEY}': { scheduleId, scheduledTime, missedFires }.` },
            version: { type: ['integer', 'null'] },
            missedFirePolicy: { enum: [...MISSED_FIRE_POLICIES] },
            status: { enum: [...SCHEDULE_STATUSES] },
            enabled: { type: 'boolean' },
            nextFireTime: { type: ['string', 'null'], format: 'date-time', description: 'The next slot; null unless active.' },
            lastFireTime: { type: ['string', 'null'], format: 'date-time', description: 'The scheduled time of the last fire that started a run.' },
            lastRunId: { type: ['string', 'null'] },
            lastError: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' }, at: { type: 'string', format: 'date-time' }, scheduledTime: { type: ['string', 'null'] } } },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            createdBy: { type: 'string' },
            etag: { type: 'string' },
          },
        },
        ScheduleWithFireTimes: { allOf: [ref('Schedule'), { type: 'object', properties: { nextFireTimes: { type: 'array', items: { type: 'string', format: 'date-time' } } } }] },
        ...definitionComponents(),
        Quotas: component(quotasSchema),
        RunAdmission: {
          type: 'object',
          properties: {
            capacity: { type: 'integer', description: 'Runs the platform executes at once (AIQ_MAX_ACTIVE_RUNS).' },
            admitted: { type: 'integer', description: 'Slots held by executing runs.' },
            waiting: { type: 'object', properties: Object.fromEntries(TENANT_TIERS.map((tier) => [tier, { type: 'integer' }])), description: 'Runs waiting for a slot, per tier.' },
          },
        },
        TenantEgress: component(tenantEgressSchema),
        Tenant: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            tier: { enum: [...TENANT_TIERS] },
            status: { enum: [...TENANT_STATUSES] },
            quotas: ref('Quotas'),
            entraTenantId: { type: ['string', 'null'] },
            placement: { enum: [...TENANT_PLACEMENTS] },
            egress: ref('TenantEgress'),
            eventSources: ref('EventSources'),
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            etag: { type: 'string' },
          },
        },
        WorkflowSummary: {
          type: 'object',
          properties: {
            tenantId: { type: 'string' },
            id: { type: 'string' },
            name: { type: 'string' },
            description: { type: 'string' },
            latestVersion: { type: ['integer', 'null'] },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            createdBy: { type: 'string' },
            etag: { type: 'string' },
          },
        },
        Workflow: { allOf: [ref('WorkflowSummary'), { type: 'object', properties: { definition: ref('WorkflowDefinition') } }] },
        WorkflowVersion: {
          type: 'object',
          properties: { tenantId: { type: 'string' }, workflowId: { type: 'string' }, version: { type: 'integer' }, definition: ref('WorkflowDefinition'), publishedAt: { type: 'string', format: 'date-time' }, publishedBy: { type: 'string' } },
        },
        Run: {
          type: 'object',
          properties: {
            tenantId: { type: 'string' },
            id: { type: 'string' },
            workflowId: { type: 'string' },
            workflowVersion: { type: 'integer' },
            trigger: { type: 'object', properties: { kind: { enum: [...TRIGGER_KINDS] }, source: { type: 'string' } } },
            input: {},
            status: { enum: [...RUN_STATUSES] },
            output: {},
            error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' }, stepId: { type: 'string' } } },
            idempotencyKey: { type: ['string', 'null'] },
            correlationId: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            startedAt: { type: ['string', 'null'], format: 'date-time' },
            completedAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        RunWithSteps: {
          allOf: [
            ref('Run'),
            {
              type: 'object',
              properties: {
                steps: {
                  type: 'array',
                  items: { type: 'object', properties: { stepId: { type: 'string' }, iteration: { type: ['integer', 'null'] }, status: { enum: [...STEP_STATUSES] }, attempts: { type: 'integer' }, startedAt: { type: ['string', 'null'] }, completedAt: { type: ['string', 'null'] }, error: {}, output: {}, outputRef: { type: ['string', 'null'] } } },
                },
              },
            },
          ],
        },
        RetryRunRequest: {
          type: 'object',
          additionalProperties: false,
          properties: { from: { enum: ['start', 'failedStep'], default: 'start' }, version: { enum: ['pinned', 'latest'], default: 'pinned' } },
        },
        EventSources: eventSourcesSchema,
        CreateEventSubscriptionRequest: component(createEventSubscriptionSchema),
        UpdateEventSubscriptionRequest: component(updateEventSubscriptionSchema),
        EventSubscription: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            tenantId: { type: 'string' },
            workflowId: { type: 'string' },
            eventTypes: { type: 'array', items: { type: 'string' } },
            subjectBeginsWith: { type: ['string', 'null'] },
            subjectEndsWith: { type: ['string', 'null'] },
            caseSensitive: { type: 'boolean' },
            enabled: { type: 'boolean' },
            createdBy: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            etag: { type: 'string' },
            links: { type: 'object' },
          },
        },
        EventRunInput: {
          type: 'object',
          description: 'The input of a run an event subscription starts: the event, in one shape for both schemas.',
          properties: {
            id: { type: 'string' },
            type: { type: 'string', description: 'eventType (Event Grid) or type (CloudEvents).' },
            subject: { type: 'string' },
            source: { type: 'string', description: 'topic (Event Grid) or source (CloudEvents).' },
            time: { type: ['string', 'null'] },
            schema: { enum: ['eventgrid', 'cloudevents'] },
            data: {},
          },
        },
        RunEvent: {
          type: 'object',
          description: 'An event the platform publishes to its Event Grid topic (Event Grid schema).',
          properties: {
            id: { type: 'string', description: '<runId>:<eventType>: the same on a retried publish.' },
            eventType: { enum: [...RUN_EVENT_TYPES] },
            subject: { type: 'string', description: '/tenants/{tenantId}/workflows/{workflowId}/runs/{runId}' },
            eventTime: { type: 'string', format: 'date-time' },
            dataVersion: { const: '1' },
            data: {
              type: 'object',
              properties: {
                tenantId: { type: 'string' },
                runId: { type: 'string' },
                workflowId: { type: 'string' },
                version: { type: 'integer' },
                status: { enum: [...RUN_STATUSES] },
                trigger: { enum: [...TRIGGER_KINDS] },
                errorCode: { type: ['string', 'null'] },
                errorStepId: { type: ['string', 'null'] },
                createdAt: { type: 'string', format: 'date-time' },
                startedAt: { type: ['string', 'null'], format: 'date-time' },
                completedAt: { type: ['string', 'null'], format: 'date-time' },
                durationMs: { type: ['integer', 'null'] },
              },
            },
          },
        },
        CreateHookRequest: component(createHookSchema),
        UpdateHookRequest: component(updateHookSchema),
        RotateHookSecretRequest: component(rotateHookSecretSchema),
        Hook: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            tenantId: { type: 'string' },
            workflowId: { type: 'string' },
            name: { type: 'string' },
            signature: { enum: [...HOOK_SIGNATURE_FORMATS] },
            enabled: { type: 'boolean' },
            maxBodyBytes: { type: 'integer' },
            respondWith: { type: 'object', properties: { mode: { enum: ['accepted', 'output'] }, timeoutSeconds: { type: 'integer' } } },
            url: { type: 'string', description: 'Where senders POST: /api/hooks/{hookId}.' },
            previousSecretValidUntil: { type: ['string', 'null'], format: 'date-time' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            createdBy: { type: 'string' },
            etag: { type: 'string' },
            links: { type: 'object' },
          },
        },
        HookWithSecret: { allOf: [ref('Hook'), { type: 'object', required: ['secret'], properties: { secret: { type: 'string', description: 'Shown once. Standard Webhooks: whsec_<base64>; GitHub: a plain string.' } } }] },
        HookDelivery: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            hookId: { type: 'string' },
            deliveryId: { type: ['string', 'null'] },
            outcome: { enum: [...DELIVERY_OUTCOMES] },
            reason: { type: ['string', 'null'], description: 'The error code of a rejection, or why the run could not start.' },
            runId: { type: ['string', 'null'] },
            runStatus: { type: ['string', 'null'] },
            receivedAt: { type: 'string', format: 'date-time' },
            contentType: { type: ['string', 'null'] },
            bodyBytes: { type: 'integer' },
            links: { type: 'object' },
          },
        },
        WebhookAnswer: {
          type: 'object',
          properties: { runId: { type: 'string' }, deliveryId: { type: 'string' }, status: { type: 'string' }, duplicate: { type: 'boolean' }, output: {}, error: {} },
        },
        Secret: {
          type: 'object',
          properties: { name: { type: 'string' }, version: { type: 'string' }, updatedAt: { type: 'string', format: 'date-time' }, href: { type: 'string' } },
        },
        AuditEntry: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            at: { type: 'string', format: 'date-time' },
            actor: { type: 'object', properties: { subject: { type: 'string' }, name: { type: ['string', 'null'] }, roles: { type: 'array', items: { type: 'string' } } } },
            action: { type: 'string' },
            target: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } } },
            outcome: { enum: ['success', 'failure'] },
            errorCode: { type: ['string', 'null'] },
            correlationId: { type: 'string' },
          },
        },
      },
    },
  };
}
