'use strict';
// Shared helpers for the benchmark scripts: machine facts, percentiles, formatting, argument parsing.
// Benchmarks print figures; they never assert.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
// AIQ_BENCH_DIST=<dir> benchmarks another build (e.g. a clean checkout compiled elsewhere while the tree is mid-edit):
// the folder that holds host/ (default <repo>/dist). Its node_modules must resolve (e.g. a symlink to the repo's).
const DIST_HOST = path.join(process.env.AIQ_BENCH_DIST ? path.resolve(process.env.AIQ_BENCH_DIST) : path.join(REPO_ROOT, 'dist'), 'host');
const BENCH_APP = path.join(REPO_ROOT, 'test', 'fixtures', 'bench-app');

/** Fails with a clear message when the TypeScript build is missing. */
function requireBuild() {
  const marker = path.join(DIST_HOST, 'index.js');
  if (!fs.existsSync(marker)) {
    process.stderr.write(`Missing ${marker}: build first (npm run build).\n`);
    process.exit(2);
  }
}

function machineFacts() {
  const cpus = os.cpus();
  let sqliteVersion;
  try {
    const Database = require(path.join(REPO_ROOT, 'node_modules', 'better-sqlite3'));
    const db = new Database(':memory:');
    sqliteVersion = db.prepare('select sqlite_version() as v').get().v;
    db.close();
  } catch {
    sqliteVersion = 'unavailable';
  }
  return {
    cpus: cpus.length,
    availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cpuMHz: cpus[0] ? cpus[0].speed : 0,
    totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    sqlite: sqliteVersion,
    tmpdir: os.tmpdir(),
    hostBuild: DIST_HOST,
  };
}

function printMachineFacts(facts = machineFacts()) {
  console.log(
    `Machine: ${facts.cpus} CPUs (os.cpus().length; availableParallelism ${facts.availableParallelism}), model "${facts.cpuModel}"` +
      `${facts.cpuMHz ? ` @ ${facts.cpuMHz} MHz` : ''}, ${facts.totalMemGiB} GiB RAM`,
  );
  console.log(`         Node ${facts.node} (V8 ${facts.v8}), ${facts.platform}, SQLite ${facts.sqlite}, tmpdir ${facts.tmpdir}`);
  console.log(`Host build: ${facts.hostBuild}`);
  return facts;
}

/** Nearest-rank percentile of an already sorted array. */
function percentileSorted(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** { count, p50, p90, p99, max, mean } of a list of numbers (milliseconds in our use). */
function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmtInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

function fmtMs(n) {
  if (!Number.isFinite(n)) return 'n/a';
  return n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1);
}

function fmtPct(ratio) {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)} %` : 'n/a';
}

/** Prints rows (arrays of strings) as an aligned table; the first row is the header. */
function printTable(rows, { indent = '  ', rightAlignFrom = 1 } = {}) {
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] || 0, String(cell).length)));
  rows.forEach((row, r) => {
    const line = row
      .map((cell, i) => (i >= rightAlignFrom ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i])))
      .join('  ');
    console.log(indent + line.trimEnd());
    if (r === 0) console.log(indent + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/**
 * Minimal `--name value` / `--flag` parser. `spec` maps option names to defaults; the default's type decides
 * how the value is read (number, boolean flag, string, or comma-separated number list for arrays).
 */
function parseArgs(spec, argv = process.argv.slice(2)) {
  const out = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument ${arg}`);
    const [rawName, inlineValue] = arg.slice(2).split(/=(.*)/s, 2);
    const name = rawName.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in spec)) throw new Error(`Unknown option --${rawName}. Known: ${Object.keys(spec).map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(' ')}`);
    const def = spec[name];
    if (typeof def === 'boolean') {
      out[name] = inlineValue === undefined ? true : inlineValue !== 'false';
      continue;
    }
    const value = inlineValue !== undefined ? inlineValue : argv[++i];
    if (value === undefined) throw new Error(`--${rawName} needs a value`);
    if (Array.isArray(def)) out[name] = value.split(',').map((v) => (typeof def[0] === 'number' ? Number(v) : v));
    else if (typeof def === 'number') out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}

function writeJson(file, data) {
  if (!file) return;
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = {
  REPO_ROOT,
  DIST_HOST,
  BENCH_APP,
  requireBuild,
  machineFacts,
  printMachineFacts,
  summarize,
  median,
  fmtInt,
  fmtMs,
  fmtPct,
  printTable,
  parseArgs,
  writeJson,
  sleep,
};
