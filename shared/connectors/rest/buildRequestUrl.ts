import { SsrfErrorCodes } from './addressPolicy.js';
import { ConnectorError } from '../sdk.js';
import type { QueryScalar, RestRequestInput } from './restRequestInput.js';

/**
 * The request URL: `url` with `query` appended (arrays repeat the key) and, for `apiKey` auth in the query, the
 * key. Never echoes the URL in an error (its query may hold a key). The SSRF guard checks the result.
 */
export function buildRequestUrl(url: string, query: RestRequestInput['query'], extra: ReadonlyArray<readonly [string, string]> = []): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConnectorError(SsrfErrorCodes.invalidUrl, 'The url input is not a valid absolute URL.');
  }
  for (const [name, value] of Object.entries(query ?? {})) {
    const values: QueryScalar[] = Array.isArray(value) ? value : [value];
    for (const item of values) parsed.searchParams.append(name, String(item));
  }
  for (const [name, value] of extra) parsed.searchParams.append(name, value);
  return parsed.href;
}
