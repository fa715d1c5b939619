import type { IncomingMessage } from 'node:http';
import type { RpcHttpCookie, RpcHttpData, RpcNullableString, RpcTypedData } from '../core/coreApi.js';
import { fromTypedData } from '../core/typedData.js';

/** Headers a client must never be able to set: the platform's authentication sets them (EasyAuth). */
const IDENTITY_HEADER = /^x-ms-client-principal/i;

export interface HttpTriggerInput {
  data: RpcTypedData;
  triggerMetadata: Record<string, RpcTypedData>;
}

/**
 * Builds the `RpcHttp` input the host sends for the Node worker's capabilities (RawHttpBodyBytes,
 * RpcHttpBodyOnly, UseNullableValueDictionaryForHttp, RpcHttpTriggerMetadataRemoved): headers lower-cased and
 * repeated values joined with ',', query keys case-insensitive (first spelling wins, repeats joined), route
 * values that are present, the body as bytes when there is one.
 */
export function buildHttpTriggerInput(
  request: IncomingMessage,
  url: string,
  query: URLSearchParams,
  routeValues: Record<string, string>,
  body: Buffer,
  stripIdentityHeaders: boolean,
): HttpTriggerInput {
  const nullableHeaders: Record<string, RpcNullableString> = {};
  const headerValues: Record<string, string> = {};
  const distinct = request.headersDistinct;
  for (const name of Object.keys(distinct)) {
    if (stripIdentityHeaders && IDENTITY_HEADER.test(name)) continue;
    const value = (distinct[name] ?? []).join(',');
    nullableHeaders[name] = { value };
    headerValues[name] = value;
  }
  const nullableQuery: Record<string, RpcNullableString> = {};
  const queryValues: Record<string, string> = {};
  const spelling = new Map<string, string>();
  for (const [key, value] of query) {
    const lower = key.toLowerCase();
    const first = spelling.get(lower);
    if (first === undefined) {
      spelling.set(lower, key);
      nullableQuery[key] = { value };
      queryValues[key] = value;
    } else {
      const joined = `${queryValues[first]},${value}`;
      nullableQuery[first] = { value: joined };
      queryValues[first] = joined;
    }
  }
  const nullableParams: Record<string, RpcNullableString> = {};
  const triggerMetadata: Record<string, RpcTypedData> = {
    Query: { json: JSON.stringify(queryValues) },
    Headers: { json: JSON.stringify(headerValues) },
  };
  for (const [key, value] of Object.entries(routeValues)) {
    nullableParams[key] = { value };
    triggerMetadata[key] = { string: value };
  }
  const http: RpcHttpData = {
    method: request.method ?? 'GET',
    url,
    headers: {},
    query: {},
    params: {},
    cookies: [],
    nullableHeaders,
    nullableQuery,
    nullableParams,
    identities: [],
  };
  if (body.length > 0) http.body = { bytes: body };
  return { data: { http }, triggerMetadata };
}

const SAME_SITE: Partial<Record<NonNullable<RpcHttpCookie['sameSite']>, string>> = { lax: 'Lax', strict: 'Strict', explicitNone: 'None' };

/** One `Set-Cookie` value from an RpcHttpCookie (`sameSite: 'none'` means unspecified and is omitted). */
export function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  const expires = cookie.expires?.value?.seconds;
  if (expires !== undefined && expires !== null) parts.push(`Expires=${new Date(Number(expires) * 1000).toUTCString()}`);
  const maxAge = cookie.maxAge?.value;
  if (maxAge !== undefined && maxAge !== null) parts.push(`Max-Age=${Math.trunc(Number(maxAge))}`);
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  if (cookie.secure?.value) parts.push('Secure');
  const sameSite = cookie.sameSite ? SAME_SITE[cookie.sameSite] : undefined;
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  return parts.join('; ');
}

export interface HttpResult {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
  const value = fromTypedData(body);
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(typeof value === 'object' ? JSON.stringify(value) : String(value), 'utf8');
}

/**
 * What the host writes for an RpcHttp the function returned: the status (default 200), headers, one
 * `Set-Cookie` per cookie and the raw body. No RpcHttp at all (a handler returning undefined) is 200 empty.
 */
export function httpResultFromRpc(http: RpcHttpData | null | undefined): HttpResult {
  if (!http) return { status: 200, headers: [], body: Buffer.alloc(0) };
  const status = http.statusCode ? Number.parseInt(http.statusCode, 10) || 200 : 200;
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (value !== null && value !== undefined) headers.push([name, String(value)]);
  }
  for (const cookie of http.cookies ?? []) headers.push(['set-cookie', serializeCookie(cookie)]);
  return { status, headers, body: bodyBytes(http.body) };
}
