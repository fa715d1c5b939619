import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';
import { type CheckStatus, getStatus, startOrchestration, waitForStatus } from './durableClient.js';

/**
 * The task hub survives `kill -9` at any point: the host runs as a child process, is killed repeatedly while
 * activities run, between episodes and with timers pending, and restarted on the same state directory.
 * Every instance completes with the right output; activities run at least once.
 */
const appDir = path.join(repoRoot, 'test', 'fixtures', 'durable-app');

describe('durable task hub crash safety', () => {
  let host: HostProcess | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('completes every instance after repeated kill -9 and restarts', async () => {
    const stepLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-steps-')), 'steps.log');
    const env = { STEP_LOG: stepLog };
    host = await startHost({ appDir, env });
    const stateDir = host.stateDir;
    const input = { steps: 3, stepMs: 150, timerMs: 400 };
    const started: CheckStatus[] = [];
    for (let i = 0; i < 12; i++) started.push(await startOrchestration(host.baseUrl, 'CrashSequence', input));

    // Kill at different moments: during the first activities, between episodes, with timers pending.
    for (const delayMs of [100, 250, 420, 700]) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await host.kill();
      host = await startHost({ appDir, env, stateDir });
    }
    const base = host.baseUrl;
    const statuses = await Promise.all(
      started.map((s) => waitForStatus(s.statusQueryGetUri.replace(/^http:\/\/[^/]+/, base), undefined, 30_000)),
    );
    statuses.forEach((status, i) => {
      expect(status.runtimeStatus).toBe('Completed');
      const id = started[i]!.id;
      expect(status.output).toEqual([`${id}:0`, `${id}:1`, `${id}:2`, 'Hello after timer!']);
    });
    // At least once: every step ran; a step interrupted by a kill may have run twice, never zero times.
    const executions = fs.readFileSync(stepLog, 'utf8').trim().split('\n');
    for (const s of started) for (let step = 0; step < 3; step++) expect(executions).toContain(`${s.id}:${step}`);
    const history = await getStatus(started[0]!.statusQueryGetUri.replace(/^http:\/\/[^/]+/, base), '?showHistory=true');
    expect(history.historyEvents!.filter((event) => event['EventType'] === 'TaskCompleted')).toHaveLength(4);
  });
});
