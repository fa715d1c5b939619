import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';

/**
 * The embedded Service Bus broker as an app sees it: entity settings from an emulator-style Config.json,
 * redelivery and dead-lettering after MaxDeliveryCount, the dead-letter admin endpoints, topics with filtered
 * subscriptions, and persistence across a graceful restart and a kill -9.
 */
const appDir = path.join(repoRoot, 'test', 'fixtures', 'bus-app');
type Seen = { fn: string; id: string; deliveryCount?: number; subject?: string };

describe('embedded Service Bus broker through the host', () => {
  let host: HostProcess | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  const post = (h: HostProcess, route: string, body: unknown): Promise<Response> =>
    fetch(`${h.baseUrl}/api/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const seen = async (h: HostProcess): Promise<Seen[]> => (await (await fetch(`${h.baseUrl}/api/seen`)).json()) as Seen[];

  it('dead-letters a poison message after exactly MaxDeliveryCount deliveries; the admin API peeks, resubmits and purges', async () => {
    host = await startHost({ appDir });
    const h = host;
    expect((await post(h, 'enqueue', { id: 'poison-1', poison: true })).status).toBe(202);
    const deadLetters = await eventually(async () => {
      const list = (await (await fetch(`${h.baseUrl}/admin/servicebus/queues/jobs/deadletters`)).json()) as Array<Record<string, unknown>>;
      return list.length === 1 ? list : undefined;
    });
    expect((await seen(h)).filter((s) => s.id === 'poison-1').map((s) => s.deliveryCount)).toEqual([1, 2, 3]);
    expect(deadLetters[0]).toMatchObject({ deadLetterReason: 'MaxDeliveryCountExceeded', deliveryCount: 3 });
    expect(JSON.parse(deadLetters[0]!['body'] as string)).toEqual({ id: 'poison-1', poison: true });

    const entities = (await (await fetch(`${h.baseUrl}/admin/servicebus/entities`)).json()) as Array<Record<string, unknown>>;
    expect(entities.find((e) => e['path'] === 'jobs')).toMatchObject({ kind: 'queue', deadLetterMessageCount: 1 });

    const resubmitted = (await (await fetch(`${h.baseUrl}/admin/servicebus/queues/jobs/deadletters/resubmit`, { method: 'POST' })).json()) as { resubmitted: number };
    expect(resubmitted.resubmitted).toBe(1);
    await eventually(async () => ((await seen(h)).filter((s) => s.id === 'poison-1').length === 6 ? true : undefined));
    await eventually(async () => {
      const list = (await (await fetch(`${h.baseUrl}/admin/servicebus/queues/jobs/deadletters`)).json()) as unknown[];
      return list.length === 1 ? true : undefined;
    });
    const purged = (await (await fetch(`${h.baseUrl}/admin/servicebus/queues/jobs/deadletters`, { method: 'DELETE' })).json()) as { purged: number };
    expect(purged.purged).toBe(1);
    expect((await fetch(`${h.baseUrl}/admin/servicebus/queues/nope/deadletters`)).status).toBe(404);
  });

  it('fans a topic message out to subscriptions whose filters match', async () => {
    host = await startHost({ appDir });
    const h = host;
    expect((await post(h, 'publish', { id: 'evt-1' })).status).toBe(202);
    await eventually(async () => ((await seen(h)).some((s) => s.fn === 'on-all' && s.id === 'evt-1') ? true : undefined));
    // The billing subscription's correlation filter wants Label=billing; a plain output message has none.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await seen(h)).filter((s) => s.fn === 'on-billing')).toEqual([]);
  });

  it('keeps queued messages across a graceful restart and a kill -9', async () => {
    // With the consumer disabled the messages stay queued.
    const paused = { 'AzureWebJobs.consume.Disabled': 'true' };
    host = await startHost({ appDir, env: paused });
    const stateDir = host.stateDir;
    for (let i = 0; i < 20; i++) expect((await post(host, 'enqueue', { id: `m-${i}` })).status).toBe(202);
    await host.stop();

    host = await startHost({ appDir, env: paused, stateDir });
    for (let i = 20; i < 40; i++) expect((await post(host, 'enqueue', { id: `m-${i}` })).status).toBe(202);
    await host.kill();

    host = await startHost({ appDir, stateDir });
    const h = host;
    const consumed = await eventually(async () => {
      const ids = new Set((await seen(h)).filter((s) => s.fn === 'consume').map((s) => s.id));
      return ids.size === 40 ? ids : undefined;
    }, 15_000);
    expect([...consumed].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `m-${i}`).sort());
  });

  it('redelivers the message a killed host was processing (the lock is released on restart)', async () => {
    host = await startHost({ appDir });
    const stateDir = host.stateDir;
    expect((await post(host, 'enqueue', { id: 'in-flight', slowMs: 60_000 })).status).toBe(202);
    const h1 = host;
    await eventually(async () => ((await seen(h1)).some((s) => s.id === 'in-flight') ? true : undefined));
    await host.kill();
    host = await startHost({ appDir, stateDir });
    const h2 = host;
    const redelivered = await eventually(async () => (await seen(h2)).find((s) => s.id === 'in-flight'));
    expect(redelivered.deliveryCount).toBe(2);
  });
});
