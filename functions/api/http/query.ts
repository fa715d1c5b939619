import type { HttpRequest } from '@azure/functions';
import { AppError, ErrorCodes } from '../../../shared/domain/errors.js';
import type { Page, PageOptions } from '../../../shared/ports/appStore.js';

/** `?limit=` (1-100, default 50) and `?continuationToken=` of every list endpoint. */
export function pageOptions(request: HttpRequest): PageOptions {
  const limitText = request.query.get('limit');
  const limit = limitText === null ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new AppError(ErrorCodes.requestInvalid, `limit must be an integer from 1 to 100 (got '${limitText}').`);
  const continuationToken = request.query.get('continuationToken') ?? undefined;
  return { limit, ...(continuationToken ? { continuationToken } : {}) };
}

/** A list body: `{ items, continuationToken? }`, plus a `nextLink` a client can follow as is. */
export function pageBody<T, V>(request: HttpRequest, page: Page<T>, view: (item: T) => V): { items: V[]; continuationToken?: string; nextLink?: string } {
  const body: { items: V[]; continuationToken?: string; nextLink?: string } = { items: page.items.map(view) };
  if (page.continuationToken) {
    const next = new URL(request.url);
    next.searchParams.set('continuationToken', page.continuationToken);
    body.continuationToken = page.continuationToken;
    body.nextLink = `${next.pathname}${next.search}`;
  }
  return body;
}

/** An ISO 8601 timestamp query parameter, or undefined. */
export function timestampParameter(request: HttpRequest, name: string): string | undefined {
  const value = request.query.get(name);
  if (value === null) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new AppError(ErrorCodes.requestInvalid, `${name} must be an ISO 8601 date-time (got '${value}').`);
  return new Date(time).toISOString();
}
