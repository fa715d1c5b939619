/**
 * How the Durable HTTP API renders instances: the extension's `StatusResponsePayload` (`HttpApiHandler.ConvertFrom`)
 * and the "friendly" history of `showHistory=true` (`DurableClient.GetDurableOrchestrationStatusAsync`).
 */
import { parseToJToken } from './historyEvents.js';
import type { InstanceRecord, RuntimeStatus } from './taskHubClient.js';

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const jsonOf = (text: string | null): JsonValue => parseToJToken(text) as JsonValue;

/** One instance as `GET instances/{id}` (and each item of `GET instances`) renders it. */
export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: JsonValue;
  customStatus: JsonValue;
  output: JsonValue;
  /** `yyyy-MM-ddTHH:mm:ssZ` (UTC, whole seconds), as .NET's `ToString("s") + "Z"`. */
  createdTime: string;
  lastUpdatedTime: string;
  /** Only with `showHistory=true`, and never for a Pending instance. */
  historyEvents?: Array<Record<string, unknown>>;
}

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC, dropping the milliseconds. */
export function formatStatusTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Renders an instance record. `showInput=false` gives `input: null`, as the extension does when it does not fetch
 * inputs. `historyEvents` is added only when given (already converted with `toFriendlyHistory`).
 */
export function toStatusPayload(record: InstanceRecord, options: { showInput?: boolean; historyEvents?: Array<Record<string, unknown>> } = {}): StatusPayload {
  const payload: StatusPayload = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    input: options.showInput === false ? null : jsonOf(record.input),
    customStatus: jsonOf(record.customStatus),
    output: jsonOf(record.output),
    createdTime: formatStatusTime(record.createdTime),
    lastUpdatedTime: formatStatusTime(record.lastUpdatedTime),
  };
  if (options.historyEvents) payload.historyEvents = options.historyEvents;
  return payload;
}
