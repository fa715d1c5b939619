'use strict';
// `npm start`: prepares a fresh clone, starts a local Azurite Blob service for artifacts (unless
// AIQ_ARTIFACT_STORAGE names a storage account already), then runs the platform on the embedded host (port 7071
// unless PORT is set).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { prepare, root } = require('./prepare');

const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`Azurite did not listen on ${port} within ${timeoutMs} ms.`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

async function startAzurite(children) {
  if (process.env.AIQ_ARTIFACT_STORAGE) return {};
  const bin = path.join(root, 'node_modules', '.bin', 'azurite-blob');
  if (!fs.existsSync(bin)) {
    process.stderr.write('> Azurite is not installed (npm ci without dev dependencies?): artifacts stay in memory.\n');
    return {};
  }
  const port = await freePort();
  const location = path.join(root, '.data', 'azurite');
  fs.mkdirSync(location, { recursive: true });
  const azurite = spawn(bin, ['--silent', '--skipApiVersionCheck', '--disableTelemetry', '--location', location, '--blobHost', '127.0.0.1', '--blobPort', String(port)], { stdio: 'ignore' });
  children.push(azurite);
  await waitForPort(port, 15_000);
  process.stdout.write(`> Azurite Blob service for artifacts on 127.0.0.1:${port} (data in .data/azurite)\n`);
  return {
    AIQ_ARTIFACT_STORAGE: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
  };
}

async function main() {
  prepare();
  const children = [];
  const stopAll = (signal) => children.forEach((child) => child.exitCode === null && child.kill(signal));
  process.on('exit', () => stopAll('SIGTERM'));
  const env = { ...process.env, ...(await startAzurite(children)) };
  const args = [path.join(root, 'dist', 'host', 'cli.js'), root];
  if (process.env.PORT) args.push('--port', process.env.PORT);
  const host = spawn(process.execPath, [...args, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
  children.push(host);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => host.kill(signal));
  host.on('exit', (code, signal) => {
    stopAll('SIGTERM');
    process.exit(code ?? (signal ? 1 : 0));
  });
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
