import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcInvocationResponse } from '../../host/core/coreApi.js';
import { fromTypedData } from '../../host/core/typedData.js';
import { EventType, type HistoryEvent, type OrchestratorState } from '../../host/durable/historyEvents.js';
import { ActionReplayer, type NewDurableTask, type ReplayResult } from '../../host/durable/replayer.js';
import type { EmbeddedHost as EmbeddedHostType, EmbeddedHostOptions, IndexedFunction } from '../../host/index.js';
import { AUDIENCE } from '../api/platform.js';
import { repoRoot } from '../support/hostProcess.js';
import { FIXTURE_DIR, type HistoryFixture, type RecordedInstance, recordHistories } from './recordHistories.js';

/**
 * Recorded histories of representative completed runs (fixtures/histories/*.json, see recordHistories.ts for how to
 * re-record them) replayed against the CURRENT orchestrator code, without executing any activity, timer or
 * sub-orchestration. The compiled app runs on the embedded host in this process (vitest runs each test file in its
 * own process; the host is one per process); each recorded episode is fed to the orchestrator through the host's
 * invocation path exactly as the orchestration engine builds the trigger payload, and the host's ActionReplayer
 * reconciles the actions the code yields with the recorded history. A replay passes when, episode after episode:
 *  - the replayer reports no non-determinism, no unsupported action and no unconsumed action;
 *  - the tasks the code schedules are exactly the recorded scheduling events of that episode (same sequence id,
 *    kind, name, sub-orchestration instance id, input, timer fire time);
 *  - the episode that recorded ExecutionCompleted completes with the same output, and no earlier one does.
 * So a change to the orchestrators (or to the planner they drive) that would break runs in flight fails here.
 */

const SCHEMA = { upperSchemaVersion: 1, upperSchemaVersionNew: 2 };
const TIMER_OPTIONS = { maximumShortTimerDuration: '36500.00:00:00', longRunningTimerIntervalDuration: '3.00:00:00', defaultHttpAsyncRequestSleepTimeMillseconds: 30_000 };
const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';
const SCHEDULING = new Set<number>([EventType.TaskScheduled, EventType.TimerCreated, EventType.SubOrchestrationInstanceCreated, EventType.EventSent]);
const EPISODE_END = new Set<number>([EventType.ExecutionCompleted, EventType.OrchestratorCompleted, EventType.ContinueAsNew]);
const SHAPES = ['sequence', 'parallel', 'condition', 'forEach', 'errorHandling', 'delay'] as const;

const replayer = new ActionReplayer({ ...TIMER_OPTIONS, schemaVersion: SCHEMA.upperSchemaVersionNew });
let host: EmbeddedHostType;
let workDir: string;

function loadFixture(shape: string): HistoryFixture {
  return JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, `${shape}.json`), 'utf8')) as HistoryFixture;
}

/** What replaying one instance found. */
interface InstanceReplay {
  instanceId: string;
  name: string;
  episodes: number;
  problems: string[];
  /** Non-determinism the ActionReplayer itself reported (a subset of problems). */
  nonDeterminism: string[];
  done: boolean;
  output: unknown;
}

/** The scheduling event the engine writes for a new task (orchestrationEngine.ts `schedule`), reduced to what must match. */
function expectedEvent(task: NewDurableTask): Record<string, unknown> {
  const input = task.input === undefined ? null : JSON.stringify(task.input);
  switch (task.kind) {
    case 'activity':
    case 'http':
      return { EventType: EventType.TaskScheduled, EventId: task.id, Name: task.kind === 'http' ? 'BuiltIn::HttpActivity' : task.name, Input: task.kind === 'http' ? JSON.stringify(task.httpRequest ?? null) : input };
    case 'timer':
      return { EventType: EventType.TimerCreated, EventId: task.id, FireAt: new Date(task.fireAt!).toISOString() };
    case 'suborchestration':
      return { EventType: EventType.SubOrchestrationInstanceCreated, EventId: task.id, Name: task.name, InstanceId: task.instanceId, Input: input };
  }
}

function recordedEvent(event: HistoryEvent): Record<string, unknown> {
  const e = event as unknown as Record<string, unknown>;
  switch (event.EventType) {
    case EventType.TaskScheduled:
      return { EventType: e['EventType'], EventId: e['EventId'], Name: e['Name'], Input: e['Input'] };
    case EventType.TimerCreated:
      return { EventType: e['EventType'], EventId: e['EventId'], FireAt: new Date(String(e['FireAt'])).toISOString() };
    case EventType.SubOrchestrationInstanceCreated:
      return { EventType: e['EventType'], EventId: e['EventId'], Name: e['Name'], InstanceId: e['InstanceId'], Input: e['Input'] };
    default:
      return { EventType: e['EventType'], EventId: e['EventId'] };
  }
}

function parseJson(text: unknown): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(String(text)) as unknown;
  } catch {
    return text;
  }
}

/** Runs the app's orchestrator once, as the engine does for an episode; returns its state (or why there is none). */
async function invokeOrchestrator(orchestrator: IndexedFunction, instanceId: string, parentInstanceId: string | null, input: string | null, played: HistoryEvent[], fresh: HistoryEvent[]): Promise<OrchestratorState | string> {
  const serialize = (event: HistoryEvent, isPlayed: boolean): string => JSON.stringify({ ...event, IsPlayed: isPlayed });
  const triggerJson =
    `{"history":[${[...played.map((e) => serialize(e, true)), ...fresh.map((e) => serialize(e, false))].join(',')}],"input":${input ?? 'null'},` +
    `"instanceId":${JSON.stringify(instanceId)},"isReplaying":${played.length > 0},"parentInstanceId":${JSON.stringify(parentInstanceId)},` +
    `"upperSchemaVersion":${SCHEMA.upperSchemaVersion},"upperSchemaVersionNew":${SCHEMA.upperSchemaVersionNew},` +
    `"longRunningTimerIntervalDuration":${JSON.stringify(TIMER_OPTIONS.longRunningTimerIntervalDuration)},` +
    `"maximumShortTimerDuration":${JSON.stringify(TIMER_OPTIONS.maximumShortTimerDuration)},` +
    `"defaultHttpAsyncRequestSleepTimeMillseconds":${TIMER_OPTIONS.defaultHttpAsyncRequestSleepTimeMillseconds}}`;
  try {
    const response: RpcInvocationResponse = await host.execute(orchestrator, {
      inputData: [{ name: orchestrator.trigger.name, data: { string: triggerJson } }, ...[...orchestrator.inputs].map(([name, prepared]) => ({ name, data: prepared.data() }))],
      triggerMetadata: { instanceId: { string: instanceId } },
      reason: 'Replay test',
    });
    const state = fromTypedData(response.returnValue) as OrchestratorState | undefined;
    return state && Array.isArray(state.actions) ? state : 'the orchestrator returned no orchestration state';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const index = message.indexOf(OUT_OF_PROC_LABEL);
    return index >= 0 ? (JSON.parse(message.slice(index + OUT_OF_PROC_LABEL.length)) as OrchestratorState) : `the orchestrator threw: ${message}`;
  }
}

/**
 * Replays one recorded instance episode by episode. `mutateInput` may change the instance input (the definition
 * travels in it) to simulate a changed workflow or orchestrator under a running instance.
 */
async function replayInstance(recorded: RecordedInstance, mutateInput?: (input: any) => void): Promise<InstanceReplay> {
  let events = recorded.events as unknown as HistoryEvent[];
  const started = events.find((e) => e.EventType === EventType.ExecutionStarted) as (HistoryEvent & { Input: string | null; Name: string; ParentInstance: { OrchestrationInstance: { InstanceId: string } } | null }) | undefined;
  const result: InstanceReplay = { instanceId: recorded.instanceId, name: recorded.name, episodes: 0, problems: [], nonDeterminism: [], done: false, output: undefined };
  if (!started) {
    result.problems.push('no ExecutionStarted in the recorded history');
    return result;
  }
  let input = started.Input;
  if (mutateInput) {
    const parsed = JSON.parse(input ?? 'null') as unknown;
    mutateInput(parsed);
    input = JSON.stringify(parsed);
    events = events.map((e) => (e === started ? ({ ...started, Input: input } as HistoryEvent) : e));
  }
  const orchestrator = host.functions.find((f) => f.fn.name.toLowerCase() === started.Name.toLowerCase());
  if (!orchestrator || orchestrator.triggerType !== 'orchestrationtrigger') {
    result.problems.push(`orchestrator '${started.Name}' is not registered by the current code`);
    return result;
  }
  const parentInstanceId = started.ParentInstance?.OrchestrationInstance.InstanceId ?? null;

  // 1. The whole recorded history at once (as after a restart of a finished or late instance): every scheduling
  //    event in it must be matched by a task of the same kind and name (the ActionReplayer's non-determinism check),
  //    nothing new may be scheduled, and the code must complete with the recorded output.
  const completedEvent = events.find((e) => e.EventType === EventType.ExecutionCompleted) as (HistoryEvent & { Result: string | null }) | undefined;
  const whole = events.filter((e) => e.EventType !== EventType.ExecutionCompleted);
  if (whole[whole.length - 1]?.EventType === EventType.OrchestratorCompleted) whole.pop();
  const wholeState = await invokeOrchestrator(orchestrator, recorded.instanceId, parentInstanceId, input, whole, []);
  if (typeof wholeState === 'string') {
    result.problems.push(`${recorded.instanceId} (whole history): ${wholeState}`);
    return result;
  }
  const wholeReplay = replayer.run(wholeState.actions[0] ?? [], whole);
  if (wholeReplay.nonDeterminism.length) {
    result.nonDeterminism.push(...wholeReplay.nonDeterminism);
    result.problems.push(...wholeReplay.nonDeterminism.map((text) => `${recorded.instanceId} (whole history): Non-Deterministic workflow detected: ${text}`));
  }
  if (wholeReplay.newTasks.length) result.problems.push(`${recorded.instanceId} (whole history): the current code schedules ${wholeReplay.newTasks.length} task(s) the history does not have: ${JSON.stringify(wholeReplay.newTasks.map(expectedEvent)).slice(0, 400)}`);
  if (completedEvent && !(wholeState.isDone && wholeReplay.open === 0 && JSON.stringify(wholeState.output ?? null) === JSON.stringify(parseJson(completedEvent.Result)))) {
    result.problems.push(`${recorded.instanceId} (whole history): does not complete with the recorded output (isDone=${wholeState.isDone}, open=${wholeReplay.open}, error=${wholeState.error ?? ''})`);
  }

  // 2. Episode by episode, as the engine ran it.
  // Split into episodes at OrchestratorStarted.
  const episodes: HistoryEvent[][] = [];
  for (const event of events) {
    if (event.EventType === EventType.OrchestratorStarted || episodes.length === 0) episodes.push([]);
    episodes[episodes.length - 1]!.push(event);
  }
  const played: HistoryEvent[] = [];
  const problemsBefore = result.problems.length;
  for (const [index, episode] of episodes.entries()) {
    const where = `${recorded.instanceId} episode ${index + 1}/${episodes.length}`;
    const fresh = episode.filter((e) => !SCHEDULING.has(e.EventType) && !EPISODE_END.has(e.EventType));
    const recordedScheduled = episode.filter((e) => SCHEDULING.has(e.EventType)).map(recordedEvent);
    const completed = episode.find((e) => e.EventType === EventType.ExecutionCompleted) as (HistoryEvent & { OrchestrationStatus: number; Result: string | null }) | undefined;
    result.episodes++;

    const state = await invokeOrchestrator(orchestrator, recorded.instanceId, parentInstanceId, input, played, fresh);
    if (typeof state === 'string') {
      result.problems.push(`${where}: ${state}`);
      return result;
    }
    const actions = state.actions[0] ?? [];
    const replay: ReplayResult = replayer.run(actions, [...played, ...fresh]);
    if (replay.nonDeterminism.length) {
      result.nonDeterminism.push(...replay.nonDeterminism);
      result.problems.push(...replay.nonDeterminism.map((text) => `${where}: Non-Deterministic workflow detected: ${text}`));
    }
    if (replay.unsupported.length) result.problems.push(`${where}: unsupported actions: ${replay.unsupported.join('; ')}`);
    const failed = state.error !== undefined && state.error !== null;
    if (failed) result.problems.push(`${where}: the orchestrator failed: ${state.error}`);
    if (!failed && replay.unconsumedActions > 0) result.problems.push(`${where}: ${replay.unconsumedActions} actions could not be matched to the history (unconsumed)`);
    if (replay.duplicateCompletions.length || replay.unmatchedCompletions.length) {
      result.problems.push(`${where}: completions for unknown tasks: duplicate [${replay.duplicateCompletions.join(',')}], unmatched [${replay.unmatchedCompletions.join(',')}]`);
    }
    const produced = replay.newTasks.map(expectedEvent);
    if (JSON.stringify(produced) !== JSON.stringify(recordedScheduled)) {
      result.problems.push(`${where}: the current code schedules ${JSON.stringify(produced).slice(0, 600)} but the history recorded ${JSON.stringify(recordedScheduled).slice(0, 600)}`);
    }
    const finishes = state.isDone && !failed && replay.open === 0;
    if (completed) {
      if (!finishes) result.problems.push(`${where}: the history completed here, the current code does not (isDone=${state.isDone}, open=${replay.open})`);
      else if (completed.OrchestrationStatus !== 1) result.problems.push(`${where}: the recorded execution ended with status ${completed.OrchestrationStatus}, the replay completes`);
      else if (JSON.stringify(state.output ?? null) !== JSON.stringify(parseJson(completed.Result))) {
        result.problems.push(`${where}: output ${JSON.stringify(state.output ?? null)} differs from the recorded ${completed.Result}`);
      }
      result.done = finishes;
      result.output = state.output ?? null;
    } else if (finishes) {
      result.problems.push(`${where}: the current code completes here, the history went on`);
    }
    if (result.problems.length > problemsBefore) return result;
    played.push(...episode);
  }
  if (!result.done) result.problems.push(`${recorded.instanceId}: the recorded history never completed`);
  return result;
}

async function replayFixture(fixture: HistoryFixture, mutate?: { instanceId: string; input: (input: any) => void }): Promise<InstanceReplay[]> {
  const results: InstanceReplay[] = [];
  for (const instance of fixture.instances) results.push(await replayInstance(instance, mutate?.instanceId === instance.instanceId ? mutate.input : undefined));
  return results;
}

describe('replaying recorded run histories against the current orchestrators', () => {
  const previousEnv = { ...process.env };

  beforeAll(async () => {
    if (process.env['AIQ_RECORD_HISTORIES'] === '1') {
      const written = await recordHistories();
      console.log(`[replay] re-recorded ${written.length} fixtures: ${written.map((file) => path.relative(repoRoot, file)).join(', ')}`);
    }
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-replay-'));
    // The app reads its settings from process.env (this file's process only).
    Object.assign(process.env, {
      AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
      AIQ_SQLITE_PATH: path.join(workDir, 'app.db'),
      AIQ_DEDICATED_TENANT_DIR: path.join(workDir, 'tenants'),
      AIQ_DEV_ISSUER_KEY_FILE: path.join(workDir, 'dev-issuer', 'signing-key.json'),
      AIQ_API_AUDIENCE: AUDIENCE,
    });
    // The compiled host and app, as in production (the app's entry points are dist/**; see package.json "main").
    const { EmbeddedHost } = require(path.join(repoRoot, 'dist', 'host', 'index.js')) as { EmbeddedHost: new (options: EmbeddedHostOptions) => EmbeddedHostType };
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    host = new EmbeddedHost({ appDir: repoRoot, port: 0, stateDir: path.join(workDir, 'state'), logFormat: 'json', logDestination: sink, auth: 'disabled' });
    await host.start();
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    process.env = previousEnv;
  });

  for (const shape of SHAPES) {
    it(`replays the recorded ${shape} run (every instance, every episode) with no divergence and the same output`, async () => {
      const fixture = loadFixture(shape);
      const results = await replayFixture(fixture);
      const episodes = results.reduce((sum, r) => sum + r.episodes, 0);
      const events = fixture.instances.reduce((sum, i) => sum + i.events.length, 0);
      console.log(`[replay] ${shape}: ${results.length} instances (${[...new Set(results.map((r) => r.name))].join(', ')}), ${events} events, ${episodes} episodes replayed, problems ${results.reduce((s, r) => s + r.problems.length, 0)}`);
      expect(results.flatMap((r) => r.problems)).toEqual([]);
      expect(results.every((r) => r.done)).toBe(true);
      const top = results.find((r) => r.instanceId === fixture.runId)!;
      expect(top.name).toBe('runWorkflow');
      // The run's recorded output is what the top-level orchestration returns (null when it has none).
      expect(top.output).toEqual(fixture.run.status === 'succeeded' ? fixture.run.output : null);
    });
  }

  describe('the check fails when a change would break runs in flight', () => {
    it('fails when a step is renamed (the step sub-orchestration id and input differ)', async () => {
      const fixture = loadFixture('sequence');
      const results = await replayFixture(fixture, {
        instanceId: fixture.runId,
        input: (input) => {
          const finish = input.definition.steps.find((s: { id: string }) => s.id === 'finish');
          finish.id = 'finished';
        },
      });
      const problems = results.flatMap((r) => r.problems);
      const nonDeterminism = results.flatMap((r) => r.nonDeterminism);
      console.log(`[replay] renamed step: ${problems.length} problem(s), ${nonDeterminism.length} from the ActionReplayer; first: ${problems[0]?.slice(0, 240)}`);
      // The recorded result of step 'finish' no longer completes the run: the code schedules the renamed step
      // where the history has the final activity (the ActionReplayer's non-determinism check) ...
      expect(nonDeterminism.length).toBeGreaterThan(0);
      expect(nonDeterminism[0]).toMatch(/scheduled activity '.+' with sequence ID \d+/);
      // ... and episode by episode the scheduled step inputs differ from the recorded ones.
      expect(problems.join('\n')).toContain('the current code schedules');
    });

    it('fails when the definition order of parallel steps changes (the wave schedules them in another order)', async () => {
      const fixture = loadFixture('parallel');
      const results = await replayFixture(fixture, {
        instanceId: fixture.runId,
        input: (input) => {
          const steps = input.definition.steps as Array<{ id: string }>;
          const billing = steps.findIndex((s) => s.id === 'setUpBilling');
          const shipping = steps.findIndex((s) => s.id === 'setUpShipping');
          [steps[billing], steps[shipping]] = [steps[shipping]!, steps[billing]!];
        },
      });
      const problems = results.flatMap((r) => r.problems);
      console.log(`[replay] reordered steps: ${problems.length} problem(s); first: ${problems[0]?.slice(0, 200)}`);
      expect(problems.length).toBeGreaterThan(0);
    });

    it('fails when the run deadline changes (scheduled inputs and the deadline timer differ: only the strict comparison sees it)', async () => {
      const fixture = loadFixture('parallel');
      const results = await replayFixture(fixture, {
        instanceId: fixture.runId,
        input: (input) => {
          input.definition.timeoutSeconds = 7200;
        },
      });
      const problems = results.flatMap((r) => r.problems);
      console.log(`[replay] deadline changed: ${problems.length} problem(s), ${results.flatMap((r) => r.nonDeterminism).length} from the ActionReplayer; first: ${problems[0]?.slice(0, 240)}`);
      expect(problems.length).toBeGreaterThan(0);
      // Same kinds and names throughout: the ActionReplayer alone would not notice.
      expect(results.flatMap((r) => r.nonDeterminism)).toEqual([]);
      expect(problems.join('\n')).toContain('the current code schedules');
    });
  });
});
