import { IndexingError } from '../bindings/outputBinding.js';
import type { HostSettings } from '../config/settings.js';

/**
 * Resolves a Service Bus binding's `connection` (default name `ServiceBus`, i.e. `AzureWebJobsServiceBus`).
 * The embedded host serves connections that use the official emulator's convention
 * `UseDevelopmentEmulator=true` with its own broker; a missing connection is an indexing error, as on Azure.
 */
export function requireEmbeddedServiceBusConnection(settings: HostSettings, connection: unknown): void {
  const name = typeof connection === 'string' && connection !== '' ? connection : 'ServiceBus';
  const resolved = settings.resolveConnection(name);
  if (!resolved) {
    throw new IndexingError(`Service Bus account connection string '${name}' does not exist. Make sure that it is a defined App Setting.`);
  }
  if (resolved.kind === 'identity') {
    throw new IndexingError(
      `the Service Bus connection '${name}' is identity-based (${resolved.settingName}__*); the embedded host serves only connection strings with UseDevelopmentEmulator=true.`,
    );
  }
  const properties = new Map(
    resolved.value
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const index = part.indexOf('=');
        return [part.slice(0, index).toLowerCase(), part.slice(index + 1)] as const;
      }),
  );
  if (properties.get('usedevelopmentemulator')?.toLowerCase() !== 'true') {
    throw new IndexingError(
      `the Service Bus connection '${resolved.settingName}' points at a Service Bus namespace; on the embedded host set it to a connection string with UseDevelopmentEmulator=true (e.g. "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=local;UseDevelopmentEmulator=true;").`,
    );
  }
}
