import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, BlobServiceClient, generateAccountSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileConnector, type FileConnector } from '../../shared/connectors/file/fileConnector.js';
import { ConnectorRegistry, type ActionContext } from '../../shared/connectors/sdk.js';
import type { JsonValue } from '../../shared/domain/json.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { MemoryArtifactStore } from '../../shared/adapters/memory/memoryArtifactStore.js';
import { MAX_CONTENT_BYTES } from '../../shared/connectors/file/fileConnector.js';
import { isArtifactRef, sha256Hex, type ArtifactRef } from '../../shared/ports/artifactStore.js';
import { artifactContext, artifactName } from '../support/artifactContext.js';
import { startSftpServer, type SftpTestServer } from '../support/sftpServer.js';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, startAzuriteBlob, type AzuriteBlob } from '../support/azurite.js';

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  return { tenantId: 't1', runId: 'r1', stepId: 's1', signal: new AbortController().signal, log: () => undefined, ...overrides };
}

async function run(connector: FileConnector, action: string, input: Record<string, unknown>, actionContext: ActionContext = context()): Promise<Record<string, JsonValue>> {
  const found = connector.actions.find((candidate) => candidate.name === action);
  if (!found) throw new Error(`no action ${action}`);
  return (await found.run(input as never, actionContext)) as Record<string, JsonValue>;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: string; retryable: boolean; message: string };
    return { code: e.code, retryable: e.retryable, message: e.message };
  }
  throw new Error('expected a failure');
}

/** A TCP server that only counts connections (a target that must never be reached). */
async function countingServer(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, count: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// ---------------------------------------------------------------------------------------------------------
// Azure Blob (Azurite)
// ---------------------------------------------------------------------------------------------------------

describe('file connector: Azure Blob (Azurite)', () => {
  let azurite: AzuriteBlob;
  let connector: FileConnector;
  const container = 'files';

  beforeAll(async () => {
    azurite = await startAzuriteBlob({ inMemory: true });
    connector = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [azurite.port] } });
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    await service.getContainerClient(container).create();
    await service.getContainerClient('archive').create();
  });

  afterAll(async () => {
    await connector?.close();
    await azurite?.stop();
  });

  const base = () => ({ connection: azurite.connectionString, container });

  it('writes and reads utf8 and base64 content', async () => {
    const text = 'héllo, wörld ✓';
    const written = await run(connector, 'blobWrite', { ...base(), path: 'docs/a.txt', content: text });
    expect(written['size']).toBe(Buffer.byteLength(text));
    expect(typeof written['etag']).toBe('string');
    const read = await run(connector, 'blobRead', { ...base(), path: 'docs/a.txt' });
    expect(read).toMatchObject({ content: text, size: Buffer.byteLength(text), contentType: 'text/plain; charset=utf-8', etag: written['etag'] });

    const binary = randomBytes(3000);
    await run(connector, 'blobWrite', { ...base(), path: 'docs/b.bin', content: binary.toString('base64'), encoding: 'base64', contentType: 'application/x-test' });
    const readBinary = await run(connector, 'blobRead', { ...base(), path: 'docs/b.bin', encoding: 'base64' });
    expect(Buffer.from(String(readBinary['content']), 'base64').equals(binary)).toBe(true);
    expect(readBinary['contentType']).toBe('application/x-test');
    expect(readBinary['size']).toBe(3000);
  });

  it('streams blobs into artifacts (asked for, and by default above 10 MB) and writes artifacts back, hash-checked and tenant-scoped', async () => {
    const store = new MemoryArtifactStore();
    const acme = artifactContext(store);
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
    const small = randomBytes(5000);
    await blobs.getBlockBlobClient('art/small.bin').uploadData(small, { blobHTTPHeaders: { blobContentType: 'application/x-test' } });
    const asked = await run(connector, 'blobRead', { ...base(), path: 'art/small.bin', as: 'artifact' }, acme);
    expect(asked).toMatchObject({ size: 5000, contentType: 'application/x-test', content: { size: 5000, contentType: 'application/x-test', sha256: sha256Hex(small) } });
    expect((asked['content'] as ArtifactRef).$artifact).toMatch(/^artifact:\/\/acme\/r1\/s1\/files\/[0-9a-f-]{36}-small\.bin$/);

    const large = randomBytes(MAX_CONTENT_BYTES + 1);
    await blobs.getBlockBlobClient('art/large.bin').uploadData(large);
    const auto = await run(connector, 'blobRead', { ...base(), path: 'art/large.bin' }, acme);
    const ref = auto['content'] as ArtifactRef;
    expect(isArtifactRef(ref)).toBe(true);
    expect(ref).toMatchObject({ size: large.length, sha256: sha256Hex(large) });
    expect((await failure(run(connector, 'blobRead', { ...base(), path: 'art/large.bin', as: 'content' }, acme))).code).toBe('FILE.TOO_LARGE');
    expect((await failure(run(connector, 'blobRead', { ...base(), path: 'art/large.bin' }))).code).toBe('FILE.TOO_LARGE');

    expect(await run(connector, 'blobWrite', { ...base(), path: 'art/copy.bin', content: ref }, acme)).toMatchObject({ size: large.length });
    const copied = blobs.getBlobClient('art/copy.bin');
    expect(sha256Hex(await copied.downloadToBuffer())).toBe(sha256Hex(large));
    expect((await copied.getProperties()).contentType).toBe('application/octet-stream');

    // Another tenant's reference is not found; altered content fails its hash check: neither leaves a blob behind.
    const stolen = await failure(run(connector, 'blobWrite', { ...base(), path: 'art/stolen.bin', content: ref }, artifactContext(store, 'globex')));
    expect(stolen.code).toBe('ARTIFACT.NOT_FOUND');
    store.tamper('acme', artifactName(ref.$artifact), randomBytes(large.length));
    expect((await failure(run(connector, 'blobWrite', { ...base(), path: 'art/tampered.bin', content: ref }, acme))).code).toBe('ARTIFACT.INTEGRITY_FAILED');
    expect(await blobs.getBlobClient('art/stolen.bin').exists()).toBe(false);
    expect(await blobs.getBlobClient('art/tampered.bin').exists()).toBe(false);
  });

  it('refuses to overwrite when overwrite is false', async () => {
    await run(connector, 'blobWrite', { ...base(), path: 'once.txt', content: 'first' });
    const error = await failure(run(connector, 'blobWrite', { ...base(), path: 'once.txt', content: 'second', overwrite: false }));
    expect(error.retryable).toBe(false);
    expect((await run(connector, 'blobRead', { ...base(), path: 'once.txt' }))['content']).toBe('first');
  });

  it('lists with a prefix and reports truncation', async () => {
    for (const name of ['list/1.txt', 'list/2.txt', 'list/3.txt', 'other/4.txt']) await run(connector, 'blobWrite', { ...base(), path: name, content: name });
    const all = await run(connector, 'blobList', { ...base(), prefix: 'list/' });
    const items = all['items'] as Array<Record<string, JsonValue>>;
    expect(items.map((item) => item['path'])).toEqual(['list/1.txt', 'list/2.txt', 'list/3.txt']);
    expect(all['truncated']).toBe(false);
    expect(items[0]).toMatchObject({ size: 10, contentType: 'text/plain; charset=utf-8' });
    expect(Number.isNaN(Date.parse(String(items[0]!['lastModified'])))).toBe(false);
    const page = await run(connector, 'blobList', { ...base(), prefix: 'list/', maxResults: 2 });
    expect((page['items'] as unknown[]).length).toBe(2);
    expect(page['truncated']).toBe(true);
  });

  it('copies server-side, within and across containers', async () => {
    await run(connector, 'blobWrite', { ...base(), path: 'copy/src.txt', content: 'copy me' });
    const copied = await run(connector, 'blobCopy', { ...base(), path: 'copy/src.txt', toPath: 'copy/dst.txt' });
    expect(typeof copied['etag']).toBe('string');
    expect((await run(connector, 'blobRead', { ...base(), path: 'copy/dst.txt' }))['content']).toBe('copy me');
    await run(connector, 'blobCopy', { ...base(), path: 'copy/src.txt', toContainer: 'archive', toPath: 'x/dst.txt' });
    expect((await run(connector, 'blobRead', { ...base(), container: 'archive', path: 'x/dst.txt' }))['content']).toBe('copy me');
  });

  it('sets the access tier (Azurite accepts Hot, Cool, Cold and Archive on block blobs)', async () => {
    await run(connector, 'blobWrite', { ...base(), path: 'tier.txt', content: 'cold data' });
    const properties = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).getBlobClient('tier.txt');
    for (const tier of ['Cool', 'Cold', 'Hot', 'Archive'] as const) {
      expect(await run(connector, 'blobSetTier', { ...base(), path: 'tier.txt', tier })).toEqual({ tier });
      expect((await properties.getProperties()).accessTier).toBe(tier);
    }
    const missing = await failure(run(connector, 'blobSetTier', { ...base(), path: 'no-such-tier.txt', tier: 'Cool' }));
    expect(missing).toMatchObject({ code: 'FILE.NOT_FOUND', retryable: false });
  });

  it('connects to the checked address, not a second DNS answer (the name resolves only through the policy resolver)', async () => {
    const asked: string[] = [];
    const pinned = createFileConnector({
      egress: { allowHosts: ['127.0.0.1'], allowPorts: [azurite.port] },
      resolver: async (hostname) => {
        asked.push(hostname);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const connection = azurite.connectionString.replace('127.0.0.1', 'storage.example.invalid');
    // Azurite answers (HTTP 404: it reads the unknown host name as another account) — so the socket went to 127.0.0.1.
    const error = await failure(run(pinned, 'blobRead', { connection, container, path: 'docs/a.txt' }));
    expect(error.message).toContain('HTTP 404');
    expect(error.code).toBe('FILE.NOT_FOUND');
    expect(asked).toEqual(['storage.example.invalid']);
    const blocking = createFileConnector({ egress: { allowPorts: [azurite.port] }, resolver: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect((await failure(run(blocking, 'blobRead', { connection, container, path: 'docs/a.txt' }))).code).toBe('SSRF.BLOCKED');
  });

  it('deletes, and reports a missing blob as FILE.NOT_FOUND (permanent)', async () => {
    await run(connector, 'blobWrite', { ...base(), path: 'gone.txt', content: 'bye' });
    expect(await run(connector, 'blobDelete', { ...base(), path: 'gone.txt' })).toEqual({ deleted: true });
    expect(await run(connector, 'blobDelete', { ...base(), path: 'gone.txt' })).toEqual({ deleted: false });
    const error = await failure(run(connector, 'blobRead', { ...base(), path: 'gone.txt' }));
    expect(error).toMatchObject({ code: 'FILE.NOT_FOUND', retryable: false });
    const noContainer = await failure(run(connector, 'blobRead', { ...base(), container: 'nope', path: 'a.txt' }));
    expect(noContainer.code).toBe('FILE.NOT_FOUND');
  });

  it('rejects content over 10 MB with FILE.TOO_LARGE', async () => {
    const error = await failure(run(connector, 'blobWrite', { ...base(), path: 'big.bin', content: Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64'), encoding: 'base64' }));
    expect(error).toMatchObject({ code: 'FILE.TOO_LARGE', retryable: false });
  });

  it('works with an account URL and SAS, and never echoes the SAS', async () => {
    const sas = generateAccountSASQueryParameters(
      { expiresOn: new Date(Date.now() + 3600_000), permissions: AccountSASPermissions.parse('rwdlac'), resourceTypes: AccountSASResourceTypes.parse('sco').toString(), services: AccountSASServices.parse('b').toString() },
      new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY),
    ).toString();
    const connection = `${azurite.blobEndpoint}?${sas}`;
    await run(connector, 'blobWrite', { connection, container, path: 'sas.txt', content: 'via sas' });
    expect((await run(connector, 'blobRead', { connection, container, path: 'sas.txt' }))['content']).toBe('via sas');
    const error = await failure(run(connector, 'blobRead', { connection, container, path: 'missing-sas.txt' }));
    expect(error.code).toBe('FILE.NOT_FOUND');
    const sig = new URLSearchParams(sas).get('sig')!;
    expect(error.message).not.toContain(sig);
    expect(error.message).not.toContain(encodeURIComponent(sig));
  });

  it('maps a wrong account key to FILE.AUTH_FAILED without the key or connection string in the message', async () => {
    const wrongKey = randomBytes(64).toString('base64');
    const connection = azurite.connectionString.replace(AZURITE_ACCOUNT_KEY, wrongKey);
    const error = await failure(run(connector, 'blobRead', { connection, container, path: 'docs/a.txt' }));
    expect(error).toMatchObject({ code: 'FILE.AUTH_FAILED', retryable: false });
    expect(error.message).not.toContain(wrongKey);
    expect(error.message).not.toContain(connection);
  });

  it('maps a refused connection to a retryable error', async () => {
    const counting = await countingServer();
    const port = counting.port;
    await counting.close();
    const local = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] } });
    const connection = azurite.connectionString.replace(`:${azurite.port}/`, `:${port}/`);
    const error = await failure(run(local, 'blobRead', { connection, container, path: 'a.txt' }));
    expect(error.retryable).toBe(true);
    expect(error.message).not.toContain(AZURITE_ACCOUNT_KEY);
  });

  it('blocks an endpoint that is not allow-listed (host or port) before any request', async () => {
    const counting = await countingServer();
    try {
      const connection = azurite.connectionString.replace(`:${azurite.port}/`, `:${counting.port}/`);
      const notAllowed = createFileConnector({ egress: { allowPorts: [counting.port] } });
      const blocked = await failure(run(notAllowed, 'blobRead', { connection, container, path: 'a.txt' }));
      expect(blocked.code).toBe('SSRF.BLOCKED');
      expect(blocked.message).not.toContain(AZURITE_ACCOUNT_KEY);
      const portNotAllowed = createFileConnector({ egress: { allowHosts: ['127.0.0.1'] } });
      expect((await failure(run(portNotAllowed, 'blobWrite', { connection, container, path: 'a.txt', content: 'x' }))).code).toBe('SSRF.BLOCKED');
      expect((await failure(run(notAllowed, 'blobList', { connection: azurite.connectionString, container }))).code).toBe('SSRF.BLOCKED');
      expect(counting.count()).toBe(0);
    } finally {
      await counting.close();
    }
  });

  it("reaches the account through the calling tenant's egress allow-list only", async () => {
    const operatorOnly = createFileConnector();
    const connection = azurite.connectionString;
    expect((await failure(run(operatorOnly, 'blobList', { connection, container }, context({ tenantId: 'closed' })))).code).toBe('SSRF.BLOCKED');
    const listed = await run(operatorOnly, 'blobList', { connection, container }, context({ tenantId: 'open', egress: { allowHosts: ['127.0.0.1'], allowPorts: [azurite.port] } }));
    expect(Array.isArray(listed['items'])).toBe(true);
  });

  it('validates inputs with closed schemas and safe paths', () => {
    const registry = new ConnectorRegistry([connector]);
    const ok = { connection: 'x', container: 'files', path: 'a/b.txt' };
    expect(() => registry.validateInput('file', 'blobRead', ok)).not.toThrow();
    for (const bad of [
      { ...ok, extra: 1 },
      { ...ok, path: '/abs.txt' },
      { ...ok, path: 'a/../b.txt' },
      { ...ok, path: '..' },
      { ...ok, path: 'x'.repeat(1025) },
      { ...ok, encoding: 'latin1' },
    ]) {
      expect(() => registry.validateInput('file', 'blobRead', bad)).toThrow(ValidationError);
    }
    expect(() => registry.validateInput('file', 'blobList', { connection: 'x', container: 'files', maxResults: 5001 })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'sftpRead', { sftp: { host: 'h', username: 'u', extra: true }, path: '/ok' })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'sftpRead', { sftp: { host: 'h', username: 'u' }, path: '/data/../etc/passwd' })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'sftpRead', { sftp: { host: 'h', username: 'u' }, path: '/data/ok.txt' })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------
// SFTP (in-process ssh2 server over a temporary directory)
// ---------------------------------------------------------------------------------------------------------

const SFTP_USER = 'aiq';
const SFTP_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

describe('file connector: SFTP (in-process ssh2 server)', () => {
  let server: SftpTestServer;
  let connector: FileConnector;
  const sftp = (extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: server.port, username: SFTP_USER, password: SFTP_PASSWORD, ...extra });

  beforeAll(async () => {
    server = await startSftpServer({ username: SFTP_USER, password: SFTP_PASSWORD });
    connector = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [server.port] } });
  });

  afterAll(async () => {
    await connector?.close();
    await server?.close();
  });

  it('writes, reads, lists, moves and deletes (a full round trip)', async () => {
    const text = 'sftp ✓ content';
    expect(await run(connector, 'sftpWrite', { sftp: sftp(), path: '/in.txt', content: text })).toEqual({ size: Buffer.byteLength(text) });
    expect(fs.readFileSync(path.join(server.root, 'in.txt'), 'utf8')).toBe(text);
    expect(await run(connector, 'sftpRead', { sftp: sftp(), path: '/in.txt' })).toEqual({ content: text, size: Buffer.byteLength(text) });

    const binary = randomBytes(70_000);
    await run(connector, 'sftpWrite', { sftp: sftp(), path: '/bin.dat', content: binary.toString('base64'), encoding: 'base64' });
    const readBinary = await run(connector, 'sftpRead', { sftp: sftp(), path: '/bin.dat', encoding: 'base64' });
    expect(Buffer.from(String(readBinary['content']), 'base64').equals(binary)).toBe(true);

    fs.mkdirSync(path.join(server.root, 'sub'));
    const listed = await run(connector, 'sftpList', { sftp: sftp(), path: '/' });
    const items = listed['items'] as Array<Record<string, JsonValue>>;
    expect(items.map((item) => [item['name'], item['type']])).toEqual([
      ['bin.dat', 'file'],
      ['in.txt', 'file'],
      ['sub', 'directory'],
    ]);
    expect(items[0]!['size']).toBe(70_000);
    expect(Number.isNaN(Date.parse(String(items[0]!['modifiedAt'])))).toBe(false);

    expect(await run(connector, 'sftpMove', { sftp: sftp(), path: '/in.txt', toPath: '/sub/moved.txt' })).toEqual({ path: '/sub/moved.txt' });
    expect(fs.existsSync(path.join(server.root, 'in.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(server.root, 'sub', 'moved.txt'), 'utf8')).toBe(text);

    expect(await run(connector, 'sftpDelete', { sftp: sftp(), path: '/sub/moved.txt' })).toEqual({ deleted: true });
    expect(fs.existsSync(path.join(server.root, 'sub', 'moved.txt'))).toBe(false);
    expect(await run(connector, 'sftpDelete', { sftp: sftp(), path: '/sub/moved.txt' })).toEqual({ deleted: false });
    const missing = await failure(run(connector, 'sftpRead', { sftp: sftp(), path: '/sub/moved.txt' }));
    expect(missing).toMatchObject({ code: 'FILE.NOT_FOUND', retryable: false });
  });

  it('connects to the address the policy resolver checked', async () => {
    const asked: string[] = [];
    const pinned = createFileConnector({
      egress: { allowHosts: ['127.0.0.1'], allowPorts: [server.port] },
      resolver: async (hostname) => {
        asked.push(hostname);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    await run(pinned, 'sftpWrite', { sftp: sftp({ host: 'sftp.example.invalid' }), path: '/pinned.txt', content: 'pinned' });
    expect(fs.readFileSync(path.join(server.root, 'pinned.txt'), 'utf8')).toBe('pinned');
    expect(asked).toEqual(['sftp.example.invalid']);
  });

  it('maps a wrong password to FILE.AUTH_FAILED without the password in the message', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const error = await failure(run(connector, 'sftpList', { sftp: sftp({ password: wrong }), path: '/' }));
    expect(error).toMatchObject({ code: 'FILE.AUTH_FAILED', retryable: false });
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(SFTP_PASSWORD);
  });

  it('verifies the host key fingerprint (match with and without SHA256:, mismatch is permanent)', async () => {
    await run(connector, 'sftpWrite', { sftp: sftp(), path: '/fp.txt', content: 'fp' });
    expect((await run(connector, 'sftpRead', { sftp: sftp({ hostKeySha256: `SHA256:${server.fingerprint}` }), path: '/fp.txt' }))['content']).toBe('fp');
    expect((await run(connector, 'sftpRead', { sftp: sftp({ hostKeySha256: server.fingerprint }), path: '/fp.txt' }))['content']).toBe('fp');
    const other = createHash('sha256').update('another key').digest('base64').replace(/=+$/, '');
    const error = await failure(run(connector, 'sftpRead', { sftp: sftp({ hostKeySha256: `SHA256:${other}` }), path: '/fp.txt' }));
    expect(error).toMatchObject({ code: 'FILE.HOST_KEY_MISMATCH', retryable: false });
    expect(error.message).not.toContain(SFTP_PASSWORD);
  });

  it('maps a refused connection to a retryable error', async () => {
    const counting = await countingServer();
    const port = counting.port;
    await counting.close();
    const local = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] } });
    const error = await failure(run(local, 'sftpList', { sftp: sftp({ port }), path: '/' }));
    expect(error.retryable).toBe(true);
    expect(error.message).not.toContain(SFTP_PASSWORD);
  });

  it('blocks a host that is not allow-listed, or a port that is not allowed, with 0 connections', async () => {
    const before = server.connections();
    const notAllowed = createFileConnector({ egress: { allowPorts: [server.port] } });
    const blocked = await failure(run(notAllowed, 'sftpList', { sftp: sftp(), path: '/' }));
    expect(blocked.code).toBe('SSRF.BLOCKED');
    const localhostName = await failure(run(notAllowed, 'sftpList', { sftp: sftp({ host: 'localhost' }), path: '/' }));
    expect(localhostName.code).toBe('SSRF.BLOCKED');
    const portNotAllowed = createFileConnector({ egress: { allowHosts: ['127.0.0.1'] } });
    expect((await failure(run(portNotAllowed, 'sftpRead', { sftp: sftp(), path: '/x' }))).code).toBe('SSRF.BLOCKED');
    expect(server.connections()).toBe(before);
  });

  it("reaches the server through the calling tenant's egress allow-list only", async () => {
    const operatorOnly = createFileConnector();
    const before = server.connections();
    const blocked = await failure(run(operatorOnly, 'sftpList', { sftp: sftp(), path: '/' }, context({ tenantId: 'closed' })));
    expect(blocked.code).toBe('SSRF.BLOCKED');
    expect(server.connections()).toBe(before);
    const listed = await run(operatorOnly, 'sftpList', { sftp: sftp(), path: '/' }, context({ tenantId: 'open', egress: { allowHosts: ['127.0.0.1'], allowPorts: [server.port] } }));
    expect(Array.isArray(listed['items'])).toBe(true);
  });
});
