import type { JsonValue } from '../../domain/json.js';
import type { JsonSchema } from '../sdk.js';

export type RestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
export type QueryScalar = string | number | boolean;

export type RestAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'apiKey'; name: string; value: string; in?: 'header' | 'query' }
  | OAuth2ClientCredentialsAuth;

/** OAuth 2.0 client credentials: the connector fetches (and caches) a bearer token from `tokenUrl`. */
export interface OAuth2ClientCredentialsAuth {
  type: 'oauth2ClientCredentials';
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  audience?: string;
  /** How the client authenticates to the token endpoint: form fields (default) or HTTP basic. */
  clientAuth?: 'body' | 'basic';
}

/** The inputs of `rest.request` (secret references already resolved to plain strings by the engine). */
export interface RestRequestInput {
  method?: RestMethod;
  url: string;
  /** Tried in order when `url` fails with a retryable fault (network, timeout, 5xx, 408, 429). */
  fallbackUrls?: string[];
  query?: Record<string, QueryScalar | QueryScalar[]>;
  headers?: Record<string, string>;
  /** Any JSON value, or an artifact reference streamed as the body (`bodyType` `binary`, or absent). */
  body?: JsonValue;
  bodyType?: 'json' | 'form' | 'text' | 'binary';
  /** `binary` streams the body into an artifact (`body` is its reference); `auto` does so for non-text content types. */
  responseType?: 'json' | 'text' | 'auto' | 'binary';
  /** Cap of a body streamed into an artifact (default and maximum: the operator's, see RestConnectorOptions). */
  maxResponseBytes?: number;
  auth?: RestAuth;
  timeoutSeconds?: number;
  expectStatus?: number[];
}

export interface RestRequestOutput {
  [key: string]: JsonValue;
  status: number;
  headers: Record<string, string>;
  body: JsonValue;
  /** The URL that answered, without its query or fragment. */
  url: string;
}

export const restRequestOutputSchema: JsonSchema = {
  type: 'object',
  required: ['status', 'headers', 'body', 'url'],
  properties: { status: { type: 'integer' }, headers: { type: 'object', additionalProperties: { type: 'string' } }, body: {}, url: { type: 'string' } },
};

/** RFC 9110 token (header field name). */
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** No CR, LF or NUL (header injection). */
const HEADER_VALUE = '^[^\\r\\n\\u0000]*$';
const scalar: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };
const secretText: JsonSchema = { type: 'string', minLength: 1, maxLength: 8192, pattern: HEADER_VALUE };

export const restRequestInputSchema: JsonSchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], default: 'GET' },
    url: { type: 'string', minLength: 1, maxLength: 8192, description: 'Absolute http(s) URL; checked by the SSRF guard on every hop.' },
    fallbackUrls: {
      type: 'array',
      maxItems: 3,
      items: { type: 'string', minLength: 1, maxLength: 8192 },
      description: 'Tried in order, with the same request, when url fails with a retryable fault (network, timeout, 5xx, 408, 429).',
    },
    query: {
      type: 'object',
      propertyNames: { minLength: 1 },
      additionalProperties: { anyOf: [scalar, { type: 'array', items: scalar, maxItems: 1000 }] },
    },
    headers: {
      type: 'object',
      propertyNames: { pattern: HEADER_NAME },
      additionalProperties: { type: 'string', maxLength: 8192, pattern: HEADER_VALUE },
    },
    body: { description: 'Any JSON value: sent as JSON, as a form (an object of scalars / arrays of scalars), as text (a string), or an artifact reference streamed as binary.' },
    bodyType: { enum: ['json', 'form', 'text', 'binary'], default: 'json' },
    responseType: { enum: ['json', 'text', 'auto', 'binary'], default: 'auto' },
    maxResponseBytes: { type: 'integer', minimum: 1, description: 'Cap of a binary response streamed into an artifact; at most the operator maximum.' },
    auth: {
      oneOf: [
        {
          type: 'object',
          required: ['type', 'token'],
          additionalProperties: false,
          properties: { type: { const: 'bearer' }, token: secretText },
        },
        {
          type: 'object',
          required: ['type', 'username', 'password'],
          additionalProperties: false,
          properties: { type: { const: 'basic' }, username: { type: 'string', maxLength: 1024, pattern: '^[^:\\r\\n\\u0000]*$' }, password: { type: 'string', maxLength: 8192 } },
        },
        {
          type: 'object',
          required: ['type', 'name', 'value'],
          additionalProperties: false,
          properties: {
            type: { const: 'apiKey' },
            name: { type: 'string', minLength: 1, maxLength: 256, pattern: HEADER_NAME },
            value: secretText,
            in: { enum: ['header', 'query'], default: 'header' },
          },
        },
        {
          type: 'object',
          required: ['type', 'tokenUrl', 'clientId', 'clientSecret'],
          additionalProperties: false,
          properties: {
            type: { const: 'oauth2ClientCredentials' },
            tokenUrl: { type: 'string', minLength: 1, maxLength: 8192 },
            clientId: { type: 'string', minLength: 1, maxLength: 1024, pattern: HEADER_VALUE },
            clientSecret: secretText,
            scope: { type: 'string', maxLength: 4096, pattern: HEADER_VALUE },
            audience: { type: 'string', maxLength: 4096, pattern: HEADER_VALUE },
            clientAuth: { enum: ['body', 'basic'], default: 'body' },
          },
        },
      ],
    },
    timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 600, default: 30 },
    expectStatus: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 100, maximum: 599 } },
  },
};
