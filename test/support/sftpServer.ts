import { createRequire } from 'node:module';

export interface SftpTestServer {
  port: number;
  /** The local directory the server serves as `/`. */
  root: string;
  /** The host key's SHA-256 fingerprint, as OpenSSH prints it (without `SHA256:`). */
  fingerprint: string;
  connections: () => number;
  close: () => Promise<void>;
}

// The server is CommonJS (sftpServer.cjs) so the bench scripts share it; this gives it its types.
const { startSftpServer: start } = createRequire(__filename)('./sftpServer.cjs') as { startSftpServer: (credentials: { username: string; password: string }) => Promise<SftpTestServer> };

/** An ssh2 SFTP server over a temporary directory on 127.0.0.1 (see sftpServer.cjs). */
export function startSftpServer(credentials: { username: string; password: string }): Promise<SftpTestServer> {
  return start(credentials);
}
