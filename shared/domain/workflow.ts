import type { JsonObject } from './json.js';

/** Workflow ids are slugs, unique per tenant. */
export const WORKFLOW_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]?$/;

/**
 * A workflow: an editable draft and immutable published versions. Runs always pin a published version.
 * The definition is kept as JSON; it is validated by the workflow language (shared/domain/workflow-language).
 */
export interface Workflow {
  tenantId: string;
  id: string;
  name: string;
  description: string;
  draft: JsonObject;
  /** The highest published version, or null before the first publish. */
  latestVersion: number | null;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  revision: number;
}

export interface WorkflowVersion {
  tenantId: string;
  workflowId: string;
  version: number;
  definition: JsonObject;
  publishedAt: string;
  publishedBy: string;
}
