/**
 * The built-in `rest` connector: one action, `request`, that calls any HTTP(S) API, and the kind of connector a
 * workflow definition can declare as JSON (`"type": "rest"` in `connectors`). Both send through the same
 * requester (restRequest.ts): SSRF guard, auth, Idempotency-Key, fallbacks, error mapping, one OAuth token cache,
 * and binary bodies through artifacts (responses streamed into them, artifact references streamed as request bodies).
 */
import type { ConnectorDefinition } from '../sdk.js';
import { defineAction, defineConnector } from '../sdk.js';
import { declaredRestOperation } from './declaredRestOperation.js';
import { restRequestInputSchema, restRequestOutputSchema, type RestRequestInput, type RestRequestOutput } from './restRequestInput.js';
import { createRestRequester, type RestConnectorOptions } from './restRequest.js';

export type { RestRequestInput, RestRequestOutput } from './restRequestInput.js';
export type { RestConnectorOptions } from './restRequest.js';

/** Builds the `rest` connector for an egress policy. */
export function createRestConnector(options: RestConnectorOptions = {}): ConnectorDefinition {
  const send = createRestRequester(options);
  return defineConnector({
    name: 'rest',
    description: 'Calls an HTTP(S) API (SSRF-guarded): any method, query, headers, JSON/form/text body or an artifact streamed, binary responses into artifacts, bearer/basic/API key/OAuth2 client credentials auth, fallback URLs.',
    actions: [
      defineAction<RestRequestInput, RestRequestOutput>({
        name: 'request',
        description: 'Sends one HTTP request and returns { status, headers, body }; unaccepted statuses fail the step (5xx, 408, 429 retryable).',
        input: restRequestInputSchema,
        output: restRequestOutputSchema,
        run: send,
      }),
    ],
    declarable: { type: 'rest', action: (connectorId, declaration, operation) => declaredRestOperation(connectorId, declaration, operation, send) },
  });
}
