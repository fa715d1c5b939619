import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite.js';
import { type Platform, startPlatform } from './platform.js';

const FILE = randomBytes(2 * 1024 * 1024 + 3);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * An artifact one step streams is what a later step streams on, end to end on the embedded host with Blob artifacts
 * (Azurite): a REST step downloads a binary file into an artifact, the next step PUTs that artifact to another
 * endpoint by referring to the first step's output. Only the reference enters run history.
 */
describe('a run that passes a streamed artifact from one step to the next', () => {
  let platform: Platform;
  let azurite: AzuriteBlob;
  let server: http.Server;
  let dataDir: string;
  const uploads: Array<{ sha256: string; size: number; contentType: string | undefined }> = [];
  let admin: string;

  beforeAll(async () => {
    azurite = await startAzuriteBlob({ inMemory: true });
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/file.bin') return void response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(FILE);
        const body = Buffer.concat(chunks);
        uploads.push({ sha256: sha256(body), size: body.length, contentType: request.headers['content-type'] });
        response.writeHead(201, { 'content-type': 'application/json' }).end('{"stored":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-artifact-run-'));
    platform = await startPlatform({
      AIQ_SQLITE_PATH: path.join(dataDir, 'app.db'),
      AIQ_SECRETS_KEY: randomBytes(32).toString('base64'),
      AZURE_KEYVAULT_URL: '',
      AIQ_ARTIFACT_STORAGE: azurite.connectionString,
      AIQ_EGRESS_ALLOW_HOSTS: '127.0.0.1',
      AIQ_EGRESS_ALLOW_PORTS: String(port),
    });
    const platformAdmin = await platform.token('Platform.Admin');
    expect((await platform.call('POST', '/api/tenants', { token: platformAdmin, body: { id: 'files', name: 'Files', tier: 'standard' } })).status).toBe(201);
    admin = await platform.token('Tenant.Admin', 'files');
    const definition = {
      schemaVersion: 1,
      name: 'Download, then upload',
      steps: [
        { id: 'download', type: 'action', connector: 'rest', action: 'request', inputs: { url: `http://127.0.0.1:${port}/file.bin` } },
        {
          id: 'upload',
          type: 'action',
          dependsOn: ['download'],
          connector: 'rest',
          action: 'request',
          inputs: { method: 'PUT', url: `http://127.0.0.1:${port}/upload`, body: { $expr: 'steps.download.output.body' } },
        },
      ],
      outputs: { file: { $expr: 'steps.download.output.body' }, stored: { $expr: 'steps.upload.output.body' } },
    };
    const created = await platform.call('POST', '/api/tenants/files/workflows', { token: admin, body: { id: 'relay', name: 'Relay', definition } });
    expect(created.status, await created.text()).toBe(201);
    expect((await platform.call('POST', '/api/tenants/files/workflows/relay/versions', { token: admin })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await new Promise((resolve) => server?.close(resolve));
    await azurite?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams the download into a Blob artifact and the upload out of it, with only the reference in the run', async () => {
    const started = await platform.call('POST', '/api/tenants/files/workflows/relay/runs', { token: admin, body: { input: {} } });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    let run: { status: string; output: { file: Record<string, unknown>; stored: unknown } } | undefined;
    for (let i = 0; i < 300; i += 1) {
      run = (await (await platform.call('GET', `/api/tenants/files/runs/${id}`, { token: admin })).json()) as typeof run;
      if (run && ['succeeded', 'failed'].includes(run.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(run?.status, JSON.stringify(run)).toBe('succeeded');
    const ref = run!.output.file;
    expect(ref).toEqual({ $artifact: expect.stringMatching(new RegExp(`^artifact://files/${id}/download/files/[0-9a-f-]{36}-response$`)), size: FILE.length, contentType: 'application/octet-stream', sha256: sha256(FILE) });
    expect(run!.output.stored).toEqual({ stored: true });
    expect(uploads).toEqual([{ sha256: sha256(FILE), size: FILE.length, contentType: 'application/octet-stream' }]);
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('artifacts').getBlobClient(String(ref['$artifact']).slice('artifact://'.length));
    expect(sha256(await blob.downloadToBuffer())).toBe(sha256(FILE));
  }, 60_000);
});
