import type { IncomingHttpHeaders } from 'node:http';
import { ConnectorError } from '../sdk.js';
import { retryAfterSeconds } from './retryAfterSeconds.js';

export const REST_HTTP_STATUS = 'REST.HTTP_STATUS';

const RETRYABLE_STATUSES = new Set([408, 429]);

/**
 * The failure for a status the step does not accept: retryable for 5xx, 408 and 429 (with Retry-After), permanent
 * otherwise. The message names the status and host only — never the URL (its query may hold a key), headers or body.
 */
export function statusError(status: number, host: string, headers: IncomingHttpHeaders): ConnectorError {
  const retryable = status >= 500 || RETRYABLE_STATUSES.has(status);
  const retryAfter = retryable ? retryAfterSeconds(headers['retry-after']) : undefined;
  return new ConnectorError(REST_HTTP_STATUS, `Host "${host}" answered HTTP ${status}.`, {
    retryable,
    details: { status, host },
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}
