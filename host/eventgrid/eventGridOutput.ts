import type { BindingDefinition, RegisteredFunction } from '../core/functionRegistry.js';
import { outputItems } from '../core/typedData.js';
import { IndexingError, type OutputBindingProvider, type PreparedOutput } from '../bindings/outputBinding.js';
import type { HostSettings } from '../config/settings.js';
import type { SqliteBroker } from '../servicebus/broker.js';
import { type AnyEvent, normalizeEvents } from './eventGridEvents.js';
import { type EventGridSubscription, subscriptionMatches } from './eventGridSubscriptions.js';

/** The broker queue that holds events on their way to one Event Grid trigger function (durable, retried). */
export function eventGridDeliveryQueue(functionName: string): string {
  return `eventgrid.deliveries.${functionName.toLowerCase()}`;
}

/**
 * The `eventGrid` output binding. The topic is the value of the setting the binding names in
 * `topicEndpointUri` (or `connection`, as `<connection>__topicEndpointUri`). Published events are validated,
 * matched against the subscriptions and queued durably for each subscriber; a publish with a malformed event
 * fails the invocation, as the real binding does.
 */
export function eventGridOutputProvider(settings: HostSettings, broker: SqliteBroker, subscriptions: () => readonly EventGridSubscription[]): OutputBindingProvider {
  return {
    type: 'eventgrid',
    prepare(_fn: RegisteredFunction, binding: BindingDefinition): PreparedOutput {
      const uriSetting = typeof binding['topicEndpointUri'] === 'string' ? binding['topicEndpointUri'] : undefined;
      const connection = typeof binding['connection'] === 'string' ? binding['connection'] : undefined;
      const settingName = uriSetting ?? (connection ? `${connection}:topicEndpointUri` : undefined);
      if (!settingName) throw new IndexingError(`binding '${binding.name}' needs 'topicEndpointUri' (the name of the setting holding the topic endpoint) or 'connection'.`);
      const topic = settings.get(settingName);
      if (!topic) throw new IndexingError(`binding '${binding.name}' reads the topic endpoint from the setting '${settingName}', which is not set.`);
      return {
        flush(data) {
          const events = normalizeEvents(outputItems(data), topic);
          publish(broker, subscriptions(), topic, events);
        },
      };
    },
  };
}

/** Queues each event for every subscription whose filters it passes, in one broker transaction per subscriber. */
export function publish(broker: SqliteBroker, subscriptions: readonly EventGridSubscription[], topic: string, events: readonly AnyEvent[]): void {
  for (const subscription of subscriptions) {
    const matching = events.filter((event) => subscriptionMatches(subscription, topic, event));
    if (matching.length === 0) continue;
    broker.send(
      eventGridDeliveryQueue(subscription.function),
      matching.map((event) => ({ body: Buffer.from(JSON.stringify(event)), contentType: 'application/json' })),
    );
  }
}
