/**
 * A small in-memory fake of the Azure Files REST API (there is no Azurite for Files), path-style like Azurite:
 * http://127.0.0.1:PORT/<account>/<share>/<dir>/<file>. It implements only what the `file` connector's share
 * actions use: Create Directory, Create File, Put Range, Get File (Range / x-ms-range), Get File Properties,
 * List Directories and Files (maxresults / marker / NextMarker), Delete File and Rename File.
 *
 * Every request must carry a SharedKey Authorization whose signature the fake recomputes over the canonicalized
 * headers and resource (as the service does, with the account key); a mismatch answers 403 AuthenticationFailed.
 * SAS authorization is not implemented (such requests are refused). Canonical header order is ordinal, which
 * matches the SDK's comparator for the plain x-ms-* header names the SDK sends.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_FILES_ACCOUNT = 'fakefiles';
export const FAKE_FILES_KEY = randomBytes(64).toString('base64');

type Entry = { kind: 'dir' } | { kind: 'file'; data: Buffer; contentType: string; etag: string; lastModified: Date };

export interface FakeAzureFiles {
  port: number;
  connectionString: string;
  /** Every request that reached the fake (method + path + query). */
  requests: string[];
  /** Stored entries of a share (path → entry), for assertions. */
  entries(share: string): Map<string, Entry>;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function stringToSign(req: http.IncomingMessage, url: URL, account: string): string {
  const h = (name: string) => {
    const value = req.headers[name];
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    return name === 'content-length' && text === '0' ? '' : text;
  };
  const canonicalHeaders = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-ms-'))
    .sort()
    .map((name) => `${name}:${String(req.headers[name]).trimStart()}\n`)
    .join('');
  let resource = `/${account}${url.pathname}`;
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) params.set(key.toLowerCase(), params.has(key.toLowerCase()) ? `${params.get(key.toLowerCase())},${value}` : value);
  for (const key of [...params.keys()].sort()) resource += `\n${key}:${params.get(key)}`;
  return [
    req.method!.toUpperCase(),
    h('content-encoding'), h('content-language'), h('content-length'), h('content-md5'), h('content-type'), h('date'),
    h('if-modified-since'), h('if-match'), h('if-none-match'), h('if-unmodified-since'), h('range'),
  ].join('\n') + '\n' + canonicalHeaders + resource;
}

export async function startFakeAzureFiles(options: { shares?: string[]; account?: string; key?: string } = {}): Promise<FakeAzureFiles> {
  const account = options.account ?? FAKE_FILES_ACCOUNT;
  const key = Buffer.from(options.key ?? FAKE_FILES_KEY, 'base64');
  const shares = new Map<string, Map<string, Entry>>((options.shares ?? ['files']).map((name) => [name, new Map()]));
  const requests: string[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const base = { 'x-ms-request-id': randomBytes(8).toString('hex'), 'x-ms-version': String(req.headers['x-ms-version'] ?? '2025-01-05'), date: new Date().toUTCString() };
      const fail = (status: number, code: string, message: string) => {
        const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
        res.writeHead(status, { ...base, 'x-ms-error-code': code, 'content-type': 'application/xml', 'content-length': req.method === 'HEAD' ? 0 : Buffer.byteLength(xml) });
        res.end(req.method === 'HEAD' ? undefined : xml);
      };
      // --- SharedKey verification -----------------------------------------------------------------------
      const auth = String(req.headers['authorization'] ?? '');
      const prefix = `SharedKey ${account}:`;
      const expected = createHmac('sha256', key).update(stringToSign(req, url, account), 'utf8').digest('base64');
      if (!auth.startsWith(prefix) || auth.slice(prefix.length) !== expected) {
        fail(403, 'AuthenticationFailed', 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.');
        return;
      }
      // --- Routing --------------------------------------------------------------------------------------
      let parts = url.pathname.split('/').slice(1).map((part) => decodeURIComponent(part));
      // ShareFileClient.rename builds the destination as /<share>/<path> (host-style), dropping the account
      // segment of a path-style endpoint; accept that form for Rename File only.
      if (parts[0] !== account && url.searchParams.get('comp') === 'rename') parts = [account, ...parts];
      if (parts[0] !== account) return fail(400, 'InvalidUri', 'Unknown account.');
      const share = shares.get(parts[1] ?? '');
      if (!share) return fail(404, 'ShareNotFound', 'The specified share does not exist.');
      const path = parts.slice(2).filter((p) => p !== '').join('/');
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      const parentExists = parent === '' || share.get(parent)?.kind === 'dir';
      const restype = url.searchParams.get('restype');
      const comp = url.searchParams.get('comp');
      const entry = share.get(path);
      const fileHeaders = (file: Extract<Entry, { kind: 'file' }>) => ({ etag: file.etag, 'last-modified': file.lastModified.toUTCString(), 'x-ms-type': 'File' });
      const touch = (file: Extract<Entry, { kind: 'file' }>) => {
        file.etag = `"0x${randomBytes(6).toString('hex').toUpperCase()}"`;
        file.lastModified = new Date();
      };
      const ok = (status: number, headers: Record<string, string | number> = {}, payload?: Buffer | string) => {
        res.writeHead(status, { ...base, 'content-length': payload === undefined ? 0 : Buffer.byteLength(payload), ...headers });
        res.end(req.method === 'HEAD' ? undefined : payload);
      };

      if (restype === 'directory' && comp === 'list' && req.method === 'GET') {
        if (path !== '' && entry?.kind !== 'dir') return fail(404, parentExists ? 'ResourceNotFound' : 'ParentNotFound', 'The specified resource does not exist.');
        const prefix = path === '' ? '' : `${path}/`;
        const children = [...share.entries()].filter(([name]) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/')).map(([name, value]) => ({ name: name.slice(prefix.length), value }));
        children.sort((a, b) => (a.name < b.name ? -1 : 1));
        const marker = url.searchParams.get('marker') ?? '';
        const max = Number(url.searchParams.get('maxresults') ?? 5000);
        const after = children.filter((child) => child.name >= marker);
        const pageItems = after.slice(0, max);
        const next = after.length > max ? after[max]!.name : '';
        const entriesXml = pageItems.map(({ name, value }) => value.kind === 'dir'
          ? `<Directory><Name>${xmlEscape(name)}</Name><Properties /></Directory>`
          : `<File><Name>${xmlEscape(name)}</Name><Properties><Content-Length>${value.data.length}</Content-Length></Properties></File>`).join('');
        const xml = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1/${account}" ShareName="${xmlEscape(parts[1]!)}" DirectoryPath="${xmlEscape(path)}">`
          + `${marker ? `<Marker>${xmlEscape(marker)}</Marker>` : ''}<MaxResults>${max}</MaxResults><Entries>${entriesXml}</Entries><NextMarker>${xmlEscape(next)}</NextMarker></EnumerationResults>`;
        return ok(200, { 'content-type': 'application/xml' }, xml);
      }
      if (restype === 'directory' && req.method === 'PUT' && !comp) {
        if (!parentExists) return fail(404, 'ParentNotFound', 'The specified parent path does not exist.');
        if (entry) return fail(409, 'ResourceAlreadyExists', 'The specified resource already exists.');
        share.set(path, { kind: 'dir' });
        return ok(201, { etag: `"0x${randomBytes(6).toString('hex')}"`, 'last-modified': new Date().toUTCString() });
      }
      if (restype) return fail(400, 'UnsupportedQueryParameter', `The fake does not implement restype=${restype}.`);

      if (req.method === 'PUT' && !comp) {
        if (req.headers['x-ms-type'] !== 'file') return fail(400, 'MissingRequiredHeader', 'x-ms-type must be file.');
        if (!parentExists) return fail(404, 'ParentNotFound', 'The specified parent path does not exist.');
        if (entry?.kind === 'dir') return fail(409, 'ResourceTypeMismatch', 'The specified resource is a directory.');
        const size = Number(req.headers['x-ms-content-length']);
        if (!Number.isInteger(size) || size < 0) return fail(400, 'InvalidHeaderValue', 'x-ms-content-length is invalid.');
        const file: Extract<Entry, { kind: 'file' }> = { kind: 'file', data: Buffer.alloc(size), contentType: String(req.headers['x-ms-content-type'] ?? 'application/octet-stream'), etag: '', lastModified: new Date() };
        touch(file);
        share.set(path, file);
        return ok(201, fileHeaders(file));
      }
      if (req.method === 'PUT' && comp === 'range') {
        if (entry?.kind !== 'file') return fail(404, parentExists ? 'ResourceNotFound' : 'ParentNotFound', 'The specified resource does not exist.');
        const match = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers['x-ms-range'] ?? req.headers['range'] ?? ''));
        if (!match || req.headers['x-ms-write'] !== 'update') return fail(400, 'InvalidHeaderValue', 'x-ms-range / x-ms-write are invalid.');
        const start = Number(match[1]);
        const end = Number(match[2]);
        if (end - start + 1 !== body.length || end >= entry.data.length || body.length > 4 * 1024 * 1024) return fail(416, 'InvalidRange', 'The range specified is invalid for the current size of the resource.');
        body.copy(entry.data, start);
        touch(entry);
        return ok(201, fileHeaders(entry));
      }
      if (req.method === 'PUT' && comp === 'rename') {
        const sourceHeader = String(req.headers['x-ms-file-rename-source'] ?? '');
        let sourcePath: string;
        try {
          const sourceParts = new URL(sourceHeader, 'http://fake').pathname.split('/').slice(1).map((part) => decodeURIComponent(part));
          if (sourceParts[0] !== account || sourceParts[1] !== parts[1]) return fail(400, 'InvalidHeaderValue', 'The rename source must be in the same share.');
          sourcePath = sourceParts.slice(2).filter((p) => p !== '').join('/');
        } catch {
          return fail(400, 'InvalidHeaderValue', 'x-ms-file-rename-source is invalid.');
        }
        const source = share.get(sourcePath);
        if (source?.kind !== 'file') return fail(404, 'ResourceNotFound', 'The specified resource does not exist.');
        if (!parentExists) return fail(404, 'ParentNotFound', 'The specified parent path does not exist.');
        if (entry && req.headers['x-ms-file-rename-replace-if-exists'] !== 'true') return fail(409, 'ResourceAlreadyExists', 'The specified resource already exists.');
        share.delete(sourcePath);
        share.set(path, source);
        return ok(200, fileHeaders(source));
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && !comp) {
        if (entry?.kind !== 'file') return fail(404, parentExists ? 'ResourceNotFound' : 'ParentNotFound', 'The specified resource does not exist.');
        const headers = { ...fileHeaders(entry), 'content-type': entry.contentType, 'accept-ranges': 'bytes' };
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers['x-ms-range'] ?? req.headers['range'] ?? ''));
        if (req.method === 'GET' && range) {
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), entry.data.length - 1) : entry.data.length - 1;
          if (start >= entry.data.length) return fail(416, 'InvalidRange', 'The range specified is invalid for the current size of the resource.');
          return ok(206, { ...headers, 'content-range': `bytes ${start}-${end}/${entry.data.length}` }, entry.data.subarray(start, end + 1));
        }
        if (req.method === 'HEAD') {
          res.writeHead(200, { ...base, ...headers, 'content-length': entry.data.length });
          return res.end();
        }
        return ok(200, headers, entry.data);
      }
      if (req.method === 'DELETE' && !comp) {
        if (entry?.kind !== 'file') return fail(404, parentExists ? 'ResourceNotFound' : 'ParentNotFound', 'The specified resource does not exist.');
        share.delete(path);
        return ok(202);
      }
      return fail(400, 'UnsupportedHttpVerb', `The fake does not implement ${req.method} comp=${comp ?? ''}.`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${options.key ?? FAKE_FILES_KEY};FileEndpoint=http://127.0.0.1:${port}/${account};`,
    requests,
    entries: (name) => shares.get(name) ?? new Map(),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
