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
} as const;

export type SettingName = (typeof SettingNames)[keyof typeof SettingNames];
