import { describe, expect, it } from 'vitest';
import { parseEgressEntry, tenantEgressProblems } from './egress.js';

describe('egress allow-list entries', () => {
  it('parses hostnames, wildcard suffixes, IP addresses (bracketed IPv6 too) and CIDRs', () => {
    expect(parseEgressEntry('API.Internal.')).toEqual({ kind: 'host', host: 'api.internal' });
    expect(parseEgressEntry('*.corp.example')).toEqual({ kind: 'wildcard', suffix: '.corp.example' });
    expect(parseEgressEntry('127.0.0.1')).toEqual({ kind: 'address', address: '127.0.0.1', family: 'ipv4' });
    expect(parseEgressEntry('[::1]')).toEqual({ kind: 'address', address: '::1', family: 'ipv6' });
    expect(parseEgressEntry('10.1.0.0/16')).toEqual({ kind: 'cidr', network: '10.1.0.0', prefix: 16, family: 'ipv4' });
    expect(parseEgressEntry('fd00::/8')).toEqual({ kind: 'cidr', network: 'fd00::', prefix: 8, family: 'ipv6' });
  });

  it('refuses what is not a host, suffix, address or CIDR', () => {
    for (const entry of ['', '*', '*.', 'http://x', 'a b', 'user@host', '10.0.0.0/33', '10.0.0.0/8/1', 'x/8', '1.2.3', '::1/129', 'host?x', '-bad-']) {
      expect(parseEgressEntry(entry), entry).toBeUndefined();
    }
  });
});

describe("a tenant's egress setting", () => {
  it('accepts hosts, CIDRs and ports', () => {
    expect(tenantEgressProblems({ allowHosts: ['127.0.0.1', '10.0.0.0/8', 'db.internal', '*.corp.example'], allowPorts: [5432, 8443] })).toEqual([]);
  });

  it('lists every malformed entry, bad port and metadata endpoint at once', () => {
    const problems = tenantEgressProblems({
      allowHosts: ['ok.internal', 'not a host', '169.254.169.254', 'metadata.google.internal', '*.internal', '[fd00:ec2::254]', 7],
      allowPorts: [0, 70000, 1.5, 'x', 8080],
    });
    expect(problems.map((p) => [p.pointer, p.kind])).toEqual([
      ['/egress/allowHosts/1', 'invalidEntry'],
      ['/egress/allowHosts/2', 'metadataEndpoint'],
      ['/egress/allowHosts/3', 'metadataEndpoint'],
      ['/egress/allowHosts/5', 'metadataEndpoint'],
      ['/egress/allowHosts/6', 'invalidEntry'],
      ['/egress/allowPorts/0', 'invalidPort'],
      ['/egress/allowPorts/1', 'invalidPort'],
      ['/egress/allowPorts/2', 'invalidPort'],
      ['/egress/allowPorts/3', 'invalidPort'],
    ]);
  });

  it('bounds the number of entries', () => {
    const problems = tenantEgressProblems({ allowHosts: Array.from({ length: 51 }, (_, i) => `h${i}.internal`), allowPorts: Array.from({ length: 21 }, (_, i) => 8000 + i) });
    expect(problems.map((p) => p.pointer)).toEqual(['/egress/allowHosts', '/egress/allowPorts']);
  });
});
