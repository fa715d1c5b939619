/*
 * Paging, limits, timestamps and JSON text shared by the SQL stores (SQLite and Azure SQL), so both hold the
 * AppStore contract the same way. Pure: no database access.
 */
import { createHash } from 'node:crypto';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { JsonValue } from '../../domain/json.js';
import type { Page, Precondition } from '../../ports/appStore.js';

/** Page size when the caller gives none, and the largest accepted (see PageOptions). */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

/** The AppError for input the store cannot accept (bad token, limit or timestamp). */
export function invalidRequest(message: string): AppError {
  return new AppError(ErrorCodes.requestInvalid, message);
}

/** Validates a page limit: an integer in 1..100, default 50. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw invalidRequest(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

/**
 * Names what a continuation token may be used for: the list, the tenant and the filters it was issued with.
 * Only a hash goes into the token, so the token reveals none of them, and a token replayed against another
 * list, tenant or filter set is rejected instead of silently positioning a different query.
 */
export function pageScope(list: string, tenantId: string | null, filters: Record<string, string | number | undefined> = {}): string {
  const given = Object.keys(filters).filter((key) => filters[key] !== undefined).sort();
  const canonical = JSON.stringify([list, tenantId, given.map((key) => [key, filters[key]])]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

/** The keyset position after the last item of a page, as stored in a token. */
export type PageKey = readonly (string | number)[];

/** Encodes the position after `key` as an opaque token (base64url JSON). */
export function encodePageToken(scope: string, key: PageKey): string {
  return Buffer.from(JSON.stringify({ v: 1, s: scope, k: key }), 'utf8').toString('base64url');
}

/**
 * Decodes a token issued by {@link encodePageToken} for `scope`, checking that its key has the expected types.
 * Anything else, including a token that is not canonical base64url, is `REQUEST.INVALID`.
 */
export function decodePageToken(token: string | undefined, scope: string, shape: readonly ('string' | 'number')[]): PageKey | undefined {
  if (token === undefined) return undefined;
  const bad = (): AppError => invalidRequest('continuationToken is not a token of this list');
  if (typeof token !== 'string' || token.length === 0 || token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const bytes = Buffer.from(token, 'base64url');
  // Base64 tolerates trailing bits; re-encoding rejects tokens that were altered yet still decode.
  if (bytes.toString('base64url') !== token) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad();
  const { v, s, k } = parsed as { v?: unknown; s?: unknown; k?: unknown };
  if (v !== 1 || s !== scope || !Array.isArray(k) || k.length !== shape.length) throw bad();
  for (let i = 0; i < shape.length; i += 1) {
    const value: unknown = k[i];
    if (shape[i] === 'number' ? !Number.isSafeInteger(value) : typeof value !== 'string') throw bad();
  }
  return k as PageKey;
}

/**
 * Normalizes a timestamp to the `Date#toISOString()` form, so that stored timestamps compare correctly as text
 * (keyset paging and time filters rely on it). An unparseable timestamp is `REQUEST.INVALID`.
 */
export function isoTimestamp(value: string, field: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalidRequest(`${field} is not an ISO timestamp`);
  return new Date(ms).toISOString();
}

/** Like {@link isoTimestamp}, passing null through. */
export function isoTimestampOrNull(value: string | null, field: string): string | null {
  return value === null ? null : isoTimestamp(value, field);
}

/** Stores JSON as TEXT. */
export function toJsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

/** Reads JSON stored as TEXT; SQL NULL reads as null. */
export function fromJsonText<T = JsonValue>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** A schedule error as stored (JSON text), or null. */
export function scheduleErrorText(error: { code: string; message: string; at: string; scheduledTime: string | null } | null): string | null {
  return error === null ? null : JSON.stringify({ code: error.code, message: error.message.slice(0, 2000), at: error.at, scheduledTime: error.scheduledTime });
}

/** Optimistic concurrency: REQUEST.PRECONDITION_FAILED when `ifRevision` is given and differs from the stored revision. */
export function checkPrecondition(precondition: Precondition | undefined, revision: number, what: string): void {
  if (precondition?.ifRevision !== undefined && precondition.ifRevision !== revision) {
    throw new AppError(ErrorCodes.preconditionFailed, `${what} has revision ${revision}, not ${precondition.ifRevision}`);
  }
}

/** Builds a page from up to limit+1 rows: the extra row only says that another page follows. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => PageKey, scope: string): Page<T> {
  const items = rows.slice(0, limit);
  const page: Page<T> = { items: items.map(map) };
  if (rows.length > limit) page.continuationToken = encodePageToken(scope, key(items[items.length - 1]!));
  return page;
}
