import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrokeredMessage, type OutgoingMessage, ServiceBusError, SqliteBroker } from './broker.js';
import { SCHEMA_VERSION } from './brokerSchema.js';

const START = Date.UTC(2030, 0, 1);

let dir: string;
let file: string;
let clock: number;
const now = (): number => clock;
const open: SqliteBroker[] = [];

function openBroker(options: { releaseLocksOnOpen?: boolean; realClock?: boolean } = {}): SqliteBroker {
  const broker = SqliteBroker.open({
    file,
    ...(options.realClock ? {} : { now }),
    ...(options.releaseLocksOnOpen === undefined ? {} : { releaseLocksOnOpen: options.releaseLocksOnOpen }),
  });
  open.push(broker);
  return broker;
}

function msg(text: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return { body: Buffer.from(text), ...extra };
}

function bodies(messages: BrokeredMessage[]): string[] {
  return messages.map((m) => m.body.toString());
}

function expectCode(fn: () => unknown, code: string): ServiceBusError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceBusError);
    expect((error as ServiceBusError).code).toBe(code);
    return error as ServiceBusError;
  }
  throw new Error(`expected a ServiceBusError with code ${code}`);
}

/** Resolves with the next 'available' path matching `wanted`, or rejects after `ms`. */
function nextAvailable(broker: SqliteBroker, wanted: string, ms = 900): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      broker.off('available', listener);
      reject(new Error(`no 'available' for ${wanted} within ${ms} ms`));
    }, ms);
    const listener = (p: string): void => {
      if (p !== wanted) return;
      clearTimeout(timer);
      broker.off('available', listener);
      resolve(p);
    };
    broker.on('available', listener);
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-broker-'));
  file = path.join(dir, 'broker.db');
  clock = START;
});

afterEach(() => {
  for (const broker of open.splice(0)) broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SqliteBroker send/receive/complete', () => {
  it('round-trips a message with all its properties and removes it on complete', () => {
    const broker = openBroker();
    broker.ensureQueue('orders');
    const scheduledEnqueueTimeUtc = new Date(START - 1000);
    const [seq] = broker.send('orders', [
      msg('hello', {
        messageId: 'm-1',
        contentType: 'text/plain',
        correlationId: 'c-1',
        subject: 'greeting',
        to: 'you',
        replyTo: 'me',
        replyToSessionId: 'rs',
        sessionId: 's',
        partitionKey: 'pk',
        applicationProperties: { tenantId: 'T1', n: 3, ok: true, none: null },
        timeToLiveMs: 60_000,
        scheduledEnqueueTimeUtc,
      }),
    ]);
    expect(seq).toBeGreaterThan(0);
    expect(broker.getRuntimeProperties('orders')).toEqual({
      activeMessageCount: 1,
      scheduledMessageCount: 0,
      deadLetterMessageCount: 0,
      lockedMessageCount: 0,
    });

    const [m] = broker.receive('orders', 10);
    expect(m).toMatchObject({
      messageId: 'm-1',
      contentType: 'text/plain',
      correlationId: 'c-1',
      subject: 'greeting',
      to: 'you',
      replyTo: 'me',
      replyToSessionId: 'rs',
      sessionId: 's',
      partitionKey: 'pk',
      applicationProperties: { tenantId: 'T1', n: 3, ok: true, none: null },
      timeToLiveMs: 60_000,
      sequenceNumber: seq,
      deliveryCount: 1,
      state: 'active',
    });
    expect(m!.body.toString()).toBe('hello');
    expect(m!.enqueuedTimeUtc.getTime()).toBe(START);
    expect(m!.expiresAtUtc!.getTime()).toBe(START + 60_000);
    expect(m!.scheduledEnqueueTimeUtc!.getTime()).toBe(scheduledEnqueueTimeUtc.getTime());
    expect(m!.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(m!.lockedUntilUtc!.getTime()).toBe(START + 60_000);
    expect(broker.getRuntimeProperties('orders').lockedMessageCount).toBe(1);

    broker.complete('orders', m!.lockToken!);
    expect(broker.getRuntimeProperties('orders').activeMessageCount).toBe(0);
    expect(broker.receive('orders', 10)).toEqual([]);
    expectCode(() => broker.complete('orders', m!.lockToken!), 'MessageLockLost');
  });

  it('generates a 32-hex message id and never-expiring messages by default', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('a')]);
    const [m] = broker.receive('q', 1);
    expect(m!.messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(m!.expiresAtUtc).toBeUndefined();
    expect(m!.applicationProperties).toEqual({});
  });

  it('delivers in sequence order across batches, and sequence numbers increase', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    const first = broker.send('q', [msg('1'), msg('2'), msg('3')]);
    const second = broker.send('q', [msg('4'), msg('5')]);
    const all = [...first, ...second];
    expect([...all].sort((a, b) => a - b)).toEqual(all);
    expect(new Set(all).size).toBe(5);
    const got = [...broker.receive('q', 2), ...broker.receive('q', 10)];
    expect(bodies(got)).toEqual(['1', '2', '3', '4', '5']);
    expect(got.map((m) => m.sequenceNumber)).toEqual(all);
  });

  it('locks exclusively: a locked message is not received twice', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('a'), msg('b')]);
    const one = broker.receive('q', 1);
    const two = broker.receive('q', 1);
    expect(bodies(one)).toEqual(['a']);
    expect(bodies(two)).toEqual(['b']);
    expect(broker.receive('q', 10)).toEqual([]);
    expect(one[0]!.lockToken).not.toBe(two[0]!.lockToken);
  });

  it('completeMany settles a batch in one call and reports each lost lock', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('a'), msg('b'), msg('c')]);
    const [a, b, c] = broker.receive('q', 3);
    broker.complete('q', b!.lockToken!);
    const results = broker.completeMany('q', [a!.lockToken!, b!.lockToken!, c!.lockToken!]);
    expect(results[0]).toBeUndefined();
    expect(results[1]).toMatchObject({ code: 'MessageLockLost' });
    expect(results[2]).toBeUndefined();
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(0);
  });

  it('peeks active and scheduled messages together in sequence order, from a sequence number', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    const later = new Date(START + 60_000);
    const seqs = broker.send('q', [
      msg('1'),
      msg('2', { scheduledEnqueueTimeUtc: later }),
      msg('3'),
      msg('4', { scheduledEnqueueTimeUtc: later }),
    ]);
    broker.receive('q', 1); // locked messages are still peeked
    const peeked = broker.peek('q', { fromSequenceNumber: seqs[0]!, maxMessages: 10 });
    expect(peeked.map((m) => [m.body.toString(), m.state])).toEqual([
      ['1', 'active'],
      ['2', 'scheduled'],
      ['3', 'active'],
      ['4', 'scheduled'],
    ]);
    expect(bodies(broker.peek('q', { fromSequenceNumber: seqs[1]!, maxMessages: 2 }))).toEqual(['2', '3']);
    expect(bodies(broker.peek('q'))).toEqual(['1']);
  });

  it('rejects invalid arguments before touching the store', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    expect(() => broker.send('q', [msg('ok'), { body: 'text' as unknown as Buffer }])).toThrow(TypeError);
    expect(() => broker.send('q', [msg('x', { applicationProperties: { bad: {} as unknown as string } })])).toThrow(
      TypeError,
    );
    expect(() => broker.receive('q', 0)).toThrow(RangeError);
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(0);
  });
});

describe('SqliteBroker settlement', () => {
  it('abandon makes the message available again with deliveryCount + 1 and modified properties', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('a', { applicationProperties: { keep: 1 } })]);
    const [first] = broker.receive('q', 1);
    broker.abandon('q', first!.lockToken!, { reason: 'retry' });
    const [second] = broker.receive('q', 1);
    expect(second!.sequenceNumber).toBe(first!.sequenceNumber);
    expect(second!.deliveryCount).toBe(2);
    expect(second!.applicationProperties).toEqual({ keep: 1, reason: 'retry' });
    expectCode(() => broker.abandon('q', first!.lockToken!), 'MessageLockLost');
  });

  it('dead-letters after exactly maxDeliveryCount deliveries, readable via the DLQ path', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { maxDeliveryCount: 3 });
    broker.send('q', [msg('poison')]);
    let deliveries = 0;
    for (;;) {
      const [m] = broker.receive('q', 1);
      if (!m) break;
      deliveries++;
      expect(m.deliveryCount).toBe(deliveries);
      broker.abandon('q', m.lockToken!);
    }
    expect(deliveries).toBe(3);
    expect(broker.getRuntimeProperties('q')).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 1 });
    const [dead] = broker.receive('q/$DeadLetterQueue', 10);
    expect(dead).toMatchObject({
      state: 'deadLettered',
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterSource: 'q',
      deliveryCount: 4,
    });
    expect(dead!.deadLetterErrorDescription).toContain('3 delivery attempts');
    broker.complete('q/$DeadLetterQueue', dead!.lockToken!);
    expect(broker.getRuntimeProperties('q').deadLetterMessageCount).toBe(0);
  });

  it('deadLetter moves the message with the given reason; DLQ messages cannot be dead-lettered again', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('bad')]);
    const [m] = broker.receive('q', 1);
    broker.deadLetter('q', m!.lockToken!, 'ValidationFailed', 'missing field x');
    expect(broker.receive('q', 1)).toEqual([]);
    const [dead] = broker.receive('q/$deadletterqueue', 1);
    expect(dead).toMatchObject({ deadLetterReason: 'ValidationFailed', deadLetterErrorDescription: 'missing field x' });
    expectCode(() => broker.deadLetter('q/$DeadLetterQueue', dead!.lockToken!), 'InvalidOperation');
    // Abandoning in the DLQ just unlocks: the DLQ has no delivery limit.
    broker.abandon('q/$DeadLetterQueue', dead!.lockToken!);
    expect(broker.peek('q/$DeadLetterQueue', { maxMessages: 10 })).toHaveLength(1);
  });

  it('a lock token only settles on the entity it was issued for', () => {
    const broker = openBroker();
    broker.ensureQueue('a');
    broker.ensureQueue('b');
    broker.send('a', [msg('x')]);
    const [m] = broker.receive('a', 1);
    expectCode(() => broker.complete('b', m!.lockToken!), 'MessageLockLost');
    expectCode(() => broker.complete('a/$DeadLetterQueue', m!.lockToken!), 'MessageLockLost');
    broker.complete('a', m!.lockToken!);
  });
});

describe('SqliteBroker locks', () => {
  it('redelivers after the lock expires, counting it as a delivery, and emits available', async () => {
    const broker = openBroker();
    broker.ensureQueue('q', { lockDurationMs: 30_000 });
    broker.send('q', [msg('a')]);
    const [first] = broker.receive('q', 1);
    clock += 29_999;
    expect(broker.receive('q', 1)).toEqual([]);
    clock += 1;
    const signalled = nextAvailable(broker, 'q');
    broker.processDueMessages();
    await signalled;
    const [second] = broker.receive('q', 1);
    expect(second!.sequenceNumber).toBe(first!.sequenceNumber);
    expect(second!.deliveryCount).toBe(2);
    expect(second!.lockToken).not.toBe(first!.lockToken);
  });

  it('complete after the lock expired fails with MessageLockLost', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { lockDurationMs: 1_000 });
    broker.send('q', [msg('a')]);
    const [m] = broker.receive('q', 1);
    clock += 1_000;
    // Not swept yet: the expiry check itself must refuse the stale token.
    const error = expectCode(() => broker.complete('q', m!.lockToken!), 'MessageLockLost');
    expect(error.message).toContain(m!.lockToken!);
    expectCode(() => broker.renewLock('q', m!.lockToken!), 'MessageLockLost');
    expect(broker.receive('q', 1)).toHaveLength(1);
  });

  it('dead-letters on lock expiry when the delivery count already reached the maximum', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { lockDurationMs: 1_000, maxDeliveryCount: 2 });
    broker.send('q', [msg('a')]);
    broker.receive('q', 1);
    clock += 1_000;
    expect(broker.receive('q', 1)[0]!.deliveryCount).toBe(2);
    clock += 1_000;
    expect(broker.receive('q', 1)).toEqual([]);
    const [dead] = broker.peek('q/$DeadLetterQueue');
    expect(dead).toMatchObject({ deadLetterReason: 'MaxDeliveryCountExceeded', deliveryCount: 2 });
  });

  it('renewLock extends the lock by the lock duration from now', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { lockDurationMs: 10_000 });
    broker.send('q', [msg('a')]);
    const [m] = broker.receive('q', 1);
    clock += 8_000;
    const until = broker.renewLock('q', m!.lockToken!);
    expect(until.getTime()).toBe(clock + 10_000);
    clock += 8_000; // past the original expiry, within the renewed one
    expect(broker.receive('q', 1)).toEqual([]);
    broker.complete('q', m!.lockToken!);
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(0);
  });

  it("a lock expiring on the broker's own timer emits available without any call", async () => {
    clock = Date.now();
    const broker = openBroker({ realClock: true });
    broker.ensureQueue('q', { lockDurationMs: 100 });
    broker.send('q', [msg('a')]);
    await nextAvailable(broker, 'q'); // from the send
    broker.receive('q', 1);
    await nextAvailable(broker, 'q');
    expect(broker.receive('q', 1)[0]!.deliveryCount).toBe(2);
  });
});

describe('SqliteBroker scheduled messages', () => {
  it('keeps a scheduled message invisible until due, then delivers it', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    const due = new Date(START + 60_000);
    const [seq] = broker.send('q', [msg('later', { scheduledEnqueueTimeUtc: due }), msg('now')]);
    expect(bodies(broker.receive('q', 10))).toEqual(['now']);
    expect(broker.getRuntimeProperties('q').scheduledMessageCount).toBe(1);
    const [peeked] = broker.peek('q', { maxMessages: 10 });
    expect(peeked).toMatchObject({ sequenceNumber: seq, state: 'scheduled' });
    expect(peeked!.lockToken).toBeUndefined();
    clock += 59_999;
    expect(broker.receive('q', 10)).toEqual([]);
    clock += 1;
    const [m] = broker.receive('q', 10);
    expect(m).toMatchObject({ sequenceNumber: seq, state: 'active', deliveryCount: 1 });
    expect(m!.enqueuedTimeUtc.getTime()).toBe(due.getTime());
    expect(broker.getRuntimeProperties('q').scheduledMessageCount).toBe(0);
  });

  it("emits available on its own when a scheduled message becomes due", async () => {
    const broker = openBroker({ realClock: true });
    broker.ensureQueue('q');
    const sentAt = Date.now();
    broker.send('q', [msg('later', { scheduledEnqueueTimeUtc: new Date(sentAt + 150) })]);
    await nextAvailable(broker, 'q');
    expect(Date.now()).toBeGreaterThanOrEqual(sentAt + 150);
    expect(bodies(broker.receive('q', 1))).toEqual(['later']);
  });

  it('cancels scheduled messages atomically; unknown or active sequence numbers are MessageNotFound', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    const at = new Date(START + 10_000);
    const [s1, s2, active] = broker.send('q', [
      msg('a', { scheduledEnqueueTimeUtc: at }),
      msg('b', { scheduledEnqueueTimeUtc: at }),
      msg('c'),
    ]);
    const error = expectCode(() => broker.cancelScheduledMessages('q', [s1!, active!]), 'MessageNotFound');
    expect(error.message).toContain(String(active));
    expect(broker.getRuntimeProperties('q').scheduledMessageCount).toBe(2);
    broker.cancelScheduledMessages('q', [s1!]);
    clock += 10_000;
    expect(bodies(broker.receive('q', 10))).toEqual(['b', 'c']);
    expectCode(() => broker.cancelScheduledMessages('q', [s2!]), 'MessageNotFound');
  });
});

describe('SqliteBroker time to live', () => {
  it('drops expired messages by default', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('short', { timeToLiveMs: 1_000 }), msg('long', { timeToLiveMs: 5_000 })]);
    clock += 1_000;
    expect(bodies(broker.peek('q', { maxMessages: 10 }))).toEqual(['long']);
    expect(bodies(broker.receive('q', 10))).toEqual(['long']);
    expect(broker.getRuntimeProperties('q')).toMatchObject({ activeMessageCount: 1, deadLetterMessageCount: 0 });
  });

  it('dead-letters expired messages with TTLExpiredException when the entity asks for it', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { deadLetteringOnMessageExpiration: true, defaultMessageTimeToLiveMs: 2_000 });
    broker.send('q', [msg('default-ttl'), msg('capped', { timeToLiveMs: 999_999 }), msg('shorter', { timeToLiveMs: 500 })]);
    clock += 500;
    expect(bodies(broker.receive('q/$DeadLetterQueue', 10))).toEqual(['shorter']);
    clock += 1_500;
    expect(broker.receive('q', 10)).toEqual([]);
    const dead = broker.peek('q/$DeadLetterQueue', { maxMessages: 10 });
    // The DLQ keeps the original sequence numbers, so it is in send order, not expiry order.
    expect(bodies(dead)).toEqual(['default-ttl', 'capped', 'shorter']);
    expect(dead.every((m) => m.deadLetterReason === 'TTLExpiredException')).toBe(true);
    // Dead letters do not expire.
    clock += 1_000_000;
    expect(broker.getRuntimeProperties('q').deadLetterMessageCount).toBe(3);
  });

  it('counts the TTL of a scheduled message from its enqueue time', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('s', { scheduledEnqueueTimeUtc: new Date(START + 5_000), timeToLiveMs: 1_000 })]);
    clock += 5_500;
    expect(broker.peek('q')[0]!.expiresAtUtc!.getTime()).toBe(START + 6_000);
    expect(broker.receive('q', 1)).toHaveLength(1);
  });

  it('does not expire a locked message until its lock is released', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { lockDurationMs: 10_000 });
    broker.send('q', [msg('a', { timeToLiveMs: 1_000 })]);
    const [m] = broker.receive('q', 1);
    clock += 5_000;
    broker.complete('q', m!.lockToken!);
    broker.send('q', [msg('b', { timeToLiveMs: 1_000 })]);
    const [b] = broker.receive('q', 1);
    clock += 5_000;
    broker.abandon('q', b!.lockToken!);
    expect(broker.receive('q', 1)).toEqual([]);
  });
});

describe('SqliteBroker duplicate detection', () => {
  it('drops a repeated MessageId within the window and accepts it after', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { duplicateDetectionHistoryTimeWindowMs: 60_000 });
    const first = broker.send('q', [msg('1', { messageId: 'same' }), msg('2', { messageId: 'same' })]);
    expect(first[0]).toBeGreaterThan(0);
    expect(first[1]).toBe(-1);
    clock += 59_999;
    expect(broker.send('q', [msg('3', { messageId: 'same' })])).toEqual([-1]);
    clock += 1;
    expect(broker.send('q', [msg('4', { messageId: 'same' })])[0]).toBeGreaterThan(0);
    expect(bodies(broker.receive('q', 10))).toEqual(['1', '4']);
  });

  it('accepts duplicates when detection is off', () => {
    const broker = openBroker();
    broker.ensureQueue('q', { requiresDuplicateDetection: false });
    broker.send('q', [msg('1', { messageId: 'x' }), msg('2', { messageId: 'x' })]);
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(2);
  });
});

describe('SqliteBroker topics', () => {
  it('copies to every subscription whose correlation filter matches', () => {
    const broker = openBroker();
    broker.ensureTopic('events');
    broker.ensureSubscription('events', 'all');
    broker.ensureSubscription('events', 'created', { filter: { subject: 'created' } });
    broker.ensureSubscription('events', 'tenantA', {
      filter: { applicationProperties: { tenant: 'A', priority: 1 } },
    });
    broker.ensureSubscription('events', 'corr', { filter: { correlationId: 'c1', subject: 'deleted' } });
    const seqs = broker.send('events', [
      msg('1', { subject: 'created', applicationProperties: { tenant: 'A', priority: 1 } }),
      msg('2', { subject: 'created', applicationProperties: { tenant: 'A', priority: '1' } }),
      msg('3', { subject: 'deleted', correlationId: 'c1' }),
      msg('4', { subject: 'deleted', correlationId: 'c2' }),
    ]);
    expect(bodies(broker.receive('events/Subscriptions/all', 10))).toEqual(['1', '2', '3', '4']);
    expect(bodies(broker.receive('events/Subscriptions/created', 10))).toEqual(['1', '2']);
    expect(bodies(broker.receive('events/Subscriptions/tenantA', 10))).toEqual(['1']);
    const corr = broker.receive('EVENTS/subscriptions/CORR', 10);
    expect(bodies(corr)).toEqual(['3']);
    expect(corr[0]!.sequenceNumber).toBe(seqs[2]);
    // Locked messages still count as active: 4 + 2 + 1 + 1 copies.
    expect(broker.getRuntimeProperties('events').activeMessageCount).toBe(8);
  });

  it('applies duplicate detection at the topic and keeps subscriptions independent', () => {
    const broker = openBroker();
    broker.ensureTopic('t');
    broker.ensureSubscription('t', 'a', { maxDeliveryCount: 1 });
    broker.ensureSubscription('t', 'b');
    expect(broker.send('t', [msg('x', { messageId: 'id' }), msg('y', { messageId: 'id' })])).toHaveLength(2);
    const [a] = broker.receive('t/Subscriptions/a', 10);
    broker.abandon('t/Subscriptions/a', a!.lockToken!);
    expect(broker.getRuntimeProperties('t/Subscriptions/a').deadLetterMessageCount).toBe(1);
    expect(bodies(broker.receive('t/Subscriptions/b', 10))).toEqual(['x']);
  });

  it('cancels a scheduled topic message in every subscription', () => {
    const broker = openBroker();
    broker.ensureTopic('t');
    broker.ensureSubscription('t', 'a');
    broker.ensureSubscription('t', 'b');
    const [seq] = broker.send('t', [msg('s', { scheduledEnqueueTimeUtc: new Date(START + 1_000) })]);
    expect(broker.getRuntimeProperties('t').scheduledMessageCount).toBe(2);
    broker.cancelScheduledMessages('T', [seq!]);
    expect(broker.getRuntimeProperties('t').scheduledMessageCount).toBe(0);
  });

  it('refuses receiving from a topic and sending to a subscription or DLQ', () => {
    const broker = openBroker();
    broker.ensureTopic('t');
    broker.ensureSubscription('t', 's');
    broker.ensureQueue('q');
    expectCode(() => broker.receive('t', 1), 'InvalidOperation');
    expectCode(() => broker.send('t/Subscriptions/s', [msg('x')]), 'InvalidOperation');
    expectCode(() => broker.send('q/$DeadLetterQueue', [msg('x')]), 'InvalidOperation');
    expectCode(() => broker.ensureSubscription('nope', 's'), 'MessagingEntityNotFound');
  });
});

describe('SqliteBroker dead-letter management', () => {
  function fillDeadLetters(broker: SqliteBroker, count: number): number[] {
    broker.ensureQueue('q', { maxDeliveryCount: 1 });
    const seqs = broker.send('q', Array.from({ length: count }, (_, i) => msg(`m${i}`, { timeToLiveMs: 10_000 })));
    for (const m of broker.receive('q', count)) broker.abandon('q', m.lockToken!);
    return seqs;
  }

  it('resubmits selected dead letters as new messages, then the rest', async () => {
    const broker = openBroker();
    const seqs = fillDeadLetters(broker, 3);
    expect(broker.getRuntimeProperties('q').deadLetterMessageCount).toBe(3);
    clock += 5_000;
    const signalled = nextAvailable(broker, 'q');
    expect(broker.resubmitDeadLetters('q', [seqs[1]!, 999_999])).toBe(1);
    await signalled;
    const [again] = broker.receive('q', 10);
    expect(again).toMatchObject({ messageId: expect.any(String), deliveryCount: 1, state: 'active' });
    expect(again!.body.toString()).toBe('m1');
    expect(again!.sequenceNumber).toBeGreaterThan(seqs[2]!);
    expect(again!.deadLetterReason).toBeUndefined();
    expect(again!.deadLetterSource).toBeUndefined();
    expect(again!.enqueuedTimeUtc.getTime()).toBe(clock);
    expect(again!.expiresAtUtc!.getTime()).toBe(clock + 10_000);
    broker.complete('q', again!.lockToken!);

    expect(broker.resubmitDeadLetters('q')).toBe(2);
    expect(bodies(broker.receive('q', 10))).toEqual(['m0', 'm2']);
    expect(broker.getRuntimeProperties('q').deadLetterMessageCount).toBe(0);
  });

  it('purges the DLQ and the main queue separately', () => {
    const broker = openBroker();
    fillDeadLetters(broker, 2);
    broker.send('q', [msg('live'), msg('later', { scheduledEnqueueTimeUtc: new Date(START + 60_000) })]);
    broker.receive('q', 1); // a locked one is purged too
    expect(broker.purge('q/$DeadLetterQueue')).toBe(2);
    expect(broker.getRuntimeProperties('q')).toMatchObject({ activeMessageCount: 1, deadLetterMessageCount: 0 });
    expect(broker.purge('q')).toBe(2);
    expect(broker.getRuntimeProperties('q')).toEqual({
      activeMessageCount: 0,
      scheduledMessageCount: 0,
      deadLetterMessageCount: 0,
      lockedMessageCount: 0,
    });
  });
});

describe('SqliteBroker persistence', () => {
  it('keeps active, scheduled and dead-lettered messages across a restart and releases old locks', () => {
    let broker = openBroker();
    broker.ensureQueue('q', { maxDeliveryCount: 5, lockDurationMs: 600_000 });
    broker.ensureTopic('t');
    broker.ensureSubscription('t', 's', { filter: { subject: 'x' } });
    const [locked, active, scheduled] = broker.send('q', [
      msg('locked', { messageId: 'id-locked' }),
      msg('active'),
      msg('scheduled', { scheduledEnqueueTimeUtc: new Date(START + 60_000) }),
      msg('dead'),
    ]);
    const [l, a, d] = broker.receive('q', 3);
    expect(a!.sequenceNumber).toBe(active);
    broker.abandon('q', a!.lockToken!);
    broker.deadLetter('q', d!.lockToken!, 'Poison');
    broker.close();

    clock += 1_000;
    broker = openBroker();
    expect(broker.listEntities()).toEqual([
      { path: 'q', kind: 'queue' },
      { path: 't', kind: 'topic' },
      { path: 't/Subscriptions/s', kind: 'subscription' },
    ]);
    expect(broker.getRuntimeProperties('q')).toEqual({
      activeMessageCount: 2,
      scheduledMessageCount: 1,
      deadLetterMessageCount: 1,
      lockedMessageCount: 0,
    });
    expectCode(() => broker.complete('q', l!.lockToken!), 'MessageLockLost');
    const redelivered = broker.receive('q', 10);
    expect(redelivered.map((m) => [m.sequenceNumber, m.deliveryCount])).toEqual([
      [locked, 2],
      [active, 2],
    ]);
    expect(broker.peek('q/$DeadLetterQueue')[0]).toMatchObject({ deadLetterReason: 'Poison', body: Buffer.from('dead') });
    clock += 60_000;
    expect(broker.peek('q', { fromSequenceNumber: scheduled!, maxMessages: 1 })[0]).toMatchObject({ state: 'active' });

    // Sequence numbers keep increasing; duplicate detection history and options survive.
    expect(broker.send('q', [msg('dup', { messageId: 'id-locked' })])).toEqual([-1]);
    const [next] = broker.send('q', [msg('new')]);
    expect(next).toBeGreaterThan(scheduled! + 1);
    broker.send('t', [msg('no-match', { subject: 'y' })]);
    expect(broker.getRuntimeProperties('t/Subscriptions/s').activeMessageCount).toBe(0);
  });

  it('dead-letters a released lock at maxDeliveryCount on reopen', () => {
    let broker = openBroker();
    broker.ensureQueue('q', { maxDeliveryCount: 1 });
    broker.send('q', [msg('a')]);
    broker.receive('q', 1);
    broker.close();
    broker = openBroker();
    expect(broker.peek('q/$DeadLetterQueue')[0]).toMatchObject({ deadLetterReason: 'MaxDeliveryCountExceeded' });
  });

  it('keeps locks across a restart when releaseLocksOnOpen is false', () => {
    let broker = openBroker();
    broker.ensureQueue('q');
    broker.send('q', [msg('a')]);
    const [m] = broker.receive('q', 1);
    broker.close();
    broker = openBroker({ releaseLocksOnOpen: false });
    expect(broker.receive('q', 1)).toEqual([]);
    broker.complete('q', m!.lockToken!);
    expect(broker.getRuntimeProperties('q').activeMessageCount).toBe(0);
  });

  it('emits available for entities with a backlog after open', async () => {
    let broker = openBroker();
    broker.ensureQueue('Backlog');
    broker.send('backlog', [msg('a')]);
    broker.close();
    broker = openBroker();
    await nextAvailable(broker, 'Backlog');
  });

  it('writes a versioned schema and refuses a newer one', () => {
    openBroker().close();
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openBroker()).toThrow(/newer/);
  });
});

describe('SqliteBroker entities', () => {
  it('treats entity names case-insensitively and keeps the first spelling', () => {
    const broker = openBroker();
    broker.ensureQueue('Orders', { maxDeliveryCount: 2 });
    broker.ensureQueue('ORDERS', { lockDurationMs: 5_000 }); // updates, keeps maxDeliveryCount
    broker.send('orders', [msg('a')]);
    const [m] = broker.receive('oRdErS', 1);
    expect(m!.lockedUntilUtc!.getTime()).toBe(START + 5_000);
    broker.abandon('ORDERS', m!.lockToken!);
    broker.abandon('orders', broker.receive('Orders', 1)[0]!.lockToken!);
    expect(broker.getRuntimeProperties('orders').deadLetterMessageCount).toBe(1);
    expect(broker.listEntities()).toEqual([{ path: 'Orders', kind: 'queue' }]);
    expect(broker.getEntityPath('orders/$deadletterqueue')).toBe('Orders/$DeadLetterQueue');
  });

  it('reports unknown entities and kind conflicts with stable codes', () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    expectCode(() => broker.send('missing', [msg('a')]), 'MessagingEntityNotFound');
    expectCode(() => broker.receive('missing', 1), 'MessagingEntityNotFound');
    expectCode(() => broker.complete('missing', 'token'), 'MessagingEntityNotFound');
    expectCode(() => broker.getRuntimeProperties('q/Subscriptions/x'), 'MessagingEntityNotFound');
    expectCode(() => broker.ensureTopic('Q'), 'MessagingEntityAlreadyExists');
    expect(() => broker.ensureQueue('bad name')).toThrow(TypeError);
    expect(() => broker.ensureQueue('q', { maxDeliveryCount: 0 })).toThrow(RangeError);
    broker.close();
    expectCode(() => broker.receive('q', 1), 'BrokerClosed');
  });

  it('emits available on send, coalesced per path', async () => {
    const broker = openBroker();
    broker.ensureQueue('q');
    const seen: string[] = [];
    broker.on('available', (p) => seen.push(p));
    broker.send('q', [msg('a'), msg('b')]);
    broker.send('q', [msg('c', { scheduledEnqueueTimeUtc: new Date(START + 1_000) })]);
    expect(seen).toEqual([]); // asynchronous, never inside the caller's transaction
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['q']);
  });
});
