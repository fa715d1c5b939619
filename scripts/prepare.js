'use strict';
// Makes a fresh clone runnable: checks Node, installs dependencies when node_modules is missing or older than
// the lock file, and compiles the TypeScript. Used by `npm start` and `npm test`; plain Node, no dependencies.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function fail(message) {
  process.stderr.write(`\n${message}\n`);
  process.exit(1);
}

function run(command, args, what) {
  process.stdout.write(`> ${what}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env });
  if (result.error) fail(`Could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${what} failed (exit ${result.status}).`);
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`AutomateIQ needs Node.js 20 or later; this is ${process.version}. Install Node 20 (https://nodejs.org) and retry.`);
}

function dependenciesStale() {
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(installed)) return true;
  return fs.statSync(path.join(root, 'package-lock.json')).mtimeMs > fs.statSync(installed).mtimeMs;
}

function ensureDependencies() {
  if (!dependenciesStale()) return;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=notice'], 'Installing dependencies');
}

function build() {
  // A clean output folder: a function whose source was deleted must not stay registered from an old build.
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], 'Compiling TypeScript');
}

/**
 * Creates local.settings.json from the sample, or adds to an existing one the settings a newer sample has and it
 * lacks (values already there are never changed), so that a checkout keeps starting after a pull.
 */
function ensureLocalSettings() {
  const target = path.join(root, 'local.settings.json');
  const samplePath = path.join(root, 'local.settings.sample.json');
  if (!fs.existsSync(target)) {
    fs.copyFileSync(samplePath, target);
    process.stdout.write('> Created local.settings.json from local.settings.sample.json\n');
    return;
  }
  let local;
  try {
    local = JSON.parse(fs.readFileSync(target, 'utf8'));
  } catch (error) {
    fail(`local.settings.json is not valid JSON (${error.message}). Fix it, or delete it to start again from local.settings.sample.json.`);
  }
  const sample = JSON.parse(fs.readFileSync(samplePath, 'utf8'));
  local.Values ??= {};
  const added = Object.keys(sample.Values ?? {}).filter((name) => !(name in local.Values));
  if (added.length === 0) return;
  for (const name of added) local.Values[name] = sample.Values[name];
  fs.writeFileSync(target, `${JSON.stringify(local, null, 2)}\n`);
  process.stdout.write(`> Added to local.settings.json from the sample: ${added.join(', ')}\n`);
}

function prepare() {
  checkNode();
  ensureDependencies();
  build();
  ensureLocalSettings();
}

module.exports = { prepare, root, fail };

if (require.main === module) prepare();
