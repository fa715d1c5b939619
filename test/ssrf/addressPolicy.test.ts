import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/domain/errors.js';
import { checkUrl, classifyAddress, resolveAndCheck } from '../../shared/connectors/rest/addressPolicy.js';

describe('classifyAddress', () => {
  const blocked = [
    '0.0.0.0', '0.1.2.3', '10.1.2.3', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.255.255.255', '169.254.0.1', '169.254.169.254',
    '172.16.0.1', '172.31.255.255', '192.168.1.1', '198.18.0.1', '198.19.255.255', '224.0.0.1', '239.255.255.255', '240.0.0.1',
    '255.255.255.255', '168.63.129.16', '::', '::1', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1',
    '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '64:ff9b::169.254.169.254', '64:ff9b::a83f:8110',
    '2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:101::', '::127.0.0.1', '::ffff:0:127.0.0.1', 'fd00:ec2::254', '2001:db8::1', '2001::1',
    '64:ff9b:1::1', '100::1', 'fe80::1%lo', 'not-an-ip', '', '1.2.3', '::ffff:0.0.0.0',
  ];
  const allowed = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.128.0.1', '169.253.255.255', '2606:4700::1111', '2a00:1450::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

  it.each(blocked)('blocks %s', (ip) => {
    const verdict = classifyAddress(ip);
    expect(verdict.blocked).toBe(true);
    expect(verdict.reason).toBeTruthy();
  });
  it.each(allowed)('allows %s', (ip) => expect(classifyAddress(ip).blocked).toBe(false));

  it('names the embedded IPv4 and the form', () => {
    expect(classifyAddress('::ffff:169.254.169.254')).toMatchObject({ blocked: true, metadata: true, embeddedIPv4: '169.254.169.254' });
    expect(classifyAddress('64:ff9b::7f00:1').reason).toMatch(/NAT64.*127\.0\.0\.1.*loopback/);
    expect(classifyAddress('2002:7f00:1::').reason).toMatch(/6to4/);
  });
});

describe('checkUrl', () => {
  it('normalizes and returns the URL', () => {
    expect(checkUrl('HTTPS://Example.COM./a?b', {}).href).toBe('https://example.com/a?b');
    expect(checkUrl('http://example.com:8080/', { allowPorts: [8080] }).port).toBe('8080');
  });
  it.each([
    ['ftp://example.com/', 'SSRF.BLOCKED'],
    ['http://example.com:8080/', 'SSRF.BLOCKED'],
    ['http://u:p@example.com/', 'SSRF.INVALID_URL'],
    ['http://[fe80::1%25eth0]/', 'SSRF.INVALID_URL'],
    ['http://0x7f.1/', 'SSRF.BLOCKED'],
    ['http://example..com/', 'SSRF.INVALID_URL'],
    ['nonsense', 'SSRF.INVALID_URL'],
  ])('%s → %s', (url, code) => {
    try {
      checkUrl(url, {});
      expect.unreachable();
    } catch (error) {
      expect((error as AppError).code).toBe(code);
    }
  });
  it('rejects invalid allow-list entries', () => {
    expect(() => checkUrl('http://example.com/', { allowHosts: ['10.0.0.0/99'] })).toThrow(/allow-list/);
    expect(() => checkUrl('http://example.com/', { allowPorts: [70000] })).toThrow(/port/);
  });
  it('lets wildcard allow-list entries open private addresses for matching names only', async () => {
    const resolver = async () => [{ address: '10.0.0.5', family: 4 }];
    await expect(resolveAndCheck('api.corp.example', { allowHosts: ['*.corp.example'] }, resolver)).resolves.toEqual(['10.0.0.5']);
    await expect(resolveAndCheck('api.corp.example.evil', { allowHosts: ['*.corp.example'] }, resolver)).rejects.toMatchObject({ code: 'SSRF.BLOCKED' });
  });
});

describe('resolveAndCheck', () => {
  it('any blocked address blocks the request (no "pick the good one")', async () => {
    const resolver = async () => [{ address: '93.184.216.34' }, { address: '10.0.0.1' }];
    await expect(resolveAndCheck('mixed.example', {}, resolver)).rejects.toMatchObject({ code: 'SSRF.BLOCKED', message: expect.stringContaining('mixed.example') });
  });
  it('returns all addresses when every one passes', async () => {
    const resolver = async () => [{ address: '93.184.216.34' }, { address: '2606:2800:220:1:248:1893:25c8:1946' }];
    await expect(resolveAndCheck('ok.example', {}, resolver)).resolves.toEqual(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']);
  });
  it('maps resolver failures to REST.DNS_FAILED and empty answers too', async () => {
    await expect(resolveAndCheck('x.example', {}, async () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })))).rejects.toMatchObject({ code: 'REST.DNS_FAILED' });
    await expect(resolveAndCheck('x.example', {}, async () => [])).rejects.toMatchObject({ code: 'REST.DNS_FAILED' });
  });
  it('metadata addresses stay blocked even when allow-listed', async () => {
    const resolver = async () => [{ address: '169.254.169.254' }];
    await expect(resolveAndCheck('imds.example', { allowHosts: ['imds.example', '169.254.0.0/16'] }, resolver)).rejects.toMatchObject({ code: 'SSRF.BLOCKED' });
  });
});
