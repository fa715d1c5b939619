import type { JsonValue } from '../../domain/json.js';
import { ConnectorError } from '../sdk.js';
import type { RestRequestInput } from './restRequestInput.js';

export const REST_RESPONSE_INVALID = 'REST.RESPONSE_INVALID';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The response body as `responseType` says: `json` parses, `text` decodes UTF-8, `auto` (default) parses when the
 * content type is JSON (`application/json`, `application/*+json`). An empty body is null.
 */
export function decodeResponseBody(data: Buffer, contentType: string | undefined, responseType: RestRequestInput['responseType'], host: string): JsonValue {
  if (data.length === 0) return null;
  const text = data.toString('utf8');
  const asJson = responseType === 'json' || ((responseType ?? 'auto') === 'auto' && JSON_TYPE.test(contentType ?? ''));
  if (!asJson) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new ConnectorError(REST_RESPONSE_INVALID, `The response from host "${host}" is not valid JSON.`, { details: { host } });
  }
}
