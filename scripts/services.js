'use strict';
// Finds or starts the real servers the tests use, and exports where they are through environment variables.
// Order for each: the configured address (REDIS_URL, ...), else the standard local port, else a private
// instance from an installed binary, else `apt-get install` when root, else a message naming the command.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

function canConnect(host, port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

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

function which(binary) {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function aptInstall(pkg) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  process.stdout.write(`> Installing ${pkg}: apt-get install -y ${pkg}\n`);
  let result = spawnSync('apt-get', ['install', '-y', pkg], { stdio: 'inherit' });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    result = spawnSync('apt-get', ['install', '-y', pkg], { stdio: 'inherit' });
  }
  return result.status === 0;
}

async function waitFor(host, port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(host, port, 200)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Redis: REDIS_URL, else 127.0.0.1:6379, else a private redis-server (installed if needed). */
async function ensureRedis(cleanups) {
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    if (await canConnect(url.hostname, Number(url.port || 6379))) return process.env.REDIS_URL;
    throw new Error(`REDIS_URL is ${process.env.REDIS_URL}, but nothing answers there. Start Redis or unset REDIS_URL.`);
  }
  if (await canConnect('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
  if (!which('redis-server') && !aptInstall('redis-server')) {
    throw new Error('Redis is not running and redis-server is not installed. Run: sudo apt-get install -y redis-server (or set REDIS_URL).');
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  cleanups.push(() => {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  if (!(await waitFor('127.0.0.1', port, 5000))) throw new Error('A private redis-server did not start within 5 s.');
  process.stdout.write(`> Started a private redis-server on 127.0.0.1:${port}\n`);
  return `redis://127.0.0.1:${port}`;
}

/** Makes sure every server the tests need is reachable; returns the environment to run them with. */
async function ensureServices() {
  const cleanups = [];
  const env = {};
  env.REDIS_URL = await ensureRedis(cleanups);
  return { env, stop: () => cleanups.forEach((cleanup) => cleanup()) };
}

module.exports = { ensureServices };
