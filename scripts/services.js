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

/** Runs a command as `user` when root (initdb and mariadbd refuse to run as root), else as ourselves. */
function spawnAs(user, command, args, options = {}) {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return asRoot ? spawn('runuser', ['-u', user, '--', command, ...args], options) : spawn(command, args, options);
}

function privateDir(prefix, owner) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (typeof process.getuid === 'function' && process.getuid() === 0) spawnSync('chown', ['-R', `${owner}:${owner}`, dir]);
  return dir;
}

async function finished(child) {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** PostgreSQL: PGHOST/PGPORT, else 127.0.0.1:5432, else a private cluster from the installed binaries. */
async function ensurePostgres(cleanups) {
  const host = process.env.PGHOST ?? '127.0.0.1';
  const port = Number(process.env.PGPORT ?? 5432);
  if (await canConnect(host, port)) return { PGHOST: host, PGPORT: String(port) };
  if (process.env.PGHOST || process.env.PGPORT) throw new Error(`PGHOST/PGPORT point at ${host}:${port}, but nothing answers there. Start PostgreSQL or unset them.`);
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort() : [];
  const bin = versions.length > 0 ? path.join('/usr/lib/postgresql', versions[versions.length - 1], 'bin') : undefined;
  if (!bin || !fs.existsSync(path.join(bin, 'initdb'))) {
    throw new Error('PostgreSQL is not running on 127.0.0.1:5432 and is not installed. Run: sudo apt-get install -y postgresql (or set PGHOST/PGPORT/PGUSER).');
  }
  const dir = privateDir('aiq-pg-', 'postgres');
  const data = path.join(dir, 'data');
  if ((await finished(spawnAs('postgres', path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres'], { stdio: 'ignore' }))) !== 0) throw new Error(`initdb failed in ${data}.`);
  const privatePort = await freePort();
  const server = spawnAs('postgres', path.join(bin, 'postgres'), ['-D', data, '-p', String(privatePort), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore' });
  cleanups.push(() => {
    server.kill('SIGINT');
    setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 500).unref();
  });
  if (!(await waitFor('127.0.0.1', privatePort, 10000))) throw new Error('A private PostgreSQL did not start within 10 s.');
  process.stdout.write(`> Started a private PostgreSQL on 127.0.0.1:${privatePort}\n`);
  return { PGHOST: '127.0.0.1', PGPORT: String(privatePort), PGUSER: 'postgres', PGDATABASE: 'postgres' };
}

/** MariaDB/MySQL: MYSQL_HOST/MYSQL_PORT, else 127.0.0.1:3306, else a private server (mariadb-server installed if needed). */
async function ensureMariaDb(cleanups) {
  const host = process.env.MYSQL_HOST ?? '127.0.0.1';
  const port = Number(process.env.MYSQL_PORT ?? 3306);
  if (await canConnect(host, port)) return { MYSQL_HOST: host, MYSQL_PORT: String(port) };
  if (process.env.MYSQL_HOST || process.env.MYSQL_PORT) throw new Error(`MYSQL_HOST/MYSQL_PORT point at ${host}:${port}, but nothing answers there. Start MariaDB or unset them.`);
  if (!which('mariadbd') && !fs.existsSync('/usr/sbin/mariadbd') && !aptInstall('mariadb-server')) {
    throw new Error('MariaDB is not running on 127.0.0.1:3306 and is not installed. Run: sudo apt-get install -y mariadb-server (or set MYSQL_HOST/MYSQL_PORT/MYSQL_USER).');
  }
  const mariadbd = which('mariadbd') ?? '/usr/sbin/mariadbd';
  const dir = privateDir('aiq-mariadb-', 'mysql');
  const data = path.join(dir, 'data');
  const install = spawnAs('mysql', 'mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  if ((await finished(install)) !== 0) throw new Error(`mariadb-install-db failed in ${data}.`);
  const privatePort = await freePort();
  const server = spawnAs('mysql', mariadbd, ['--no-defaults', `--datadir=${data}`, `--socket=${path.join(dir, 'mysqld.sock')}`, `--port=${privatePort}`, '--bind-address=127.0.0.1', '--skip-name-resolve'], { stdio: 'ignore' });
  cleanups.push(() => {
    server.kill('SIGTERM');
    setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 500).unref();
  });
  if (!(await waitFor('127.0.0.1', privatePort, 15000))) throw new Error('A private MariaDB did not start within 15 s.');
  const created = spawnSync('mariadb', ['--no-defaults', '-h', '127.0.0.1', '-P', String(privatePort), '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS test'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`Could not create the test database on the private MariaDB: ${created.stderr}`);
  process.stdout.write(`> Started a private MariaDB on 127.0.0.1:${privatePort}\n`);
  return { MYSQL_HOST: '127.0.0.1', MYSQL_PORT: String(privatePort), MYSQL_USER: 'root' };
}

/** Makes sure every server the tests need is reachable; returns the environment to run them with. */
async function ensureServices() {
  const cleanups = [];
  const env = {};
  try {
    env.REDIS_URL = await ensureRedis(cleanups);
    Object.assign(env, await ensurePostgres(cleanups), await ensureMariaDb(cleanups));
  } catch (error) {
    cleanups.forEach((cleanup) => cleanup());
    throw error;
  }
  return { env, stop: () => cleanups.forEach((cleanup) => cleanup()) };
}

module.exports = { ensureServices };
