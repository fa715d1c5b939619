import type { RpcTypedData } from '../core/coreApi.js';
import type { BrokeredMessage } from './broker.js';

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** JsonConvert output for a DateTime of kind Unspecified: no zone suffix, trailing zeros of the fraction dropped. */
export function dotNetUnspecified(date: Date): string {
  const ms = date.getUTCMilliseconds();
  const fraction = ms ? `.${pad(ms, 3).replace(/0+$/, '')}` : '';
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${fraction}`
  );
}

/** JsonConvert output for a UTC DateTimeOffset. */
function dotNetOffset(date: Date): string {
  return `${dotNetUnspecified(date)}+00:00`;
}

/**
 * The trigger input and metadata for one message, as the Service Bus extension's binding strategy builds
 * them and the host encodes them (strings → `string`; numbers, dates and dictionaries → `json`; nulls
 * dropped). The .NET-only action objects (MessageActions, Client, ...) are left out: Node cannot use them.
 */
export function buildServiceBusTriggerInput(message: BrokeredMessage, dataType: unknown): { data: RpcTypedData; triggerMetadata: Record<string, RpcTypedData> } {
  const data: RpcTypedData = dataType === 'binary' ? { bytes: message.body } : { string: message.body.toString('utf8') };
  const strings: Record<string, string | undefined> = {
    MessageId: message.messageId,
    LockToken: message.lockToken,
    ContentType: message.contentType,
    CorrelationId: message.correlationId,
    ReplyTo: message.replyTo,
    To: message.to,
    Subject: message.subject,
    Label: message.subject,
    SessionId: message.sessionId,
    ReplyToSessionId: message.replyToSessionId,
    PartitionKey: message.partitionKey,
    DeadLetterSource: message.deadLetterSource,
  };
  const json: Record<string, unknown> = {
    DeliveryCount: message.deliveryCount,
    SequenceNumber: message.sequenceNumber,
    EnqueuedTimeUtc: dotNetUnspecified(message.enqueuedTimeUtc),
    EnqueuedTime: dotNetOffset(message.enqueuedTimeUtc),
    ExpiresAtUtc: message.expiresAtUtc ? dotNetUnspecified(message.expiresAtUtc) : undefined,
    ExpiresAt: message.expiresAtUtc ? dotNetOffset(message.expiresAtUtc) : undefined,
    ApplicationProperties: message.applicationProperties ?? {},
    UserProperties: message.applicationProperties ?? {},
  };
  const triggerMetadata: Record<string, RpcTypedData> = {};
  for (const [key, value] of Object.entries(strings)) if (value !== undefined && value !== null) triggerMetadata[key] = { string: value };
  for (const [key, value] of Object.entries(json)) if (value !== undefined && value !== null) triggerMetadata[key] = { json: JSON.stringify(value) };
  return { data, triggerMetadata };
}
