import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RpcHttpData, RpcInvocationResponse } from '../core/coreApi.js';
import type { InvocationInput } from '../core/invoker.js';
import type { IndexedFunction } from '../indexing/functionIndex.js';
import type { CorsPolicy } from './cors.js';
import { endEmpty, PayloadTooLargeError, presentedKey, readBody } from './httpExchange.js';
import { buildHttpTriggerInput, httpResultFromRpc } from './httpRpc.js';
import type { AuthLevel, KeyAuthorizer } from './keys.js';
import type { RequestLimiter } from './requestLimiter.js';
import type { RouteTable } from './routeTable.js';

/** A request to one of the host's own endpoints (`/admin/...`, `/runtime/webhooks/...`). */
export interface SystemRequest {
  request: IncomingMessage;
  response: ServerResponse;
  /** The path after the handler's prefix, without the leading '/'. */
  subPath: string;
  query: URLSearchParams;
  /** The key presented (header or `code`), for handlers that check their own level. */
  key: string | undefined;
}

export interface SystemRoute {
  /** e.g. `admin` or `runtime/webhooks/eventgrid` (no leading '/'); matched case-insensitively. */
  prefix: string;
  handle(request: SystemRequest): Promise<void>;
}

export interface HttpFrontDoorOptions {
  routes: RouteTable<IndexedFunction>;
  authorizer: KeyAuthorizer;
  authEnforced: boolean;
  cors: CorsPolicy;
  limiter: RequestLimiter;
  maxRequestBodyBytes: number;
  /** Drop client-sent `x-ms-client-principal*` headers (on unless a trusted authentication proxy is in front). */
  stripIdentityHeaders: boolean;
  systemRoutes: readonly SystemRoute[];
  /** Runs the function and flushes its outputs; rejects when the invocation failed. */
  execute(indexed: IndexedFunction, input: InvocationInput): Promise<RpcInvocationResponse>;
  onError(message: string, error: unknown): void;
}

function authLevelOf(indexed: IndexedFunction): AuthLevel {
  const level = String(indexed.trigger['authLevel'] ?? 'function').toLowerCase();
  return level === 'anonymous' || level === 'admin' ? level : 'function';
}

/** The HTTP response a successful invocation produced: `$return`, else another output binding of type http. */
function httpResponseData(indexed: IndexedFunction, response: RpcInvocationResponse): RpcHttpData | undefined {
  if (indexed.fn.bindings.some((binding) => binding.name === '$return' && binding.type.toLowerCase() === 'http')) {
    return response.returnValue?.http ?? undefined;
  }
  const httpOutputs = new Set(indexed.fn.bindings.filter((binding) => binding.direction === 'out' && binding.type.toLowerCase() === 'http').map((binding) => binding.name));
  return response.outputData?.find((output) => httpOutputs.has(output.name))?.data.http ?? undefined;
}

const NO_BODY_STATUS = new Set([204, 205, 304]);

/**
 * The host's HTTP front end: the host's own endpoints first, then function routes with the real host's
 * order of checks (route → disabled → key → throttle → body size), the invocation, and the response.
 */
export class HttpFrontDoor {
  readonly server: Server;

  constructor(private readonly options: HttpFrontDoorOptions) {
    this.server = http.createServer({ keepAliveTimeout: 5_000, requestTimeout: 0 }, (request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        options.onError('Unhandled error while serving a request', error);
        endEmpty(response, 500);
      });
    });
  }

  async listen(port: number, hostname: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, hostname, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting connections, closes idle keep-alive ones and waits for requests in progress. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawUrl = request.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart >= 0 ? rawUrl.slice(0, queryStart) : rawUrl;
    const query = new URLSearchParams(queryStart >= 0 ? rawUrl.slice(queryStart + 1) : '');
    const trimmedPath = rawPath.replace(/^\/+/, '');
    const lowerPath = trimmedPath.toLowerCase();

    for (const route of this.options.systemRoutes) {
      const prefix = route.prefix.toLowerCase();
      if (lowerPath === prefix || lowerPath.startsWith(`${prefix}/`)) {
        await route.handle({ request, response, subPath: trimmedPath.slice(prefix.length + 1), query, key: presentedKey(request, query) });
        return;
      }
    }

    if (this.options.cors.handlePreflight(request, response)) return;
    const method = request.method ?? 'GET';
    const match = this.options.routes.match(method, rawPath);
    if (!match || match.target.disabled) {
      endEmpty(response, 404);
      return;
    }
    const indexed = match.target;
    if (this.options.authEnforced && !this.options.authorizer.authorize(authLevelOf(indexed), presentedKey(request, query), indexed.fn.name)) {
      endEmpty(response, 401);
      return;
    }
    const release = await this.options.limiter.acquire();
    if (!release) {
      endEmpty(response, 429);
      return;
    }
    try {
      await this.invokeHttpFunction(indexed, request, response, rawUrl, query, match.params);
    } finally {
      release();
    }
  }

  private async invokeHttpFunction(
    indexed: IndexedFunction,
    request: IncomingMessage,
    response: ServerResponse,
    rawUrl: string,
    query: URLSearchParams,
    params: Record<string, string>,
  ): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(request, this.options.maxRequestBodyBytes);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        response.setHeader('Connection', 'close');
        endEmpty(response, 413);
        return;
      }
      throw error;
    }
    const host = request.headers.host ?? 'localhost';
    const url = `http://${host}${rawUrl}`;
    const input = buildHttpTriggerInput(request, url, query, params, body, this.options.stripIdentityHeaders);
    const inputData = [{ name: indexed.trigger.name, data: input.data }];
    for (const [name, prepared] of indexed.inputs) inputData.push({ name, data: prepared.data() });

    let invocation: RpcInvocationResponse;
    try {
      invocation = await this.options.execute(indexed, { inputData, triggerMetadata: input.triggerMetadata });
    } catch {
      // The real host answers a failed invocation with an empty 500; the error is already logged.
      endEmpty(response, 500);
      return;
    }
    const result = httpResultFromRpc(httpResponseData(indexed, invocation));
    response.statusCode = result.status;
    for (const [name, value] of result.headers) {
      if (name.toLowerCase() === 'set-cookie') response.appendHeader('Set-Cookie', value);
      else response.setHeader(name, value);
    }
    this.options.cors.apply(request, response);
    if (NO_BODY_STATUS.has(result.status)) {
      response.removeHeader('Content-Length');
      response.end();
      return;
    }
    response.setHeader('Content-Length', String(result.body.length));
    if (request.method === 'HEAD') response.end();
    else response.end(result.body);
  }
}
