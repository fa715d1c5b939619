'use strict';
// The AutomateIQ platform as a child process for benchmarks: the real CLI on the built app, a private SQLite
// store and development-issuer key, warnings-only logs, and the in-memory rate limiter.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO_ROOT } = require('./common');

/**
 * The environment of a benchmark host: Development, private SQLite files and issuer key in `dir`, warnings-only
 * logs, and the in-memory rate limiter (REDIS_URL removed: benches measure the API and the store, not a network hop).
 */
function platformHostEnv(dir, keyFile) {
  const env = {
    ...process.env,
    AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
    AIQ_SQLITE_PATH: path.join(dir, 'app.db'),
    AIQ_DEDICATED_TENANT_DIR: path.join(dir, 'tenants'),
    AIQ_DEV_ISSUER_KEY_FILE: keyFile,
    AzureFunctionsJobHost__logging__logLevel__default: 'Warning',
  };
  delete env.REDIS_URL;
  return env;
}

/** Starts the platform; resolves with its base URL, a token signer and `stop()`. */
async function startPlatformHost(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const keyFile = path.join(dir, 'signing-key.json');
  const env = platformHostEnv(dir, keyFile);
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'host', 'cli.js'), REPO_ROOT, '--port', '0', '--state-dir', path.join(dir, 'state'), '--log-format', 'json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const baseUrl = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /Host listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`host exited (${code})`)));
  });
  const { signDevelopmentToken } = require(path.join(REPO_ROOT, 'dist', 'shared', 'adapters', 'devissuer', 'index.js'));
  const audience = 'api://automateiq';
  return {
    baseUrl,
    token: (role, tenantId) => signDevelopmentToken({ keyFile, role, audience, ...(tenantId ? { tenantId } : {}) }),
    stop: () => {
      child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { platformHostEnv, startPlatformHost };
