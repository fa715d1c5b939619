'use strict';
// `npm test`: prepares a fresh clone, makes sure the servers the tests need are up, then runs the suite.
// Arguments are passed to vitest (e.g. `npm test -- host/http`).
const { spawn } = require('node:child_process');
const path = require('node:path');
const { prepare, root, fail } = require('./prepare');
const { ensureServices } = require('./services');

async function main() {
  prepare();
  let services;
  try {
    services = await ensureServices();
  } catch (error) {
    fail(error.message);
  }
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...services.env, AIQ_BUILT: '1' },
  });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    services.stop();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

main().catch((error) => fail(error.stack ?? String(error)));
