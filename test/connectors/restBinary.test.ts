import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryArtifactStore } from '../../shared/adapters/memory/memoryArtifactStore.js';
import { createRestConnector } from '../../shared/connectors/rest/restConnector.js';
import { ConnectorRegistry, type ActionContext } from '../../shared/connectors/sdk.js';
import { ConfigError, loadAppConfig } from '../../shared/config/appConfig.js';
import { createConnectorRegistry } from '../../shared/connectors/registry.js';
import { isArtifactRef, sha256Hex, type ArtifactRef } from '../../shared/ports/artifactStore.js';
import { artifactContext, artifactName } from '../support/artifactContext.js';

// A server that sends and receives raw bytes (the loopback helper reads bodies as text).
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(300_000)]);
const BIG = randomBytes(3 * 1024 * 1024 + 11);
interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  sha256: string;
  size: number;
}
const received: Received[] = [];
let server: http.Server;
let base = '';
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      received.push({ path, headers: req.headers, sha256: hash.digest('hex'), size });
      if (path === '/report.pdf') return void res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF);
      // Chunked (no content-length): the cap can only be enforced while the body streams.
      if (path === '/big.bin') return void Readable.from([BIG.subarray(0, 1024 * 1024), BIG.subarray(1024 * 1024)]).pipe(res.writeHead(200, { 'content-type': 'application/octet-stream' }));
      if (path === '/csv') return void res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n1,2\n');
      if (path === '/missing.pdf') return void res.writeHead(404, { 'content-type': 'application/pdf' }).end(PDF);
      if (path === '/redirect-upload') return void res.writeHead(307, { location: '/upload' }).end();
      if (path === '/upload') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sha256: received.at(-1)!.sha256, size }));
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
});

const registry = (options: { maxBinaryResponseBytes?: number } = {}) => new ConnectorRegistry([createRestConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] }, ...options })]);

async function request(input: Record<string, unknown>, context: ActionContext, reg = registry()): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  reg.validateInput('rest', 'request', input);
  return (await reg.action('rest', 'request').run(input as never, context)) as never;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error) throw new Error('expected a failure');
  return error as { code: string; retryable: boolean; message: string };
}

async function content(store: MemoryArtifactStore, ref: ArtifactRef): Promise<Buffer> {
  return (await store.get(ref, 'acme')).content;
}

describe('rest.request: binary bodies through artifacts', () => {
  it('streams a binary response into an artifact (asked for, and by auto for non-text types) and returns its reference', async () => {
    const store = new MemoryArtifactStore();
    const context = artifactContext(store);
    const asked = await request({ url: `${base}/report.pdf`, responseType: 'binary' }, context);
    expect(asked.status).toBe(200);
    expect(asked.headers['content-type']).toBe('application/pdf');
    const ref = asked.body as ArtifactRef;
    expect(isArtifactRef(ref)).toBe(true);
    expect(ref).toMatchObject({ size: PDF.length, contentType: 'application/pdf', sha256: sha256Hex(PDF) });
    expect(ref.$artifact).toMatch(/^artifact:\/\/acme\/r1\/s1\/files\/[0-9a-f-]{36}-response$/);
    expect((await content(store, ref)).equals(PDF)).toBe(true);
    expect(received[0]!.headers['accept']).toBe('*/*');

    const auto = await request({ url: `${base}/report.pdf` }, context);
    expect(auto.body).toMatchObject({ sha256: sha256Hex(PDF), contentType: 'application/pdf' });
    // Text stays inline under auto; without artifacts (a direct call) auto keeps the old text behaviour.
    expect((await request({ url: `${base}/csv` }, context)).body).toBe('a,b\n1,2\n');
    const plain: ActionContext = { ...context };
    delete plain.artifacts;
    expect(typeof (await request({ url: `${base}/report.pdf` }, plain)).body).toBe('string');
    expect((await failure(request({ url: `${base}/report.pdf`, responseType: 'binary' }, plain))).code).toBe('REST.INPUT_INVALID');
  });

  it('enforces the binary cap while streaming (per step, at most the operator maximum) and keeps nothing of a refused or failed response', async () => {
    const store = new MemoryArtifactStore();
    const context = artifactContext(store);
    const capped = await failure(request({ url: `${base}/big.bin`, responseType: 'binary', maxResponseBytes: 1024 * 1024 }, context));
    expect(capped).toMatchObject({ code: 'REST.RESPONSE_TOO_LARGE', retryable: false });
    const operator = registry({ maxBinaryResponseBytes: 2 * 1024 * 1024 });
    expect((await failure(request({ url: `${base}/big.bin`, responseType: 'binary' }, context, operator))).code).toBe('REST.RESPONSE_TOO_LARGE');
    expect((await failure(request({ url: `${base}/big.bin`, responseType: 'binary', maxResponseBytes: 4 * 1024 * 1024 }, context, operator))).code).toBe('REST.INPUT_INVALID');
    const within = await request({ url: `${base}/big.bin`, responseType: 'binary', maxResponseBytes: 4 * 1024 * 1024 }, context);
    expect(within.body).toMatchObject({ size: BIG.length, sha256: sha256Hex(BIG) });
    // A 404 fails the step without storing its body.
    expect((await failure(request({ url: `${base}/missing.pdf`, responseType: 'binary' }, context))).code).toBe('REST.HTTP_STATUS');
    expect(await store.deletePrefix('acme')).toBe(1);
  });

  it('streams an artifact as the request body with its length and type, again after a 307, never another tenant’s', async () => {
    const store = new MemoryArtifactStore();
    const context = artifactContext(store);
    const ref = await context.artifacts!.create(Readable.from([BIG]), { contentType: 'application/zip' });
    const sent = await request({ method: 'PUT', url: `${base}/upload`, body: ref }, context);
    expect(sent.body).toEqual({ sha256: sha256Hex(BIG), size: BIG.length });
    expect(received[0]!.headers).toMatchObject({ 'content-type': 'application/zip', 'content-length': String(BIG.length) });

    received.length = 0;
    const redirected = await request({ method: 'POST', url: `${base}/redirect-upload`, body: ref, bodyType: 'binary', headers: { 'content-type': 'application/x-custom' } }, context);
    expect(redirected.body).toEqual({ sha256: sha256Hex(BIG), size: BIG.length });
    expect(received.map((r) => r.path)).toEqual(['/redirect-upload', '/upload']);
    expect(received[1]!.headers['content-type']).toBe('application/x-custom');

    received.length = 0;
    expect((await failure(request({ method: 'PUT', url: `${base}/upload`, body: ref }, artifactContext(store, 'globex')))).code).toBe('ARTIFACT.NOT_FOUND');
    expect((await failure(request({ method: 'PUT', url: `${base}/upload`, body: 'text', bodyType: 'binary' }, context))).code).toBe('REST.INPUT_INVALID');
    expect((await failure(request({ method: 'GET', url: `${base}/upload`, body: ref }, context))).code).toBe('REST.INPUT_INVALID');
    expect(received).toEqual([]);
    // As JSON when asked: the reference itself is the body.
    expect((await request({ method: 'PUT', url: `${base}/upload`, body: ref, bodyType: 'json' }, context)).body).toMatchObject({ size: Buffer.byteLength(JSON.stringify(ref)) });

    store.tamper('acme', artifactName(ref.$artifact), randomBytes(BIG.length));
    expect((await failure(request({ method: 'PUT', url: `${base}/upload`, body: ref }, context))).code).toBe('ARTIFACT.INTEGRITY_FAILED');
  });
});

describe('AIQ_MAX_STREAMED_BYTES', () => {
  it('parses into the operator maximum (default 1 GiB) that the registry gives the REST connector', async () => {
    expect(loadAppConfig({}).maxStreamedBytes).toBe(1024 * 1024 * 1024);
    expect(loadAppConfig({ AIQ_MAX_STREAMED_BYTES: ' 2097152 ' }).maxStreamedBytes).toBe(2 * 1024 * 1024);
    for (const bad of ['0', '-1', '1.5', '1GB', '99999999999999999']) expect(() => loadAppConfig({ AIQ_MAX_STREAMED_BYTES: bad })).toThrow(ConfigError);
    const limited = createConnectorRegistry({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] }, maxStreamedBytes: loadAppConfig({ AIQ_MAX_STREAMED_BYTES: String(2 * 1024 * 1024) }).maxStreamedBytes });
    const context = artifactContext(new MemoryArtifactStore());
    expect((await failure(request({ url: `${base}/big.bin`, responseType: 'binary' }, context, limited))).code).toBe('REST.RESPONSE_TOO_LARGE');
    expect((await request({ url: `${base}/report.pdf`, responseType: 'binary' }, context, limited)).body).toMatchObject({ size: PDF.length });
  });
});

describe('declared REST operations: binary bodies through artifacts (the shared requester)', () => {
  // The operator allows nothing private: the tenant's egress allow-list is what reaches the server.
  const declared = createConnectorRegistry();
  const declaration = () => ({
    type: 'rest',
    baseUrl: base,
    operations: {
      report: { method: 'GET', path: '/report.pdf' },
      reportBinary: { method: 'GET', path: '/report.pdf', responseType: 'binary' },
      big: { method: 'GET', path: '/big.bin', responseType: 'binary', maxResponseBytes: 1024 * 1024 },
      csv: { method: 'GET', path: '/csv' },
      upload: { method: 'PUT', path: '/upload', bodyType: 'binary' },
    },
  });
  const tenantContext = (store: MemoryArtifactStore): ActionContext => ({ ...artifactContext(store), egress: { allowHosts: ['127.0.0.1'], allowPorts: [port] } });
  const operation = (name: string, inputs: Record<string, unknown>, context: ActionContext) =>
    declared.declaredAction('files', declaration() as never, name).run(inputs as never, context) as Promise<{ status: number; body: unknown }>;

  it('stream responses into artifacts (binary, and auto on non-text types), cap them, and stream artifact request bodies', async () => {
    const store = new MemoryArtifactStore();
    const context = tenantContext(store);
    for (const name of ['report', 'reportBinary']) {
      const out = await operation(name, {}, context);
      expect(out.status).toBe(200);
      expect(isArtifactRef(out.body)).toBe(true);
      expect(out.body).toMatchObject({ size: PDF.length, contentType: 'application/pdf', sha256: sha256Hex(PDF) });
      expect((await content(store, out.body as ArtifactRef)).equals(PDF)).toBe(true);
    }
    expect((await operation('csv', {}, context)).body).toBe('a,b\n1,2\n');
    expect((await failure(operation('big', {}, context))).code).toBe('REST.RESPONSE_TOO_LARGE');

    const ref = await context.artifacts!.create(Readable.from([BIG]), { contentType: 'application/zip' });
    received.length = 0;
    expect((await operation('upload', { body: ref }, context)).body).toEqual({ sha256: sha256Hex(BIG), size: BIG.length });
    expect(received[0]!.headers).toMatchObject({ 'content-type': 'application/zip', 'content-length': String(BIG.length) });

    // Without the tenant's allow-list the same operation is refused before any connection.
    received.length = 0;
    expect((await failure(operation('reportBinary', {}, artifactContext(store)))).code).toMatch(/^SSRF\./);
    expect(received).toEqual([]);
  });

});
