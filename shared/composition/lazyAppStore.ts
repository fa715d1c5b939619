import type { AppStore, HookIndex, TenantDataStore, TenantRepository } from '../ports/appStore.js';
import type { RunAdmission } from '../ports/runAdmission.js';
import type { ScheduleDueIndex } from '../ports/scheduleDueIndex.js';

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
  /** A repository of the store whose methods wait for the store first. */
  const deferred = <R extends object>(pick: (store: AppStore) => R): R =>
    new Proxy({} as R, {
      get:
        (_, method: string | symbol) =>
        async (...args: unknown[]) => {
          const repository = pick(await get());
          return (repository[method as keyof R] as (...a: unknown[]) => unknown).apply(repository, args);
        },
    });
  return {
    tenants: deferred<TenantRepository>((store) => store.tenants),
    admission: deferred<RunAdmission>((store) => store.admission),
    hookIndex: deferred<HookIndex>((store) => store.hookIndex),
    scheduleDue: deferred<ScheduleDueIndex>((store) => store.scheduleDue),
    forTenant: async (tenantId: string): Promise<TenantDataStore> => (await get()).forTenant(tenantId),
    ping: async () => (await get()).ping(),
    close: async () => {
      if (store) await store.close();
    },
    created: () => store !== undefined,
  };
}
