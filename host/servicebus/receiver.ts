import type { BrokeredMessage, SqliteBroker } from './broker.js';

/** Options for {@link startReceiver}; the names follow the Service Bus processor options. */
export interface ReceiverOptions {
  /** Most handlers running at once. Default 16. */
  maxConcurrentCalls: number;
  /**
   * How long the lock of a message being handled is renewed automatically. Default 300 000 (5 minutes);
   * 0 disables renewal.
   */
  maxAutoLockRenewalDurationMs?: number;
  /** Called per message; resolving completes it, rejecting (or throwing) abandons it. */
  handler: (message: BrokeredMessage) => Promise<void>;
  /**
   * Told about handler failures (with the message), settlement and renewal failures such as
   * `MessageLockLost` (with the message), and receive failures (without). Errors never stop the receiver.
   * Default: ignore.
   */
  onError?: (error: unknown, message?: BrokeredMessage) => void;
}

/** A running receiver. */
export interface Receiver {
  /** Stops taking new messages and resolves once every in-flight handler has settled. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_CONCURRENT_CALLS = 16;
const DEFAULT_MAX_AUTO_LOCK_RENEWAL_MS = 300_000;

/**
 * Drives a handler from a queue or subscription with peek-lock, like the Service Bus processor behind
 * the Functions trigger: keeps up to `maxConcurrentCalls` handlers running, pulls more when the broker
 * signals `'available'` or a handler finishes, completes on success, abandons on failure (the broker
 * dead-letters at maxDeliveryCount) and renews each lock at half its remaining time while the handler runs.
 *
 * @param entityPath a queue, `topic/Subscriptions/sub`, or either + `/$DeadLetterQueue`.
 * @throws ServiceBusError `MessagingEntityNotFound` (synchronously) when the entity does not exist.
 */
export function startReceiver(broker: SqliteBroker, entityPath: string, options: ReceiverOptions): Receiver {
  const maxConcurrentCalls = options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS;
  if (!Number.isSafeInteger(maxConcurrentCalls) || maxConcurrentCalls < 1) {
    throw new RangeError(`maxConcurrentCalls must be a positive integer, got ${maxConcurrentCalls}.`);
  }
  const maxRenewalMs = options.maxAutoLockRenewalDurationMs ?? DEFAULT_MAX_AUTO_LOCK_RENEWAL_MS;
  if (!Number.isFinite(maxRenewalMs) || maxRenewalMs < 0) {
    throw new RangeError(`maxAutoLockRenewalDurationMs must be a non-negative number, got ${maxRenewalMs}.`);
  }
  const { handler } = options;
  const onError = options.onError ?? (() => undefined);
  // Resolve once: fails fast on an unknown entity, and 'available' events carry this canonical spelling.
  const path = broker.getEntityPath(entityPath);

  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let stopPromise: Promise<void> | undefined;
  let pumpQueued = false;
  // Whether a receive may find something. Cleared when a receive comes back short, set again by the
  // broker's signal, so a finishing handler does not cost an empty query when the entity is drained.
  let mayHaveMore = true;

  const report = (error: unknown, message?: BrokeredMessage): void => {
    try {
      onError(error, message);
    } catch {
      // A faulty error callback must not take the receiver down with it.
    }
  };

  // setImmediate rather than a microtask: a long backlog of instantly-resolving handlers must still let
  // timers and I/O of the rest of the host run between batches.
  const schedulePump = (): void => {
    if (pumpQueued || stopped) return;
    pumpQueued = true;
    setImmediate(pump);
  };

  function pump(): void {
    pumpQueued = false;
    while (!stopped && mayHaveMore && inFlight.size < maxConcurrentCalls) {
      const wanted = maxConcurrentCalls - inFlight.size;
      let messages: BrokeredMessage[];
      try {
        messages = broker.receive(path, wanted);
      } catch (error) {
        // Closed broker or a database error: report, and wait for the next signal instead of spinning.
        mayHaveMore = false;
        report(error);
        return;
      }
      if (messages.length < wanted) mayHaveMore = false;
      for (const message of messages) {
        const run = handle(message).finally(() => {
          inFlight.delete(run);
          schedulePump();
        });
        inFlight.add(run);
      }
    }
  }

  async function handle(message: BrokeredMessage): Promise<void> {
    const stopRenewal = startLockRenewal(message);
    let failed = false;
    try {
      await handler(message);
    } catch (error) {
      failed = true;
      report(error, message);
    } finally {
      stopRenewal();
    }
    try {
      if (failed) broker.abandon(path, message.lockToken!);
      else await complete(message.lockToken!);
    } catch (error) {
      report(error, message);
    }
  }

  // Completions of handlers that finish in the same turn of the event loop share one transaction: a
  // commit per message would dominate the cost of a busy receiver.
  let pendingCompletions: Array<{ token: string; resolve: () => void; reject: (error: unknown) => void }> = [];
  function complete(token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (pendingCompletions.length === 0) setImmediate(flushCompletions);
      pendingCompletions.push({ token, resolve, reject });
    });
  }

  function flushCompletions(): void {
    const batch = pendingCompletions;
    pendingCompletions = [];
    let results: Array<unknown>;
    try {
      results = broker.completeMany(path, batch.map((c) => c.token));
    } catch (error) {
      for (const c of batch) c.reject(error);
      return;
    }
    batch.forEach((c, i) => (results[i] === undefined ? c.resolve() : c.reject(results[i])));
  }

  function startLockRenewal(message: BrokeredMessage): () => void {
    if (maxRenewalMs === 0 || !message.lockToken || !message.lockedUntilUtc) return () => undefined;
    const deadline = broker.now() + maxRenewalMs;
    let timer: NodeJS.Timeout | undefined;
    let active = true;
    const schedule = (): void => {
      const now = broker.now();
      if (now >= deadline) return;
      // Renew at half the remaining lock time, so a timer delayed by a busy event loop still has margin.
      const delay = Math.max(0, Math.floor((message.lockedUntilUtc!.getTime() - now) / 2));
      timer = setTimeout(renew, delay);
      timer.unref();
    };
    const renew = (): void => {
      timer = undefined;
      if (!active) return;
      try {
        message.lockedUntilUtc = broker.renewLock(path, message.lockToken!);
      } catch (error) {
        // The lock is gone (or the broker closed); settling will fail too and be reported then.
        report(error, message);
        return;
      }
      schedule();
    };
    schedule();
    return () => {
      active = false;
      if (timer) clearTimeout(timer);
    };
  }

  const onAvailable = (availablePath: string): void => {
    if (availablePath !== path) return;
    mayHaveMore = true;
    schedulePump();
  };
  broker.on('available', onAvailable);
  schedulePump();

  return {
    stop(): Promise<void> {
      if (!stopPromise) {
        stopped = true;
        broker.off('available', onAvailable);
        stopPromise = Promise.allSettled([...inFlight]).then(() => undefined);
      }
      return stopPromise;
    },
  };
}
