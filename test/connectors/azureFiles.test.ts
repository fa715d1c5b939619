import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileConnector, type FileConnector } from '../../shared/connectors/file/fileConnector.js';
import { ConnectorRegistry, type ActionContext } from '../../shared/connectors/sdk.js';
import type { JsonValue } from '../../shared/domain/json.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { MemoryArtifactStore } from '../../shared/adapters/memory/memoryArtifactStore.js';
import { sha256Hex, type ArtifactRef } from '../../shared/ports/artifactStore.js';
import { artifactContext, artifactName } from '../support/artifactContext.js';
import { FAKE_FILES_KEY, startFakeAzureFiles, type FakeAzureFiles } from '../support/fakeAzureFiles.js';

function context(): ActionContext {
  return { tenantId: 't1', runId: 'r1', stepId: 's1', signal: new AbortController().signal, log: () => undefined };
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

describe('file connector: Azure Files (fake service with SharedKey verification)', () => {
  let fake: FakeAzureFiles;
  let connector: FileConnector;
  const share = 'files';

  beforeAll(async () => {
    fake = await startFakeAzureFiles({ shares: [share] });
    connector = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [fake.port] } });
  });

  afterAll(async () => {
    await connector?.close();
    await fake?.close();
  });

  const base = () => ({ connection: fake.connectionString, share });

  it('writes and reads utf8 and base64 content, creating nested directories', async () => {
    const text = 'héllo, wörld ✓';
    expect(await run(connector, 'shareWrite', { ...base(), path: 'a/b/c/hello.txt', content: text })).toEqual({ size: Buffer.byteLength(text) });
    expect(fake.entries(share).get('a')?.kind).toBe('dir');
    expect(fake.entries(share).get('a/b/c')?.kind).toBe('dir');
    expect(await run(connector, 'shareRead', { ...base(), path: 'a/b/c/hello.txt' })).toEqual({ content: text, size: Buffer.byteLength(text), contentType: 'text/plain; charset=utf-8' });

    const binary = randomBytes(5000);
    await run(connector, 'shareWrite', { ...base(), path: 'a/bin/data.bin', content: binary.toString('base64'), encoding: 'base64', contentType: 'application/x-test' });
    const read = await run(connector, 'shareRead', { ...base(), path: 'a/bin/data.bin', encoding: 'base64' });
    expect(Buffer.from(String(read['content']), 'base64').equals(binary)).toBe(true);
    expect(read).toMatchObject({ size: 5000, contentType: 'application/x-test' });
  });

  it('reads a file into an artifact and writes an artifact range by range; altered content leaves no file', async () => {
    const store = new MemoryArtifactStore();
    const acme = artifactContext(store);
    const content = randomBytes(9 * 1024 * 1024 + 7);
    await run(connector, 'shareWrite', { ...base(), path: 'art/src.bin', content: content.toString('base64'), encoding: 'base64', contentType: 'application/x-test' });
    const read = await run(connector, 'shareRead', { ...base(), path: 'art/src.bin', as: 'artifact' }, acme);
    const ref = read['content'] as ArtifactRef;
    expect(read).toMatchObject({ size: content.length, contentType: 'application/x-test' });
    expect(ref).toMatchObject({ size: content.length, contentType: 'application/x-test', sha256: sha256Hex(content) });

    expect(await run(connector, 'shareWrite', { ...base(), path: 'art/copy/dst.bin', content: ref }, acme)).toEqual({ size: content.length });
    const copy = await run(connector, 'shareRead', { ...base(), path: 'art/copy/dst.bin', as: 'artifact' }, acme);
    expect(copy).toMatchObject({ size: content.length, contentType: 'application/x-test', content: { sha256: sha256Hex(content) } });

    store.tamper('acme', artifactName(ref.$artifact), randomBytes(content.length));
    expect((await failure(run(connector, 'shareWrite', { ...base(), path: 'art/bad.bin', content: ref }, acme))).code).toBe('ARTIFACT.INTEGRITY_FAILED');
    expect(fake.entries(share).has('art/bad.bin')).toBe(false);
  });

  it('writes more than one 4 MB range and reads it back', async () => {
    const big = randomBytes(4 * 1024 * 1024 + 123);
    const before = fake.requests.length;
    await run(connector, 'shareWrite', { ...base(), path: 'big/file.bin', content: big.toString('base64'), encoding: 'base64' });
    expect(fake.requests.slice(before).filter((request) => request.includes('comp=range')).length).toBe(2);
    const read = await run(connector, 'shareRead', { ...base(), path: 'big/file.bin', encoding: 'base64' });
    expect(Buffer.from(String(read['content']), 'base64').equals(big)).toBe(true);
  });

  it('rejects content over 10 MB with FILE.TOO_LARGE before any request', async () => {
    const before = fake.requests.length;
    const error = await failure(run(connector, 'shareWrite', { ...base(), path: 'huge.bin', content: Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64'), encoding: 'base64' }));
    expect(error).toMatchObject({ code: 'FILE.TOO_LARGE', retryable: false });
    expect(fake.requests.length).toBe(before);
  });

  it('lists a directory (files and directories) and reports truncation', async () => {
    for (const name of ['list/1.txt', 'list/2.txt', 'list/3.txt', 'list/sub/4.txt']) await run(connector, 'shareWrite', { ...base(), path: name, content: name });
    const all = await run(connector, 'shareList', { ...base(), directory: 'list' });
    expect(all).toEqual({
      items: [
        { name: '1.txt', type: 'file', size: 10 },
        { name: '2.txt', type: 'file', size: 10 },
        { name: '3.txt', type: 'file', size: 10 },
        { name: 'sub', type: 'directory', size: 0 },
      ],
      truncated: false,
    });
    const page = await run(connector, 'shareList', { ...base(), directory: 'list', maxResults: 2 });
    expect((page['items'] as unknown[]).length).toBe(2);
    expect(page['truncated']).toBe(true);
    const root = await run(connector, 'shareList', base());
    expect((root['items'] as Array<Record<string, JsonValue>>).map((item) => item['name'])).toContain('list');
  });

  it('moves a file with the Rename File API (creating the target directories)', async () => {
    await run(connector, 'shareWrite', { ...base(), path: 'move/src.txt', content: 'move me' });
    expect(await run(connector, 'shareMove', { ...base(), path: 'move/src.txt', toPath: 'moved/deep/dst.txt' })).toEqual({ path: 'moved/deep/dst.txt' });
    expect(fake.requests.some((request) => request.includes('comp=rename'))).toBe(true);
    expect((await run(connector, 'shareRead', { ...base(), path: 'moved/deep/dst.txt' }))['content']).toBe('move me');
    expect(await failure(run(connector, 'shareRead', { ...base(), path: 'move/src.txt' }))).toMatchObject({ code: 'FILE.NOT_FOUND' });
  });

  it('deletes (true, then false)', async () => {
    await run(connector, 'shareWrite', { ...base(), path: 'del/x.txt', content: 'x' });
    expect(await run(connector, 'shareDelete', { ...base(), path: 'del/x.txt' })).toEqual({ deleted: true });
    expect(await run(connector, 'shareDelete', { ...base(), path: 'del/x.txt' })).toEqual({ deleted: false });
    expect(fake.entries(share).has('del/x.txt')).toBe(false);
  });

  it('maps missing files, directories and shares to FILE.NOT_FOUND (permanent)', async () => {
    expect(await failure(run(connector, 'shareRead', { ...base(), path: 'nope.txt' }))).toMatchObject({ code: 'FILE.NOT_FOUND', retryable: false });
    expect(await failure(run(connector, 'shareRead', { ...base(), path: 'no/such/dir.txt' }))).toMatchObject({ code: 'FILE.NOT_FOUND', retryable: false });
    expect(await failure(run(connector, 'shareList', { ...base(), directory: 'missing' }))).toMatchObject({ code: 'FILE.NOT_FOUND' });
    expect(await failure(run(connector, 'shareRead', { ...base(), share: 'other', path: 'a.txt' }))).toMatchObject({ code: 'FILE.NOT_FOUND' });
    expect(await failure(run(connector, 'shareDelete', { ...base(), share: 'other', path: 'a.txt' }))).toMatchObject({ code: 'FILE.NOT_FOUND' });
  });

  it('a wrong account key is FILE.AUTH_FAILED (the fake verifies the signature) and the key is not in the message', async () => {
    const wrongKey = randomBytes(64).toString('base64');
    const connection = fake.connectionString.replace(FAKE_FILES_KEY, wrongKey);
    expect(connection).not.toBe(fake.connectionString);
    const error = await failure(run(connector, 'shareRead', { connection, share, path: 'a/b/c/hello.txt' }));
    expect(error).toMatchObject({ code: 'FILE.AUTH_FAILED', retryable: false });
    expect(error.message).not.toContain(wrongKey);
    expect(error.message).not.toContain(wrongKey.slice(0, 20));
    expect(error.message).not.toContain(connection);
  });

  it('is blocked when the file endpoint is not allowed (no request reaches the fake)', async () => {
    const before = fake.requests.length;
    for (const blocked of [createFileConnector(), createFileConnector({ egress: { allowHosts: ['127.0.0.1'] } }), createFileConnector({ egress: { allowPorts: [fake.port] } })]) {
      const error = await failure(run(blocked, 'shareWrite', { ...base(), path: 'blocked.txt', content: 'x' }));
      expect(error.retryable).toBe(false);
      expect(error.code).not.toBe('FILE.TRANSIENT');
      expect(error.message).not.toContain(FAKE_FILES_KEY);
      await blocked.close();
    }
    expect(fake.requests.length).toBe(before);
    expect(fake.entries(share).has('blocked.txt')).toBe(false);
  });

  it('a refused connection is retryable (FILE.CONNECTION_FAILED)', async () => {
    const closed = await startFakeAzureFiles();
    const port = closed.port;
    const connection = closed.connectionString;
    await closed.close();
    const refusing = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] } });
    const error = await failure(run(refusing, 'shareRead', { connection, share, path: 'x.txt' }));
    expect(error).toMatchObject({ code: 'FILE.CONNECTION_FAILED', retryable: true });
    expect(error.message).not.toContain(FAKE_FILES_KEY);
    await refusing.close();
  });

  it('the schemas reject unknown properties and path escapes', () => {
    const registry = new ConnectorRegistry([connector]);
    expect(() => registry.validateInput('file', 'shareRead', { ...base(), path: 'a.txt', extra: 1 })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'shareWrite', { ...base(), path: 'a.txt', content: 'x', overwrite: true })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'shareMove', { ...base(), path: 'a.txt', toPath: '../b.txt' })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'shareList', { ...base(), directory: '/abs' })).toThrow(ValidationError);
    expect(() => registry.validateInput('file', 'shareRead', { ...base(), path: 'a.txt' })).not.toThrow();
  });
});
