import { AppError } from '../../domain/errors.js';
import { resolveAndCheck, SsrfErrorCodes, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';

/** Ports open for SMTP without an allow-list entry: relay, implicit TLS submission, submission. */
export const DEFAULT_SMTP_PORTS: readonly number[] = [25, 465, 587];

export interface SmtpEndpoint {
  /** The checked IP address nodemailer connects to (no second DNS resolution). */
  address: string;
  /** The hostname, kept for TLS SNI and certificate verification. */
  hostname: string;
  port: number;
}

/**
 * Checks the SMTP server against the egress policy before any connection: the port (25/465/587, or one of
 * `allowPorts`), then one DNS resolution with every address checked (`resolveAndCheck`). Throws SSRF.BLOCKED /
 * REST.DNS_FAILED as AppErrors.
 */
export async function smtpEndpoint(host: string, port: number, policy: EgressPolicy, resolver?: Resolver): Promise<SmtpEndpoint> {
  const hostname = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (!DEFAULT_SMTP_PORTS.includes(port) && !(policy.allowPorts ?? []).includes(port)) {
    throw new AppError(SsrfErrorCodes.blocked, `Egress to host "${hostname}" is blocked: port ${port} is not allowed for SMTP`, { details: { host: hostname, reason: 'port' } });
  }
  const addresses = await resolveAndCheck(hostname, policy, resolver);
  return { address: addresses[0]!, hostname, port };
}
