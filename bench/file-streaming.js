#!/usr/bin/env node
'use strict';
// File streaming benchmark: one large file SFTP → Blob through the file connector and artifacts, side by side with a
// baseline without our code, measured in the same invocation. Figures and ratios only; nothing is asserted.
//
//   node bench/file-streaming.js [--size-mb 256] [--rounds 3] [--quick] [--json out.json]
//
// AIQ_BENCH_DIST=<dir> runs another build (see bench/lib/common.js).
//
// Servers: Azurite Blob (its own process, `azurite-blob --disableTelemetry`, data on disk in a temporary directory) and the ssh2 SFTP
// server of the tests (test/support/sftpServer.cjs, in this process, over a temporary directory holding one file of
// --size-mb random bytes). Each transfer runs in a fresh child process (test/support/fileTransferChild.cjs), so its
// peak RSS is its own:
//   aiq       sftpRead (as: "artifact") streams the file into an artifact (BlobArtifactStore on the same Azurite, as a
//             step's ActionContext.artifacts), then blobWrite streams the artifact to the target blob: the data
//             crosses the wire three times (SFTP read, artifact upload, artifact download + target upload).
//   baseline  ssh2-sftp-client get() into a PassThrough piped to BlockBlobClient.uploadStream (4 MiB blocks,
//             concurrency 4), the shortest path with the same libraries: no artifact hop.
// Rounds alternate the order of the two; the median round is reported. Every target blob's SHA-256 is checked
// against the source file after its transfer (not timed).
//
// Figures: MB/s (MiB moved end to end / wall time of the transfer, in the child), for aiq also each leg; peak RSS
// delta = the child's getrusage maxRSS minus its RSS once its modules are loaded. Ratios aiq / baseline.

const { execFile, spawn } = require('node:child_process');
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const common = require('./lib/common.js');

const opts = common.parseArgs({ sizeMb: 0, rounds: 0, quick: false, json: '' });
const SIZE_MB = opts.sizeMb || (opts.quick ? 64 : 256);
const ROUNDS = opts.rounds || (opts.quick ? 1 : 3);
const SIZE = SIZE_MB * 1024 * 1024;
const DIST = path.dirname(common.DIST_HOST);
const SUPPORT = path.join(common.REPO_ROOT, 'test', 'support');
const CREDENTIALS = { username: 'bench', password: `pw-${randomBytes(12).toString('hex')}` };
const ACCOUNT = 'devstoreaccount1';
// Azurite's well-known development key (public, documented by Microsoft; not a secret).
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startAzurite(location) {
  const port = await freePort();
  const bin = path.join(common.REPO_ROOT, 'node_modules', '.bin', 'azurite-blob');
  const child = spawn(bin, ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', location, '--skipApiVersionCheck', '--silent', '--disableTelemetry'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let output = '';
    const onData = (data) => {
      output += data;
      if (/successfully listens on/i.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`azurite-blob exited (${code}): ${output}`)));
  });
  const endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
  return {
    child,
    endpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};BlobEndpoint=${endpoint};`,
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}

function transfer(config) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(SUPPORT, 'fileTransferChild.cjs'), JSON.stringify(config)], { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${config.mode} transfer failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout.trim()));
    });
  });
}

async function blobSha256(container, name) {
  const hash = createHash('sha256');
  const response = await container.getBlobClient(name).download();
  for await (const chunk of response.readableStreamBody) hash.update(chunk);
  return hash.digest('hex');
}

const mbps = (ms) => SIZE_MB / (ms / 1000);
const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);

async function main() {
  common.requireBuild();
  const facts = common.printMachineFacts();
  const { BlobServiceClient } = require('@azure/storage-blob');
  const { startSftpServer } = require(path.join(SUPPORT, 'sftpServer.cjs'));
  const { randomFile } = require(path.join(SUPPORT, 'randomFile.cjs'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-bench-files-'));
  const azurite = await startAzurite(path.join(work, 'azurite'));
  const sftp = await startSftpServer(CREDENTIALS);
  try {
    console.log(`File: ${SIZE_MB} MiB of random bytes; ${ROUNDS} round(s); Azurite Blob on disk (${work}), SFTP server in the parent process.`);
    const sha256 = await randomFile(path.join(sftp.root, 'big.bin'), SIZE);
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('bench');
    await container.create();
    const results = { aiq: [], baseline: [] };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const mode of round % 2 === 0 ? ['baseline', 'aiq'] : ['aiq', 'baseline']) {
        const target = `${mode}/round-${round}.bin`;
        const report = await transfer({
          mode,
          dist: DIST,
          sftp: { host: '127.0.0.1', port: sftp.port, ...CREDENTIALS },
          remotePath: '/big.bin',
          blob: { connectionString: azurite.connectionString, endpoint: azurite.endpoint, container: 'bench', path: target },
        });
        const intact = (await blobSha256(container, target)) === sha256;
        if (!intact) throw new Error(`${mode} round ${round}: the target blob's SHA-256 differs from the source file`);
        await container.deleteBlob(target);
        results[mode].push(report);
        console.log(`  round ${round + 1} ${mode.padEnd(8)} ${mbps(report.ms.total).toFixed(1).padStart(7)} MB/s  peak RSS +${mib(report.peakRssDeltaBytes)} MiB  (sha256 ok)`);
      }
    }
    const medianOf = (mode, pick) => common.median(results[mode].map(pick));
    const summary = {};
    for (const mode of ['baseline', 'aiq']) {
      summary[mode] = {
        mbps: mbps(medianOf(mode, (r) => r.ms.total)),
        readMbps: mbps(medianOf(mode, (r) => r.ms.read)),
        writeMbps: mode === 'aiq' ? mbps(medianOf(mode, (r) => r.ms.write)) : NaN,
        peakRssDeltaMiB: medianOf(mode, (r) => r.peakRssDeltaBytes) / 2 ** 20,
      };
    }
    console.log('');
    common.printTable([
      ['path', 'end-to-end MB/s', 'SFTP → artifact MB/s', 'artifact → Blob MB/s', 'peak RSS delta MiB'],
      ['baseline: ssh2-sftp-client get → uploadStream', summary.baseline.mbps.toFixed(1), '—', '—', summary.baseline.peakRssDeltaMiB.toFixed(1)],
      ['aiq: sftpRead → artifact → blobWrite', summary.aiq.mbps.toFixed(1), summary.aiq.readMbps.toFixed(1), summary.aiq.writeMbps.toFixed(1), summary.aiq.peakRssDeltaMiB.toFixed(1)],
    ]);
    console.log('');
    console.log(`Ratios aiq / baseline: throughput ${common.fmtPct(summary.aiq.mbps / summary.baseline.mbps)}, peak RSS delta ${(summary.aiq.peakRssDeltaMiB / summary.baseline.peakRssDeltaMiB).toFixed(2)}×`);
    console.log(`Peak RSS delta / file size: baseline ${common.fmtPct(summary.baseline.peakRssDeltaMiB / SIZE_MB)}, aiq ${common.fmtPct(summary.aiq.peakRssDeltaMiB / SIZE_MB)}`);
    common.writeJson(opts.json, { facts, sizeMiB: SIZE_MB, rounds: ROUNDS, summary, results });
  } finally {
    await sftp.close();
    await azurite.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
