'use strict';
// One SFTP → Blob transfer in a process of its own, so its memory can be measured apart from the servers (Azurite,
// the SFTP server), which run in the parent. Used by test/connectors/fileStreaming.test.ts and bench/file-streaming.js.
//
//   node fileTransferChild.cjs '<json>'   with { mode: 'aiq' | 'baseline', dist, sftp: { host, port, username, password },
//                                                 remotePath, blob: { connectionString, container, path } }
//
// aiq: the file connector as a step runs it: sftpRead streams the file into an artifact (BlobArtifactStore on the
//      same Azurite, the step's ActionContext.artifacts), then blobWrite streams that artifact to the target blob.
// baseline: no AutomateIQ code: ssh2-sftp-client get() into a PassThrough piped to BlockBlobClient.uploadStream
//      (4 MiB blocks, concurrency 4, the same as the connector's).
// Prints one JSON line: { ms: { read, write, total }, peakRssDeltaBytes, rssBeforeBytes, maxRssBytes, ref? }: the RSS
// before is taken once the modules are loaded, the peak is the process's maximum RSS (getrusage), so the delta is how
// far the transfer raised the process's memory high-water mark.

const path = require('node:path');
const { PassThrough } = require('node:stream');

const config = JSON.parse(process.argv[2]);
const dist = config.dist;
const { BlobServiceClient } = require('@azure/storage-blob');
const SftpClient = require('ssh2-sftp-client');

function context(tenantId, artifacts) {
  return { tenantId, runId: 'bench-run', stepId: 'transfer', signal: new AbortController().signal, log: () => undefined, artifacts };
}

async function aiq() {
  const { createFileConnector } = require(path.join(dist, 'shared/connectors/file/fileConnector.js'));
  const { BlobArtifactStore } = require(path.join(dist, 'shared/adapters/blob/blobArtifactStore.js'));
  const { stepArtifacts } = require(path.join(dist, 'shared/application/stepArtifacts.js'));
  const store = new BlobArtifactStore({ serviceClient: BlobServiceClient.fromConnectionString(config.blob.connectionString) });
  const where = { tenantId: 'bench', runId: 'bench-run', stepId: 'transfer' };
  const ctx = context('bench', stepArtifacts(store, where));
  const connector = createFileConnector({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [config.sftp.port, Number(new URL(config.blob.endpoint).port)] } });
  const action = (name) => connector.actions.find((candidate) => candidate.name === name);
  return async () => {
    const started = performance.now();
    const read = await action('sftpRead').run({ sftp: config.sftp, path: config.remotePath, as: 'artifact' }, ctx);
    const between = performance.now();
    await action('blobWrite').run({ connection: config.blob.connectionString, container: config.blob.container, path: config.blob.path, content: read.content }, ctx);
    const ended = performance.now();
    await connector.close();
    return { ms: { read: between - started, write: ended - between, total: ended - started }, ref: read.content };
  };
}

async function baseline() {
  const container = BlobServiceClient.fromConnectionString(config.blob.connectionString).getContainerClient(config.blob.container);
  return async () => {
    const started = performance.now();
    const client = new SftpClient('baseline');
    await client.connect({ host: config.sftp.host, port: config.sftp.port, username: config.sftp.username, password: config.sftp.password });
    const pipe = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
    const upload = container.getBlockBlobClient(config.blob.path).uploadStream(pipe, 4 * 1024 * 1024, 4);
    await Promise.all([client.get(config.remotePath, pipe), upload]);
    await client.end();
    const ended = performance.now();
    return { ms: { read: ended - started, write: 0, total: ended - started } };
  };
}

async function main() {
  const transfer = config.mode === 'aiq' ? await aiq() : await baseline();
  const rssBeforeBytes = process.memoryUsage().rss;
  const result = await transfer();
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ ...result, rssBeforeBytes, maxRssBytes, peakRssDeltaBytes: maxRssBytes - rssBeforeBytes })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
  process.exit(1);
});
