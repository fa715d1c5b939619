import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Resolver } from '../../shared/connectors/rest/addressPolicy.js';

export interface Connection {
  remoteAddress: string;
  localAddress: string;
}

function plain(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/i, '');
}

/** Listens on every interface (dual-stack `::` when available) so 127.0.0.1, 127.x, ::1 and 0.0.0.0 all land here. */
async function listenAnywhere(server: net.Server, port = 0): Promise<number> {
  for (const host of ['::', '0.0.0.0']) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, ipv6Only: false }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    } catch {
      // try the next bind address
    }
  }
  throw new Error('cannot listen');
}

/** A raw TCP listener that records every accepted connection (the SSRF canary). */
export async function startCanary(): Promise<{ port: number; connections: Connection[]; close(): Promise<void> }> {
  const connections: Connection[] = [];
  const server = net.createServer((socket) => {
    connections.push({ remoteAddress: plain(socket.remoteAddress), localAddress: plain(socket.localAddress) });
    socket.on('error', () => undefined);
    socket.resume();
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ncanary');
  });
  const port = await listenAnywhere(server);
  return { port, connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  localAddress: string;
}

/** An HTTP server on 127.0.0.1 (or every interface) that records requests and answers with `handler`. */
export async function startHttp(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
  options: { anywhere?: boolean } = {},
): Promise<{ port: number; requests: Recorded[]; connections: Connection[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const connections: Connection[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, localAddress: plain(req.socket.localAddress) });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket) => connections.push({ remoteAddress: plain(socket.remoteAddress), localAddress: plain(socket.localAddress) }));
  let port: number;
  if (options.anywhere) port = await listenAnywhere(server);
  else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  }
  return {
    port,
    requests,
    connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A resolver backed by a fixed table; unknown names fail like dns.lookup. Counts calls per name. */
export function tableResolver(table: Record<string, string[]>): Resolver & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const resolver = async (hostname: string) => {
    calls.set(hostname, (calls.get(hostname) ?? 0) + 1);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: net.isIP(address) }));
  };
  return Object.assign(resolver, { calls });
}
