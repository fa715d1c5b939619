'use strict';
// Onboarding a tenant and publishing its first workflow, through HTTP on the embedded host: p50/p99 of each
// call and of the whole onboarding (create tenant → create workflow → publish → start a run), sequentially so
// the figures are latencies, not queueing. The platform runs as a child process (the real CLI, SQLite store,
// development-issuer tokens); this process only sends requests. Prints figures; never asserts.
//   node bench/onboarding.js [--count 200]
const { requireBuild, printMachineFacts, summarize, fmtMs, printTable, parseArgs } = require('./lib/common');
const { startPlatformHost } = require('./lib/platformHost');

async function main() {
  requireBuild();
  const args = parseArgs({ count: 200 });
  const count = Number(args.count);
  const platform = await startPlatformHost('aiq-bench-onboarding-');
  const { baseUrl } = platform;
  const platformToken = await platform.token('Platform.Admin');
  const call = async (method, route, token, body) => {
    const started = performance.now();
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    await response.arrayBuffer();
    if (response.status >= 300) throw new Error(`${method} ${route} answered ${response.status}`);
    return performance.now() - started;
  };
  const definition = { schemaVersion: 1, name: 'Bench', steps: [{ id: 'a', type: 'action', connector: 'core', action: 'noop', inputs: {} }, { id: 'b', type: 'action', connector: 'core', action: 'log', dependsOn: ['a'], inputs: { message: 'hello' } }] };
  const timings = { createTenant: [], createWorkflow: [], publish: [], startRun: [], total: [] };
  const warmup = 20;
  for (let i = 0; i < count + warmup; i++) {
    const tenantId = `bench-${i}`;
    const tenantToken = await platform.token('Tenant.Admin', tenantId);
    const t = [
      await call('POST', '/api/tenants', platformToken, { id: tenantId, name: `Bench ${i}`, tier: 'standard' }),
      await call('POST', `/api/tenants/${tenantId}/workflows`, tenantToken, { id: 'first', name: 'First', definition }),
      await call('POST', `/api/tenants/${tenantId}/workflows/first/versions`, tenantToken),
      await call('POST', `/api/tenants/${tenantId}/workflows/first/runs`, tenantToken, { input: {} }),
    ];
    if (i < warmup) continue;
    timings.createTenant.push(t[0]);
    timings.createWorkflow.push(t[1]);
    timings.publish.push(t[2]);
    timings.startRun.push(t[3]);
    timings.total.push(t.reduce((a, b) => a + b, 0));
  }
  platform.stop();
  printMachineFacts();
  console.log(`\nOnboarding through HTTP (${count} tenants after ${warmup} warm-up; SQLite WAL synchronous=NORMAL; one request at a time):`);
  printTable([
    ['operation', 'p50 ms', 'p99 ms', 'max ms'],
    ...Object.entries(timings).map(([name, values]) => {
      const s = summarize(values);
      return [name, fmtMs(s.p50), fmtMs(s.p99), fmtMs(s.max)];
    }),
  ]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
