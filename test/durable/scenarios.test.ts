import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';
import { getStatus, raiseEvent, run, startOrchestration, waitForStatus } from './durableClient.js';

/**
 * Durable Functions on the embedded host, end to end: the real durable-functions library replays each
 * orchestrator; the host keeps the history in SQLite; everything goes through real HTTP (the app's starter
 * with a durableClient binding, and the Durable HTTP API behind the management URLs).
 */
const appDir = path.join(repoRoot, 'test', 'fixtures', 'durable-app');
const ndMarker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-nd-')), 'changed');

describe('durable orchestration scenarios', () => {
  let host: HostProcess;
  beforeAll(async () => {
    host = await startHost({ appDir, env: { ND_MARKER: ndMarker } });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('(a) chains activities', async () => {
    const status = await run(host.baseUrl, 'Sequence');
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  it('(b) fans out and in', async () => {
    const status = await run(host.baseUrl, 'FanOut', 5);
    expect(status.output).toEqual({ results: [2, 4, 6, 8, 10], sum: 30 });
  });

  it('(c) retries a flaky activity until it succeeds, with retry timers in the history', async () => {
    const started = await startOrchestration(host.baseUrl, 'Retry');
    const status = await waitForStatus(started.statusQueryGetUri);
    expect(status.output).toEqual({ key: started.id, succeededOnAttempt: 3 });
    const withHistory = await getStatus(started.statusQueryGetUri, '?showHistory=true&showHistoryOutput=true');
    const types = withHistory.historyEvents!.map((event) => event['EventType']);
    expect(types.filter((type) => type === 'TaskFailed')).toHaveLength(2);
    expect(types.filter((type) => type === 'TimerFired')).toHaveLength(2);
    // Backoff 100 ms then 200 ms (coefficient 2): the retry timers fire at least that long after the failures.
    const fired = withHistory.historyEvents!.filter((event) => event['EventType'] === 'TimerCreated').map((event) => Date.parse(String(event['FireAt'])) - Date.parse(String(event['Timestamp'])));
    expect(fired[0]).toBeGreaterThanOrEqual(99);
    expect(fired[1]).toBeGreaterThanOrEqual(199);
  });

  it('(c2) surfaces the last failure once the retries are exhausted', async () => {
    const status = await run(host.baseUrl, 'RetryExhausted');
    expect(status.output).toEqual({ caught: "Activity function 'AlwaysFails' failed: database unavailable ", isError: true });
  });

  it('(d) waits on a durable timer', async () => {
    const status = await run(host.baseUrl, 'Timer', 300);
    expect((status.output as { sleptMs: number }).sleptMs).toBeGreaterThanOrEqual(300);
  });

  it('(e) waits for an external event with custom status', async () => {
    const started = await startOrchestration(host.baseUrl, 'Approval');
    const waiting = await waitForStatus(started.statusQueryGetUri, (s) => (s.customStatus as { stage?: string } | null)?.stage === 'waiting for approval');
    expect(waiting.runtimeStatus).toBe('Running');
    expect((await raiseEvent(started, 'Approval', { by: 'alice' })).status).toBe(202);
    const done = await waitForStatus(started.statusQueryGetUri);
    expect(done.output).toEqual({ approvedBy: 'alice' });
    expect(done.customStatus).toEqual({ stage: 'approved' });
    expect((await raiseEvent(started, 'Approval', { by: 'late' })).status).toBe(410);
  });

  it('(f) races an event against a timer, both ways', async () => {
    const eventWins = await startOrchestration(host.baseUrl, 'Race', { timeoutMs: 10_000 });
    await waitForStatus(eventWins.statusQueryGetUri, (s) => s.runtimeStatus === 'Running');
    await raiseEvent(eventWins, 'Go', { fast: true });
    expect((await waitForStatus(eventWins.statusQueryGetUri)).output).toEqual({ winner: 'event', payload: { fast: true } });
    expect((await run(host.baseUrl, 'Race', { timeoutMs: 100 })).output).toEqual({ winner: 'timer' });
  });

  it('keeps an instance running until an uncancelled losing timer fires (open-task gating)', async () => {
    const started = await startOrchestration(host.baseUrl, 'RaceNoCancel', { timeoutMs: 600 });
    await waitForStatus(started.statusQueryGetUri, (s) => s.runtimeStatus === 'Running');
    await raiseEvent(started, 'Go', null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await getStatus(started.statusQueryGetUri)).runtimeStatus).toBe('Running');
    expect((await waitForStatus(started.statusQueryGetUri)).output).toEqual({ winner: 'event' });
  });

  it('(g) runs sub-orchestrations with generated and explicit ids', async () => {
    const started = await startOrchestration(host.baseUrl, 'Parent');
    const status = await waitForStatus(started.statusQueryGetUri);
    expect(status.output).toEqual([
      { greeting: 'Hello Oslo!', parent: started.id },
      { greeting: 'Hello Lima!', parent: started.id },
    ]);
    const child = await getStatus(started.statusQueryGetUri.replace(started.id, `${started.id}-child-lima`));
    expect(child.runtimeStatus).toBe('Completed');
  });

  it('(h) fails an orchestration that throws, and one whose activity fails unhandled', async () => {
    const thrown = await run(host.baseUrl, 'Throws');
    expect(thrown.runtimeStatus).toBe('Failed');
    expect(String(thrown.output)).toMatch(/^Orchestrator function 'Throws' failed: boom: something went wrong in the orchestrator/);
    const unhandled = await run(host.baseUrl, 'ActivityFailsUnhandled');
    expect(unhandled.runtimeStatus).toBe('Failed');
    expect(String(unhandled.output)).toContain("Activity function 'AlwaysFails' failed: database unavailable");
    const parent = await run(host.baseUrl, 'ParentOfThrower');
    expect((parent.output as { caught: string }).caught).toMatch(/Orchestrator function 'Throws' failed: boom/);
  });

  it('continues as new, resetting history, and quotes a string input as the library does', async () => {
    const status = await run(host.baseUrl, 'Counter', 0);
    expect(status.output).toEqual({ finalCount: 3 });
    const stringInput = await run(host.baseUrl, 'StringCan', 'first');
    expect(stringInput.output).toEqual({ secondGenerationInput: '"second"' });
  });

  it('round-trips inputs as the worker delivers them', async () => {
    const started = await startOrchestration(host.baseUrl, 'Inputs', { hello: 'world' });
    const status = await waitForStatus(started.statusQueryGetUri);
    const output = status.output as { orchestratorInput: unknown; echoes: Array<{ got: unknown; type: string; instanceId: string }> };
    expect(output.orchestratorInput).toEqual({ hello: 'world' });
    expect(output.echoes.map((echo) => [echo.got, echo.type])).toEqual([
      ['Tokyo', 'string'],
      ['123', 'string'],
      [42, 'number'],
      [true, 'boolean'],
      [{ a: [1, 'x'] }, 'object'],
      [undefined, 'undefined'],
    ]);
    expect(output.echoes[0]!.instanceId).toBe(started.id);
    // startNew without a body delivers "" (axios posts an empty string), as in production.
    const empty = await run(host.baseUrl, 'Inputs');
    expect((empty.output as { orchestratorInput: unknown }).orchestratorInput).toBe('');
  });

  it('interleaves dynamic ids of retries and timers inside Task.all', async () => {
    const status = await run(host.baseUrl, 'MixedFanOut');
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as unknown[])[1]).toBe('Hello fan!');
    expect((status.output as unknown[])[2]).toBe('Hello after!');
  });

  it('polls a 202 callHttp target until it completes', async () => {
    const status = await run(host.baseUrl, 'HttpPoll', { url: `${host.baseUrl}/api/async-operation` });
    expect(status.output).toMatchObject({ statusCode: 200 });
    expect(JSON.parse((status.output as { content: string }).content)).toMatchObject({ done: true });
  });

  it('fast-fails the remaining attempts once the retry timeout has passed', async () => {
    const status = await run(host.baseUrl, 'RetryTimeout');
    const output = status.output as { error: string; activityExecutions: number };
    expect(output.error).toMatch(/^Activity function 'CountingFailure' failed: failure #/);
    expect(output.activityExecutions).toBeLessThan(5);
  });

  it('detects a non-deterministic orchestrator and names the mismatched action', async () => {
    fs.rmSync(ndMarker, { force: true });
    const started = await startOrchestration(host.baseUrl, 'NonDeterministic');
    // Wait until the first activity's result is in the history: the orchestrator now waits for the event.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const status = await getStatus(started.statusQueryGetUri, '?showHistory=true');
      if (status.historyEvents?.some((event) => event['EventType'] === 'TaskCompleted')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    fs.writeFileSync(ndMarker, 'deployed a change');
    await raiseEvent(started, 'continue', null);
    const status = await waitForStatus(started.statusQueryGetUri);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(/Non-Deterministic workflow detected/);
    expect(String(status.output)).toMatch(/scheduled activity 'Hello' with sequence ID 0, but the current replay instead scheduled activity 'Double'/);
  });

  it('fails a re-yield of an already-completed task with a divergence message', async () => {
    const status = await run(host.baseUrl, 'Reyield');
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(/could not be matched|divergence/);
  });

  it('refuses Durable Entities clearly', async () => {
    expect(host.output()).toMatch(/CounterEntity.*Durable Entities are not supported by the embedded host/);
    const status = await run(host.baseUrl, 'UsesEntity');
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(/Durable Entities are not supported/);
  });

  it('runs 50 instances concurrently', async () => {
    const started = await Promise.all(Array.from({ length: 50 }, (_, i) => startOrchestration(host.baseUrl, 'FanOut', (i % 5) + 1)));
    const statuses = await Promise.all(started.map((s) => waitForStatus(s.statusQueryGetUri)));
    statuses.forEach((status, i) => {
      const n = (i % 5) + 1;
      expect(status.output).toMatchObject({ sum: n * (n + 1) });
    });
  });

  it('terminates, suspends and resumes through the management URLs', async () => {
    const terminated = await startOrchestration(host.baseUrl, 'Approval');
    await waitForStatus(terminated.statusQueryGetUri, (s) => s.runtimeStatus === 'Running');
    expect((await fetch(terminated.terminatePostUri.replace('{text}', 'no%20longer%20needed'), { method: 'POST' })).status).toBe(202);
    const status = await waitForStatus(terminated.statusQueryGetUri);
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('no longer needed');

    const suspended = await startOrchestration(host.baseUrl, 'Approval');
    await waitForStatus(suspended.statusQueryGetUri, (s) => s.runtimeStatus === 'Running');
    expect((await fetch(suspended.suspendPostUri.replace('{text}', 'hold'), { method: 'POST' })).status).toBe(202);
    await waitForStatus(suspended.statusQueryGetUri, (s) => s.runtimeStatus === 'Suspended');
    await raiseEvent(suspended, 'Approval', { by: 'bob' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await getStatus(suspended.statusQueryGetUri)).runtimeStatus).toBe('Suspended');
    expect((await fetch(suspended.resumePostUri.replace('{text}', 'go'), { method: 'POST' })).status).toBe(202);
    expect((await waitForStatus(suspended.statusQueryGetUri)).output).toEqual({ approvedBy: 'bob' });
  });

  it('purges a finished instance', async () => {
    const started = await startOrchestration(host.baseUrl, 'Sequence');
    await waitForStatus(started.statusQueryGetUri);
    const purged = await fetch(started.purgeHistoryDeleteUri, { method: 'DELETE' });
    expect(purged.status).toBe(200);
    expect(await purged.json()).toEqual({ instancesDeleted: 1 });
    expect((await fetch(started.statusQueryGetUri)).status).toBe(404);
  });
});
