import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrokeredMessage, ServiceBusError, SqliteBroker } from './broker.js';
import { startReceiver } from './receiver.js';

let dir: string;
let broker: SqliteBroker;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-receiver-'));
  broker = SqliteBroker.open({ file: path.join(dir, 'broker.db') });
});

afterEach(() => {
  broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function send(entity: string, count: number, prefix = 'm'): void {
  broker.send(
    entity,
    Array.from({ length: count }, (_, i) => ({ body: Buffer.from(`${prefix}${i}`) })),
  );
}

/** Waits until `condition` holds, checking every few ms; fails after `ms`. */
async function until(condition: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('startReceiver', () => {
  it('processes every message, never exceeding maxConcurrentCalls, and completes them', async () => {
    broker.ensureQueue('q');
    send('q', 40);
    let running = 0;
    let peak = 0;
    const handled: string[] = [];
    const receiver = startReceiver(broker, 'q', {
      maxConcurrentCalls: 4,
      handler: async (m) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(2);
        handled.push(m.body.toString());
        running--;
      },
    });
    await until(() => handled.length === 40);
    await receiver.stop();
    expect(peak).toBe(4);
    expect(new Set(handled).size).toBe(40);
    expect(broker.getRuntimeProperties('q')).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 0 });
  });

  it('picks up messages sent later without polling, including scheduled ones', async () => {
    broker.ensureTopic('t');
    broker.ensureSubscription('t', 's');
    const handled: string[] = [];
    const receiver = startReceiver(broker, 'T/subscriptions/S', {
      maxConcurrentCalls: 2,
      handler: async (m) => {
        handled.push(m.body.toString());
      },
    });
    await sleep(20);
    broker.send('t', [{ body: Buffer.from('now') }, { body: Buffer.from('soon'), scheduledEnqueueTimeUtc: new Date(Date.now() + 100) }]);
    await until(() => handled.length === 2);
    expect(handled).toEqual(['now', 'soon']);
    await receiver.stop();
  });

  it('renews the lock of a slow handler past the lock duration', async () => {
    broker.ensureQueue('q', { lockDurationMs: 250 });
    send('q', 1);
    const errors: unknown[] = [];
    const deliveries: number[] = [];
    const finished = deferred();
    let lockedUntilAtEnd = 0;
    const receiver = startReceiver(broker, 'q', {
      maxConcurrentCalls: 2,
      handler: async (m) => {
        deliveries.push(m.deliveryCount);
        await sleep(700);
        lockedUntilAtEnd = m.lockedUntilUtc!.getTime();
        finished.resolve();
      },
      onError: (e) => errors.push(e),
    });
    await finished.promise;
    await receiver.stop();
    // Without renewal the lock expires at 250 ms and the free second slot receives the message again.
    expect(deliveries).toEqual([1]);
    expect(errors).toEqual([]);
    expect(lockedUntilAtEnd).toBeGreaterThan(Date.now() - 200);
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(0);
  });

  it('stops renewing after maxAutoLockRenewalDuration and reports the lost lock instead of crashing', async () => {
    broker.ensureQueue('q', { lockDurationMs: 100 });
    send('q', 1);
    const errors: Array<{ error: unknown; message: BrokeredMessage | undefined }> = [];
    const gate = deferred();
    const receiver = startReceiver(broker, 'q', {
      maxConcurrentCalls: 1,
      maxAutoLockRenewalDurationMs: 120,
      handler: () => gate.promise,
      onError: (error, message) => errors.push({ error, message }),
    });
    await sleep(400);
    gate.resolve();
    await receiver.stop();
    // The complete fails (a late renewal under load may fail and be reported as well).
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const { error, message } of errors) {
      expect(error).toBeInstanceOf(ServiceBusError);
      expect((error as ServiceBusError).code).toBe('MessageLockLost');
      expect(message?.body.toString()).toBe('m0');
    }
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(1);
  });

  it('stop() waits for in-flight handlers and takes no new messages', async () => {
    broker.ensureQueue('q');
    send('q', 3);
    const gate = deferred();
    let started = 0;
    let finished = 0;
    const receiver = startReceiver(broker, 'q', {
      maxConcurrentCalls: 2,
      handler: async () => {
        started++;
        await gate.promise;
        finished++;
      },
    });
    await until(() => started === 2);
    let stopped = false;
    const stopping = receiver.stop().then(() => (stopped = true));
    await sleep(30);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(finished).toBe(2);
    // The two handled messages were completed before stop resolved; the third was never taken.
    expect(broker.getRuntimeProperties('q')).toMatchObject({ activeMessageCount: 1, lockedMessageCount: 0 });
    send('q', 2, 'late');
    await sleep(30);
    expect(started).toBe(2);
    expect(receiver.stop()).toBe(receiver.stop());
  });

  it('abandons on handler failure until the message is dead-lettered at maxDeliveryCount', async () => {
    broker.ensureQueue('q', { maxDeliveryCount: 3 });
    send('q', 1);
    const deliveries: number[] = [];
    const errors: unknown[] = [];
    const receiver = startReceiver(broker, 'q', {
      maxConcurrentCalls: 4,
      handler: async (m) => {
        deliveries.push(m.deliveryCount);
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    await until(() => broker.getRuntimeProperties('q').deadLetterMessageCount === 1);
    await receiver.stop();
    expect(deliveries).toEqual([1, 2, 3]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'boom', 'boom']);
    expect(broker.peek('q/$DeadLetterQueue')[0]).toMatchObject({ deadLetterReason: 'MaxDeliveryCountExceeded' });
  });

  it('drains a dead-letter queue and survives a failing onError', async () => {
    broker.ensureQueue('q', { maxDeliveryCount: 1 });
    send('q', 2);
    for (const m of broker.receive('q', 2)) broker.abandon('q', m.lockToken!);
    const seen: string[] = [];
    const receiver = startReceiver(broker, 'q/$deadletterqueue', {
      maxConcurrentCalls: 1,
      handler: async (m) => {
        seen.push(m.deadLetterReason!);
        if (seen.length === 1) throw new Error('first fails');
      },
      onError: () => {
        throw new Error('bad callback');
      },
    });
    await until(() => broker.getRuntimeProperties('q').deadLetterMessageCount === 0);
    await receiver.stop();
    expect(seen).toEqual(['MaxDeliveryCountExceeded', 'MaxDeliveryCountExceeded', 'MaxDeliveryCountExceeded']);
  });

  it('fails fast on an unknown entity', () => {
    expect(() => startReceiver(broker, 'missing', { maxConcurrentCalls: 1, handler: async () => undefined })).toThrow(
      expect.objectContaining({ code: 'MessagingEntityNotFound' }),
    );
  });
});
