import { TENANT_EGRESS_LIMITS } from '../domain/egress.js';
import { MISSED_FIRE_POLICIES, SCHEDULE_INPUT_KEY } from '../domain/schedule.js';
import { EVENT_LIMITS } from '../domain/events.js';
import { TENANT_PLACEMENTS, TENANT_STATUSES, TENANT_TIERS } from '../domain/tenant.js';

/**
 * The JSON Schemas (2020-12) of the management API's request bodies. The same objects validate requests and
 * describe them in the OpenAPI document.
 */
const slug = { type: 'string', pattern: '^[a-z][a-z0-9-]{1,61}[a-z0-9]$', description: 'Lower-case letters, digits and hyphens; 3-63 characters.' } as const;
const guid = { type: 'string', format: 'uuid', description: 'An Entra ID directory (tenant) id.' } as const;

export const quotasSchema = {
  type: 'object',
  description: 'Overrides of the tier defaults; omitted fields keep the default.',
  additionalProperties: false,
  properties: {
    requestsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 10000 },
    runsPerDay: { type: 'integer', minimum: 0 },
    maxWorkflows: { type: 'integer', minimum: 0 },
    maxPayloadBytes: { type: 'integer', minimum: 1024, maximum: 100 * 1024 * 1024 },
    maxConcurrentRuns: { type: 'integer', minimum: 1 },
  },
} as const;

/** A tenant's egress allow-list (Platform.Admin only; merged with the operator's for this tenant's steps). */
const tenantEgressObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allowHosts: {
      type: 'array',
      maxItems: TENANT_EGRESS_LIMITS.maxHosts,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 260, description: 'A hostname (api.internal), *.suffix, IP address or CIDR (10.1.0.0/16).' },
    },
    allowPorts: { type: 'array', maxItems: TENANT_EGRESS_LIMITS.maxPorts, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: 65535 } },
  },
} as const;

export const tenantEgressSchema = {
  description:
    "What this tenant's steps may reach besides the public internet on ports 80/443, on top of the operator's allow-list: private, loopback or link-local hosts and extra ports. Cloud metadata endpoints can never be opened. null removes the list.",
  anyOf: [tenantEgressObject, { type: 'null' }],
} as const;

export const createTenantSchema = {
  $id: 'CreateTenantRequest',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'tier'],
  properties: {
    id: slug,
    name: { type: 'string', minLength: 1, maxLength: 200 },
    tier: { enum: [...TENANT_TIERS] },
    entraTenantId: guid,
    placement: { enum: [...TENANT_PLACEMENTS], default: 'shared' },
    quotas: quotasSchema,
    egress: tenantEgressSchema,
  },
} as const;

/** The Event Grid topics / CloudEvents sources whose events belong to a tenant (Platform.Admin only). */
export const eventSourcesSchema = {
  type: 'array',
  maxItems: EVENT_LIMITS.eventSources,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: EVENT_LIMITS.eventSourceLength },
  description: 'Event Grid topic resource ids (the `topic` Event Grid stamps on each event) or CloudEvents `source` values; each belongs to one tenant at most. Compared case-insensitively.',
} as const;

export const updateTenantSchema = {
  $id: 'UpdateTenantRequest',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    tier: { enum: [...TENANT_TIERS] },
    status: { enum: [...TENANT_STATUSES] },
    entraTenantId: { anyOf: [guid, { type: 'null' }] },
    quotas: quotasSchema,
    egress: tenantEgressSchema,
    eventSources: eventSourcesSchema,
  },
} as const;

const workflowId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]?$', description: 'Unique per tenant; lower-case letters, digits, hyphens.' } as const;

export const createWorkflowSchema = {
  $id: 'CreateWorkflowRequest',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'definition'],
  properties: {
    id: workflowId,
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    definition: { type: 'object', description: 'The workflow definition (see the workflow language).' },
  },
} as const;

export const updateWorkflowSchema = {
  $id: 'UpdateWorkflowRequest',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'definition'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    definition: { type: 'object' },
  },
} as const;

export const validateWorkflowSchema = {
  $id: 'ValidateWorkflowRequest',
  type: 'object',
  additionalProperties: false,
  required: ['definition'],
  properties: { definition: { type: 'object' } },
} as const;

export const startRunSchema = {
  $id: 'StartRunRequest',
  type: 'object',
  additionalProperties: false,
  properties: {
    input: { description: 'The run input, validated against the workflow inputs schema.' },
    version: { type: 'integer', minimum: 1, description: 'A published version; default: the latest.' },
  },
} as const;

const hookResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mode'],
  description: '`accepted`: answer 202 with the run id at once. `output`: wait up to timeoutSeconds for the run to end and answer 200 with its output (202 if it has not ended).',
  properties: {
    mode: { enum: ['accepted', 'output'] },
    timeoutSeconds: { type: 'integer', minimum: 1, maximum: 30, default: 10 },
  },
} as const;

const hookSettings = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  enabled: { type: 'boolean', default: true, description: 'A disabled hook answers 404 and starts nothing.' },
  maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 100 * 1024 * 1024, description: 'Largest body accepted (default 1 MB, at most the tenant’s maxPayloadBytes).' },
  respondWith: hookResponseSchema,
} as const;

export const createHookSchema = {
  $id: 'CreateHookRequest',
  type: 'object',
  additionalProperties: false,
  required: ['workflowId'],
  properties: {
    workflowId: { type: 'string', minLength: 1, maxLength: 128 },
    signature: { enum: ['standard-webhooks', 'github'], default: 'standard-webhooks', description: 'How senders sign requests.' },
    ...hookSettings,
  },
} as const;

export const updateHookSchema = {
  $id: 'UpdateHookRequest',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: hookSettings,
} as const;

export const rotateHookSecretSchema = {
  $id: 'RotateHookSecretRequest',
  type: 'object',
  additionalProperties: false,
  properties: {
    gracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 7 * 24 * 3600, default: 24 * 3600, description: 'How long the previous secret stays valid.' },
  },
} as const;

const scheduleFields = {
  cron: {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    description: '5 fields (minute hour day-of-month month day-of-week) or 6 (second first; the second must be one number). croner syntax.',
  },
  timeZone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone the cron is evaluated in, e.g. Europe/Berlin or UTC.' },
  input: { type: 'object', description: `The run input; each run also gets '${SCHEDULE_INPUT_KEY}' (schedule id, scheduled time, missed fires).` },
  version: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], description: 'A pinned published version; null or absent: the latest at fire time.' },
  missedFirePolicy: { enum: [...MISSED_FIRE_POLICIES], description: 'After downtime: skip missed fires, or start one run for all of them.' },
  enabled: { type: 'boolean', description: 'false creates (or puts) the schedule paused.' },
} as const;

export const createScheduleSchema = {
  $id: 'CreateScheduleRequest',
  type: 'object',
  additionalProperties: false,
  required: ['workflowId', 'cron', 'timeZone'],
  properties: {
    id: { ...workflowId, description: 'Unique per tenant; lower-case letters, digits, hyphens. Default: generated.' },
    workflowId,
    ...scheduleFields,
  },
} as const;

export const updateScheduleSchema = {
  $id: 'UpdateScheduleRequest',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'The fields to change (a merge patch); absent fields keep their value.',
  properties: scheduleFields,
} as const;

const eventSubscriptionSettings = {
  workflowId: { type: 'string', minLength: 1, maxLength: 128, description: 'The workflow a matching event starts (its latest published version).' },
  eventTypes: {
    type: 'array',
    minItems: 1,
    maxItems: EVENT_LIMITS.eventTypes,
    uniqueItems: true,
    items: { type: 'string', minLength: 1, maxLength: EVENT_LIMITS.eventTypeLength },
    description: "Event types, compared case-insensitively; a trailing '*' makes a prefix ('Contoso.Orders.*'), '*' alone takes every type.",
  },
  subjectBeginsWith: { type: ['string', 'null'], maxLength: EVENT_LIMITS.subjectFilterLength, description: 'Only events whose subject begins so (null or empty: any).' },
  subjectEndsWith: { type: ['string', 'null'], maxLength: EVENT_LIMITS.subjectFilterLength, description: 'Only events whose subject ends so (null or empty: any).' },
  caseSensitive: { type: 'boolean', default: false, description: 'Compare subjects case-sensitively (Event Grid compares them case-insensitively by default).' },
  enabled: { type: 'boolean', default: true },
} as const;

export const createEventSubscriptionSchema = {
  $id: 'CreateEventSubscriptionRequest',
  type: 'object',
  additionalProperties: false,
  required: ['workflowId', 'eventTypes'],
  properties: eventSubscriptionSettings,
} as const;

export const updateEventSubscriptionSchema = {
  $id: 'UpdateEventSubscriptionRequest',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: eventSubscriptionSettings,
} as const;
