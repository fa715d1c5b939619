import type { AppStore, TenantDataStore, TenantRepository } from '../ports/appStore.js';

/**
 * An AppStore whose backing store is created on first use (Azure SQL needs an async connect and migrations,
 * while the container is built synchronously). A failed creation is retried on the next call.
 */
export function lazyAppStore(create: () => Promise<AppStore>): AppStore & { created(): boolean } {
  let ready: Promise<AppStore> | undefined;
  let store: AppStore | undefined;
  const get = (): Promise<AppStore> => {
    ready ??= create().then(
      (created) => (store = created),
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    );
    return ready;
  };
  const tenants = new Proxy({} as TenantRepository, {
    get:
      (_, method: keyof TenantRepository) =>
      async (...args: unknown[]) =>
        ((await get()).tenants[method] as (...a: unknown[]) => unknown)(...args),
  });
  return {
    tenants,
    forTenant: async (tenantId: string): Promise<TenantDataStore> => (await get()).forTenant(tenantId),
    ping: async () => (await get()).ping(),
    close: async () => {
      if (store) await store.close();
    },
    created: () => store !== undefined,
  };
}
