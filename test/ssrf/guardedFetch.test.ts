import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/domain/errors.js';
import { guardedFetch } from '../../shared/connectors/rest/guardedFetch.js';
import { startCanary, startHttp, tableResolver } from './servers.js';

const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => (e instanceof AppError ? e.code : String(e)));

describe('guardedFetch (positive paths)', () => {
  let server: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    server = await startHttp((req, res, body) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) }).end(Buffer.alloc(2 * 1024 * 1024, 1));
        return;
      }
      if (req.url === '/big-chunked') {
        res.writeHead(200);
        for (let i = 0; i < 32; i++) res.write(Buffer.alloc(64 * 1024, 2));
        res.end();
        return;
      }
      if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method ?? '' }).end(`hello ${req.method} ${body}`);
    });
  });
  afterAll(() => server?.close());

  it('reaches an allow-listed local server (IP + port in the policy)', async () => {
    const res = await guardedFetch(`http://127.0.0.1:${server.port}/hello?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', host: 'spoofed.example' },
      body: 'payload',
      policy: { allowHosts: ['127.0.0.1'], allowPorts: [server.port] },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello POST payload');
    expect(res.url).toBe(`http://127.0.0.1:${server.port}/hello?x=1`);
    // the caller cannot override Host
    expect(server.requests.at(-1)?.headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('allow-lists by CIDR and by hostname (with the real resolver for localhost)', async () => {
    const byCidr = await guardedFetch(`http://127.0.0.1:${server.port}/`, { policy: { allowHosts: ['127.0.0.0/8'], allowPorts: [server.port] } });
    expect(byCidr.status).toBe(200);
    const byName = await guardedFetch(`http://localhost:${server.port}/`, { policy: { allowHosts: ['localhost', '::1'], allowPorts: [server.port] } });
    expect(byName.status).toBe(200);
  });

  it('refuses without the allow-list entry, or without the port', async () => {
    expect(await codeOf(guardedFetch(`http://127.0.0.1:${server.port}/`, { policy: { allowPorts: [server.port] } }))).toBe('SSRF.BLOCKED');
    expect(await codeOf(guardedFetch(`http://127.0.0.1:${server.port}/`, { policy: { allowHosts: ['127.0.0.1'] } }))).toBe('SSRF.BLOCKED');
  });

  it('caps the response body (content-length and chunked)', async () => {
    const policy = { allowHosts: ['127.0.0.1'], allowPorts: [server.port] };
    expect(await codeOf(guardedFetch(`http://127.0.0.1:${server.port}/big`, { policy, maxResponseBytes: 1024 * 1024 }))).toBe('REST.RESPONSE_TOO_LARGE');
    expect(await codeOf(guardedFetch(`http://127.0.0.1:${server.port}/big-chunked`, { policy, maxResponseBytes: 1024 * 1024 }))).toBe('REST.RESPONSE_TOO_LARGE');
    const ok = await guardedFetch(`http://127.0.0.1:${server.port}/big`, { policy });
    expect(ok.body.length).toBe(2 * 1024 * 1024);
  });

  it('stops redirect loops', async () => {
    const policy = { allowHosts: ['127.0.0.1'], allowPorts: [server.port] };
    expect(await codeOf(guardedFetch(`http://127.0.0.1:${server.port}/loop`, { policy, maxRedirects: 3 }))).toBe('REST.TOO_MANY_REDIRECTS');
  });

  it('honours an abort signal', async () => {
    const policy = { allowHosts: ['127.0.0.1'], allowPorts: [server.port] };
    const controller = new AbortController();
    controller.abort();
    await expect(guardedFetch(`http://127.0.0.1:${server.port}/`, { policy, signal: controller.signal })).rejects.toThrow();
  });
});

describe('pinning (no DNS rebinding gap)', () => {
  it('resolves once per hop and connects only to the checked address', async () => {
    // Bound to every interface: a connection to 127.0.0.2 (allow-listed stand-in for a public address) or to
    // 127.0.0.1 (the rebinding target) both land here, and localAddress tells which one was dialled.
    const target = await startHttp((_req, res) => res.writeHead(200).end('pinned'), { anywhere: true });
    try {
      let calls = 0;
      const rebinding = async () => {
        calls++;
        return [{ address: calls === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
      };
      const policy = { allowHosts: ['127.0.0.2/32'], allowPorts: [target.port] };
      const res = await guardedFetch(`http://rebind.test:${target.port}/`, { policy, resolver: rebinding });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('pinned');
      expect(calls).toBe(1);
      expect(target.requests[0]?.headers.host).toBe(`rebind.test:${target.port}`);
      // A second request resolves again, now to 127.0.0.1 → blocked before connecting.
      expect(await codeOf(guardedFetch(`http://rebind.test:${target.port}/`, { policy, resolver: rebinding }))).toBe('SSRF.BLOCKED');
      expect(calls).toBe(2);
      await new Promise((r) => setTimeout(r, 50));
      expect(target.connections.map((c) => c.localAddress)).toEqual(['127.0.0.2']);
    } finally {
      await target.close();
    }
  });

  it('a resolver that flips between checks cannot reach the canary', async () => {
    const canary = await startCanary();
    try {
      let calls = 0;
      // Public-looking (unroutable TEST-NET is blocked, so use an allow-listed loopback alias as the "good" answer).
      const flipping = async () => [{ address: ++calls % 2 === 1 ? '127.0.0.3' : '127.0.0.1', family: 4 }];
      const policy = { allowHosts: ['127.0.0.3/32'], allowPorts: [canary.port] };
      for (let i = 0; i < 5; i++) {
        await guardedFetch(`http://flip.test:${canary.port}/`, { policy, resolver: flipping }).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(canary.connections.filter((c) => c.localAddress === '127.0.0.1')).toEqual([]);
      expect(canary.connections.every((c) => c.localAddress === '127.0.0.3')).toBe(true);
    } finally {
      await canary.close();
    }
  });
});

describe('redirects and credentials', () => {
  let a: Awaited<ReturnType<typeof startHttp>>;
  let b: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    b = await startHttp((req, res, body) => res.writeHead(200).end(`b ${req.method} ${body}`));
    a = await startHttp((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/cross') res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: `http://b.test:${b.port}/land` }).end();
      else if (url.pathname === '/same') res.writeHead(302, { location: '/final' }).end();
      else if (url.pathname === '/back') res.writeHead(302, { location: `http://b.test:${b.port}/land?back=1` }).end();
      else res.writeHead(200).end('a final');
    });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const secrets = { authorization: 'Bearer tenant-secret', cookie: 'sid=abc', 'proxy-authorization': 'Basic cHJveHk=', 'x-trace': 't-1' };

  it('drops Authorization, Cookie and Proxy-Authorization on a cross-origin redirect', async () => {
    const resolver = tableResolver({ 'a.test': ['127.0.0.1'], 'b.test': ['127.0.0.1'] });
    const policy = () => ({ allowHosts: ['a.test', 'b.test'], allowPorts: [a.port, b.port] });
    const res = await guardedFetch(`http://a.test:${a.port}/cross`, { headers: { ...secrets, Authorization: 'Bearer tenant-secret' }, policy: policy(), resolver });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`http://b.test:${b.port}/land`);
    const received = b.requests.at(-1)!.headers;
    expect(received['authorization']).toBeUndefined();
    expect(received['cookie']).toBeUndefined();
    expect(received['proxy-authorization']).toBeUndefined();
    expect(received['x-trace']).toBe('t-1');
    expect(received.host).toBe(`b.test:${b.port}`);
    // the first hop did get them
    expect(a.requests.at(-1)!.headers['authorization']).toBe('Bearer tenant-secret');
  });

  it('keeps credentials on a same-origin redirect', async () => {
    const resolver = tableResolver({ 'a.test': ['127.0.0.1'] });
    const res = await guardedFetch(`http://a.test:${a.port}/same`, { headers: secrets, policy: { allowHosts: ['a.test'], allowPorts: [a.port] }, resolver });
    expect(res.body.toString()).toBe('a final');
    expect(a.requests.at(-1)!.headers['authorization']).toBe('Bearer tenant-secret');
    expect(a.requests.at(-1)!.headers['cookie']).toBe('sid=abc');
  });

  it('treats another port on the same host as another origin', async () => {
    const resolver = tableResolver({ 'a.test': ['127.0.0.1'], 'b.test': ['127.0.0.1'] });
    await guardedFetch(`http://a.test:${a.port}/back`, { headers: secrets, policy: { allowHosts: ['127.0.0.1'], allowPorts: [a.port, b.port] }, resolver });
    expect(b.requests.at(-1)!.headers['authorization']).toBeUndefined();
  });

  it('307 keeps method and body; 303 switches to GET without body', async () => {
    const resolver = tableResolver({ 'a.test': ['127.0.0.1'], 'b.test': ['127.0.0.1'] });
    const policy = { allowHosts: ['a.test', 'b.test'], allowPorts: [a.port, b.port] };
    const kept = await guardedFetch(`http://a.test:${a.port}/cross?status=307`, { method: 'POST', body: 'data', headers: { 'content-type': 'text/plain' }, policy, resolver });
    expect(kept.body.toString()).toBe('b POST data');
    const switched = await guardedFetch(`http://a.test:${a.port}/cross?status=303`, { method: 'POST', body: 'data', headers: { 'content-type': 'text/plain' }, policy, resolver });
    expect(switched.body.toString()).toBe('b GET ');
    expect(b.requests.at(-1)!.headers['content-type']).toBeUndefined();
  });
});
