import type { RpcTypedData } from '../core/coreApi.js';
import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';
import { outputItems } from '../core/typedData.js';
import { IndexingError, type OutputBindingProvider, type PreparedOutput } from '../bindings/outputBinding.js';
import type { HostSettings } from '../config/settings.js';
import type { TriggerProvider } from '../indexing/functionIndex.js';
import type { OutgoingMessage, SqliteBroker } from './broker.js';
import { requireEmbeddedServiceBusConnection } from './serviceBusConnection.js';

/** What a Service Bus trigger listens on, after `%setting%` resolution. */
export interface ServiceBusTriggerTarget {
  entityPath: string;
  dataType: unknown;
}

function resolvedName(settings: HostSettings, binding: BindingDefinition, property: string): string | undefined {
  const value = binding[property];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new IndexingError(`'${property}' of binding '${binding.name}' must be a string.`);
  return settings.resolveWholeString(value);
}

/** The trigger provider: resolves the entity, checks the connection and makes sure the entity exists. */
export function serviceBusTriggerProvider(settings: HostSettings, broker: SqliteBroker): TriggerProvider<ServiceBusTriggerTarget> {
  return {
    type: 'servicebustrigger',
    prepare(_fn: RegisteredFunction, trigger: BindingDefinition): ServiceBusTriggerTarget {
      requireEmbeddedServiceBusConnection(settings, trigger['connection']);
      if (trigger['cardinality'] === 'many') throw new IndexingError(`binding '${trigger.name}' uses cardinality 'many', which the embedded host does not support; use 'one'.`);
      if (trigger['isSessionsEnabled'] === true) throw new IndexingError(`binding '${trigger.name}' enables sessions, which the embedded host does not support.`);
      const queue = resolvedName(settings, trigger, 'queueName');
      const topic = resolvedName(settings, trigger, 'topicName');
      const subscription = resolvedName(settings, trigger, 'subscriptionName');
      if (queue) {
        broker.ensureQueue(queue);
        return { entityPath: queue, dataType: trigger.dataType };
      }
      if (topic && subscription) {
        broker.ensureTopic(topic);
        broker.ensureSubscription(topic, subscription);
        return { entityPath: `${topic}/Subscriptions/${subscription}`, dataType: trigger.dataType };
      }
      throw new IndexingError(`binding '${trigger.name}' needs 'queueName', or 'topicName' and 'subscriptionName'.`);
    },
  };
}

/**
 * How the Service Bus output binding turns a value into messages: a string is a UTF-8 body, bytes a binary
 * body, anything else JSON with `application/json`; a JSON array is one message per element.
 */
export function serviceBusMessagesFromOutput(data: RpcTypedData): OutgoingMessage[] {
  return outputItems(data).map((item): OutgoingMessage => {
    if (Buffer.isBuffer(item)) return { body: item };
    if (typeof item === 'string') return { body: Buffer.from(item, 'utf8') };
    return { body: Buffer.from(JSON.stringify(item), 'utf8'), contentType: 'application/json' };
  });
}

/** The output provider: each invocation's messages go to the entity in one broker transaction. */
export function serviceBusOutputProvider(settings: HostSettings, broker: SqliteBroker): OutputBindingProvider {
  return {
    type: 'servicebus',
    prepare(_fn: RegisteredFunction, binding: BindingDefinition): PreparedOutput {
      requireEmbeddedServiceBusConnection(settings, binding['connection']);
      const queue = resolvedName(settings, binding, 'queueName');
      const topic = resolvedName(settings, binding, 'topicName');
      const entity = queue ?? topic;
      if (!entity) throw new IndexingError(`binding '${binding.name}' needs 'queueName' or 'topicName'.`);
      if (queue) broker.ensureQueue(queue);
      else broker.ensureTopic(entity);
      return {
        flush(data) {
          const messages = serviceBusMessagesFromOutput(data);
          if (messages.length > 0) broker.send(entity, messages);
        },
      };
    },
  };
}
