import fs from 'node:fs';
import path from 'node:path';
import { HostConfigError } from '../config/configError.js';
import { parseJsonWithComments } from '../config/jsonc.js';
import type { EntityOptions, SqliteBroker } from './broker.js';

/** The setting that names the entity configuration file (the official emulator's `Config.json` shape). */
export const SERVICE_BUS_CONFIG_SETTING = 'EMBEDDED_SERVICEBUS_CONFIG';

const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

function durationMs(value: unknown, where: string, file: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const match = typeof value === 'string' ? ISO_DURATION.exec(value) : null;
  if (!match || value === 'P' || value === 'PT') throw new HostConfigError(`${file}: ${where} must be an ISO 8601 duration such as "PT1M" (got ${JSON.stringify(value)}).`, file);
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes ?? 0)) * 60_000 + Number(seconds ?? 0) * 1000;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown, where: string, file: string): Json[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) throw new HostConfigError(`${file}: ${where} must be an array of objects.`, file);
  return value;
}

function entityOptions(properties: unknown, where: string, file: string): EntityOptions {
  if (properties === undefined) return {};
  if (!isObject(properties)) throw new HostConfigError(`${file}: ${where}.Properties must be an object.`, file);
  const options: EntityOptions = {};
  const lockDurationMs = durationMs(properties['LockDuration'], `${where}.Properties.LockDuration`, file);
  if (lockDurationMs !== undefined) options.lockDurationMs = lockDurationMs;
  const ttl = durationMs(properties['DefaultMessageTimeToLive'], `${where}.Properties.DefaultMessageTimeToLive`, file);
  if (ttl !== undefined) options.defaultMessageTimeToLiveMs = ttl;
  const window = durationMs(properties['DuplicateDetectionHistoryTimeWindow'], `${where}.Properties.DuplicateDetectionHistoryTimeWindow`, file);
  if (window !== undefined) options.duplicateDetectionHistoryTimeWindowMs = window;
  const maxDeliveryCount = properties['MaxDeliveryCount'];
  if (maxDeliveryCount !== undefined) {
    if (!Number.isInteger(maxDeliveryCount) || (maxDeliveryCount as number) < 1) {
      throw new HostConfigError(`${file}: ${where}.Properties.MaxDeliveryCount must be a positive integer.`, file);
    }
    options.maxDeliveryCount = maxDeliveryCount as number;
  }
  for (const [key, option] of [
    ['RequiresDuplicateDetection', 'requiresDuplicateDetection'],
    ['DeadLetteringOnMessageExpiration', 'deadLetteringOnMessageExpiration'],
  ] as const) {
    const value = properties[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new HostConfigError(`${file}: ${where}.Properties.${key} must be true or false.`, file);
    options[option] = value;
  }
  return options;
}

function correlationFilter(rules: Json[], where: string, file: string): { correlationId?: string; subject?: string; applicationProperties?: Record<string, string | number | boolean> } | undefined {
  const rule = rules.find((candidate) => isObject(candidate['Properties']) && (candidate['Properties'] as Json)['FilterType'] === 'Correlation');
  if (rules.length > 0 && !rule) throw new HostConfigError(`${file}: ${where}.Rules supports only FilterType "Correlation".`, file);
  if (!rule) return undefined;
  const filter = (rule['Properties'] as Json)['CorrelationFilter'];
  if (!isObject(filter)) throw new HostConfigError(`${file}: ${where}.Rules[].Properties.CorrelationFilter must be an object.`, file);
  const result: { correlationId?: string; subject?: string; applicationProperties?: Record<string, string | number | boolean> } = {};
  if (typeof filter['CorrelationId'] === 'string') result.correlationId = filter['CorrelationId'];
  if (typeof filter['Label'] === 'string') result.subject = filter['Label'];
  if (isObject(filter['Properties'])) result.applicationProperties = filter['Properties'] as Record<string, string | number | boolean>;
  return result;
}

/**
 * Creates the queues, topics and subscriptions an emulator-style `Config.json` declares
 * (`UserConfig.Namespaces[].Queues/Topics[].Subscriptions[]` with `Properties` and correlation `Rules`).
 */
export function applyServiceBusConfig(broker: SqliteBroker, appDir: string, configPath: string): void {
  const file = path.resolve(appDir, configPath);
  if (!fs.existsSync(file)) throw new HostConfigError(`${SERVICE_BUS_CONFIG_SETTING} names ${file}, which does not exist.`, SERVICE_BUS_CONFIG_SETTING);
  const name = path.basename(file);
  const document = parseJsonWithComments(fs.readFileSync(file, 'utf8'), name);
  const userConfig = isObject(document) ? document['UserConfig'] : undefined;
  if (!isObject(userConfig)) throw new HostConfigError(`${name}: expected a "UserConfig" object.`, name);
  for (const [n, namespace] of list(userConfig['Namespaces'], 'UserConfig.Namespaces', name).entries()) {
    for (const queue of list(namespace['Queues'], `Namespaces[${n}].Queues`, name)) {
      if (typeof queue['Name'] !== 'string') throw new HostConfigError(`${name}: every queue needs a "Name".`, name);
      broker.ensureQueue(queue['Name'], entityOptions(queue['Properties'], `queue '${queue['Name']}'`, name));
    }
    for (const topic of list(namespace['Topics'], `Namespaces[${n}].Topics`, name)) {
      if (typeof topic['Name'] !== 'string') throw new HostConfigError(`${name}: every topic needs a "Name".`, name);
      broker.ensureTopic(topic['Name'], entityOptions(topic['Properties'], `topic '${topic['Name']}'`, name));
      for (const subscription of list(topic['Subscriptions'], `topic '${topic['Name']}'.Subscriptions`, name)) {
        if (typeof subscription['Name'] !== 'string') throw new HostConfigError(`${name}: every subscription needs a "Name".`, name);
        const where = `subscription '${topic['Name']}/${subscription['Name']}'`;
        const filter = correlationFilter(list(subscription['Rules'], `${where}.Rules`, name), where, name);
        broker.ensureSubscription(topic['Name'], subscription['Name'], { ...entityOptions(subscription['Properties'], where, name), ...(filter ? { filter } : {}) });
      }
    }
  }
}
