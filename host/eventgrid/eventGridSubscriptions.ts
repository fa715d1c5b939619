import fs from 'node:fs';
import path from 'node:path';
import { HostConfigError } from '../config/configError.js';
import { parseJsonWithComments } from '../config/jsonc.js';
import { type AnyEvent, eventTypeAndSubject } from './eventGridEvents.js';

/** The setting naming the subscriptions file for events the app publishes through `eventGrid` outputs. */
export const EVENT_GRID_SUBSCRIPTIONS_SETTING = 'EMBEDDED_EVENTGRID_SUBSCRIPTIONS';

/** One subscription: which topic's events reach which Event Grid trigger function, with Event Grid's filters. */
export interface EventGridSubscription {
  /** The topic endpoint (the value of the output's `topicEndpointUri` setting), or `*` for every topic. */
  topic: string;
  function: string;
  includedEventTypes?: string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  /** Event Grid compares subjects case-insensitively unless told otherwise. */
  isSubjectCaseSensitive?: boolean;
}

export function subscriptionMatches(subscription: EventGridSubscription, topic: string, event: AnyEvent): boolean {
  if (subscription.topic !== '*' && subscription.topic.toLowerCase() !== topic.toLowerCase()) return false;
  const { type, subject } = eventTypeAndSubject(event);
  if (subscription.includedEventTypes && !subscription.includedEventTypes.some((included) => included.toLowerCase() === type.toLowerCase())) return false;
  const fold = (text: string): string => (subscription.isSubjectCaseSensitive ? text : text.toLowerCase());
  if (subscription.subjectBeginsWith && !fold(subject).startsWith(fold(subscription.subjectBeginsWith))) return false;
  if (subscription.subjectEndsWith && !fold(subject).endsWith(fold(subscription.subjectEndsWith))) return false;
  return true;
}

/**
 * Reads the subscriptions file (`{"subscriptions": [...]}`); without one, every Event Grid trigger function
 * of the app is subscribed to every topic the app publishes to.
 */
export function loadEventGridSubscriptions(appDir: string, configPath: string | undefined, triggerFunctions: readonly string[]): EventGridSubscription[] {
  if (!configPath) return triggerFunctions.map((fn) => ({ topic: '*', function: fn }));
  const file = path.resolve(appDir, configPath);
  if (!fs.existsSync(file)) throw new HostConfigError(`${EVENT_GRID_SUBSCRIPTIONS_SETTING} names ${file}, which does not exist.`, EVENT_GRID_SUBSCRIPTIONS_SETTING);
  const name = path.basename(file);
  const document = parseJsonWithComments(fs.readFileSync(file, 'utf8'), name) as { subscriptions?: unknown };
  if (!Array.isArray(document?.subscriptions)) throw new HostConfigError(`${name}: expected {"subscriptions": [ ... ]}.`, name);
  return document.subscriptions.map((entry: unknown, index: number) => {
    const subscription = entry as EventGridSubscription;
    if (typeof subscription?.topic !== 'string' || typeof subscription.function !== 'string') {
      throw new HostConfigError(`${name}: subscriptions[${index}] needs "topic" and "function" strings.`, name);
    }
    if (!triggerFunctions.some((fn) => fn.toLowerCase() === subscription.function.toLowerCase())) {
      throw new HostConfigError(`${name}: subscriptions[${index}] names '${subscription.function}', which is not an Event Grid trigger function of this app.`, name);
    }
    return subscription;
  });
}
