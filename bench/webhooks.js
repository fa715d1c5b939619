'use strict';
// Webhook ingress on the embedded host: signed Standard Webhooks requests → 202 accepted (stored in the inbox,
// run inserted through startRun and queued), throughput and latency p50/p99, side by side with the baseline of
// the same run started through the authenticated API (`POST /api/tenants/{t}/workflows/{w}/runs`) and their
// ratios. Both go through HTTP at the same concurrency, alternating in rounds; the host executes the runs
// meanwhile in both. Prints figures; never asserts.
//   node bench/webhooks.js [--requests 1000] [--concurrency 16] [--rounds 3]
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { REPO_ROOT, requireBuild, printMachineFacts, summarize, fmtMs, fmtInt, printTable, parseArgs, median } = require('./lib/common');
const { startPlatformHost } = require('./lib/platformHost');

async function main() {
  requireBuild();
  const args = parseArgs({ requests: 1000, concurrency: 16, rounds: 3 });
  const { signStandardWebhook } = require(path.join(REPO_ROOT, 'dist', 'shared', 'application', 'webhookSignature.js'));
  const platform = await startPlatformHost('aiq-bench-webhooks-');
  const { baseUrl } = platform;
  const admin = await platform.token('Platform.Admin');
  const json = async (method, route, token, body) => {
    const response = await fetch(`${baseUrl}${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  // Quotas high enough that neither path is rate limited or out of runs.
  await json('POST', '/api/tenants', admin, { id: 'bench', name: 'Bench', tier: 'premium', quotas: { requestsPerSecond: 10000, runsPerDay: 10000000 } });
  const token = await platform.token('Tenant.Admin', 'bench');
  const definition = { schemaVersion: 1, name: 'Bench', steps: [{ id: 'a', type: 'action', connector: 'core', action: 'noop', inputs: {} }] };
  await json('POST', '/api/tenants/bench/workflows', token, { id: 'wf', name: 'Bench', definition });
  await json('POST', '/api/tenants/bench/workflows/wf/versions', token);
  const hook = await json('POST', '/api/tenants/bench/hooks', token, { workflowId: 'wf' });
  const payload = JSON.stringify({ event: 'order.created', data: { id: 42, lines: [{ sku: 'a', qty: 1 }] } });

  const senders = {
    webhook: async () => {
      const id = `msg_${randomUUID()}`;
      const timestamp = Math.floor(Date.now() / 1000);
      return fetch(`${baseUrl}/api/hooks/${hook.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(hook.secret, id, timestamp, payload) },
        body: payload,
      });
    },
    api: () =>
      fetch(`${baseUrl}/api/tenants/bench/workflows/wf/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: `{"input":${payload}}`,
      }),
  };
  const round = async (send, count) => {
    const latencies = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: args.concurrency }, async () => {
        while (next < count) {
          next += 1;
          const t0 = performance.now();
          const response = await send();
          await response.arrayBuffer();
          if (response.status !== 202) throw new Error(`answered ${response.status}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    return { perSecond: count / ((performance.now() - started) / 1000), latencies };
  };
  for (const send of Object.values(senders)) await round(send, 100); // warm-up
  const results = { webhook: [], api: [] };
  for (let r = 0; r < args.rounds; r++) {
    for (const [name, send] of Object.entries(senders)) results[name].push(await round(send, args.requests));
  }
  platform.stop();
  printMachineFacts();
  console.log(`\nRun accepted (202) through HTTP: ${args.rounds} alternating rounds of ${args.requests} requests, concurrency ${args.concurrency}, SQLite store, in-memory rate limiter:`);
  const figures = Object.fromEntries(
    Object.entries(results).map(([name, rounds]) => [name, { perSecond: median(rounds.map((x) => x.perSecond)), ...summarize(rounds.flatMap((x) => x.latencies)) }]),
  );
  printTable([
    ['path', 'req/s (median round)', 'p50 ms', 'p99 ms', 'max ms'],
    ['signed webhook → 202', fmtInt(figures.webhook.perSecond), fmtMs(figures.webhook.p50), fmtMs(figures.webhook.p99), fmtMs(figures.webhook.max)],
    ['API POST .../runs → 202', fmtInt(figures.api.perSecond), fmtMs(figures.api.p50), fmtMs(figures.api.p99), fmtMs(figures.api.max)],
    ['webhook / API', `${(figures.webhook.perSecond / figures.api.perSecond).toFixed(2)}×`, `${(figures.webhook.p50 / figures.api.p50).toFixed(2)}×`, `${(figures.webhook.p99 / figures.api.p99).toFixed(2)}×`, ''],
  ]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
