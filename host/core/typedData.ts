import type { RpcTypedData } from './coreApi.js';

/**
 * The host's conversion of a value it produces into RpcTypedData (`ToRpc`): strings → `string`, bytes →
 * `bytes`, non-integer numbers → `double`, everything else (integers, dates, dictionaries, arrays) → `json`.
 * null and undefined produce no data.
 */
export function toTypedData(value: unknown): RpcTypedData | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { string: value };
  if (value instanceof Uint8Array) return { bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  if (typeof value === 'number' && !Number.isInteger(value)) return { double: value };
  return { json: JSON.stringify(value) };
}

/** A value the worker returned, decoded as the host's `TypedData.ToObject` does. */
export type DecodedValue = string | Buffer | number | unknown[] | Record<string, unknown> | boolean | null | undefined;

/** Decodes RpcTypedData the worker sent back (return values and output bindings). */
export function fromTypedData(data: RpcTypedData | null | undefined): DecodedValue {
  if (!data) return undefined;
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json) as DecodedValue;
  if (data.bytes !== undefined && data.bytes !== null) return Buffer.from(data.bytes);
  if (data.stream !== undefined && data.stream !== null) return Buffer.from(data.stream);
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.collectionString) return data.collectionString.string ?? [];
  if (data.collectionBytes) return (data.collectionBytes.bytes ?? []).map((bytes) => Buffer.from(bytes));
  if (data.collectionDouble) return data.collectionDouble.double ?? [];
  if (data.collectionSint64) return (data.collectionSint64.sint64 ?? []).map(Number);
  return undefined;
}

/**
 * Output bindings that produce messages/events: a JSON array is one item per element (the Service Bus and
 * Event Grid extensions' `IAsyncCollector` behaviour), anything else is one item.
 */
export function outputItems(data: RpcTypedData | null | undefined): DecodedValue[] {
  const value = fromTypedData(data);
  if (value === undefined || value === null) return [];
  if (Array.isArray(value) && data?.json !== undefined && data.json !== null) return value as DecodedValue[];
  return [value];
}
