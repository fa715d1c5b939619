/**
 * Egress allow-lists: the syntax of their entries, parsed in one place for the operator settings
 * (`AIQ_EGRESS_ALLOW_HOSTS` / `AIQ_EGRESS_ALLOW_PORTS`), a tenant's `egress` setting and the SSRF guard that
 * enforces both (shared/connectors/rest/addressPolicy.ts).
 *
 * An entry is a hostname (`api.internal`), a wildcard suffix (`*.corp.example`), an IP address (IPv6 optionally
 * bracketed) or a CIDR (`10.1.0.0/16`). Cloud metadata and token endpoints are never openable, whatever a list says:
 * the guard refuses them before it looks at any list, and a tenant's list may not even name them.
 */
import { isIP } from 'node:net';
import type { ValidationProblem } from './errors.js';

/** An egress policy: what may be reached besides the public internet on ports 80 and 443. */
export interface EgressPolicy {
  /** Hostnames (`api.internal`, `*.corp.example`), IPs or CIDRs (`10.1.0.0/16`) that may be private. */
  allowHosts?: readonly string[];
  /** Ports allowed in addition to 80 and 443. */
  allowPorts?: readonly number[];
}

/** A tenant's own egress allow-list, set by a platform admin; merged with the operator's for its steps only. */
export interface TenantEgress {
  allowHosts: string[];
  allowPorts: number[];
}

/** How many entries a tenant's allow-list may hold. */
export const TENANT_EGRESS_LIMITS = { maxHosts: 50, maxPorts: 20 } as const;

/** IPv4 metadata / token endpoints (IMDS, ECS, WireServer, Alibaba): never openable. */
export const METADATA_IPV4_ADDRESSES = ['169.254.169.254', '169.254.169.253', '169.254.170.2', '169.254.170.23', '168.63.129.16', '100.100.100.200'] as const;
/** IPv6 metadata endpoints (AWS IMDS over IPv6): never openable. */
export const METADATA_IPV6_ADDRESSES = ['fd00:ec2::254', 'fd00:ec2::23'] as const;
/** Hostnames of metadata services: blocked before DNS, never openable. */
export const METADATA_HOSTNAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
]);

/** One parsed allow-list entry. */
export type EgressEntry =
  | { kind: 'host'; host: string }
  | { kind: 'wildcard'; suffix: string }
  | { kind: 'address'; address: string; family: 'ipv4' | 'ipv6' }
  | { kind: 'cidr'; network: string; prefix: number; family: 'ipv4' | 'ipv6' };

const HOST_LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOSTNAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

/** Lower case, without IPv6 brackets or one trailing dot: the form the guard compares hosts in. */
export function normalizeEgressHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Parses one allow-list entry; `undefined` when it is not a hostname, `*.suffix`, IP address or CIDR. */
export function parseEgressEntry(raw: string): EgressEntry | undefined {
  const entry = String(raw).trim();
  if (entry.includes('/')) {
    const [network = '', prefixText = '', ...rest] = entry.split('/');
    const family = isIP(network);
    if (rest.length > 0 || family === 0 || !/^\d{1,3}$/.test(prefixText)) return undefined;
    const prefix = Number(prefixText);
    if (prefix > (family === 4 ? 32 : 128)) return undefined;
    return { kind: 'cidr', network, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
  }
  const bare = normalizeEgressHost(entry);
  const family = isIP(bare);
  if (family !== 0) return { kind: 'address', address: bare, family: family === 4 ? 'ipv4' : 'ipv6' };
  const wildcard = bare.startsWith('*.');
  const name = wildcard ? bare.slice(2) : bare;
  // A dotted-decimal look-alike that is not an IP (`1.2.3`, `010.1.1.1`) is refused rather than guessed at.
  if (name.length === 0 || name.length > 253 || !HOSTNAME.test(name) || /^\d+(\.\d+)*$/.test(name)) return undefined;
  return wildcard ? { kind: 'wildcard', suffix: `.${name}` } : { kind: 'host', host: name };
}

/** Whether a port may be allowed (1-65535). */
export function isEgressPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

function namesMetadata(entry: EgressEntry): boolean {
  switch (entry.kind) {
    case 'host':
      return METADATA_HOSTNAMES.has(entry.host);
    case 'wildcard':
      // `*.internal` covers metadata.google.internal too, but also every private `.internal` name a tenant may
      // need; the guard refuses metadata names before it reads any list, so a wildcard is never a way in.
      return false;
    case 'address':
      return (entry.family === 'ipv4' ? (METADATA_IPV4_ADDRESSES as readonly string[]) : METADATA_IPV6_ADDRESSES.map((a) => normalizeIPv6(a))).includes(
        entry.family === 'ipv4' ? entry.address : normalizeIPv6(entry.address),
      );
    case 'cidr':
      return false;
  }
}

function normalizeIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * Every problem of a tenant's egress setting (pointers under `pointer`): malformed entries, ports out of range,
 * too many entries, and entries naming a metadata endpoint (which the guard would refuse anyway: naming one is a
 * mistake worth reporting). Ranges that contain a metadata address are accepted; the guard still refuses the address.
 */
export function tenantEgressProblems(egress: { allowHosts?: readonly unknown[]; allowPorts?: readonly unknown[] }, pointer = '/egress'): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const hosts = egress.allowHosts ?? [];
  const ports = egress.allowPorts ?? [];
  if (hosts.length > TENANT_EGRESS_LIMITS.maxHosts) problems.push({ pointer: `${pointer}/allowHosts`, kind: 'maxItems', message: `at most ${TENANT_EGRESS_LIMITS.maxHosts} entries` });
  if (ports.length > TENANT_EGRESS_LIMITS.maxPorts) problems.push({ pointer: `${pointer}/allowPorts`, kind: 'maxItems', message: `at most ${TENANT_EGRESS_LIMITS.maxPorts} ports` });
  hosts.forEach((raw, i) => {
    const entry = typeof raw === 'string' ? parseEgressEntry(raw) : undefined;
    if (!entry) {
      problems.push({ pointer: `${pointer}/allowHosts/${i}`, kind: 'invalidEntry', message: 'must be a hostname, *.suffix, IP address or CIDR (e.g. api.internal, *.corp.example, 10.1.2.3, 10.1.0.0/16)' });
    } else if (namesMetadata(entry)) {
      problems.push({ pointer: `${pointer}/allowHosts/${i}`, kind: 'metadataEndpoint', message: 'cloud metadata and identity endpoints can never be allowed' });
    }
  });
  ports.forEach((port, i) => {
    if (!isEgressPort(port)) problems.push({ pointer: `${pointer}/allowPorts/${i}`, kind: 'invalidPort', message: 'must be a port (1-65535)' });
  });
  return problems;
}
