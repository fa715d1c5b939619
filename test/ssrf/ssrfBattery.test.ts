import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/domain/errors.js';
import type { EgressPolicy } from '../../shared/connectors/rest/addressPolicy.js';
import { guardedFetch } from '../../shared/connectors/rest/guardedFetch.js';
import { startCanary, startHttp, tableResolver } from './servers.js';

/**
 * SSRF battery: ≥ 100 URLs that all point (directly, by name, or through redirects) at a canary TCP listener bound to
 * every local interface, or at cloud metadata literals. Every one must be refused with SSRF.BLOCKED / SSRF.INVALID_URL
 * and the canary must record 0 connections.
 */
const unexpectedSuccess = (): never => {
  throw new Error('request unexpectedly succeeded');
};

describe('SSRF battery', () => {
  let canary: Awaited<ReturnType<typeof startCanary>>;
  let redirector: Awaited<ReturnType<typeof startHttp>>;
  let P: number;
  let R: number;

  const resolver = tableResolver({
    'redirector.test': ['127.0.0.1'],
    'loop.test': ['127.0.0.1'],
    'loop6.test': ['::1'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'nat64.test': ['64:ff9b::7f00:1'],
    'sixtofour.test': ['2002:7f00:1::'],
    'zero.test': ['0.0.0.0'],
    'unspecified6.test': ['::'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'mixed-first.test': ['127.0.0.1', '93.184.216.34'],
    'mixed6.test': ['2606:4700::1111', '::1'],
    'imds.test': ['169.254.169.254'],
    'imds-mapped.test': ['::ffff:169.254.169.254'],
    'wire.test': ['168.63.129.16'],
    'private10.test': ['10.0.0.1'],
    'private192.test': ['192.168.0.1'],
    'private172.test': ['172.16.0.1'],
    'cgnat.test': ['100.64.0.1'],
    'linklocal6.test': ['fe80::1'],
    'ula.test': ['fd00::1'],
    'scoped.test': ['fe80::1%lo'],
    'localtest.me': ['127.0.0.1'],
    '127.0.0.1.nip.io': ['127.0.0.1'],
    'spoofed.localtest.me': ['127.0.0.2'],
    'localhost': ['127.0.0.1', '::1'],
  });

  const policy = (): EgressPolicy => ({ allowHosts: ['redirector.test'], allowPorts: [P, R] });

  beforeAll(async () => {
    canary = await startCanary();
    P = canary.port;
    redirector = await startHttp((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const to = url.searchParams.get('to');
      if (to === null) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end();
    });
    R = redirector.port;

    // Control: the canary does record connections on every loopback form we aim at.
    for (const host of ['127.0.0.1', '127.0.0.2', '::1']) {
      await new Promise<void>((resolve) => {
        const socket = net.connect({ host, port: P }, () => socket.destroy());
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(canary.connections.length).toBeGreaterThanOrEqual(2);
    canary.connections.length = 0;
  });

  afterAll(async () => {
    await canary?.close();
    await redirector?.close();
  });

  function batteryUrls(): string[] {
    const urls: string[] = [];
    // 1. Every spelling of loopback / "this host" pointing at the canary port.
    const loopbackHosts = [
      '127.0.0.1', '127.0.0.2', '127.1', '127.0.1', '127.000.000.001', '127.127.127.127', '127.255.255.254',
      '2130706433', '0x7f000001', '0x7F000001', '017700000001', '0177.0.0.1', '0177.0000.0000.0001', '0x7f.0.0.1', '0x7f.1',
      '0x7f.0x0.0x0.0x1', '127.0.0.1.', '0', '0.0.0.0', '0x0', '00000000', '0.0.0.0.',
      'localhost', 'LOCALHOST', 'LocalHost', 'localhost.', 'foo.localhost', 'LOCALHOST.', 'localhost.localdomain', 'ip6-localhost',
      '%31%32%37%2e%30%2e%30%2e%31', '%6c%6f%63%61%6c%68%6f%73%74', '%4C%4F%43%41%4C%48%4F%53%54', '127%2E0%2E0%2E1',
      '127\u30020\u30020\u30021', '\u2460\u2461\u2466.0.0.1', '\uff11\uff12\uff17.0.0.1',
      '[::1]', '[0:0:0:0:0:0:0:1]', '[0000::0001]', '[::]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::FFFF:7F00:1]',
      '[0:0:0:0:0:ffff:127.0.0.1]', '[::ffff:0.0.0.0]', '[::ffff:0:127.0.0.1]', '[::127.0.0.1]', '[::7f00:1]',
      '[64:ff9b::7f00:1]', '[64:ff9b::127.0.0.1]', '[64:ff9b:1::7f00:1]', '[2002:7f00:1::]', '[2002:7f00:0001:0:0:0:0:1]', '[2002:7f00:1::ffff:1]',
      '[fe80::1]', '[fc00::1]', '[fd00::1]',
      // DNS names resolving (via the injected resolver) to blocked addresses
      'loop.test', 'loop6.test', 'mapped.test', 'nat64.test', 'sixtofour.test', 'zero.test', 'unspecified6.test',
      'mixed.test', 'mixed-first.test', 'mixed6.test', 'localtest.me', '127.0.0.1.nip.io', 'spoofed.localtest.me', 'scoped.test',
      'LOOP.TEST', 'loop.test.', 'private10.test', 'ula.test', 'linklocal6.test',
    ];
    for (const host of loopbackHosts) urls.push(`http://${host}:${P}/`);
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '2130706433', 'loop.test', 'mixed.test', '[::ffff:127.0.0.1]']) urls.push(`https://${host}:${P}/`);
    urls.push(`HTTP://127.0.0.1:${P}/`, `hTtP://LoCaLhOsT:${P}/x?y=1#z`, `  http://127.0.0.1:${P}/  `, `http://127.0.0.1:${P}\\@redirector.test:${R}/`);
    urls.push(`http:127.0.0.1:${P}/`, `http:/127.0.0.1:${P}/`, `http:\\\\127.0.0.1:${P}/`);

    // 2. userinfo tricks (rejected outright, never echoed)
    urls.push(
      `http://evil@127.0.0.1:${P}/`, `http://user:pass@localhost:${P}/`, `http://redirector.test@127.0.0.1:${P}/`,
      `http://redirector.test:${R}@127.0.0.1:${P}/`, `http://a%40b@[::1]:${P}/`, `http://:@127.0.0.1:${P}/`, `http://x@redirector.test:${R}/r?to=/`,
    );

    // 3. IPv6 zone ids (invalid in URLs)
    urls.push(`http://[fe80::1%25lo]:${P}/`, `http://[::1%25lo]:${P}/`, `http://[::1%lo]:${P}/`, `http://[fe80::1%251]:${P}/`);

    // 4. Non-http schemes and odd ports
    urls.push(
      'file:///etc/passwd', 'file://127.0.0.1/etc/passwd', `gopher://127.0.0.1:${P}/_GET%20/`, `ftp://127.0.0.1:${P}/`, 'data:text/plain,hello',
      `ws://127.0.0.1:${P}/`, `wss://127.0.0.1:${P}/`, `dict://127.0.0.1:${P}/info`, `ldap://127.0.0.1:${P}/`, 'javascript:alert(1)',
      `jar:http://127.0.0.1:${P}/x.jar!/`, `netdoc:///etc/passwd`, `sftp://127.0.0.1:${P}/`, `tftp://127.0.0.1:${P}/`, `blob:http://127.0.0.1:${P}/x`,
      'http://127.0.0.1:22/', 'http://127.0.0.1:0/', 'http://127.0.0.1:65536/', `http://127.0.0.1:${P}:${P}/`, 'http://redirector.test:22/',
      'http://93.184.216.34:8080/', 'https://93.184.216.34:6379/', `http://127.0.0.1:${P + 1}/`, 'http://[::1]:25/', `http:///127.0.0.1:${P}/`, 'http://',
      '/relative/path', '', 'not a url',
    );

    // 5. Redirects from the allow-listed redirector to blocked targets
    const redirectTargets = [
      `http://127.0.0.1:${P}/`, `//127.0.0.1:${P}/`, `///127.0.0.1:${P}/`, `http://localhost:${P}/`, `http://[::1]:${P}/`, `http://[::ffff:127.0.0.1]:${P}/`,
      `http://2130706433:${P}/`, `http://0x7f.1:${P}/`, `http://0:${P}/`, `http://loop.test:${P}/`, `http://mixed.test:${P}/`, `http://localtest.me:${P}/`,
      `http://[64:ff9b::7f00:1]:${P}/`, `http://[2002:7f00:1::]:${P}/`, `http://evil@127.0.0.1:${P}/`, `https://127.0.0.1:${P}/`,
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/',
      'http://168.63.129.16/machine?comp=goalstate', 'http://[64:ff9b::a9fe:a9fe]/', 'http://imds.test/', 'http://metadata.google.internal/',
      'file:///etc/passwd', `gopher://127.0.0.1:${P}/_x`, 'data:text/plain,x', `http://[fe80::1%25lo]:${P}/`,
    ];
    for (const to of redirectTargets) urls.push(`http://redirector.test:${R}/r?to=${encodeURIComponent(to)}`);
    for (const status of [301, 303, 307, 308]) urls.push(`http://redirector.test:${R}/r?status=${status}&to=${encodeURIComponent(`http://127.0.0.1:${P}/`)}`);
    // two hops: redirector → redirector → canary
    const inner = `http://redirector.test:${R}/r?to=${encodeURIComponent(`http://[::1]:${P}/`)}`;
    urls.push(`http://redirector.test:${R}/r?to=${encodeURIComponent(inner)}`);
    urls.push(`http://redirector.test:${R}/r?to=${encodeURIComponent(`/r?to=${encodeURIComponent(`http://localhost:${P}/`)}`)}`);

    // 6. Cloud metadata / WireServer literals (blocked before any connection attempt) and private ranges
    const num = (ip: string) => ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
    urls.push(
      'http://169.254.169.254/latest/meta-data/', 'http://169.254.169.254/metadata/instance?api-version=2021-02-01', 'http://169.254.169.254:80/',
      `http://${num('169.254.169.254')}/`, `http://0x${num('169.254.169.254').toString(16)}/`, 'http://0251.0376.0251.0376/', 'http://169.254.43518/',
      'http://0xa9.0xfe.0xa9.0xfe/', 'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/', 'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
      'http://[64:ff9b::169.254.169.254]/', 'http://[2002:a9fe:a9fe::]/', 'http://169.254.169.254./', 'https://169.254.169.254/',
      'http://168.63.129.16/', `http://${num('168.63.129.16')}/`, 'http://[::ffff:168.63.129.16]/', 'http://[64:ff9b::a83f:8110]/', 'https://168.63.129.16/',
      'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://169.254.170.2/v2/credentials', 'http://metadata.google.internal/', 'http://METADATA.GOOGLE.INTERNAL./',
      'http://imds.test/', 'http://imds-mapped.test/', 'http://wire.test/',
      'http://10.0.0.1/', 'http://10.255.255.255/', 'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.0.1/', 'http://100.64.0.1/',
      'http://198.18.0.1/', 'http://224.0.0.1/', 'http://239.255.255.250/', 'http://240.0.0.1/', 'http://255.255.255.255/', 'http://[fc00::1]/',
      'http://[fe80::1]/', 'http://[ff02::1]/', 'http://[fec0::1]/', 'http://private192.test/', 'http://private172.test/', 'http://cgnat.test/',
    );
    return urls;
  }

  it('refuses every URL and the canary records 0 connections', async () => {
    const urls = batteryUrls();
    expect(urls.length).toBeGreaterThanOrEqual(100);
    const unexpected: string[] = [];
    const codes = new Map<string, number>();
    for (const url of urls) {
      try {
        const res = await guardedFetch(url, { method: 'GET', policy: policy(), resolver, timeoutMs: 2000, connectTimeoutMs: 1000 });
        unexpected.push(`${url} → allowed (${res.status} from ${res.url})`);
      } catch (error) {
        const code = error instanceof AppError ? error.code : String(error);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code !== 'SSRF.BLOCKED' && code !== 'SSRF.INVALID_URL') unexpected.push(`${url} → ${code}: ${(error as Error).message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    console.log(
      `SSRF battery: ${urls.length} URLs, ${urls.length - unexpected.length} refused, canary connections: ${canary.connections.length}, ` +
        `redirector requests: ${redirector.requests.length}, codes: ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    expect(unexpected).toEqual([]);
    expect(canary.connections).toEqual([]);
    // the redirect cases really went through the allow-listed redirector
    expect(redirector.requests.length).toBeGreaterThanOrEqual(30);
  });

  it('never names credentials in errors', async () => {
    const error = await guardedFetch(`http://alice:s3cr3t-pw@127.0.0.1:${P}/`, { policy: policy(), resolver }).then(unexpectedSuccess, (e: unknown) => e as AppError);
    expect(error.code).toBe('SSRF.INVALID_URL');
    expect(error.message).toContain('127.0.0.1');
    expect(error.message).not.toContain('s3cr3t');
    expect(JSON.stringify(error.details)).not.toContain('s3cr3t');
  });

  it('blocks the App Service IDENTITY_ENDPOINT host even when a tenant allow-lists it', async () => {
    const saved = process.env['IDENTITY_ENDPOINT'];
    process.env['IDENTITY_ENDPOINT'] = `http://identity.internal.test:41741/msi/token`;
    try {
      const allowing: EgressPolicy = { allowHosts: ['identity.internal.test', '169.254.169.254', '168.63.129.16'], allowPorts: [41741] };
      for (const url of ['http://identity.internal.test:41741/msi/token?resource=x', 'http://IDENTITY.internal.test.:41741/', 'http://169.254.169.254/', 'http://168.63.129.16/']) {
        const error = await guardedFetch(url, { policy: allowing, resolver }).then(unexpectedSuccess, (e: unknown) => e as AppError);
        expect(error.code, url).toBe('SSRF.BLOCKED');
      }
    } finally {
      if (saved === undefined) delete process.env['IDENTITY_ENDPOINT'];
      else process.env['IDENTITY_ENDPOINT'] = saved;
    }
    expect(canary.connections).toEqual([]);
  });
});
