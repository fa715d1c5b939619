import { TENANT_EGRESS_LIMITS } from '../domain/egress.js';
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
