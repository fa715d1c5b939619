import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '../../shared/adapters/devissuer/index.js';
import { EXAMPLES } from '../../shared/domain/workflow-language/index.js';
import { AUDIENCE, type Role } from '../api/platform.js';
import { type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';

/**
 * Crash safety of workflow runs: the whole app runs on the embedded host as a child process with its state on
 * fixed paths (SQLite app store, dedicated-tenant dir, dev-issuer key, host state dir with the task hub and the
 * Service Bus broker). 200 runs of mixed shapes are started over HTTP while the host is killed with SIGKILL
 * 5-8 times at varied moments and restarted on the same state. Afterwards every run has finished as its shape
 * intends, none is lost, and none was started twice (one runWorkflow instance per run, one ExecutionStarted in
 * its history, one run record per Idempotency-Key).
 */

const RUNS = 200;
/** Start requests are paced at 40/s (premium: 100 req/s, burst 200), polling stays far below. */
const REQUEST_SPACING_MS = 25;
/** Pause (ms) after each restart before the next kill: 7 kills, between 100 and 1500 ms apart. */
const KILL_GAPS_MS = [100, 1500, 350, 900, 220, 1200, 600];
const SETTLE_TIMEOUT_MS = 90_000;

interface Shape {
  id: string;
  definition: unknown;
  input: unknown;
  expectStatus: 'succeeded' | 'failed';
  check?: (run: RunView) => void;
}

interface RunView {
  id: string;
  workflowId: string;
  status: string;
  output?: unknown;
  error?: { code?: string; stepId?: string } | null;
}

const SHAPES: Shape[] = [
  { id: 'sequence', definition: EXAMPLES.sequence, input: { name: 'Ada' }, expectStatus: 'succeeded', check: (run) => expect(run.output).toEqual({ greeting: 'Hello, Ada!' }) },
  { id: 'parallel', definition: EXAMPLES.parallelBranches, input: {}, expectStatus: 'succeeded', check: (run) => expect(run.output).toEqual({ account: 'ACC-c-42', zone: 'domestic' }) },
  { id: 'condition', definition: EXAMPLES.condition, input: { amount: 5000 }, expectStatus: 'succeeded', check: (run) => expect(run.output).toEqual({ route: 'review' }) },
  {
    id: 'delay',
    definition: {
      schemaVersion: 1,
      name: 'One second delay',
      steps: [
        { id: 'wait', type: 'delay', durationSeconds: 1 },
        { id: 'after', type: 'action', dependsOn: ['wait'], connector: 'core', action: 'set', inputs: { value: 'waited' } },
      ],
      outputs: { result: { $expr: 'steps.after.output' } },
    },
    input: {},
    expectStatus: 'succeeded',
    check: (run) => expect(run.output).toEqual({ result: 'waited' }),
  },
  {
    id: 'foreach',
    definition: {
      schemaVersion: 1,
      name: 'forEach over 5 items, 2 at a time',
      steps: [
        {
          id: 'each',
          type: 'forEach',
          items: [1, 2, 3, 4, 5],
          concurrency: 2,
          steps: [{ id: 'double', type: 'action', connector: 'core', action: 'set', inputs: { value: { $expr: 'item * 2.0' } } }],
          output: { $expr: 'steps.double.output' },
        },
      ],
      outputs: { doubled: { $expr: 'steps.each.output' } },
    },
    input: {},
    expectStatus: 'succeeded',
    check: (run) => expect(run.output).toEqual({ doubled: [2, 4, 6, 8, 10] }),
  },
  { id: 'errors', definition: EXAMPLES.errorHandling, input: {}, expectStatus: 'succeeded' },
  {
    id: 'rejects',
    definition: { schemaVersion: 1, name: 'Rejects', steps: [{ id: 'boom', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'no way', code: 'ORDER.REJECTED' } }] },
    input: {},
    expectStatus: 'failed',
    check: (run) => expect(run.error).toMatchObject({ code: 'ORDER.REJECTED', stepId: 'boom' }),
  },
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The platform on fixed paths, restartable: every start uses the same env and state directory. */
class RestartablePlatform {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-engine-crash-'));
  readonly keyFile = path.join(this.dir, 'dev-issuer', 'signing-key.json');
  readonly stateDir = path.join(this.dir, 'state');
  readonly env: Record<string, string> = {
    AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
    AIQ_SQLITE_PATH: path.join(this.dir, 'app.db'),
    AIQ_DEDICATED_TENANT_DIR: path.join(this.dir, 'tenants'),
    AIQ_DEV_ISSUER_KEY_FILE: this.keyFile,
    AIQ_API_AUDIENCE: AUDIENCE,
  };
  host: HostProcess | undefined;
  readonly outputs: string[] = [];
  starts = 0;

  async start(): Promise<void> {
    fs.mkdirSync(this.stateDir, { recursive: true });
    this.host = await startHost({ appDir: repoRoot, env: this.env, stateDir: this.stateDir, timeoutMs: 30_000 });
    this.starts++;
  }

  async kill(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    if (!host) return;
    await host.kill();
    this.outputs.push(host.output());
  }

  async stop(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    if (!host) return;
    await host.stop();
    this.outputs.push(host.output());
  }

  token(role: Role, tenantId?: string): Promise<string> {
    return signDevelopmentToken({ keyFile: this.keyFile, role, audience: AUDIENCE, lifetimeSeconds: 3600, ...(tenantId ? { tenantId } : {}) });
  }

  /** One request to the current host; throws while the host is down or restarting. */
  async call(method: string, route: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const host = this.host;
    if (!host) throw new Error('The host is down.');
    return fetch(`${host.baseUrl}${route}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  }
}

/** Spaces requests REQUEST_SPACING_MS apart across all callers (a simple client-side rate limit). */
function pacer(spacingMs: number): () => Promise<void> {
  let next = Date.now();
  return async () => {
    const at = Math.max(next, Date.now());
    next = at + spacingMs;
    await sleep(at - Date.now());
  };
}

describe('workflow runs survive kill -9 of the host', () => {
  const platform = new RestartablePlatform();
  afterAll(async () => {
    await platform.stop().catch(() => undefined);
  });

  it('completes every one of 200 mixed runs exactly once across repeated kill -9 and restarts', async () => {
    const began = Date.now();
    await platform.start();
    const tenantId = `crash-${Date.now().toString(36)}`;
    const admin = await platform.token('Platform.Admin');
    const created = await platform.call('POST', '/api/tenants', {
      token: admin,
      body: { id: tenantId, name: 'Crash test', tier: 'premium', quotas: { maxConcurrentRuns: 1000, runsPerDay: 1_000_000 } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const token = await platform.token('Tenant.Admin', tenantId);
    for (const shape of SHAPES) {
      const workflow = await platform.call('POST', `/api/tenants/${tenantId}/workflows`, { token, body: { id: shape.id, name: shape.id, definition: shape.definition } });
      expect(workflow.status, await workflow.clone().text()).toBe(201);
      const published = await platform.call('POST', `/api/tenants/${tenantId}/workflows/${shape.id}/versions`, { token });
      expect(published.status, await published.clone().text()).toBe(201);
    }

    // ---------------------------------------------------------------- start 200 runs while killing the host
    const pace = pacer(REQUEST_SPACING_MS);
    const runIdByKey = new Map<string, string>();
    const shapeOfRun = new Map<string, Shape>();
    let startAttempts = 0;
    let startRetries = 0;
    let replayedStarts = 0;
    const conflictingReplays: string[] = [];

    async function startRun(index: number): Promise<void> {
      const shape = SHAPES[index % SHAPES.length]!;
      const key = `crash-run-${index}`;
      const deadline = Date.now() + 60_000;
      for (let attempt = 0; ; attempt++) {
        await pace();
        startAttempts++;
        if (attempt > 0) startRetries++;
        try {
          const response = await platform.call('POST', `/api/tenants/${tenantId}/workflows/${shape.id}/runs`, { token, body: { input: shape.input }, headers: { 'idempotency-key': key } });
          if (response.status === 202) {
            const run = (await response.json()) as RunView;
            if (response.headers.get('idempotent-replayed') === 'true') replayedStarts++;
            const earlier = runIdByKey.get(key);
            if (earlier !== undefined && earlier !== run.id) conflictingReplays.push(`${key}: ${earlier} then ${run.id}`);
            runIdByKey.set(key, run.id);
            shapeOfRun.set(run.id, shape);
            return;
          }
          const text = await response.text();
          // 429 (rate limit) and 5xx (a restart under way) are retried; any other answer is a test failure.
          if (response.status !== 429 && response.status < 500) throw new Error(`Starting run ${key} answered ${response.status}: ${text}`);
        } catch (error) {
          if ((error as Error).message.startsWith('Starting run')) throw error;
          // The host is down or the connection broke mid-request: retry with the same Idempotency-Key.
        }
        if (Date.now() > deadline) throw new Error(`Run ${key} could not be started within 60 s.`);
        await sleep(Math.min(50 * 2 ** attempt, 500));
      }
    }

    let nextIndex = 0;
    const starters = Promise.all(
      Array.from({ length: 6 }, async () => {
        while (nextIndex < RUNS) await startRun(nextIndex++);
      }),
    );
    let startsDone = false;
    void starters.then(
      () => (startsDone = true),
      () => (startsDone = true),
    );

    const killedAt: number[] = [];
    const restartMs: number[] = [];
    for (const gap of KILL_GAPS_MS) {
      await sleep(gap);
      killedAt.push(Date.now() - began);
      await platform.kill();
      const restarting = Date.now();
      await platform.start();
      restartMs.push(Date.now() - restarting);
    }
    await starters;
    const startedAfterMs = Date.now() - began;
    console.log(`[engine crash] started ${runIdByKey.size} runs in ${startedAfterMs} ms; ${startAttempts} start requests (${startRetries} retries, ${replayedStarts} idempotent replays); startsDone=${startsDone}`);
    console.log(`[engine crash] ${killedAt.length} kill -9 at ${killedAt.join(', ')} ms; restarts took ${restartMs.join(', ')} ms`);
    expect(conflictingReplays).toEqual([]);
    expect(runIdByKey.size).toBe(RUNS);
    const runIds = [...runIdByKey.values()];
    expect(new Set(runIds).size).toBe(RUNS);

    // ---------------------------------------------------------------- wait for every run to finish (bounded)
    async function listAllRuns(): Promise<RunView[]> {
      const items: RunView[] = [];
      let continuationToken: string | undefined;
      do {
        const query = new URLSearchParams({ limit: '100', ...(continuationToken ? { continuationToken } : {}) });
        const response = await platform.call('GET', `/api/tenants/${tenantId}/runs?${query}`, { token });
        if (response.status !== 200) throw new Error(`Listing runs answered ${response.status}: ${await response.text()}`);
        const page = (await response.json()) as { items: RunView[]; continuationToken?: string | null };
        items.push(...page.items);
        continuationToken = page.continuationToken ?? undefined;
      } while (continuationToken);
      return items;
    }
    const terminal = new Set(['succeeded', 'failed', 'cancelled']);
    const settleDeadline = Date.now() + SETTLE_TIMEOUT_MS;
    let runs: RunView[] = [];
    for (;;) {
      try {
        runs = await listAllRuns();
        const byId = new Map(runs.map((run) => [run.id, run]));
        if (runIds.every((id) => terminal.has(byId.get(id)?.status ?? ''))) break;
      } catch {
        // keep polling
      }
      if (Date.now() > settleDeadline) break;
      await sleep(500);
    }
    const settledAfterMs = Date.now() - began;
    const byId = new Map(runs.map((run) => [run.id, run]));
    const lost = runIds.filter((id) => !terminal.has(byId.get(id)?.status ?? ''));
    const statusCounts: Record<string, number> = {};
    for (const id of runIds) {
      const status = byId.get(id)?.status ?? 'missing';
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    }
    const unexpected: string[] = [];
    for (const id of runIds) {
      const run = byId.get(id);
      const shape = shapeOfRun.get(id)!;
      if (!run || !terminal.has(run.status)) continue;
      if (run.status !== shape.expectStatus) {
        unexpected.push(`${id} (${shape.id}): ${run.status} ${JSON.stringify(run.error ?? null)}`);
        continue;
      }
      try {
        shape.check?.(run);
      } catch (error) {
        unexpected.push(`${id} (${shape.id}): ${(error as Error).message.split('\n')[0]}`);
      }
    }
    console.log(`[engine crash] settled after ${settledAfterMs} ms: ${JSON.stringify(statusCounts)}; lost (never finished) = ${lost.length}; unexpected outcomes = ${unexpected.length}`);
    if (lost.length) console.log(`[engine crash] lost runs: ${lost.map((id) => `${id} (${shapeOfRun.get(id)!.id}, ${byId.get(id)?.status ?? 'missing'})`).join('; ')}`);
    if (unexpected.length) console.log(`[engine crash] unexpected: ${unexpected.slice(0, 20).join('; ')}`);

    // ---------------------------------------------------------------- none started twice
    // Run records: exactly one per Idempotency-Key, no extra records created by retried starts.
    const recordIds = runs.map((run) => run.id);
    const duplicateRecords = recordIds.length - new Set(recordIds).size;
    const extraRecords = recordIds.filter((id) => !shapeOfRun.has(id));
    // Orchestrations: one runWorkflow instance per run (instance id = run id), and its history has exactly one ExecutionStarted.
    const durable = `/runtime/webhooks/durabletask`;
    const instanceProblems: string[] = [];
    let executionStartedTotal = 0;
    let queue = [...runIds];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          const response = await platform.call('GET', `${durable}/instances/${encodeURIComponent(id)}?showHistory=true&showInput=false`);
          if (response.status === 404) {
            instanceProblems.push(`${id}: no orchestration instance`);
            continue;
          }
          const status = (await response.json()) as { name: string; instanceId: string; runtimeStatus: string; historyEvents?: Array<{ EventType: string }> };
          const started = (status.historyEvents ?? []).filter((event) => event.EventType === 'ExecutionStarted').length;
          executionStartedTotal += started;
          if (status.name !== 'runWorkflow' || status.instanceId !== id) instanceProblems.push(`${id}: instance ${status.instanceId} is '${status.name}'`);
          if (started !== 1) instanceProblems.push(`${id}: ${started} ExecutionStarted events`);
          if (status.runtimeStatus !== 'Completed') instanceProblems.push(`${id}: orchestration ${status.runtimeStatus}`);
        }
      }),
    );
    // Every runWorkflow instance in the task hub belongs to one of our runs (no second instance under another id).
    const runWorkflowInstances: string[] = [];
    let continuation: string | null = null;
    do {
      const response: Response = await platform.call('GET', `${durable}/instances?top=500`, { headers: continuation ? { 'x-ms-continuation-token': continuation } : {} });
      expect(response.status).toBe(200);
      const page = (await response.json()) as Array<{ name: string; instanceId: string }>;
      runWorkflowInstances.push(...page.filter((instance) => instance.name === 'runWorkflow').map((instance) => instance.instanceId));
      continuation = response.headers.get('x-ms-continuation-token');
    } while (continuation);
    const strayInstances = runWorkflowInstances.filter((id) => !shapeOfRun.has(id));
    console.log(
      `[engine crash] run records ${recordIds.length} (duplicates ${duplicateRecords}, extra ${extraRecords.length}); runWorkflow instances ${runWorkflowInstances.length} ` +
        `(stray ${strayInstances.length}); ExecutionStarted events ${executionStartedTotal} for ${RUNS} runs; instance problems ${instanceProblems.length}; ` +
        `host starts ${platform.starts}; total ${Date.now() - began} ms`,
    );
    if (instanceProblems.length) console.log(`[engine crash] instance problems: ${instanceProblems.slice(0, 20).join('; ')}`);
    queue = [];

    expect(lost).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(duplicateRecords).toBe(0);
    expect(extraRecords).toEqual([]);
    expect(instanceProblems).toEqual([]);
    expect(executionStartedTotal).toBe(RUNS);
    expect(strayInstances).toEqual([]);
    expect(new Set(runWorkflowInstances).size).toBe(RUNS);
  }, 150_000);
});
