/**
 * SSRF address policy of the REST connector (docs: performance-and-reliability.md B3).
 *
 * - `checkUrl` parses with the WHATWG URL parser (which already normalizes decimal/octal/hex/short IPv4,
 *   percent-encoded and full-width hosts, uppercase, and rejects IPv6 zone ids), then enforces scheme, port,
 *   no userinfo, and rejects blocked IP literals / names before any DNS or TCP happens.
 * - `classifyAddress` classifies one IP address; IPv6 forms that embed an IPv4 address (IPv4-mapped, SIIT,
 *   NAT64 64:ff9b::/96, 6to4 2002::/16) are unwrapped and the embedded IPv4 is checked.
 * - `resolveAndCheck` resolves a name once (`dns.lookup` with `all: true`) and requires **every** address to
 *   pass; one blocked address blocks the request. The caller must connect only to the returned addresses.
 *
 * A tenant allow-list (`EgressPolicy.allowHosts`) may open private/loopback/link-local ranges, by hostname or
 * CIDR. Cloud metadata / token endpoints (IMDS, WireServer, App Service IDENTITY_ENDPOINT…) are never
 * openable by a tenant allow-list: they would hand out the platform's own credentials.
 */
import { BlockList, isIP } from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import {
  isEgressPort,
  METADATA_HOSTNAMES,
  METADATA_IPV4_ADDRESSES,
  METADATA_IPV6_ADDRESSES,
  normalizeEgressHost,
  parseEgressEntry,
  type EgressPolicy,
} from '../../domain/egress.js';
import { AppError } from '../../domain/errors.js';

export type { EgressPolicy } from '../../domain/egress.js';

export const SsrfErrorCodes = {
  blocked: 'SSRF.BLOCKED',
  invalidUrl: 'SSRF.INVALID_URL',
  invalidPolicy: 'SSRF.INVALID_POLICY',
  dnsFailed: 'REST.DNS_FAILED',
} as const;

export interface AddressClassification {
  blocked: boolean;
  reason?: string;
  /** A cloud metadata / token endpoint: never openable by a tenant allow-list. */
  metadata?: boolean;
  /** The IPv4 address embedded in an IPv6 form (mapped, SIIT, NAT64, 6to4), when there is one. */
  embeddedIPv4?: string;
}

/** Resolves a hostname to all its addresses (the shape of `dns.lookup(name, { all: true })`). */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<{ address: string; family?: number }>>;

export const defaultResolver: Resolver = (hostname) => dnsPromises.lookup(hostname, { all: true, verbatim: true });

const DEFAULT_PORTS = [80, 443];
const MAX_URL_LENGTH = 8192;

// ---------------------------------------------------------------------------------------------------------
// Address ranges
// ---------------------------------------------------------------------------------------------------------

interface Range {
  list: BlockList;
  reason: string;
  metadata?: boolean;
}

function range(cidrs: string[], type: 'ipv4' | 'ipv6', reason: string, metadata = false): Range {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, prefix] = cidr.split('/') as [string, string | undefined];
    if (prefix === undefined) list.addAddress(net, type);
    else list.addSubnet(net, Number(prefix), type);
  }
  return { list, reason, metadata };
}

/** Checked first: metadata endpoints are never allow-listable. */
const IPV4_METADATA: Range[] = METADATA_IPV4_ADDRESSES.map((address) =>
  range([address], 'ipv4', address === '168.63.129.16' ? 'Azure WireServer (168.63.129.16)' : 'cloud metadata endpoint (IMDS)', true),
);

const IPV4_RANGES: Range[] = [
  range(['0.0.0.0/8'], 'ipv4', '"this network" (0.0.0.0/8)'),
  range(['10.0.0.0/8'], 'ipv4', 'private (10.0.0.0/8)'),
  range(['100.64.0.0/10'], 'ipv4', 'carrier-grade NAT (100.64.0.0/10)'),
  range(['127.0.0.0/8'], 'ipv4', 'loopback (127.0.0.0/8)'),
  range(['169.254.0.0/16'], 'ipv4', 'link-local (169.254.0.0/16)'),
  range(['172.16.0.0/12'], 'ipv4', 'private (172.16.0.0/12)'),
  range(['192.0.0.0/24'], 'ipv4', 'IETF protocol assignments (192.0.0.0/24)'),
  range(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'], 'ipv4', 'documentation range (TEST-NET)'),
  range(['192.88.99.0/24'], 'ipv4', '6to4 relay anycast (192.88.99.0/24)'),
  range(['192.168.0.0/16'], 'ipv4', 'private (192.168.0.0/16)'),
  range(['198.18.0.0/15'], 'ipv4', 'benchmarking (198.18.0.0/15)'),
  range(['224.0.0.0/4'], 'ipv4', 'multicast (224.0.0.0/4)'),
  range(['255.255.255.255'], 'ipv4', 'broadcast (255.255.255.255)'),
  range(['240.0.0.0/4'], 'ipv4', 'reserved (240.0.0.0/4)'),
];

const IPV6_METADATA: Range[] = [range([...METADATA_IPV6_ADDRESSES], 'ipv6', 'cloud metadata endpoint (IMDS, IPv6)', true)];

const IPV6_RANGES: Range[] = [
  range(['64:ff9b:1::/48'], 'ipv6', 'local-use NAT64 (64:ff9b:1::/48)'),
  range(['100::/64'], 'ipv6', 'discard-only (100::/64)'),
  range(['2001::/32'], 'ipv6', 'Teredo (2001::/32)'),
  range(['2001:2::/48'], 'ipv6', 'benchmarking (2001:2::/48)'),
  range(['2001:10::/28', '2001:20::/28'], 'ipv6', 'ORCHID (2001:10::/28)'),
  range(['2001:db8::/32', '3fff::/20'], 'ipv6', 'documentation range (2001:db8::/32)'),
  range(['fc00::/7'], 'ipv6', 'unique local (fc00::/7)'),
  range(['fe80::/10'], 'ipv6', 'link-local (fe80::/10)'),
  range(['fec0::/10'], 'ipv6', 'site-local (fec0::/10)'),
  range(['ff00::/8'], 'ipv6', 'multicast (ff00::/8)'),
];

/** Global unicast; anything outside it (after unwrapping embedded IPv4) is reserved. */
const IPV6_GLOBAL = range(['2000::/3'], 'ipv6', 'global unicast');

function matchRanges(ranges: Range[], ip: string, type: 'ipv4' | 'ipv6'): Range | undefined {
  return ranges.find((r) => r.list.check(ip, type));
}

/** Expands a valid IPv6 address (no zone) to its eight 16-bit groups. The URL parser normalizes dotted tails first. */
function ipv6Groups(ip: string): number[] {
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1); // e.g. ::ffff:7f00:1
  const [head, tail] = canonical.includes('::') ? (canonical.split('::') as [string, string]) : [canonical, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
}

function ipv4FromGroups(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

function classifyIPv4(ip: string): AddressClassification {
  const hit = matchRanges(IPV4_METADATA, ip, 'ipv4') ?? matchRanges(IPV4_RANGES, ip, 'ipv4');
  if (!hit) return { blocked: false };
  return hit.metadata ? { blocked: true, reason: hit.reason, metadata: true } : { blocked: true, reason: hit.reason };
}

/** The IPv4 address an IPv6 address embeds (mapped, SIIT, NAT64 well-known prefix, 6to4), with the form's name. */
function embeddedIPv4(groups: number[]): { ipv4: string; form: string } | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) return { ipv4: ipv4FromGroups(g6, g7), form: 'IPv4-mapped' };
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return { ipv4: ipv4FromGroups(g6, g7), form: 'IPv4-translated (SIIT)' };
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return { ipv4: ipv4FromGroups(g6, g7), form: 'NAT64 (64:ff9b::/96)' };
  if (g0 === 0x2002) return { ipv4: ipv4FromGroups(g1, g2), form: '6to4 (2002::/16)' };
  return undefined;
}

/**
 * Classifies one IP address (no brackets). Anything that is not a plain IP address (zone ids, garbage) is blocked.
 */
export function classifyAddress(ip: string): AddressClassification {
  if (typeof ip !== 'string' || ip.includes('%')) return { blocked: true, reason: 'scoped (zone id) or malformed address' };
  const family = isIP(ip);
  if (family === 4) return classifyIPv4(ip);
  if (family !== 6) return { blocked: true, reason: 'not an IP address' };

  const groups = ipv6Groups(ip);
  const embedded = embeddedIPv4(groups);
  if (embedded) {
    const inner = classifyIPv4(embedded.ipv4);
    if (!inner.blocked) return { blocked: false, embeddedIPv4: embedded.ipv4 };
    return { ...inner, reason: `${embedded.form} form of ${embedded.ipv4}: ${inner.reason}`, embeddedIPv4: embedded.ipv4 };
  }
  if (groups.slice(0, 6).every((g) => g === 0)) {
    // ::/96: unspecified, loopback and the deprecated IPv4-compatible form.
    if (groups[6] === 0 && groups[7] === 0) return { blocked: true, reason: 'unspecified address (::)' };
    if (groups[6] === 0 && groups[7] === 1) return { blocked: true, reason: 'loopback (::1)' };
    return { blocked: true, reason: `IPv4-compatible IPv6 (deprecated) form of ${ipv4FromGroups(groups[6]!, groups[7]!)}` };
  }
  const hit = matchRanges(IPV6_METADATA, ip, 'ipv6') ?? matchRanges(IPV6_RANGES, ip, 'ipv6');
  if (hit) return hit.metadata ? { blocked: true, reason: hit.reason, metadata: true } : { blocked: true, reason: hit.reason };
  if (!IPV6_GLOBAL.list.check(ip, 'ipv6')) return { blocked: true, reason: 'reserved IPv6 (outside 2000::/3)' };
  return { blocked: false };
}

// ---------------------------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------------------------

interface CompiledPolicy {
  hosts: Set<string>;
  wildcardSuffixes: string[];
  cidrs: BlockList;
  ports: Set<number>;
}

const compiled = new WeakMap<EgressPolicy, CompiledPolicy>();

const normalizeHostname = normalizeEgressHost;

function compilePolicy(policy: EgressPolicy): CompiledPolicy {
  const cached = compiled.get(policy);
  if (cached) return cached;
  const result: CompiledPolicy = { hosts: new Set(), wildcardSuffixes: [], cidrs: new BlockList(), ports: new Set(DEFAULT_PORTS) };
  for (const raw of policy.allowHosts ?? []) {
    const entry = parseEgressEntry(raw);
    if (!entry) throw new AppError(SsrfErrorCodes.invalidPolicy, `Invalid egress allow-list entry "${String(raw).trim().slice(0, 100)}"`);
    if (entry.kind === 'cidr') result.cidrs.addSubnet(entry.network, entry.prefix, entry.family);
    else if (entry.kind === 'address') result.cidrs.addAddress(entry.address, entry.family);
    else if (entry.kind === 'wildcard') result.wildcardSuffixes.push(entry.suffix); // ".corp.example"
    else result.hosts.add(entry.host);
  }
  for (const port of policy.allowPorts ?? []) {
    if (!isEgressPort(port)) throw new AppError(SsrfErrorCodes.invalidPolicy, `Invalid allowed port ${String(port)}`);
    result.ports.add(port);
  }
  compiled.set(policy, result);
  return result;
}

/** A connector's own copy of the operator's allow-list (settings are frozen; a policy is compiled per object). */
export function operatorEgressPolicy(egress: EgressPolicy | undefined): EgressPolicy {
  return { allowHosts: [...(egress?.allowHosts ?? [])], allowPorts: [...(egress?.allowPorts ?? [])] };
}

const merged = new WeakMap<EgressPolicy, WeakMap<EgressPolicy, EgressPolicy>>();

/**
 * The policy of one tenant's connector call: the operator's allow-list plus the tenant's own (`undefined`: the
 * operator's alone). Built per call from the tenant the step runs for, so one tenant's list never reaches another
 * tenant's steps. Memoized per (operator, tenant) policy object, so a cached tenant compiles once.
 */
export function withTenantEgress(operator: EgressPolicy, tenant: EgressPolicy | undefined): EgressPolicy {
  if (!tenant || ((tenant.allowHosts ?? []).length === 0 && (tenant.allowPorts ?? []).length === 0)) return operator;
  let byTenant = merged.get(operator);
  if (!byTenant) merged.set(operator, (byTenant = new WeakMap()));
  let policy = byTenant.get(tenant);
  if (!policy) {
    policy = { allowHosts: [...(operator.allowHosts ?? []), ...(tenant.allowHosts ?? [])], allowPorts: [...(operator.allowPorts ?? []), ...(tenant.allowPorts ?? [])] };
    byTenant.set(tenant, policy);
  }
  return policy;
}

function hostAllowListed(c: CompiledPolicy, hostname: string): boolean {
  return c.hosts.has(hostname) || c.wildcardSuffixes.some((suffix) => hostname.endsWith(suffix));
}

function addressAllowListed(c: CompiledPolicy, ip: string, embedded: string | undefined): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  if (c.cidrs.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return true;
  return embedded !== undefined && c.cidrs.check(embedded, 'ipv4');
}

/** Hostnames of the platform's own token services (App Service managed identity), from the environment. */
function identityEndpointHosts(): Set<string> {
  const hosts = new Set<string>();
  for (const name of ['IDENTITY_ENDPOINT', 'MSI_ENDPOINT', 'IMDS_ENDPOINT']) {
    const value = process.env[name];
    if (!value) continue;
    try {
      hosts.add(normalizeHostname(new URL(value).hostname));
    } catch {
      // not a URL: ignore
    }
  }
  return hosts;
}

/** Names that are blocked before DNS (metadata names are never allow-listable). */
const METADATA_NAMES = METADATA_HOSTNAMES;
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

function blocked(host: string, reason: string): AppError {
  return new AppError(SsrfErrorCodes.blocked, `Egress to host "${host}" is blocked: ${reason}`, { details: { host, reason } });
}

/** Rejects the hostname itself (before DNS) when it names a metadata/identity service or loopback. */
function checkHostname(hostname: string, c: CompiledPolicy): void {
  if (METADATA_NAMES.has(hostname) || identityEndpointHosts().has(hostname)) throw blocked(hostname, 'cloud metadata / identity endpoint');
  if (hostAllowListed(c, hostname)) return;
  if (LOOPBACK_NAMES.has(hostname) || hostname.endsWith('.localhost')) throw blocked(hostname, 'loopback name');
}

/**
 * Checks one IP address for a request to `hostname` under `policy`; throws SSRF.BLOCKED when it may not be used.
 */
export function checkAddress(ip: string, hostname: string, policy: EgressPolicy): void {
  const c = compilePolicy(policy);
  const host = normalizeHostname(hostname);
  const verdict = classifyAddress(ip);
  if (!verdict.blocked) {
    if (identityEndpointHosts().has(normalizeHostname(ip))) throw blocked(host, `address ${ip} is the managed identity endpoint`);
    return;
  }
  const reason = host === normalizeHostname(ip) ? verdict.reason ?? 'blocked range' : `resolves to ${ip}, ${verdict.reason ?? 'blocked range'}`;
  if (verdict.metadata) throw blocked(host, reason);
  if (hostAllowListed(c, host) || addressAllowListed(c, ip, verdict.embeddedIPv4)) return;
  throw blocked(host, reason);
}

/**
 * Parses and checks a URL: http/https only, port 80/443 or an allowed port, no userinfo, and — for IP literal
 * hosts — an allowed address. Returns the parsed URL (hostname normalized by the WHATWG parser). Names still have to
 * go through `resolveAndCheck`.
 */
export function checkUrl(url: string, policy: EgressPolicy): URL {
  const c = compilePolicy(policy);
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) throw new AppError(SsrfErrorCodes.invalidUrl, 'URL is missing or too long');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError(SsrfErrorCodes.invalidUrl, 'URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AppError(SsrfErrorCodes.blocked, `Egress with scheme "${parsed.protocol.slice(0, 20)}" is blocked: only http and https are allowed`, {
      details: { reason: 'scheme' },
    });
  }
  const hostname = normalizeHostname(parsed.hostname);
  if (!hostname || hostname.split('.').some((label) => label === '')) throw new AppError(SsrfErrorCodes.invalidUrl, 'URL host is empty or malformed');
  if (parsed.username !== '' || parsed.password !== '') {
    // Never echo the credentials; name the host only.
    throw new AppError(SsrfErrorCodes.invalidUrl, `URL for host "${hostname}" must not contain credentials (userinfo)`, { details: { host: hostname, reason: 'userinfo' } });
  }
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  if (!c.ports.has(port)) throw blocked(hostname, `port ${port} is not allowed`);

  if (isIP(hostname)) checkAddress(hostname, hostname, policy);
  else checkHostname(hostname, c);

  if (parsed.hostname.endsWith('.') && !isIP(hostname)) parsed.hostname = hostname; // drop one trailing dot
  return parsed;
}

/**
 * Resolves `hostname` once and checks every address; any blocked address blocks the request (no "pick the good one").
 * Returns the checked addresses, which are the only ones the caller may connect to.
 */
export async function resolveAndCheck(hostname: string, policy: EgressPolicy, resolver: Resolver = defaultResolver): Promise<string[]> {
  const c = compilePolicy(policy);
  const host = normalizeHostname(hostname);
  if (isIP(host)) {
    checkAddress(host, host, policy);
    return [host];
  }
  if (!host || host.includes('%')) throw new AppError(SsrfErrorCodes.invalidUrl, 'URL host is empty or malformed');
  checkHostname(host, c);
  let answers: ReadonlyArray<{ address: string; family?: number }>;
  try {
    answers = await resolver(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new AppError(SsrfErrorCodes.dnsFailed, `DNS lookup for host "${host}" failed${typeof code === 'string' ? ` (${code})` : ''}`, {
      retryable: code === 'EAI_AGAIN',
      cause: error,
    });
  }
  const addresses = [...new Set((answers ?? []).map((a) => a.address))];
  if (addresses.length === 0) throw new AppError(SsrfErrorCodes.dnsFailed, `DNS lookup for host "${host}" returned no addresses`);
  for (const address of addresses) checkAddress(address, host, policy);
  return addresses;
}
