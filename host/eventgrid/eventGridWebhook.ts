import type { RpcParameterBinding } from '../core/coreApi.js';
import type { InvocationInput } from '../core/invoker.js';
import type { SystemRequest, SystemRoute } from '../http/httpServer.js';
import { endEmpty, endJson, endProblem, PayloadTooLargeError, readBody } from '../http/httpExchange.js';
import type { KeyAuthorizer } from '../http/keys.js';
import type { IndexedFunction } from '../indexing/functionIndex.js';
import { type AnyEvent, EventFormatError, normalizeEvents } from './eventGridEvents.js';

/** Event Grid delivers at most 1 MB per request. */
const MAX_DELIVERY_BYTES = 1024 * 1024;

/** The trigger input for one event: the event as JSON, and its `data` as trigger metadata. */
export function eventGridInvocationInput(indexed: IndexedFunction, event: AnyEvent): InvocationInput {
  const inputData: RpcParameterBinding[] = [{ name: indexed.trigger.name, data: { json: JSON.stringify(event) } }];
  for (const [name, prepared] of indexed.inputs) inputData.push({ name, data: prepared.data() });
  const data = (event as { data?: unknown }).data;
  return { inputData, triggerMetadata: data === undefined ? {} : { data: { json: JSON.stringify(data) } } };
}

export interface EventGridWebhookOptions {
  findFunction(name: string): IndexedFunction | undefined;
  execute(indexed: IndexedFunction, input: InvocationInput): Promise<unknown>;
  authorizer: KeyAuthorizer;
  authEnforced: boolean;
}

/**
 * `POST /runtime/webhooks/eventgrid?functionName=<fn>`: the subscription validation handshake (Event Grid
 * schema, and the CloudEvents OPTIONS abuse-protection handshake), then notifications — each event invokes the
 * function; 202 when all succeed, 500 otherwise so that Event Grid retries. Outside Development the
 * `eventgrid_extension` system key (or the master key) is required, as on Azure.
 */
export function eventGridWebhookRoute(options: EventGridWebhookOptions): SystemRoute {
  return {
    prefix: 'runtime/webhooks/eventgrid',
    async handle({ request, response, query, key }: SystemRequest): Promise<void> {
      const functionName = query.get('functionName');
      const indexed = functionName ? options.findFunction(functionName) : undefined;
      if (!indexed || indexed.disabled || indexed.triggerType !== 'eventgridtrigger') {
        endProblem(response, 404, 'EventGrid.FunctionNotFound', `No enabled Event Grid trigger function is named '${functionName ?? ''}'.`);
        return;
      }
      if (options.authEnforced && !options.authorizer.authorize('system', key, indexed.fn.name, 'eventgrid_extension')) {
        endEmpty(response, 401);
        return;
      }
      if (request.method === 'OPTIONS') {
        const origin = request.headers['webhook-request-origin'];
        if (typeof origin === 'string') {
          response.setHeader('WebHook-Allowed-Origin', origin);
          response.setHeader('WebHook-Allowed-Rate', '*');
        }
        endEmpty(response, 200);
        return;
      }
      if (request.method !== 'POST') {
        endEmpty(response, 405);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse((await readBody(request, MAX_DELIVERY_BYTES)).toString('utf8'));
      } catch (error) {
        if (error instanceof PayloadTooLargeError) endProblem(response, 413, 'EventGrid.PayloadTooLarge', error.message);
        else endProblem(response, 400, 'EventGrid.InvalidJson', 'The request body is not valid JSON.');
        return;
      }
      const eventType = String(request.headers['aeg-event-type'] ?? '');
      const items = Array.isArray(parsed) ? parsed : [parsed];
      if (eventType === 'SubscriptionValidation') {
        const code = (items[0] as { data?: { validationCode?: unknown } } | undefined)?.data?.validationCode;
        if (typeof code !== 'string') {
          endProblem(response, 400, 'EventGrid.InvalidValidationEvent', 'A validation event needs data.validationCode.');
          return;
        }
        endJson(response, 200, { validationResponse: code });
        return;
      }
      if (eventType === 'Unsubscribe') {
        endEmpty(response, 202);
        return;
      }
      const isCloudEventsDelivery = /cloudevents/i.test(String(request.headers['content-type'] ?? ''));
      if (eventType !== 'Notification' && !isCloudEventsDelivery) {
        endProblem(response, 400, 'EventGrid.UnknownEventType', `The aeg-event-type header must be SubscriptionValidation, Notification or Unsubscribe (got '${eventType}').`);
        return;
      }
      let events: AnyEvent[];
      try {
        events = normalizeEvents(items, undefined);
      } catch (error) {
        endProblem(response, 400, 'EventGrid.InvalidEvent', error instanceof EventFormatError ? error.message : String(error));
        return;
      }
      const results = await Promise.allSettled(events.map((event) => options.execute(indexed, eventGridInvocationInput(indexed, event))));
      endEmpty(response, results.every((result) => result.status === 'fulfilled') ? 202 : 500);
    },
  };
}
