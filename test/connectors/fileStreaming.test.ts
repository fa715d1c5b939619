import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobArtifactStore } from '../../shared/adapters/blob/blobArtifactStore.js';
import { createFileConnector, MAX_CONTENT_BYTES, type FileConnector } from '../../shared/connectors/file/fileConnector.js';
import type { ActionContext } from '../../shared/connectors/sdk.js';
import type { JsonValue } from '../../shared/domain/json.js';
import { isArtifactRef, type ArtifactRef } from '../../shared/ports/artifactStore.js';
import { artifactContext } from '../support/artifactContext.js';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite.js';
import { startSftpServer, type SftpTestServer } from '../support/sftpServer.js';

// A file far over the inline limit moves SFTP → artifact (Blob on Azurite) → Blob and back to SFTP, its SHA-256
// checked at both ends. The first leg runs in a child process (the compiled connector: build first), so its peak
// RSS measures our code alone, not Azurite or the SFTP server, which run here. Azurite keeps its data on disk.
const FILE_BYTES = 96 * 1024 * 1024;
/**
 * How far the transfer may raise the moving process's peak RSS: less than the file, which an implementation holding
 * the content would exceed (with its copies, well beyond). Measured (bench/file-streaming.js) the rise is about
 * 60–70 MiB whatever the size — 4 MiB blocks, ≤ 4 in flight per stream, plus garbage not yet collected — for 64,
 * 96 and 192 MiB files alike.
 */
const MEMORY_BOUND_BYTES = FILE_BYTES;

const credentials = { username: 'aiq', password: `pw-${randomBytes(12).toString('hex')}` };

async function run(connector: FileConnector, action: string, input: Record<string, unknown>, context: ActionContext): Promise<Record<string, JsonValue>> {
  const found = connector.actions.find((candidate) => candidate.name === action);
  if (!found) throw new Error(`no action ${action}`);
  return (await found.run(input as never, context)) as Record<string, JsonValue>;
}

/** Writes `bytes` random bytes to `file` 1 MiB at a time; returns their SHA-256 (test/support/randomFile.cjs, shared with the bench). */
const { randomFile } = createRequire(__filename)('../support/randomFile.cjs') as { randomFile: (file: string, bytes: number) => Promise<string> };

async function sha256Of(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs test/support/fileTransferChild.cjs (the compiled connector in a process of its own) and parses its report. */
function transferInChild(config: Record<string, unknown>): Promise<{ ref: ArtifactRef; peakRssDeltaBytes: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '../support/fileTransferChild.cjs'), JSON.stringify(config)], { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`transfer child failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout.trim()) as { ref: ArtifactRef; peakRssDeltaBytes: number });
    });
  });
}

describe('file connector: a 96 MiB file streamed SFTP → artifact → Blob → SFTP', () => {
  let azurite: AzuriteBlob;
  let sftp: SftpTestServer;
  let connector: FileConnector;
  let context: ActionContext;

  beforeAll(async () => {
    azurite = await startAzuriteBlob();
    sftp = await startSftpServer(credentials);
    connector = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [azurite.port, sftp.port] } });
    context = artifactContext(new BlobArtifactStore({ serviceClient: BlobServiceClient.fromConnectionString(azurite.connectionString) }), 'bench', { runId: 'bench-run', stepId: 'copy' });
    await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('files').create();
  }, 60_000);

  afterAll(async () => {
    await connector?.close();
    await sftp?.close();
    await azurite?.stop();
  });

  it('keeps the bytes identical end to end and the memory of the process that moves them bounded', async () => {
    const sha256 = await randomFile(path.join(sftp.root, 'big.bin'), FILE_BYTES);
    const server = { host: '127.0.0.1', port: sftp.port, ...credentials };
    expect(FILE_BYTES).toBeGreaterThan(8 * MAX_CONTENT_BYTES);

    // sftpRead (into an artifact by default: the file is over the inline limit) then blobWrite, as steps run them.
    const report = await transferInChild({
      mode: 'aiq',
      dist: path.join(__dirname, '../../dist'),
      sftp: server,
      remotePath: '/big.bin',
      blob: { connectionString: azurite.connectionString, endpoint: azurite.blobEndpoint, container: 'files', path: 'in/big.bin' },
    });
    expect(isArtifactRef(report.ref)).toBe(true);
    expect(report.ref).toMatchObject({ size: FILE_BYTES, sha256 });
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('files').getBlobClient('in/big.bin');
    expect(await sha256Of((await blob.download()).readableStreamBody!)).toBe(sha256);
    console.log(`SFTP → artifact → Blob of ${FILE_BYTES / 2 ** 20} MiB raised the child's peak RSS by ${(report.peakRssDeltaBytes / 2 ** 20).toFixed(1)} MiB`);
    expect(report.peakRssDeltaBytes).toBeLessThan(MEMORY_BOUND_BYTES);

    // The same artifact back to SFTP (a later step of the same tenant).
    expect(await run(connector, 'sftpWrite', { sftp: server, path: '/copy.bin', content: report.ref }, context)).toEqual({ size: FILE_BYTES });
    expect(await sha256Of(fs.createReadStream(path.join(sftp.root, 'copy.bin')))).toBe(sha256);
  }, 240_000);
});
