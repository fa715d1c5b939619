'use strict';
// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by file/package, and inclusive time
// of the host's own functions. Usable alone: node bench/lib/cpuprofile.js <file.cpuprofile> [top] [requests]

const fs = require('node:fs');
const path = require('node:path');

/** Repo-relative file name; a host build outside the repo (AIQ_BENCH_DIST) is shown as dist/... too. */
function shortUrl(url, root, distRoot) {
  if (!url) return '';
  let u = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (distRoot && u.startsWith(distRoot + path.sep)) return 'dist/' + u.slice(distRoot.length + 1);
  if (root && u.startsWith(root + path.sep)) u = u.slice(root.length + 1);
  return u;
}

/** Bucket a file into a coarse owner: host code, app code, a package, node internals, or V8 pseudo-frames. */
function ownerOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('dist/host/')) return 'host (dist/host)';
  if (url.startsWith('test/fixtures/')) return 'app (fixture)';
  return url;
}

function summarizeProfile(profile, { root, distRoot, top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] || 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) || 0) + dt);
    totalUs += dt;
  }
  const keyOf = (node) => {
    const cf = node.callFrame;
    const url = shortUrl(cf.url, root, distRoot);
    return { key: `${cf.functionName || '(anonymous)'} ${url}${url ? ':' + (cf.lineNumber + 1) : ''}`, url, fn: cf.functionName || '(anonymous)' };
  };
  const selfByFn = new Map();
  const selfByOwner = new Map();
  const selfByFile = new Map();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) || 0;
    if (!us) continue;
    const { key, url, fn } = keyOf(node);
    selfByFn.set(key, (selfByFn.get(key) || 0) + us);
    const owner = ownerOf(url, fn);
    selfByOwner.set(owner, (selfByOwner.get(owner) || 0) + us);
    const file = url || fn;
    selfByFile.set(file, (selfByFile.get(file) || 0) + us);
  }
  // Inclusive time per function (counted once per stack even when recursive).
  const inclusive = new Map();
  const childrenTotal = new Map();
  const subtree = (id) => {
    if (childrenTotal.has(id)) return childrenTotal.get(id);
    const node = byId.get(id);
    let sum = selfUs.get(id) || 0;
    for (const c of node.children || []) sum += subtree(c);
    childrenTotal.set(id, sum);
    return sum;
  };
  const rootNode = profile.nodes[0];
  const stackKeys = new Map();
  const walk = (id) => {
    const node = byId.get(id);
    const { key } = keyOf(node);
    const count = stackKeys.get(key) || 0;
    if (count === 0) inclusive.set(key, (inclusive.get(key) || 0) + subtree(id));
    stackKeys.set(key, count + 1);
    for (const c of node.children || []) walk(c);
    stackKeys.set(key, count);
  };
  walk(rootNode.id);

  // Share of samples whose stack passes through a file / owner at least once ("inclusive" per file), e.g. how
  // much of the time is spent under @azure/functions or under undici's Request, whoever called them.
  const inclFile = new Map();
  const inclOwner = new Map();
  const onPathFile = new Map();
  const onPathOwner = new Map();
  const walkFiles = (id) => {
    const node = byId.get(id);
    const { url, fn } = keyOf(node);
    const file = url || fn;
    const owner = ownerOf(url, fn);
    onPathFile.set(file, (onPathFile.get(file) || 0) + 1);
    onPathOwner.set(owner, (onPathOwner.get(owner) || 0) + 1);
    const us = selfUs.get(id) || 0;
    if (us) {
      for (const [f, n] of onPathFile) if (n > 0) inclFile.set(f, (inclFile.get(f) || 0) + us);
      for (const [o, n] of onPathOwner) if (n > 0) inclOwner.set(o, (inclOwner.get(o) || 0) + us);
    }
    for (const c of node.children || []) walkFiles(c);
    onPathFile.set(file, onPathFile.get(file) - 1);
    onPathOwner.set(owner, onPathOwner.get(owner) - 1);
  };
  walkFiles(rootNode.id);
  const idleUs = [...selfByFn].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
  const sortDesc = (m) => [...m].sort((a, b) => b[1] - a[1]);
  const busyUs = totalUs - idleUs;
  const pct = (us) => us / busyUs;
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    owners: sortDesc(selfByOwner).filter(([k]) => k !== '(idle)').map(([name, us]) => ({ name, ms: us / 1000, share: pct(us) })),
    files: sortDesc(selfByFile).filter(([k]) => k !== '(idle)').slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: pct(us) })),
    selfTop: sortDesc(selfByFn).filter(([k]) => !k.startsWith('(idle)')).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: pct(us) })),
    ownersInclusive: sortDesc(inclOwner)
      .filter(([k]) => !k.startsWith('(') || k === '(native)')
      .filter(([, us]) => us / busyUs >= 0.005)
      .map(([name, us]) => ({ name, ms: us / 1000, share: pct(us) })),
    filesInclusive: sortDesc(inclFile)
      .filter(([k]) => !k.startsWith('(') && !k.includes('/cjs/loader') && k !== 'node:internal/main/run_main_module')
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: pct(us) })),
    hostInclusive: sortDesc(inclusive)
      .filter(([k]) => k.includes(' dist/host/') || k.includes(' test/fixtures/'))
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: pct(us) })),
  };
}

/** @param requests when given, adds a µs-per-request column (the profile's time divided by requests served). */
function printProfileSummary(s, { out = console.log, requests } = {}) {
  const perReq = (ms) => (requests ? `${((ms * 1000) / requests).toFixed(1).padStart(7)} µs/req  ` : '');
  const fmt = (rows) => rows.map((r) => `    ${(r.share * 100).toFixed(1).padStart(5)} %  ${r.ms.toFixed(0).padStart(7)} ms  ${perReq(r.ms)}${r.name}`).join('\n');
  out(
    `  sampled ${s.totalMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms${requests ? ` for ${requests} requests served (${perReq(s.busyMs).trim()} busy, start-up included)` : ''}` +
      ' (shares below are of busy time)',
  );
  out(`  Self time by owner:\n${fmt(s.owners)}`);
  out(`  Self time by file (top ${s.files.length}):\n${fmt(s.files)}`);
  out(`  Self time by function (top ${s.selfTop.length}):\n${fmt(s.selfTop)}`);
  if (s.ownersInclusive) out(`  Time with an owner anywhere on the stack (inclusive; overlaps):\n${fmt(s.ownersInclusive)}`);
  if (s.filesInclusive) out(`  Time with a file anywhere on the stack (inclusive; overlaps; top ${s.filesInclusive.length}):\n${fmt(s.filesInclusive)}`);
  out(`  Inclusive time of host/app functions (top ${s.hostInclusive.length}):\n${fmt(s.hostInclusive)}`);
}

module.exports = { summarizeProfile, printProfileSummary };

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/lib/cpuprofile.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const { REPO_ROOT, DIST_HOST } = require('./common.js');
  printProfileSummary(summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { root: REPO_ROOT, distRoot: path.dirname(DIST_HOST), top: Number(top) || 25 }), {
    requests: Number(process.argv[4]) || undefined,
  });
}
