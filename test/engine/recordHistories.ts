/**
 * Re-records the durable histories that test/engine/replay.test.ts replays (test/engine/fixtures/histories/*.json).
 *
 * Regenerate (after a deliberate, compatible change to the history format or to the recorded shapes; never to make
 * a failing replay pass, since the fixtures stand for runs in flight in production):
 *
 *   cd /work/main && npx tsc -p tsconfig.build.json && \
 *     AIQ_RECORD_HISTORIES=1 REDIS_URL=redis://127.0.0.1:6379 AIQ_BUILT=1 npx vitest run test/engine/replay
 *
 * With AIQ_RECORD_HISTORIES=1 the replay test calls {@link recordHistories} first (vitest is this repository's
 * only TypeScript runner), then replays what it wrote. Recording runs the real app on the embedded host as a child
 * process with private SQLite files, runs one run of each representative shape to its end, stops the host and
 * reads the exact histories from the task hub's SQLite file (`durabletask.db`, table `history`): the run's
 * `runWorkflow` instance and every sub-orchestration under it (instance ids `<runId>:...`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { signDevelopmentToken } from '../../shared/adapters/devissuer/index.js';
import { EXAMPLES } from '../../shared/domain/workflow-language/index.js';
import { AUDIENCE } from '../api/platform.js';
import { repoRoot, startHost } from '../support/hostProcess.js';

export const FIXTURE_DIR = path.join(__dirname, 'fixtures', 'histories');

/** One recorded orchestration instance: its exact stored history events, oldest first. */
export interface RecordedInstance {
  instanceId: string;
  name: string;
  runtimeStatus: string;
  events: Array<Record<string, unknown>>;
}

/** A fixture: one completed run with every orchestration instance it consisted of. */
export interface HistoryFixture {
  shape: string;
  description: string;
  recordedAt: string;
  runId: string;
  run: { status: string; output: unknown; error: unknown };
  instances: RecordedInstance[];
}

/** The representative shapes: name → definition and input. */
export const RECORDED_SHAPES: Record<string, { description: string; definition: unknown; input: unknown }> = {
  sequence: { description: 'EXAMPLES.sequence: three actions in a row', definition: EXAMPLES.sequence, input: { name: 'Ada' } },
  parallel: { description: 'EXAMPLES.parallelBranches: a fan-out of two branches and a join, raced against the run deadline', definition: EXAMPLES.parallelBranches, input: {} },
  condition: { description: 'EXAMPLES.condition: one branch skipped by its condition, a join any', definition: EXAMPLES.condition, input: { amount: 5000 } },
  forEach: {
    description: 'a forEach over 5 items, 2 at a time (iterations as sub-orchestrations), then an action',
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
        { id: 'report', type: 'action', dependsOn: ['each'], connector: 'core', action: 'log', inputs: { message: 'doubled' } },
      ],
      outputs: { doubled: { $expr: 'steps.each.output' } },
    },
    input: {},
  },
  errorHandling: { description: 'EXAMPLES.errorHandling: fallbacks, onError continue and an onError handler (goto)', definition: EXAMPLES.errorHandling, input: {} },
  delay: {
    description: 'a 1 s durable timer between two actions',
    definition: {
      schemaVersion: 1,
      name: 'One second delay',
      steps: [
        { id: 'before', type: 'action', connector: 'core', action: 'noop' },
        { id: 'wait', type: 'delay', dependsOn: ['before'], durationSeconds: 1 },
        { id: 'after', type: 'action', dependsOn: ['wait'], connector: 'core', action: 'set', inputs: { value: 'waited' } },
      ],
      outputs: { result: { $expr: 'steps.after.output' } },
    },
    input: {},
  },
};

/** Runs every shape once on a fresh platform and writes one fixture per shape into `outDir`. Returns the files written. */
export async function recordHistories(outDir: string = FIXTURE_DIR): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-record-histories-'));
  const keyFile = path.join(dir, 'dev-issuer', 'signing-key.json');
  const stateDir = path.join(dir, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const host = await startHost({
    appDir: repoRoot,
    stateDir,
    env: {
      AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
      AIQ_SQLITE_PATH: path.join(dir, 'app.db'),
      AIQ_DEDICATED_TENANT_DIR: path.join(dir, 'tenants'),
      AIQ_DEV_ISSUER_KEY_FILE: keyFile,
      AIQ_API_AUDIENCE: AUDIENCE,
    },
  });
  const call = async (method: string, route: string, token: string, body?: unknown): Promise<Response> =>
    fetch(`${host.baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const runs: Array<{ shape: string; run: Record<string, unknown> }> = [];
  try {
    const tenantId = 'recorder';
    const admin = await signDevelopmentToken({ keyFile, role: 'Platform.Admin', audience: AUDIENCE });
    const created = await call('POST', '/api/tenants', admin, { id: tenantId, name: 'Recorder', tier: 'premium' });
    if (created.status !== 201) throw new Error(`Creating the tenant answered ${created.status}: ${await created.text()}`);
    const token = await signDevelopmentToken({ keyFile, role: 'Tenant.Admin', tenantId, audience: AUDIENCE });
    for (const [shape, { definition, input }] of Object.entries(RECORDED_SHAPES)) {
      const id = shape.toLowerCase();
      const workflow = await call('POST', `/api/tenants/${tenantId}/workflows`, token, { id, name: id, definition });
      if (workflow.status !== 201) throw new Error(`Creating workflow ${id} answered ${workflow.status}: ${await workflow.text()}`);
      const published = await call('POST', `/api/tenants/${tenantId}/workflows/${id}/versions`, token);
      if (published.status !== 201) throw new Error(`Publishing ${id} answered ${published.status}: ${await published.text()}`);
      const started = await call('POST', `/api/tenants/${tenantId}/workflows/${id}/runs`, token, { input });
      if (started.status !== 202) throw new Error(`Starting ${id} answered ${started.status}: ${await started.text()}`);
      const location = started.headers.get('location')!;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const run = (await (await call('GET', location, token)).json()) as Record<string, unknown>;
        if (['succeeded', 'failed', 'cancelled'].includes(String(run['status']))) {
          runs.push({ shape, run });
          break;
        }
        if (Date.now() > deadline) throw new Error(`Run of ${id} did not finish: ${JSON.stringify(run)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    // The run record is written by the orchestration's last activity; wait until the orchestration itself has completed.
    for (const { run } of runs) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const status = (await (await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(String(run['id']))}`)).json()) as { runtimeStatus: string };
        if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
        if (Date.now() > deadline) throw new Error(`Orchestration ${String(run['id'])} did not complete: ${status.runtimeStatus}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    await host.stop();
  }

  const db = new Database(path.join(stateDir, 'durabletask.db'), { readonly: true, fileMustExist: true });
  const written: string[] = [];
  try {
    const instances = db.prepare<[string, string], { instance_id: string; name: string; runtime_status: string }>(
      `SELECT instance_id, name, runtime_status FROM instances WHERE instance_id = ? OR instance_id LIKE ? ESCAPE '\\' ORDER BY created_time, instance_id`,
    );
    const history = db.prepare<[string], { event_json: string }>('SELECT event_json FROM history WHERE instance_id = ? ORDER BY position');
    fs.mkdirSync(outDir, { recursive: true });
    for (const { shape, run } of runs) {
      const runId = String(run['id']);
      const like = `${runId.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`;
      const recorded: RecordedInstance[] = instances.all(runId, like).map((row) => ({
        instanceId: row.instance_id,
        name: row.name,
        runtimeStatus: row.runtime_status,
        events: history.all(row.instance_id).map((h) => JSON.parse(h.event_json) as Record<string, unknown>),
      }));
      const fixture: HistoryFixture = {
        shape,
        description: RECORDED_SHAPES[shape]!.description,
        recordedAt: new Date().toISOString(),
        runId,
        run: { status: String(run['status']), output: run['output'] ?? null, error: run['error'] ?? null },
        instances: recorded,
      };
      const file = path.join(outDir, `${shape}.json`);
      fs.writeFileSync(file, `${JSON.stringify(fixture, null, 1)}\n`);
      written.push(file);
    }
  } finally {
    db.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return written;
}
