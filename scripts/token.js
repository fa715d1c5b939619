'use strict';
// `npm run -s token -- --tenant <id> --role <role>`: prints one development token (and a newline) on stdout, and
// nothing else, so that `TOKEN=$(npm run -s token -- --tenant acme --role Tenant.Admin)` works. Everything
// else (build output, errors) goes to stderr. Bad arguments exit with 2. Plain Node, no dependencies.
//
//   --tenant <id>      the AutomateIQ tenant (slug); not needed for --role Platform.Admin
//   --role <role>      Platform.Admin | Tenant.Admin | Tenant.User
//   --audience <aud>   default: AIQ_API_AUDIENCE, else api://automateiq
//   --subject <oid>    default: a stable id per (tenant, role)
//   --name <name>      default: "Dev <role> (<tenant>)"
//   --lifetime <s>     seconds until expiry; default 3600
//
// The signing key lives in AIQ_DEV_ISSUER_KEY_FILE, else <repo>/.data/dev-issuer/signing-key.json (created on
// first use, mode 0600); the embedded host in Development reads the same file to trust these tokens.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const MODULE = path.join(root, 'dist', 'shared', 'adapters', 'devissuer', 'index.js');
const ROLES = ['Platform.Admin', 'Tenant.Admin', 'Tenant.User'];
const OPTIONS = { '--tenant': 'tenant', '--role': 'role', '--audience': 'audience', '--subject': 'subject', '--name': 'name', '--lifetime': 'lifetime' };
const USAGE = 'usage: npm run -s token -- [--tenant <id>] --role <Platform.Admin|Tenant.Admin|Tenant.User> [--audience <aud>] [--subject <oid>] [--name <name>] [--lifetime <seconds>]';

function usageError(message) {
  process.stderr.write(`token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === '--help' || flag === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    }
    const key = OPTIONS[flag];
    if (!key) usageError(`unknown argument '${flag}'.`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) usageError(`${flag} needs a value.`);
    }
    if (key in args) usageError(`${flag} was given twice.`);
    args[key] = value;
  }
  if (!args.role) usageError('--role is required.');
  if (!ROLES.includes(args.role)) usageError(`unknown role '${args.role}'; use ${ROLES.join(', ')}.`);
  if (args.role !== 'Platform.Admin' && !args.tenant) usageError(`--role ${args.role} needs --tenant <id>.`);
  if (args.tenant !== undefined && !/^[a-z][a-z0-9-]{1,61}[a-z0-9]$/.test(args.tenant)) {
    usageError(`'${args.tenant}' is not a tenant id (lowercase letters, digits and '-', 3 to 63 characters).`);
  }
  if (args.lifetime !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(args.lifetime) || Number(args.lifetime) > 86400) usageError('--lifetime must be 1 to 86400 seconds.');
    args.lifetime = Number(args.lifetime);
  }
  if (args.audience === '') usageError('--audience must not be empty.');
  if (args.subject === '') usageError('--subject must not be empty.');
  return args;
}

// The compiled files the token module needs, each against its source.
function staleOutputs() {
  const sources = [
    ...fs
      .readdirSync(path.join(root, 'shared', 'adapters', 'devissuer'))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => path.join('shared', 'adapters', 'devissuer', file)),
    path.join('shared', 'ports', 'tokenValidator.ts'),
    path.join('shared', 'domain', 'roles.ts'),
    path.join('shared', 'domain', 'errors.ts'),
    path.join('shared', 'domain', 'tenant.ts'),
  ];
  return sources.filter((source) => {
    const output = path.join(root, 'dist', source.replace(/\.ts$/, '.js'));
    try {
      return fs.statSync(output).mtimeMs < fs.statSync(path.join(root, source)).mtimeMs;
    } catch {
      return true;
    }
  });
}

function ensureBuilt() {
  if (staleOutputs().length === 0) return;
  process.stderr.write('token: compiling TypeScript (dist is missing or older than the sources)...\n');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // stdout of the compiler goes to our stderr: stdout carries the token only.
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.error) throw result.error;
  const stale = staleOutputs();
  if (stale.length > 0) {
    process.stderr.write(`token: the build did not produce ${stale.map((file) => file.replace(/\.ts$/, '.js')).join(', ')}.\n`);
    process.exit(1);
  }
  if (result.status !== 0) process.stderr.write('token: tsc reported errors elsewhere; the token module compiled, continuing.\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  ensureBuilt();
  const devIssuer = require(MODULE);
  const keyFile = devIssuer.resolveDevelopmentKeyFile(root, process.env);
  const audience = args.audience ?? (process.env.AIQ_API_AUDIENCE?.trim() || devIssuer.DEFAULT_DEV_AUDIENCE);
  let token;
  try {
    token = await devIssuer.signDevelopmentToken({
      keyFile,
      role: args.role,
      audience,
      ...(args.tenant !== undefined ? { tenantId: args.tenant } : {}),
      ...(args.subject !== undefined ? { subject: args.subject } : {}),
      ...(args.name !== undefined ? { name: args.name } : {}),
      ...(args.lifetime !== undefined ? { lifetimeSeconds: args.lifetime } : {}),
    });
  } catch (error) {
    if (error instanceof RangeError) usageError(error.message);
    throw error;
  }
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  process.stderr.write(`token: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exit(1);
});
