import type { WorkflowDependencies } from '../../../shared/application/workflowUseCases.js';
import { getContainer } from '../../../shared/composition/container.js';
import type { TenantDataStore } from '../../../shared/ports/appStore.js';

/** The workflow use cases' dependencies for one tenant. */
export function workflowDependencies(data: TenantDataStore): WorkflowDependencies {
  const container = getContainer();
  return {
    data,
    secretNames: () => container.secretNames(data.tenantId),
    connectors: container.connectors,
    actionInputProblems: (connector, action, inputs) => container.connectorRegistry.inputProblems(connector, action, inputs),
  };
}
