/**
 * The connectors and actions workflows may name, for validation at save and publish time. The built-in `core`
 * connector comes with the engine; the REST, database, email and file connectors join the registry with their
 * own issue. Tenants can also declare REST connectors inside a definition.
 */
export const BUILT_IN_CONNECTOR_ACTIONS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['core', new Set(['noop', 'set', 'log', 'fail'])]]);
