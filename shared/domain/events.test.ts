import { describe, expect, it } from 'vitest';
import {
  eventRunIdempotencyKey,
  eventRunInput,
  eventSourceKey,
  eventSourceProblems,
  eventTypeProblems,
  parseIncomingEvent,
  runEvent,
  runEventTypeOf,
  subscriptionMatches,
  type IncomingEvent,
} from './events.js';

const TOPIC = '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.EventGrid/topics/contoso';

function event(type: string, subject: string): Pick<IncomingEvent, 'type' | 'subject'> {
  return { type, subject };
}

const base = { eventTypes: ['Contoso.Orders.Created'], subjectBeginsWith: null, subjectEndsWith: null, caseSensitive: false };

describe('subscription filters', () => {
  it('matches exact event types case-insensitively, as Event Grid does, and nothing else', () => {
    expect(subscriptionMatches(base, event('Contoso.Orders.Created', '/orders/1'))).toBe(true);
    expect(subscriptionMatches(base, event('contoso.orders.CREATED', '/orders/1'))).toBe(true);
    expect(subscriptionMatches(base, event('Contoso.Orders.Created.V2', '/orders/1'))).toBe(false);
    expect(subscriptionMatches(base, event('Contoso.Orders.Deleted', '/orders/1'))).toBe(false);
  });

  it('takes any of several types, a trailing * as a prefix and * alone as every type', () => {
    const several = { ...base, eventTypes: ['A.One', 'B.Two'] };
    expect(subscriptionMatches(several, event('B.Two', ''))).toBe(true);
    expect(subscriptionMatches(several, event('C.Three', ''))).toBe(false);
    const prefix = { ...base, eventTypes: ['Contoso.Orders.*'] };
    expect(subscriptionMatches(prefix, event('Contoso.Orders.Shipped', ''))).toBe(true);
    expect(subscriptionMatches(prefix, event('contoso.orders.x', ''))).toBe(true);
    expect(subscriptionMatches(prefix, event('Contoso.Invoices.Paid', ''))).toBe(false);
    expect(subscriptionMatches({ ...base, eventTypes: ['*'] }, event('Anything.At.All', ''))).toBe(true);
  });

  it('applies subject prefix and suffix filters together, case-insensitively by default', () => {
    const filtered = { ...base, subjectBeginsWith: '/blobServices/default/containers/images/', subjectEndsWith: '.JPG' };
    expect(subscriptionMatches(filtered, event('Contoso.Orders.Created', '/blobServices/default/containers/images/cat.jpg'))).toBe(true);
    expect(subscriptionMatches(filtered, event('Contoso.Orders.Created', '/BLOBSERVICES/default/containers/Images/cat.JPG'))).toBe(true);
    expect(subscriptionMatches(filtered, event('Contoso.Orders.Created', '/blobServices/default/containers/images/cat.png'))).toBe(false);
    expect(subscriptionMatches(filtered, event('Contoso.Orders.Created', '/blobServices/default/containers/docs/cat.jpg'))).toBe(false);
    expect(subscriptionMatches(filtered, event('Contoso.Invoices.Paid', '/blobServices/default/containers/images/cat.jpg'))).toBe(false);
  });

  it('compares subjects exactly when case-sensitive (types stay case-insensitive)', () => {
    const sensitive = { ...base, subjectBeginsWith: '/Orders/', subjectEndsWith: '/Paid', caseSensitive: true };
    expect(subscriptionMatches(sensitive, event('contoso.orders.created', '/Orders/1/Paid'))).toBe(true);
    expect(subscriptionMatches(sensitive, event('Contoso.Orders.Created', '/orders/1/Paid'))).toBe(false);
    expect(subscriptionMatches(sensitive, event('Contoso.Orders.Created', '/Orders/1/paid'))).toBe(false);
  });

  it('treats empty and absent subject filters as no filter, including for an empty subject', () => {
    expect(subscriptionMatches({ ...base, subjectBeginsWith: '', subjectEndsWith: '' }, event('Contoso.Orders.Created', ''))).toBe(true);
    expect(subscriptionMatches(base, event('Contoso.Orders.Created', ''))).toBe(true);
    expect(subscriptionMatches({ ...base, subjectBeginsWith: '/a' }, event('Contoso.Orders.Created', ''))).toBe(false);
  });

  it('refuses a * anywhere but at the end of a type', () => {
    expect(eventTypeProblems(['A.*', '*', 'B.C'])).toEqual([]);
    expect(eventTypeProblems(['A.*.B', '*A'])).toHaveLength(2);
  });
});

describe('event source keys (tenant resolution compares these; see eventUseCases.test.ts and the store contract)', () => {
  it('compare a topic or source case-insensitively, ignoring surrounding blanks', () => {
    expect(eventSourceKey(` ${TOPIC.toUpperCase()} `)).toBe(eventSourceKey(TOPIC));
    expect(eventSourceKey('urn:Contoso:Orders')).toBe('urn:contoso:orders');
  });

  it('keep a prefix, an extension or another topic distinct', () => {
    expect(eventSourceKey(TOPIC.slice(0, -1))).not.toBe(eventSourceKey(TOPIC));
    expect(eventSourceKey(`${TOPIC}/x`)).not.toBe(eventSourceKey(TOPIC));
    expect(eventSourceKey(TOPIC.replace('contoso', 'fabrikam'))).not.toBe(eventSourceKey(TOPIC));
  });

  it('validates the sources a platform admin registers', () => {
    expect(eventSourceProblems([TOPIC, 'urn:contoso:orders'])).toEqual([]);
    expect(eventSourceProblems(['  '])).toHaveLength(1);
    expect(eventSourceProblems(['urn:contoso:*'])).toHaveLength(1);
    expect(eventSourceProblems(['has space'])).toHaveLength(1);
    expect(eventSourceProblems(Array.from({ length: 21 }, (_, i) => `urn:s${i}`))).toHaveLength(1);
  });
});

describe('parsing delivered events', () => {
  it('reads the Event Grid schema: eventType, topic as the source, eventTime', () => {
    const parsed = parseIncomingEvent({ id: 'e1', topic: TOPIC, subject: '/orders/1', eventType: 'Contoso.Orders.Created', eventTime: '2026-01-01T00:00:00Z', data: { n: 1 }, dataVersion: '1', metadataVersion: '1' });
    expect(parsed).toEqual({ event: { schema: 'eventgrid', id: 'e1', type: 'Contoso.Orders.Created', subject: '/orders/1', source: TOPIC, time: '2026-01-01T00:00:00Z', data: { n: 1 } } });
  });

  it('reads CloudEvents 1.0: type, source, an absent subject as empty, data_base64 kept as base64', () => {
    expect(parseIncomingEvent({ specversion: '1.0', id: 'c1', source: 'urn:contoso:orders', type: 'Contoso.Orders.Created', time: '2026-01-01T00:00:00Z', data: [1, 2] })).toEqual({
      event: { schema: 'cloudevents', id: 'c1', type: 'Contoso.Orders.Created', subject: '', source: 'urn:contoso:orders', time: '2026-01-01T00:00:00Z', data: [1, 2] },
    });
    const binary = parseIncomingEvent({ specversion: '1.0', id: 'c2', source: 's', type: 't', subject: 'x', data_base64: 'AQI=' });
    expect('event' in binary && binary.event.data).toEqual({ base64: 'AQI=' });
  });

  it('refuses what belongs to no tenant or is not an event, without throwing', () => {
    expect(parseIncomingEvent({ id: 'e1', subject: '/a', eventType: 'T', data: {}, dataVersion: '1' })).toHaveProperty('problem');
    expect(parseIncomingEvent({ specversion: '1.0', id: 'c1', type: 'T' })).toHaveProperty('problem');
    expect(parseIncomingEvent({ specversion: '0.3', id: 'c1', type: 'T', source: 's' })).toHaveProperty('problem');
    expect(parseIncomingEvent({ id: 'e1', topic: TOPIC, subject: 7, eventType: 'T' })).toHaveProperty('problem');
    expect(parseIncomingEvent({ topic: TOPIC, subject: '', eventType: 'T' })).toHaveProperty('problem');
    for (const junk of [null, 42, 'text', [], [{}], { id: {}, topic: [], eventType: null }]) expect(parseIncomingEvent(junk)).toHaveProperty('problem');
  });

  it('gives a run input of one shape for both schemas', () => {
    const parsed = parseIncomingEvent({ specversion: '1.0', id: 'c1', source: 'urn:s', type: 'T', subject: '/x', data: { a: 1 } });
    if (!('event' in parsed)) throw new Error(parsed.problem);
    expect(eventRunInput(parsed.event)).toEqual({ id: 'c1', type: 'T', subject: '/x', source: 'urn:s', time: null, schema: 'cloudevents', data: { a: 1 } });
  });
});

describe('idempotency and published run events', () => {
  it('keys a run by subscription and event id, within the 200-character idempotency key', () => {
    const key = eventRunIdempotencyKey('es-0123456789abcdef0123456789abcdef', 'x'.repeat(1000));
    expect(key.length).toBeLessThanOrEqual(200);
    expect(key).toBe(eventRunIdempotencyKey('es-0123456789abcdef0123456789abcdef', 'x'.repeat(1000)));
    expect(key).not.toBe(eventRunIdempotencyKey('es-0123456789abcdef0123456789abcdef', 'y'));
    expect(key).not.toBe(eventRunIdempotencyKey('es-ffffffffffffffffffffffffffffffff', 'x'.repeat(1000)));
  });

  it('maps statuses to run event types', () => {
    expect(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((status) => runEventTypeOf(status as never))).toEqual([undefined, 'run.started', 'run.completed', 'run.failed', 'run.cancelled']);
  });

  it('builds a run event with a stable id, the run subject and no input or output', () => {
    const published = runEvent(
      'run.failed',
      { tenantId: 'acme', runId: 'r1', workflowId: 'wf', workflowVersion: 3, status: 'failed', trigger: 'event', error: { code: 'STEP.FAILED', message: 'secret detail', stepId: 's1' }, createdAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', completedAt: '2026-01-01T00:00:03.500Z' },
      '2026-01-01T00:00:03.500Z',
    );
    expect(published).toEqual({
      id: 'r1:run.failed',
      eventType: 'run.failed',
      subject: '/tenants/acme/workflows/wf/runs/r1',
      eventTime: '2026-01-01T00:00:03.500Z',
      dataVersion: '1',
      data: { tenantId: 'acme', runId: 'r1', workflowId: 'wf', version: 3, status: 'failed', trigger: 'event', errorCode: 'STEP.FAILED', errorStepId: 's1', createdAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', completedAt: '2026-01-01T00:00:03.500Z', durationMs: 2500 },
    });
    expect(JSON.stringify(published)).not.toContain('secret detail');
  });
});
