import type { JsonValue } from '../../domain/json.js';
import { ConnectorError } from '../sdk.js';
import type { RestRequestInput } from './restRequestInput.js';

export const REST_INPUT_INVALID = 'REST.INPUT_INVALID';

/** Encodes `body` as `bodyType` (json by default): the bytes and the content type to send unless the caller set one. */
export function encodeRequestBody(body: JsonValue | undefined, bodyType: RestRequestInput['bodyType']): { data: Buffer; contentType: string } | undefined {
  if (body === undefined) return undefined;
  switch (bodyType ?? 'json') {
    case 'json':
      return { data: Buffer.from(JSON.stringify(body), 'utf8'), contentType: 'application/json; charset=utf-8' };
    case 'text':
      if (typeof body !== 'string') throw new ConnectorError(REST_INPUT_INVALID, 'With bodyType "text" the body must be a string.');
      return { data: Buffer.from(body, 'utf8'), contentType: 'text/plain; charset=utf-8' };
    case 'form': {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ConnectorError(REST_INPUT_INVALID, 'With bodyType "form" the body must be an object.');
      const form = new URLSearchParams();
      for (const [name, value] of Object.entries(body)) {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item === null || typeof item === 'object') throw new ConnectorError(REST_INPUT_INVALID, `With bodyType "form" the field "${name.slice(0, 100)}" must be a string, number, boolean or an array of them.`);
          form.append(name, String(item));
        }
      }
      return { data: Buffer.from(form.toString(), 'utf8'), contentType: 'application/x-www-form-urlencoded' };
    }
    case 'binary':
      // An artifact reference is streamed (see artifactRequestBody); nothing else is a binary body.
      throw new ConnectorError(REST_INPUT_INVALID, 'With bodyType "binary" the body must be an artifact reference.');
  }
}
