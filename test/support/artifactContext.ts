import { stepArtifacts } from '../../shared/application/stepArtifacts.js';
import type { ActionContext } from '../../shared/connectors/sdk.js';
import type { ArtifactStore } from '../../shared/ports/artifactStore.js';

/** An action context whose `artifacts` are the step's, on `store`, as executeStep builds it. */
export function artifactContext(store: ArtifactStore, tenantId = 'acme', step = { runId: 'r1', stepId: 's1' }): ActionContext {
  return { tenantId, ...step, signal: new AbortController().signal, log: () => undefined, artifacts: stepArtifacts(store, { tenantId, ...step }) };
}

/** The name of an artifact inside its tenant (`artifact://<tenant>/<name>` → `<name>`). */
export function artifactName(uri: string): string {
  return uri.replace(/^artifact:\/\/[^/]+\//, '');
}
