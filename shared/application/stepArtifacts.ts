import { randomUUID } from 'node:crypto';
import {
  DEFAULT_ARTIFACT_CONTENT_TYPE,
  isValidArtifactContentType,
  STREAMED_ARTIFACT_FOLDER,
  type ArtifactStore,
  type StepArtifacts,
} from '../ports/artifactStore.js';
import type { ClaimCheckLocation } from './claimCheck.js';

/** Longest label kept from a requested artifact name. */
const LABEL_MAX_LENGTH = 100;

/** A requested name as one safe name segment: other characters become `_`, no leading dot. */
function label(name: string | undefined): string {
  if (name === undefined) return '';
  const last = name.split(/[\\/]/).pop() ?? '';
  const safe = last.replace(/[^A-Za-z0-9._~@+=,-]/g, '_').replace(/^[.]+/, '').slice(0, LABEL_MAX_LENGTH);
  return safe ? `-${safe}` : '';
}

/**
 * The artifacts of one step execution, for its connector action (`ActionContext.artifacts`): reads are checked
 * against the step's tenant by the store; new artifacts go to `<runId>/<stepId>/files/<uuid>[-<label>]`, a fresh
 * name per call so loop iterations and retries never overwrite each other (they share the run's prefix with its
 * claim-checked outputs, so deleting that prefix removes both).
 */
export function stepArtifacts(store: ArtifactStore, where: ClaimCheckLocation): StepArtifacts {
  return {
    open: (ref) => store.getStream(ref, where.tenantId),
    create: (content, options = {}) => {
      const contentType = options.contentType !== undefined && isValidArtifactContentType(options.contentType) ? options.contentType : DEFAULT_ARTIFACT_CONTENT_TYPE;
      const name = `${where.runId}/${where.stepId}/${STREAMED_ARTIFACT_FOLDER}/${randomUUID()}${label(options.name)}`;
      return store.putStream(where.tenantId, name, content, {
        contentType,
        metadata: { runId: where.runId, stepId: where.stepId },
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      });
    },
  };
}
