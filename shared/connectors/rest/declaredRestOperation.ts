import { AppError, ErrorCodes, ValidationError } from '../../domain/errors.js';
import type { JsonValue } from '../../domain/json.js';
import { isDotSegment, operationInputProblems } from '../../domain/workflow-language/declaredOperations.js';
import type { DeclaredRestConnector, RestOperation, StringOrSecret } from '../../domain/workflow-language/types.js';
import { ConnectorError, defineAction, STEP_INPUT_INVALID, type ActionDefinition } from '../sdk.js';
import { REST_INPUT_INVALID } from './encodeRequestBody.js';
import type { RestRequester } from './restRequest.js';
import { restRequestOutputSchema, type QueryScalar, type RestAuth, type RestRequestInput, type RestRequestOutput } from './restRequestInput.js';

/** The request of an operation would leave its connector's base URL (origin and path prefix). */
export const REST_PATH_OUTSIDE_BASE = 'REST.PATH_OUTSIDE_BASE';

/** What a step gives an operation (see declaredOperations.ts). */
interface OperationInputs {
  path?: Record<string, QueryScalar>;
  query?: RestRequestInput['query'];
  headers?: Record<string, string>;
  body?: JsonValue;
}

/** A credential or header value after the engine resolved the declaration's secrets: a plain string. */
function plain(value: StringOrSecret, connectorId: string): string {
  if (typeof value === 'string') return value;
  // The engine resolves every secret of a declaration before the call; a reference here is a bug, never sent.
  throw new ConnectorError(REST_INPUT_INVALID, `A secret of the declared connector '${connectorId}' was not resolved.`);
}

function plainHeaders(headers: RestOperation['headers'], connectorId: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, plain(value, connectorId)]));
}

/** The declared auth as `rest.request` takes it. */
function restAuth(auth: DeclaredRestConnector['auth'], connectorId: string): RestAuth | undefined {
  if (!auth) return undefined;
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'bearer':
      return { type: 'bearer', token: plain(auth.token, connectorId) };
    case 'basic':
      return { type: 'basic', username: plain(auth.username, connectorId), password: plain(auth.password, connectorId) };
    case 'apiKey':
      return { type: 'apiKey', name: auth.name, value: plain(auth.value, connectorId), in: auth.in };
    case 'oauth2ClientCredentials':
      return {
        type: 'oauth2ClientCredentials',
        tokenUrl: auth.tokenUrl,
        clientId: plain(auth.clientId, connectorId),
        clientSecret: plain(auth.clientSecret, connectorId),
        ...(auth.scope === undefined ? {} : { scope: auth.scope }),
        ...(auth.audience === undefined ? {} : { audience: auth.audience }),
        ...(auth.clientAuth === undefined ? {} : { clientAuth: auth.clientAuth }),
      };
  }
}

/**
 * The URL of an operation: the base URL's origin and path, then the path template with each `{name}` replaced by
 * its URL-encoded value. It must stay under the base (same origin, same path prefix); anything else is refused
 * before a connection is made (REST.PATH_OUTSIDE_BASE). Publish-time checks already refuse dot segments in
 * templates and values; this is the last line. Exported for its test.
 */
export function operationUrl(connectorId: string, baseUrl: string, path: string, values: Readonly<Record<string, QueryScalar>>): string {
  const outside = (): ConnectorError => new ConnectorError(REST_PATH_OUTSIDE_BASE, `The request of an operation of '${connectorId}' would leave its base URL.`);
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw outside();
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  let filled: string;
  try {
    filled = path.replace(/\{([^{}]*)\}/g, (_, name: string) => {
      const value = String(values[name]);
      if (isDotSegment(value)) throw outside();
      return encodeURIComponent(value);
    });
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw new ConnectorError(REST_INPUT_INVALID, `A path parameter of an operation of '${connectorId}' is not valid text.`);
  }
  let url: URL;
  try {
    url = new URL(`${base.origin}${prefix}${filled}`);
  } catch {
    throw outside();
  }
  const underPrefix = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
  if (url.origin !== base.origin || !underPrefix || url.search !== '' || url.hash !== '') throw outside();
  return url.href;
}

/**
 * The action running one operation of a REST connector declared in a definition, with its secrets resolved. It
 * checks the step's inputs (shape, path values, the operation's input schema: STEP.INPUT_INVALID), builds the
 * request under the base URL, and sends it with the `rest` connector's requester — the same SSRF guard, auth,
 * Idempotency-Key, error mapping and token cache as `rest.request`.
 */
export function declaredRestOperation(connectorId: string, declaration: JsonValue, operationName: string, send: RestRequester): ActionDefinition<never, JsonValue> {
  const connector = declaration as unknown as DeclaredRestConnector;
  const operations = connector.operations ?? {};
  const operation = Object.prototype.hasOwnProperty.call(operations, operationName) ? operations[operationName] : undefined;
  if (!operation) throw new AppError(ErrorCodes.workflowInvalid, `The declared connector '${connectorId}' has no operation '${operationName}'.`);
  return defineAction<OperationInputs, RestRequestOutput>({
    name: operationName,
    description: operation.description ?? `${operation.method} ${operation.path}`,
    input: operation.input ?? {},
    output: restRequestOutputSchema,
    run: async (inputs, context) => {
      const problems = operationInputProblems(operation, inputs);
      if (problems.length > 0) throw new ValidationError(STEP_INPUT_INVALID, `The inputs of '${connectorId}.${operationName}' are invalid.`, problems);
      const auth = restAuth(connector.auth, connectorId);
      const request: RestRequestInput = {
        method: operation.method,
        url: operationUrl(connectorId, connector.baseUrl, operation.path, inputs.path ?? {}),
        ...(connector.fallbackBaseUrls === undefined ? {} : { fallbackUrls: connector.fallbackBaseUrls.map((base) => operationUrl(connectorId, base, operation.path, inputs.path ?? {})) }),
        query: { ...operation.query, ...inputs.query },
        headers: { ...plainHeaders(connector.headers, connectorId), ...plainHeaders(operation.headers, connectorId), ...inputs.headers },
        ...(inputs.body === undefined ? {} : { body: inputs.body }),
        ...(operation.bodyType === undefined ? {} : { bodyType: operation.bodyType }),
        ...(operation.responseType === undefined ? {} : { responseType: operation.responseType }),
        ...(operation.maxResponseBytes === undefined ? {} : { maxResponseBytes: operation.maxResponseBytes }),
        ...(auth === undefined ? {} : { auth }),
        ...(connector.timeoutSeconds === undefined ? {} : { timeoutSeconds: connector.timeoutSeconds }),
      };
      return send(request, context);
    },
  });
}
