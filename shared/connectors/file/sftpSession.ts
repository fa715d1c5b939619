import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { resolveAndCheck, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';
import { AppError } from '../../domain/errors.js';
import { fileError, FileErrorCodes, toSftpError } from './fileErrors.js';
import type { SftpServer } from './fileInput.js';

export const SFTP_CONNECT_TIMEOUT_MS = 10_000;

/** base64 SHA-256 of a host key without padding, as OpenSSH prints it (after `SHA256:`). */
export function hostKeyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

function normalizeFingerprint(value: string): string {
  return value.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
}

export function sftpSecrets(server: SftpServer): string[] {
  return [server.password, server.privateKey].filter((s): s is string => !!s);
}

/**
 * Opens one SFTP connection for one call: port 22 (or an allowed port), host resolved and checked once, the
 * connection made to the checked IP, the host key verified when a fingerprint is given. The caller ends it.
 */
export async function withSftp<T>(server: SftpServer, policy: EgressPolicy, resolver: Resolver | undefined, what: string, work: (client: SftpClient) => Promise<T>): Promise<T> {
  const secrets = sftpSecrets(server);
  const port = server.port ?? 22;
  if (port !== 22 && !(policy.allowPorts ?? []).includes(port)) {
    throw new AppError('SSRF.BLOCKED', `Egress to host "${server.host}" is blocked: port ${port} is not allowed`, { details: { host: server.host, reason: 'port' } });
  }
  const [address] = await resolveAndCheck(server.host, policy, resolver);
  const expected = server.hostKeySha256 ? normalizeFingerprint(server.hostKeySha256) : undefined;
  let mismatch: string | undefined;
  const client = new SftpClient('aiq-file');
  try {
    try {
      await client.connect({
        host: address!,
        port,
        username: server.username,
        ...(server.password !== undefined ? { password: server.password } : {}),
        ...(server.privateKey !== undefined ? { privateKey: server.privateKey } : {}),
        readyTimeout: SFTP_CONNECT_TIMEOUT_MS,
        timeout: SFTP_CONNECT_TIMEOUT_MS,
        ...(expected
          ? {
              hostVerifier: (key: Buffer) => {
                const actual = hostKeyFingerprint(key);
                if (actual === expected) return true;
                mismatch = actual;
                return false;
              },
            }
          : {}),
      });
    } catch (error) {
      if (mismatch !== undefined) {
        throw fileError(FileErrorCodes.hostKeyMismatch, `${what}: the host key of "${server.host}" (SHA256:${mismatch}) does not match the expected fingerprint`, secrets);
      }
      throw error;
    }
    return await work(client);
  } catch (error) {
    throw toSftpError(error, what, secrets);
  } finally {
    await client.end().catch(() => undefined);
  }
}
