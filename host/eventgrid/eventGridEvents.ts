import { randomUUID } from 'node:crypto';

/** An event in the Event Grid schema. */
export interface EventGridEvent {
  id: string;
  topic?: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: unknown;
  dataVersion: string;
  metadataVersion?: string;
}

/** A CloudEvents 1.0 event (structured mode). */
export interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  data?: unknown;
  [extension: string]: unknown;
}

export type AnyEvent = EventGridEvent | CloudEvent;

/** A malformed event; the message says which field. */
export class EventFormatError extends Error {
  override readonly name = 'EventFormatError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isCloudEvent(event: unknown): event is CloudEvent {
  return isObject(event) && typeof event['specversion'] === 'string';
}

/** The type and subject of either schema, for subscription filters. */
export function eventTypeAndSubject(event: AnyEvent): { type: string; subject: string } {
  return isCloudEvent(event) ? { type: event.type, subject: event.subject ?? '' } : { type: event.eventType, subject: event.subject };
}

function requireString(event: Record<string, unknown>, field: string, index: number): void {
  if (typeof event[field] !== 'string' || event[field] === '') throw new EventFormatError(`Event ${index}: "${field}" is required and must be a non-empty string.`);
}

/**
 * Validates what a publisher sent (an output binding value or a webhook body) and fills what Event Grid
 * fills: the topic and, for the Event Grid schema, `metadataVersion`. CloudEvents need specversion 1.0.
 */
export function normalizeEvents(items: readonly unknown[], topic: string | undefined): AnyEvent[] {
  return items.map((item, index): AnyEvent => {
    if (!isObject(item)) throw new EventFormatError(`Event ${index} must be a JSON object.`);
    if (isCloudEvent(item)) {
      if (item.specversion !== '1.0') throw new EventFormatError(`Event ${index}: "specversion" must be "1.0".`);
      for (const field of ['id', 'source', 'type']) requireString(item, field, index);
      return { ...item } as CloudEvent;
    }
    for (const field of ['subject', 'eventType', 'dataVersion']) requireString(item, field, index);
    if (!('data' in item)) throw new EventFormatError(`Event ${index}: "data" is required.`);
    const eventTime = item['eventTime'];
    if (eventTime !== undefined && (typeof eventTime !== 'string' || Number.isNaN(Date.parse(eventTime)))) {
      throw new EventFormatError(`Event ${index}: "eventTime" must be an ISO 8601 date-time.`);
    }
    return {
      ...(item as unknown as EventGridEvent),
      id: typeof item['id'] === 'string' && item['id'] !== '' ? item['id'] : randomUUID(),
      eventTime: typeof eventTime === 'string' ? eventTime : new Date().toISOString(),
      metadataVersion: '1',
      ...(topic ? { topic } : {}),
    };
  });
}
