import { HostConfigError } from './configError.js';

/** A connection found for a binding's `connection` property (embedded-host-spec section 10). */
export type ConnectionInfo =
  | { kind: 'connectionString'; settingName: string; value: string }
  | { kind: 'identity'; settingName: string; properties: Readonly<Record<string, string>> };

/** `AzureWebJobs.<name>.Disabled` may be spelled with dots, colons or double underscores. */
const TRUE_VALUES = new Set(['true', '1']);

function normalizeKey(key: string): string {
  return key.replace(/__/g, ':').toLowerCase();
}

/**
 * The app settings as the Functions host sees them: .NET `IConfiguration` over environment variables, so keys
 * are case-insensitive and `__` in a variable name means `:`. The index is built from the environment when
 * created; call {@link refresh} after changing it.
 */
export class HostSettings {
  #index = new Map<string, string>();

  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.refresh();
  }

  refresh(): void {
    this.#index.clear();
    for (const [key, value] of Object.entries(this.env)) {
      if (value !== undefined) this.#index.set(normalizeKey(key), value);
    }
  }

  /** The setting's value; an empty string counts as unset, as in the Functions host. */
  get(key: string): string | undefined {
    const value = this.#index.get(normalizeKey(key));
    return value === '' ? undefined : value;
  }

  /** Every setting under `section:` (one level), keyed by the remaining name as written. */
  section(prefix: string): Record<string, string> {
    const start = `${normalizeKey(prefix)}:`;
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.env)) {
      if (value === undefined || value === '') continue;
      const normalized = key.replace(/__/g, ':');
      if (normalized.toLowerCase().startsWith(start)) result[normalized.slice(start.length)] = value;
    }
    return result;
  }

  isTrue(key: string): boolean {
    const value = this.get(key);
    return value !== undefined && TRUE_VALUES.has(value.trim().toLowerCase());
  }

  /**
   * Replaces every `%Name%` with the setting's value (`ResolveWholeString`). An unresolved token is an
   * indexing error in the real host, so it throws, naming the token.
   */
  resolveWholeString(value: string): string {
    return value.replace(/%([^%]+)%/g, (_, name: string) => {
      const resolved = this.get(name);
      if (resolved === undefined) throw new HostConfigError(`'%${name}%' does not resolve to a value.`, name);
      return resolved;
    });
  }

  /**
   * Finds the connection named by a binding (`connection: 'ServiceBusConnection'`): `AzureWebJobs<name>` then
   * `<name>`, each first as `ConnectionStrings:<x>`, then as a root setting, then as a section of properties
   * (identity-based connections such as `<name>__fullyQualifiedNamespace`).
   */
  resolveConnection(name: string): ConnectionInfo | undefined {
    for (const candidate of [`AzureWebJobs${name}`, name]) {
      const fromConnectionStrings = this.get(`ConnectionStrings:${candidate}`);
      if (fromConnectionStrings !== undefined) {
        return { kind: 'connectionString', settingName: `ConnectionStrings:${candidate}`, value: fromConnectionStrings };
      }
      const root = this.get(candidate);
      if (root !== undefined) return { kind: 'connectionString', settingName: candidate, value: root };
      const properties = this.section(candidate);
      if (Object.keys(properties).length > 0) return { kind: 'identity', settingName: candidate, properties };
    }
    return undefined;
  }

  /** Whether `AzureWebJobs.<fn>.Disabled` (any spelling) is true. */
  isFunctionDisabled(functionName: string): boolean {
    return this.isTrue(`AzureWebJobs.${functionName}.Disabled`) || this.isTrue(`AzureWebJobs:${functionName}:Disabled`);
  }
}
