import type { JsonValue } from '../domain/json.js';
import { secretReferencesIn } from '../domain/workflow-language/declaredOperations.js';
import type { TenantDataStore } from '../ports/appStore.js';
import type { SecretStore } from '../ports/secretStore.js';
import { resolveSecretSlots, type ResolvedSecrets } from './secretResolution.js';

/**
 * The connector the run's pinned workflow version declares as `connectorId` (its `connectors` map), with its secret
 * references resolved the way a step's are (the same slots, read at execution time, never stored resolved); undefined
 * when the definition declares no such connector. Read from the version the run is pinned to, so a later publish
 * never changes what a running step calls.
 */
export async function loadDeclaredConnector(
  data: TenantDataStore,
  runId: string,
  connectorId: string,
  tenantId: string,
  secrets: SecretStore,
): Promise<ResolvedSecrets | undefined> {
  const run = await data.runs.get(runId);
  if (!run) return undefined;
  const version = await data.workflows.getVersion(run.workflowId, run.workflowVersion);
  const connectors = version?.definition['connectors'];
  if (connectors === null || typeof connectors !== 'object' || Array.isArray(connectors) || !Object.prototype.hasOwnProperty.call(connectors, connectorId)) return undefined;
  const declaration = connectors[connectorId] as JsonValue;
  return resolveSecretSlots(declaration, secretReferencesIn(declaration).map((reference) => reference.pointer), tenantId, secrets);
}
