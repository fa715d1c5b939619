'use strict';
// Workloads of bench/engine.js through the public API: onboarding a premium tenant with high quotas, the
// HelloSequence5 and 1,000-item forEach definitions, batches of runs started over HTTP, waiting for them, and
// reading back their timestamps. Figures only; nothing asserts.

const { sleep } = require('./common.js');
const { processCpuMs } = require('./engine-stack.js');

const TENANT = 'bench-engine';
const HS5 = 'hello-sequence5';
const FOREACH = 'foreach-1000';

/** HelloSequence5: 5 sequential core.noop actions (s1 -> s5). */
const helloSequence5 = {
  schemaVersion: 1,
  name: 'HelloSequence5',
  description: 'Five sequential no-op actions (the Durable Functions HelloSequence5 shape).',
  steps: [1, 2, 3, 4, 5].map((i) => ({ id: `s${i}`, type: 'action', connector: 'core', action: 'noop', ...(i > 1 ? { dependsOn: [`s${i - 1}`] } : {}) })),
};

/** One forEach over the input list (up to LIMITS.maxForEachItems = 1,000), a core.noop per item. */
function forEachDefinition(concurrency) {
  return {
    schemaVersion: 1,
    name: 'ForEach1000',
    description: 'A no-op per item of inputs.items.',
    inputs: { type: 'object', required: ['items'], properties: { items: { type: 'array', maxItems: 1000 } } },
    steps: [{ id: 'each', type: 'forEach', items: { $expr: 'inputs.items' }, concurrency, action: { connector: 'core', action: 'noop' } }],
  };
}

/** Creates the tenant (premium, quotas raised to the schema maxima / large), publishes both workflows. */
async function onboard(stack, { forEachConcurrency }) {
  const platform = await stack.token({ role: 'Platform.Admin' });
  const quotas = { requestsPerSecond: 10000, runsPerDay: 100_000_000, maxConcurrentRuns: 1_000_000 };
  await stack.must('POST', '/api/tenants', platform, { id: TENANT, name: 'Engine bench', tier: 'premium' });
  const patched = await stack.must('PATCH', `/api/tenants/${TENANT}`, platform, { quotas });
  const token = await stack.token({ role: 'Tenant.Admin', tenantId: TENANT });
  for (const [id, definition] of [
    [HS5, helloSequence5],
    [FOREACH, forEachDefinition(forEachConcurrency)],
  ]) {
    await stack.must('POST', `/api/tenants/${TENANT}/workflows`, token, { id, name: definition.name, definition });
    await stack.must('POST', `/api/tenants/${TENANT}/workflows/${id}/versions`, token);
  }
  return { token, tenant: TENANT, quotas: patched.body.quotas, tier: patched.body.tier };
}

function startRun(stack, ctx, workflowId, input) {
  return stack.call('POST', `/api/tenants/${ctx.tenant}/workflows/${workflowId}/runs`, ctx.token, { input });
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
async function pool(n, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

/** True when the tenant has no queued and no running run (two list calls with limit=1). */
async function idle(stack, ctx) {
  for (const status of ['queued', 'running']) {
    const r = await stack.must('GET', `/api/tenants/${ctx.tenant}/runs?status=${status}&limit=1`, ctx.token);
    if (r.body.items.length) return false;
  }
  return true;
}

/** Every run of `workflowId` created at or after `from` (ISO), by paging the list (limit 100). */
async function listAll(stack, ctx, workflowId, from) {
  const items = [];
  let route = `/api/tenants/${ctx.tenant}/runs?workflowId=${workflowId}&limit=100&createdFrom=${encodeURIComponent(from)}`;
  while (route) {
    const r = await stack.must('GET', route, ctx.token);
    items.push(...r.body.items);
    route = r.body.nextLink || null;
  }
  return items;
}

async function getRun(stack, ctx, runId) {
  return (await stack.must('GET', `/api/tenants/${ctx.tenant}/runs/${runId}`, ctx.token)).body;
}

/** Decomposition of one run's first-step latency: all wall-clock ms (Date.now / stored ISO timestamps, one machine). */
function firstStepBreakdown(sentAt, run) {
  const step1 = (run.steps || []).find((s) => s.stepId === 's1' && s.iteration == null) || (run.steps || []).filter((s) => s.startedAt).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))[0];
  if (!step1 || !step1.startedAt) return undefined;
  const created = Date.parse(run.createdAt);
  const started = Date.parse(run.startedAt);
  const first = Date.parse(step1.startedAt);
  return { total: first - sentAt, toCreated: created - sentAt, createdToStarted: started - created, startedToStep1: first - started };
}

/**
 * Starts `runs` HelloSequence5 runs over HTTP (`postConcurrency` requests in flight), waits until the tenant has no
 * queued or running run (polling every `pollMs`), then reads back every run. `sampleLatency` runs (spread evenly)
 * get a GET with steps for the first-step latency under this load.
 */
async function batch(stack, ctx, { runs, postConcurrency, pollMs = 50, timeoutMs, sampleLatency = 100 }) {
  const from = new Date(Date.now() - 5).toISOString();
  const sent = new Array(runs);
  const ids = new Array(runs);
  const postMs = [];
  const statuses = {};
  const cpu0 = processCpuMs(stack.pid);
  const ownCpu0 = process.cpuUsage();
  const t0 = Date.now();
  const p0 = performance.now();
  await pool(runs, postConcurrency, async (i) => {
    const r = await startRun(stack, ctx, HS5, {});
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    sent[i] = r.sentAt;
    postMs.push(r.ms);
    if (r.status === 202) ids[i] = r.body.id;
  });
  const submitMs = performance.now() - p0;
  let polls = 0;
  let timedOut = false;
  for (;;) {
    polls++;
    if (await idle(stack, ctx)) break;
    if (performance.now() - p0 > timeoutMs) {
      timedOut = true;
      break;
    }
    await sleep(pollMs);
  }
  const observedMs = performance.now() - p0;
  const hostCpuMs = processCpuMs(stack.pid) - cpu0;
  const own = process.cpuUsage(ownCpu0);
  const items = (await listAll(stack, ctx, HS5, from)).filter((run) => ids.includes(run.id));
  let lastCompleted = -Infinity;
  const byStatus = {};
  for (const run of items) {
    byStatus[run.status] = (byStatus[run.status] || 0) + 1;
    if (run.completedAt) lastCompleted = Math.max(lastCompleted, Date.parse(run.completedAt));
  }
  const succeeded = byStatus.succeeded || 0;
  const makespanMs = lastCompleted - t0;
  const runMs = items.filter((r) => r.completedAt).map((r) => Date.parse(r.completedAt) - Date.parse(r.createdAt));
  // First-step latency under load, for an even sample of the batch.
  const latency = [];
  const step = Math.max(1, Math.floor(runs / sampleLatency));
  const picks = [];
  for (let i = 0; i < runs && picks.length < sampleLatency; i += step) if (ids[i]) picks.push(i);
  await pool(picks.length, 16, async (k) => {
    const i = picks[k];
    const b = firstStepBreakdown(sent[i], await getRun(stack, ctx, ids[i]));
    if (b) latency.push(b);
  });
  return {
    runs,
    postStatuses: statuses,
    byStatus,
    succeeded,
    timedOut,
    submitMs,
    acceptedPerSec: (statuses[202] || 0) / (submitMs / 1000),
    makespanMs,
    observedMs,
    runsPerSec: succeeded / (makespanMs / 1000),
    polls,
    postMs,
    runMs,
    hostCpuMs,
    hostCpuMsPerRun: hostCpuMs / runs,
    hostCpuShare: hostCpuMs / observedMs,
    clientCpuShare: (own.user + own.system) / 1000 / observedMs,
    latency,
  };
}

/** `count` runs one at a time on an idle system: POST, then GET every `pollMs` until terminal. */
async function sequentialLatency(stack, ctx, { count, pollMs = 20 }) {
  const out = [];
  const postMs = [];
  for (let i = 0; i < count; i++) {
    const r = await startRun(stack, ctx, HS5, {});
    if (r.status !== 202) throw new Error(`start answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    postMs.push(r.ms);
    let run;
    const deadline = performance.now() + 10_000;
    do {
      await sleep(pollMs);
      run = await getRun(stack, ctx, r.body.id);
    } while (!['succeeded', 'failed', 'cancelled'].includes(run.status) && performance.now() < deadline);
    const b = firstStepBreakdown(r.sentAt, run);
    if (b) out.push({ ...b, runMs: run.completedAt ? Date.parse(run.completedAt) - r.sentAt : NaN, status: run.status });
  }
  return { latency: out, postMs };
}

/** One 1,000-item forEach run: POST sent -> run completedAt (wall clock), with its step rows. */
async function forEachRun(stack, ctx, { items, pollMs = 50, timeoutMs }) {
  const input = { items: Array.from({ length: items }, (_, i) => i) };
  const cpu0 = processCpuMs(stack.pid);
  const r = await startRun(stack, ctx, FOREACH, input);
  if (r.status !== 202) throw new Error(`forEach start answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  const p0 = performance.now();
  let run;
  do {
    await sleep(pollMs);
    run = await getRun(stack, ctx, r.body.id);
  } while (!['succeeded', 'failed', 'cancelled'].includes(run.status) && performance.now() - p0 < timeoutMs);
  const hostCpuMs = processCpuMs(stack.pid) - cpu0;
  const steps = run.steps || [];
  const iterations = steps.filter((s) => s.iteration != null);
  const starts = iterations.filter((s) => s.startedAt).map((s) => Date.parse(s.startedAt));
  const ends = iterations.filter((s) => s.completedAt).map((s) => Date.parse(s.completedAt));
  const completed = run.completedAt ? Date.parse(run.completedAt) : NaN;
  return {
    items,
    status: run.status,
    error: run.error,
    makespanMs: completed - r.sentAt,
    createdToCompletedMs: completed - Date.parse(run.createdAt),
    toFirstIterationMs: starts.length ? Math.min(...starts) - r.sentAt : NaN,
    firstToLastIterationMs: starts.length ? Math.max(...ends) - Math.min(...starts) : NaN,
    lastIterationToCompletedMs: ends.length ? completed - Math.max(...ends) : NaN,
    iterationRows: iterations.length,
    stepRows: steps.length,
    hostCpuMs,
  };
}

module.exports = { TENANT, HS5, FOREACH, helloSequence5, forEachDefinition, onboard, batch, sequentialLatency, forEachRun, pool, idle, getRun };
