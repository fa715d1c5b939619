import type { SystemRequest, SystemRoute } from '../http/httpServer.js';
import { endEmpty, endJson, endProblem, PayloadTooLargeError, readBody } from '../http/httpExchange.js';
import type { KeyAuthorizer } from '../http/keys.js';
import type { IndexedFunction } from '../indexing/functionIndex.js';
import type { BrokeredMessage, SqliteBroker } from '../servicebus/broker.js';

export interface HostStatus {
  id: string;
  state: 'Initialized' | 'Running' | 'Stopping' | 'Stopped';
  version: string;
  versionDetails: string;
  processUptime: number;
  errors?: string[];
  functions: { total: number; enabled: number; disabled: number; withErrors: number };
  invocations: { started: number; succeeded: number; failed: number; inFlight: number };
}

export interface AdminApiOptions {
  authorizer: KeyAuthorizer;
  authEnforced: boolean;
  functions(): readonly IndexedFunction[];
  status(): HostStatus;
  broker: SqliteBroker;
  /** Runs a non-HTTP function with the admin input (fire and forget: the caller gets 202). */
  invokeNonHttp(indexed: IndexedFunction, input: string): void;
}

function describeMessage(message: BrokeredMessage): Record<string, unknown> {
  const body = message.body.toString('utf8');
  return {
    sequenceNumber: message.sequenceNumber,
    messageId: message.messageId,
    enqueuedTimeUtc: message.enqueuedTimeUtc.toISOString(),
    deliveryCount: message.deliveryCount,
    contentType: message.contentType,
    subject: message.subject,
    correlationId: message.correlationId,
    applicationProperties: message.applicationProperties ?? {},
    deadLetterReason: message.deadLetterReason,
    deadLetterErrorDescription: message.deadLetterErrorDescription,
    deadLetterSource: message.deadLetterSource,
    body,
  };
}

/**
 * The entity path a dead-letter admin URL names: `queues/{queue}` or `topics/{topic}/subscriptions/{sub}`
 * (URL-decoded), or undefined when the path is neither.
 */
function entityPathOf(segments: string[]): { entityPath: string; rest: string[] } | undefined {
  if (segments[0] === 'queues' && segments[1]) return { entityPath: segments[1], rest: segments.slice(2) };
  if (segments[0] === 'topics' && segments[1] && segments[2] === 'subscriptions' && segments[3]) {
    return { entityPath: `${segments[1]}/Subscriptions/${segments[3]}`, rest: segments.slice(4) };
  }
  return undefined;
}

/**
 * The admin API under `/admin` (master key outside Development):
 * - `GET /admin/host/status`; `GET /admin/functions`; `POST /admin/functions/{name}` with `{"input": "..."}`
 *   runs a non-HTTP function (202), as the real host's admin API;
 * - Service Bus: `GET /admin/servicebus/entities`, and for `queues/{q}` or `topics/{t}/subscriptions/{s}`:
 *   `GET .../deadletters?max=N` (peek), `POST .../deadletters/resubmit` (optionally
 *   `{"sequenceNumbers": [..]}`), `DELETE .../deadletters` (purge).
 */
export function adminRoute(options: AdminApiOptions): SystemRoute {
  return {
    prefix: 'admin',
    async handle({ request, response, subPath, query, key }: SystemRequest): Promise<void> {
      if (options.authEnforced && !options.authorizer.authorize('admin', key, '')) {
        endEmpty(response, 401);
        return;
      }
      const method = request.method ?? 'GET';
      const segments = subPath.split('/').filter(Boolean).map(decodeURIComponent);
      const [area, name] = segments;

      if (area === 'host' && name === 'status' && method === 'GET') {
        endJson(response, 200, options.status());
        return;
      }
      if (area === 'functions' && segments.length === 1 && method === 'GET') {
        endJson(
          response,
          200,
          options.functions().map((indexed) => ({
            name: indexed.fn.name,
            trigger: indexed.trigger.type,
            isDisabled: indexed.disabled,
            ...(indexed.error ? { error: indexed.error } : {}),
          })),
        );
        return;
      }
      if (area === 'functions' && name && segments.length === 2 && method === 'POST') {
        const indexed = options.functions().find((candidate) => candidate.fn.name.toLowerCase() === name.toLowerCase());
        if (!indexed) {
          endProblem(response, 404, 'Admin.FunctionNotFound', `No function is named '${name}'.`);
          return;
        }
        if (indexed.triggerType === 'httptrigger') {
          endProblem(response, 400, 'Admin.HttpFunction', `'${indexed.fn.name}' is an HTTP function: call its route instead.`);
          return;
        }
        if (indexed.disabled) {
          endProblem(response, 409, 'Admin.FunctionDisabled', indexed.error ?? `'${indexed.fn.name}' is disabled.`);
          return;
        }
        let input = '';
        try {
          const body = (await readBody(request, 1024 * 1024)).toString('utf8');
          if (body.trim() !== '') {
            const parsed = JSON.parse(body) as { input?: unknown };
            input = typeof parsed.input === 'string' ? parsed.input : parsed.input === undefined ? '' : JSON.stringify(parsed.input);
          }
        } catch (error) {
          endProblem(response, error instanceof PayloadTooLargeError ? 413 : 400, 'Admin.InvalidBody', 'The body must be JSON such as {"input": "..."}.');
          return;
        }
        options.invokeNonHttp(indexed, input);
        endEmpty(response, 202);
        return;
      }
      if (area === 'servicebus') {
        await handleServiceBus(options.broker, method, segments.slice(1), query, request, response);
        return;
      }
      endProblem(response, 404, 'Admin.NotFound', `No admin endpoint ${method} /admin/${subPath}.`);
    },
  };
}

async function handleServiceBus(broker: SqliteBroker, method: string, segments: string[], query: URLSearchParams, request: SystemRequest['request'], response: SystemRequest['response']): Promise<void> {
  if (segments[0] === 'entities' && segments.length === 1 && method === 'GET') {
    endJson(
      response,
      200,
      broker.listEntities().map((entity) => ({ ...entity, ...(entity.kind === 'topic' ? {} : broker.getRuntimeProperties(entity.path)) })),
    );
    return;
  }
  const target = entityPathOf(segments);
  if (!target || target.rest[0] !== 'deadletters') {
    endProblem(response, 404, 'Admin.NotFound', 'Use /admin/servicebus/queues/{queue}/deadletters or /admin/servicebus/topics/{topic}/subscriptions/{subscription}/deadletters.');
    return;
  }
  const known = broker.listEntities().some((entity) => entity.path.toLowerCase() === target.entityPath.toLowerCase());
  if (!known) {
    endProblem(response, 404, 'ServiceBus.EntityNotFound', `No queue or subscription '${target.entityPath}' exists.`);
    return;
  }
  const deadLetterPath = `${target.entityPath}/$DeadLetterQueue`;
  const action = target.rest[1];
  if (method === 'GET' && action === undefined) {
    const max = Math.min(Math.max(Number(query.get('max') ?? 100) || 100, 1), 1000);
    const from = Number(query.get('fromSequenceNumber') ?? 0) || 0;
    endJson(response, 200, broker.peek(deadLetterPath, { fromSequenceNumber: from, maxMessages: max }).map(describeMessage));
    return;
  }
  if (method === 'POST' && action === 'resubmit') {
    let sequenceNumbers: number[] | undefined;
    try {
      const body = (await readBody(request, 1024 * 1024)).toString('utf8');
      if (body.trim() !== '') {
        const parsed = JSON.parse(body) as { sequenceNumbers?: unknown };
        if (parsed.sequenceNumbers !== undefined) {
          if (!Array.isArray(parsed.sequenceNumbers) || !parsed.sequenceNumbers.every(Number.isInteger)) throw new Error('sequenceNumbers');
          sequenceNumbers = parsed.sequenceNumbers as number[];
        }
      }
    } catch {
      endProblem(response, 400, 'Admin.InvalidBody', 'The body must be empty or {"sequenceNumbers": [integers]}.');
      return;
    }
    endJson(response, 200, { resubmitted: broker.resubmitDeadLetters(target.entityPath, sequenceNumbers) });
    return;
  }
  if (method === 'DELETE' && action === undefined) {
    endJson(response, 200, { purged: broker.purge(deadLetterPath) });
    return;
  }
  endProblem(response, 405, 'Admin.MethodNotAllowed', `${method} is not supported here.`);
}
