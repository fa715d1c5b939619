/**
 * The Durable Functions HTTP management API (`HttpApiHandler` of the extension) under
 * `/runtime/webhooks/durabletask/`, over the task hub's {@link TaskHubClient}. The `durableClient` binding points
 * the JS `DurableClient` at the same routes (see {@link durableClientBindingData}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SystemRequest, SystemRoute } from '../http/httpServer.js';
import { endEmpty, endJson, endProblem, PayloadTooLargeError, readBody } from '../http/httpExchange.js';
import type { KeyAuthorizer } from '../http/keys.js';
import { toFriendlyHistory } from './historyEvents.js';
import { type StatusPayload, toStatusPayload } from './statusPayload.js';
import { type InstanceQuery, type InstanceRecord, type RuntimeStatus, type TaskHubClient, TaskHubRequestError, TERMINAL_STATUSES } from './taskHubClient.js';

/** The route prefix (no leading '/'). */
export const DURABLE_WEBHOOK_PREFIX = 'runtime/webhooks/durabletask';

/** The connection name the links carry (`connection=Storage`), as the extension's default. */
const CONNECTION_NAME = 'Storage';

/** Default limit for startNew/raiseEvent bodies. */
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** `setTimeout` cannot wait longer than this (about 24.8 days). */
const MAX_WAIT_MS = 2_147_483_647;

const MAX_INSTANCE_ID_LENGTH = 256;

const RUNTIME_STATUSES: readonly RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Terminated', 'Suspended', 'Canceled'];

/** The management links of one instance (`HttpManagementPayload`), as the check-status response carries them. */
export interface HttpManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
  rewindPostUri: string;
}

/** The `durableClient` input binding value (`BindingHelper`, camelCase), read by durable-functions' `getClient()`. */
export interface DurableClientBindingData {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: Omit<HttpManagementPayload, 'id'> & { id: 'INSTANCEID' };
  baseUrl: string;
  requiredQueryStringParameters: string;
  /** Present only when no key is required (see {@link durableClientBindingData}). */
  rpcBaseUrl?: string;
}

/** What {@link durableHttpApiRoute} needs from the host. */
export interface DurableHttpApiOptions {
  client: TaskHubClient;
  /** The host's origin as clients reach it, e.g. `http://127.0.0.1:7071` (no trailing '/'). */
  baseUrl: () => string;
  authorizer: KeyAuthorizer;
  /** When true, every request needs the system key (or the master key). */
  authEnforced: boolean;
  /** The system key that grants access besides the master key; default `durabletask_extension`. */
  systemKeyName?: string;
  /** Limit for request bodies (startNew input, raiseEvent data); default 16 MiB, more gives 413. */
  maxRequestBodyBytes?: number;
  /** Told about unexpected errors (answered with a 500 problem without details). */
  onError?(message: string, error: unknown): void;
}

function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The management URLs for one instance path (`instancePath` is already encoded, or the `INSTANCEID` placeholder). */
function managementUrls(webhookBase: string, instancePath: string, querySuffix: string): Omit<HttpManagementPayload, 'id'> {
  const instance = `${webhookBase}/instances/${instancePath}`;
  return {
    statusQueryGetUri: `${instance}?${querySuffix}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${querySuffix}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${querySuffix}`,
    purgeHistoryDeleteUri: `${instance}?${querySuffix}`,
    restartPostUri: `${instance}/restart?${querySuffix}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${querySuffix}`,
    resumePostUri: `${instance}/resume?reason={text}&${querySuffix}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${querySuffix}`,
  };
}

function hubQuery(taskHubName: string, requiredQueryString: string): string {
  const suffix = `taskHub=${encodeURIComponent(taskHubName)}&connection=${CONNECTION_NAME}`;
  return requiredQueryString ? `${suffix}&${requiredQueryString}` : suffix;
}

/**
 * The `durableClient` binding value (spec 10.1) for a host reachable at `baseUrl` (e.g. `http://127.0.0.1:7071`).
 * `requiredQueryString` is `code=<key>` when the API requires a key, else `''`.
 *
 * `rpcBaseUrl` (`{baseUrl}/runtime/webhooks/durabletask/`) is included only when no key is required: the JS client
 * builds RPC URLs from it alone and never appends `requiredQueryStringParameters`, so with a key it would be
 * refused (401). Without `rpcBaseUrl` the client uses the `creationUrls`/`managementUrls` templates, which carry
 * the key. (Those templates are rewritten to `localhost:7071` by `getClient()` unless `WEBSITE_HOSTNAME` is set.)
 */
export function durableClientBindingData(baseUrl: string, taskHubName: string, requiredQueryString: string): DurableClientBindingData {
  const webhookBase = `${trimTrailingSlashes(baseUrl)}/${DURABLE_WEBHOOK_PREFIX}`;
  const creation = `${webhookBase}/orchestrators/{functionName}[/{instanceId}]`;
  const data: DurableClientBindingData = {
    taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${creation}?${requiredQueryString}`,
      createAndWaitOnNewInstancePostUri: `${creation}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${requiredQueryString}`,
    },
    managementUrls: { id: 'INSTANCEID', ...managementUrls(webhookBase, 'INSTANCEID', hubQuery(taskHubName, requiredQueryString)) },
    baseUrl: webhookBase,
    requiredQueryStringParameters: requiredQueryString,
  };
  if (!requiredQueryString) data.rpcBaseUrl = `${webhookBase}/`;
  return data;
}

/** A refusal with a problem body. */
class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TASK_HUB_ERROR_CODES: Record<TaskHubRequestError['status'], string> = {
  400: 'Durable.BadRequest',
  404: 'Durable.InstanceNotFound',
  409: 'Durable.Conflict',
  410: 'Durable.InstanceFinished',
  501: 'Durable.NotSupported',
};

/** Query parameters looked up case-insensitively, as the extension's `NameValueCollection` does. */
class QueryParameters {
  constructor(private readonly query: URLSearchParams) {}

  get(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [key, value] of this.query) if (key.toLowerCase() === wanted) return value;
    return undefined;
  }

  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    const values: string[] = [];
    for (const [key, value] of this.query) if (key.toLowerCase() === wanted) values.push(value);
    return values;
  }

  /** `bool.TryParse`: `true`/`false` in any case; anything else gives the default. */
  bool(name: string, fallback: boolean): boolean {
    const value = this.get(name)?.trim().toLowerCase();
    return value === 'true' ? true : value === 'false' ? false : fallback;
  }

  date(name: string): Date | undefined {
    const value = this.get(name);
    if (value === undefined || value.trim() === '') return undefined;
    const date = new Date(value.trim());
    if (Number.isNaN(date.getTime())) throw new ApiProblem(400, 'Durable.InvalidQuery', `The '${name}' parameter is not a valid date and time: '${value}'.`);
    return date;
  }

  /** A number of seconds (`double.TryParse`); unparsable values count as absent, as in the extension. */
  seconds(name: string): number | undefined {
    const value = this.get(name);
    if (value === undefined || value.trim() === '') return undefined;
    const seconds = Number(value);
    return Number.isFinite(seconds) ? Math.max(0, seconds) : undefined;
  }

  runtimeStatuses(): RuntimeStatus[] | undefined {
    const names = this.getAll('runtimeStatus')
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter((value) => value !== '');
    if (names.length === 0) return undefined;
    return names.map((name) => {
      const status = RUNTIME_STATUSES.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
      if (!status) throw new ApiProblem(400, 'Durable.InvalidQuery', `Unknown runtimeStatus '${name}'; expected one of ${RUNTIME_STATUSES.join(', ')}.`);
      return status;
    });
  }
}

/** The extension's instance id rules (`StartNewAsync`). */
function checkInstanceId(instanceId: string): void {
  if (instanceId.startsWith('@')) throw new ApiProblem(400, 'Durable.InvalidInstanceId', 'Orchestration instance ids must not start with @.');
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(instanceId)) {
    throw new ApiProblem(400, 'Durable.InvalidInstanceId', 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.');
  }
  if (instanceId.length > MAX_INSTANCE_ID_LENGTH) throw new ApiProblem(400, 'Durable.InvalidInstanceId', `Instance ID lengths must not exceed ${MAX_INSTANCE_ID_LENGTH} characters.`);
}

/** A JSON request body as text (BOM removed), or null when empty; invalid JSON is a 400. */
function jsonBodyText(body: Buffer): string | null {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return null;
  try {
    JSON.parse(text);
  } catch (error) {
    throw new ApiProblem(400, 'Durable.InvalidJson', `Invalid JSON content: ${error instanceof Error ? error.message : String(error)}`);
  }
  return text;
}

function isTerminal(record: InstanceRecord): boolean {
  return TERMINAL_STATUSES.has(record.runtimeStatus);
}

/**
 * The `/runtime/webhooks/durabletask` system route (spec 10.2): start (`POST orchestrators/{name}[/{id}]`, with
 * `?timeout=&pollingInterval=` to wait), status (`GET instances/{id}`), query with paging (`GET instances`,
 * `x-ms-continuation-token`), raise event, terminate, suspend, resume, restart, purge (one or by filter); rewind and
 * entities answer 501. Outside Development the `durabletask_extension` system key (or the master key) is required.
 */
export function durableHttpApiRoute(options: DurableHttpApiOptions): SystemRoute {
  const { client, authorizer } = options;
  const systemKeyName = options.systemKeyName ?? 'durabletask_extension';
  const maxBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const webhookBase = (): string => `${trimTrailingSlashes(options.baseUrl())}/${DURABLE_WEBHOOK_PREFIX}`;

  /** The links of one instance; they carry the caller's key when a key is required. */
  function links(instanceId: string, key: string | undefined): HttpManagementPayload {
    const required = options.authEnforced && key ? `code=${encodeURIComponent(key)}` : '';
    return { id: instanceId, ...managementUrls(webhookBase(), encodeURIComponent(instanceId), hubQuery(client.taskHubName, required)) };
  }

  function sendCheckStatus(response: ServerResponse, payload: HttpManagementPayload): void {
    response.setHeader('Location', payload.statusQueryGetUri);
    response.setHeader('Retry-After', '10');
    endJson(response, 202, payload);
  }

  function existing(instanceId: string): InstanceRecord {
    const record = client.getInstance(instanceId);
    if (!record) throw new ApiProblem(404, 'Durable.InstanceNotFound', `No instance with ID '${instanceId}' found.`);
    return record;
  }

  function render(record: InstanceRecord, query: QueryParameters): StatusPayload {
    const showInput = query.bool('showInput', true);
    const historyEvents =
      query.bool('showHistory', false) && record.runtimeStatus !== 'Pending'
        ? toFriendlyHistory(client.getHistory(record.instanceId), query.bool('showHistoryOutput', false), showInput)
        : undefined;
    return toStatusPayload(record, historyEvents ? { showInput, historyEvents } : { showInput });
  }

  async function readJsonBody(request: IncomingMessage): Promise<string | null> {
    return jsonBodyText(await readBody(request, maxBodyBytes));
  }

  /** Waits for the instance (create-and-wait): 200 + output, 200 + status, or 202 check-status on time-out. */
  async function waitOrCheckStatus(exchange: SystemRequest, query: QueryParameters, instanceId: string, timeoutSeconds: number): Promise<void> {
    const { response } = exchange;
    const controller = new AbortController();
    const onClose = (): void => controller.abort();
    response.on('close', onClose);
    let record: InstanceRecord | undefined;
    try {
      record = await client.waitForCompletion(instanceId, Math.min(MAX_WAIT_MS, Math.round(timeoutSeconds * 1000)), controller.signal);
    } catch (error) {
      if (controller.signal.aborted) return;
      throw error;
    } finally {
      response.off('close', onClose);
    }
    if (controller.signal.aborted) return; // the caller went away
    if (record && isTerminal(record)) {
      if (record.runtimeStatus === 'Completed') endJson(response, 200, toStatusPayload(record).output);
      else endJson(response, 200, render(record, query));
      return;
    }
    sendCheckStatus(response, links(instanceId, exchange.key));
  }

  /** Starts an instance, then answers with check-status or waits (`timeout` and `pollingInterval` both given). */
  async function respondStarted(exchange: SystemRequest, query: QueryParameters, start: () => string): Promise<void> {
    const timeout = query.seconds('timeout');
    const pollingInterval = query.seconds('pollingInterval');
    const wait = timeout !== undefined && pollingInterval !== undefined;
    if (wait && pollingInterval > timeout) {
      throw new ApiProblem(400, 'Durable.InvalidQuery', `Total timeout ${timeout} should be bigger than retry timeout ${pollingInterval}`);
    }
    const instanceId = start();
    if (wait) await waitOrCheckStatus(exchange, query, instanceId, timeout);
    else sendCheckStatus(exchange.response, links(instanceId, exchange.key));
  }

  async function startNew(exchange: SystemRequest, query: QueryParameters, functionName: string, instanceId: string | undefined): Promise<void> {
    if (instanceId !== undefined) checkInstanceId(instanceId);
    const input = await readJsonBody(exchange.request);
    const version = query.get('version') || undefined;
    await respondStarted(exchange, query, () => client.startNew(functionName, { input, ...(instanceId !== undefined ? { instanceId } : {}), ...(version ? { version } : {}) }));
  }

  function getStatus(response: ServerResponse, request: IncomingMessage, query: QueryParameters, instanceId: string): void {
    const record = existing(instanceId);
    const payload = render(record, query);
    switch (record.runtimeStatus) {
      case 'Pending':
      case 'Running':
      case 'ContinuedAsNew':
      case 'Suspended':
        response.setHeader('Location', `${trimTrailingSlashes(options.baseUrl())}${request.url ?? ''}`);
        response.setHeader('Retry-After', '5');
        endJson(response, 202, payload);
        return;
      case 'Failed':
        endJson(response, query.bool('returnInternalServerErrorOnFailure', false) ? 500 : 200, payload);
        return;
      default:
        endJson(response, 200, payload);
    }
  }

  function listInstances(request: IncomingMessage, response: ServerResponse, query: QueryParameters): void {
    const filter: InstanceQuery = {};
    const createdTimeFrom = query.date('createdTimeFrom');
    const createdTimeTo = query.date('createdTimeTo');
    const runtimeStatus = query.runtimeStatuses();
    const instanceIdPrefix = query.get('instanceIdPrefix');
    const top = query.get('top');
    const token = request.headers['x-ms-continuation-token'];
    if (createdTimeFrom) filter.createdTimeFrom = createdTimeFrom;
    if (createdTimeTo) filter.createdTimeTo = createdTimeTo;
    if (runtimeStatus) filter.runtimeStatus = runtimeStatus;
    if (instanceIdPrefix) filter.instanceIdPrefix = instanceIdPrefix;
    if (top !== undefined && top.trim() !== '') {
      if (!/^\s*\d+\s*$/.test(top) || Number(top) < 1) throw new ApiProblem(400, 'Durable.InvalidQuery', `The 'top' parameter must be a positive integer (got '${top}').`);
      filter.top = Number(top);
    }
    if (typeof token === 'string' && token !== '') filter.continuationToken = token;
    const page = client.listInstances(filter);
    const showInput = query.bool('showInput', true);
    if (page.continuationToken) response.setHeader('x-ms-continuation-token', page.continuationToken);
    endJson(
      response,
      200,
      page.instances.map((record) => toStatusPayload(record, { showInput })),
    );
  }

  function purgeBy(response: ServerResponse, query: QueryParameters): void {
    const createdTimeFrom = query.date('createdTimeFrom');
    if (!createdTimeFrom) throw new ApiProblem(400, 'Durable.MissingCreatedTimeFrom', "Please provide value for 'createdTimeFrom' parameter.");
    const runtimeStatus = query.runtimeStatuses();
    const deleted = client.purgeBy({ createdTimeFrom, createdTimeTo: query.date('createdTimeTo') ?? new Date(), ...(runtimeStatus ? { runtimeStatus } : {}) });
    if (deleted === 0) throw new ApiProblem(404, 'Durable.NothingPurged', 'No finished instances matched the filter.');
    endJson(response, 200, { instancesDeleted: deleted });
  }

  function purge(response: ServerResponse, instanceId: string): void {
    const record = existing(instanceId);
    if (!isTerminal(record)) {
      throw new ApiProblem(
        412,
        'Durable.InstanceNotFinished',
        `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${record.runtimeStatus}`,
      );
    }
    endJson(response, 200, { instancesDeleted: client.purge(instanceId) });
  }

  async function raiseEvent(exchange: SystemRequest, instanceId: string, eventName: string): Promise<void> {
    if (/^\d+$/.test(eventName)) {
      throw new ApiProblem(400, 'Durable.InvalidEventName', `Event names made only of digits ('${eventName}') are refused: they collide with the orchestration's task ids.`);
    }
    const record = existing(instanceId);
    if (isTerminal(record)) throw new ApiProblem(410, 'Durable.InstanceFinished', `The instance '${instanceId}' is ${record.runtimeStatus}; it no longer accepts events.`);
    const mediaType = String(exchange.request.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    if (mediaType !== 'application/json') throw new ApiProblem(400, 'Durable.JsonContentRequired', 'Only application/json request content is supported');
    const input = await readJsonBody(exchange.request);
    client.raiseEvent(instanceId, eventName, input);
    endEmpty(exchange.response, 202);
  }

  async function instanceOperation(exchange: SystemRequest, query: QueryParameters, instanceId: string, operation: string): Promise<void> {
    const { response } = exchange;
    const reason = query.get('reason') ?? null;
    switch (operation) {
      case 'terminate':
      case 'suspend':
      case 'resume': {
        const record = existing(instanceId);
        if (isTerminal(record)) throw new ApiProblem(410, 'Durable.InstanceFinished', `The instance '${instanceId}' is already ${record.runtimeStatus}.`);
        if (operation === 'terminate') client.terminate(instanceId, reason);
        else if (operation === 'suspend') client.suspend(instanceId, reason);
        else client.resume(instanceId, reason);
        endEmpty(response, 202);
        return;
      }
      case 'restart': {
        const record = existing(instanceId);
        const newId = query.bool('restartWithNewInstanceId', true);
        await respondStarted(exchange, query, () =>
          client.startNew(record.name, { input: record.input, ...(newId ? {} : { instanceId }), ...(record.version ? { version: record.version } : {}) }),
        );
        return;
      }
      case 'rewind':
        existing(instanceId);
        throw new ApiProblem(501, 'Durable.RewindNotSupported', 'Rewind is not supported by the embedded host: start a new instance (or restart this one) instead.');
      default:
        throw new ApiProblem(404, 'Durable.NotFound', `Unknown instance operation '${operation}'.`);
    }
  }

  function methodNotAllowed(response: ServerResponse, allowed: string): never {
    response.setHeader('Allow', allowed);
    throw new ApiProblem(405, 'Durable.MethodNotAllowed', `Use ${allowed} on this resource.`);
  }

  async function dispatch(exchange: SystemRequest): Promise<void> {
    const { request, response } = exchange;
    const method = (request.method ?? 'GET').toUpperCase();
    const query = new QueryParameters(exchange.query);
    let segments: string[];
    try {
      segments = exchange.subPath.replace(/^\/+|\/+$/g, '').split('/').map(decodeURIComponent);
    } catch {
      throw new ApiProblem(400, 'Durable.InvalidPath', 'The request path is not correctly URL-encoded.');
    }
    if (segments.length === 1 && segments[0] === '') segments = [];
    if (segments.some((segment) => segment === '')) throw new ApiProblem(404, 'Durable.NotFound', 'No Durable API resource has this path.');
    const [area, first, second, third] = segments;
    const literal = (value: string | undefined): string => (value ?? '').toLowerCase();

    switch (literal(area)) {
      case 'orchestrators':
        if (first === undefined || segments.length > 3) break;
        if (method !== 'POST') methodNotAllowed(response, 'POST');
        await startNew(exchange, query, first, second);
        return;
      case 'instances':
        if (first === undefined) {
          if (method === 'GET') listInstances(request, response, query);
          else if (method === 'DELETE') purgeBy(response, query);
          else methodNotAllowed(response, 'GET, DELETE');
          return;
        }
        if (second === undefined) {
          if (method === 'GET') getStatus(response, request, query, first);
          else if (method === 'DELETE') purge(response, first);
          else methodNotAllowed(response, 'GET, DELETE');
          return;
        }
        if (literal(second) === 'raiseevent' && third !== undefined && segments.length === 4) {
          if (method !== 'POST') methodNotAllowed(response, 'POST');
          await raiseEvent(exchange, first, third);
          return;
        }
        if (segments.length === 3 && ['terminate', 'suspend', 'resume', 'restart', 'rewind'].includes(literal(second))) {
          if (method !== 'POST') methodNotAllowed(response, 'POST');
          await instanceOperation(exchange, query, first, literal(second));
          return;
        }
        break;
      case 'entities':
        throw new ApiProblem(501, 'Durable.EntitiesNotSupported', 'Durable Entities are not supported by the embedded host.');
      default:
        break;
    }
    throw new ApiProblem(404, 'Durable.NotFound', 'No Durable API resource has this path.');
  }

  function respondWithError(response: ServerResponse, error: unknown): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    if (error instanceof ApiProblem) {
      endProblem(response, error.status, error.code, error.message);
    } else if (error instanceof TaskHubRequestError) {
      endProblem(response, error.status, TASK_HUB_ERROR_CODES[error.status] ?? 'Durable.BadRequest', error.message);
    } else if (error instanceof PayloadTooLargeError) {
      response.setHeader('Connection', 'close');
      endProblem(response, 413, 'Durable.PayloadTooLarge', error.message);
    } else {
      options.onError?.('Durable HTTP API request failed', error);
      endProblem(response, 500, 'Durable.InternalError', 'Something went wrong while processing your request.');
    }
  }

  return {
    prefix: DURABLE_WEBHOOK_PREFIX,
    async handle(exchange: SystemRequest): Promise<void> {
      if (options.authEnforced && !authorizer.authorize('system', exchange.key, '', systemKeyName)) {
        endEmpty(exchange.response, 401);
        return;
      }
      try {
        await dispatch(exchange);
      } catch (error) {
        respondWithError(exchange.response, error);
      }
    },
  };
}
