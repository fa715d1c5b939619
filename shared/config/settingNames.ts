/**
 * The names of every app setting AutomateIQ reads. Bindings refer to settings by these names (never to
 * secrets), and local.settings.sample.json lists each of them.
 */
export const SettingNames = {
  /** `Development` or `Production`; the embedded host defaults to Development, as Core Tools does. */
  environment: 'AZURE_FUNCTIONS_ENVIRONMENT',
  /** Path of the SQLite app store on the embedded host (relative to the app directory). */
  sqlitePath: 'AIQ_SQLITE_PATH',
  /** Redis for cache, rate limits and breaker state; absent → in-memory adapters. */
  redisUrl: 'REDIS_URL',
  /** The Service Bus connection the run-dispatch bindings use (a setting name, as bindings expect). */
  serviceBusConnection: 'ServiceBusConnection',
  /** Storage for the Functions runtime and artifacts. */
  storageConnection: 'AzureWebJobsStorage',
  /** Blob Storage for artifacts (large step outputs, files): a connection string; Azurite locally. */
  artifactStorage: 'AIQ_ARTIFACT_STORAGE',
  /** Azure SQL instead of SQLite for the app store (row-level security per tenant). */
  azureSqlConnectionString: 'AZURE_SQL_CONNECTION_STRING',
  /** Where dedicated tenants' SQLite databases go on the embedded host. */
  dedicatedTenantDirectory: 'AIQ_DEDICATED_TENANT_DIR',
  /** The audience (application ID URI or client id) tokens must be issued for. */
  apiAudience: 'AIQ_API_AUDIENCE',
  /** Comma-separated Entra directory ids whose users may be platform admins (the operator's directory). */
  platformDirectories: 'AIQ_PLATFORM_DIRECTORIES',
  /** The development issuer's signing key file (embedded host in Development only). */
  devIssuerKeyFile: 'AIQ_DEV_ISSUER_KEY_FILE',
  /** `false` turns the development issuer off even in Development. */
  devIssuer: 'AIQ_DEV_ISSUER',
  /**
   * The 32-byte AES-256-GCM key (base64) of the local secret store (embedded host). Only needed without Key Vault;
   * a key, never logged. local.settings.sample.json holds a development-only key.
   */
  secretsKey: 'AIQ_SECRETS_KEY',
  /** Azure Key Vault for tenant secrets (`https://<vault>.vault.azure.net/`), via managed identity; absent → local store. */
  keyVaultUrl: 'AZURE_KEYVAULT_URL',
  /**
   * Operator egress allow-list of every connector that connects out (REST, database, email): comma-separated hostnames (`api.internal`),
   * wildcard suffixes (`*.corp.example`), IPs or CIDRs (`10.1.0.0/16`) that may be private. Empty → public
   * internet only. Cloud metadata / identity endpoints stay blocked whatever it says.
   */
  egressAllowHosts: 'AIQ_EGRESS_ALLOW_HOSTS',
  /** Comma-separated ports connectors may connect to besides 80 and 443 (e.g. 5432 for a database, 587 for SMTP beyond its defaults). */
  egressAllowPorts: 'AIQ_EGRESS_ALLOW_PORTS',
  /**
   * The operator maximum, in bytes, of one body a connector streams through artifacts: a binary REST response (its
   * default cap; steps may ask for less with `maxResponseBytes`) or a file read into an artifact. Default 1 GiB.
   */
  maxStreamedBytes: 'AIQ_MAX_STREAMED_BYTES',
  /**
   * Runs the platform executes at once (default 500): a run holds a slot from its start to its end (waits and
   * approvals included). Queued runs beyond it wait in the admission list and start by tier, then fairly by tenant.
   */
  maxActiveRuns: 'AIQ_MAX_ACTIVE_RUNS',
  /**
   * Development only (ignored elsewhere): the NCRONTAB schedule of the `scheduler` timer instead of every minute
   * (`0 * * * * *`), e.g. `*\/5 * * * * *` so that end-to-end tests see fires within seconds of their slot.
   */
  schedulerTick: 'AIQ_SCHEDULER_TICK',
  /**
   * The Event Grid custom topic the platform publishes run.started/completed/failed/cancelled to (its endpoint
   * URL). Required: the run status activities carry its output binding. On the embedded host it names the topic
   * that EMBEDDED_EVENTGRID_SUBSCRIPTIONS subscribes to.
   */
  eventsTopicEndpoint: 'AIQ_EVENTS_TOPIC_ENDPOINT',
  /**
   * The resource id of that topic (`/subscriptions/.../providers/Microsoft.EventGrid/topics/<name>`): the `topic`
   * Event Grid stamps on its events, so that the event router recognises the platform's own run events on Azure.
   */
  eventsTopicId: 'AIQ_EVENTS_TOPIC_ID',
  /** The access key of that topic (a secret: set it from Key Vault; unused on the embedded host). */
  eventsTopicKey: 'AIQ_EVENTS_TOPIC_KEY',
} as const;

export type SettingName = (typeof SettingNames)[keyof typeof SettingNames];
