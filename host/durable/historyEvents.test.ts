import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as h from './historyEvents.js';
import { ActionType, EventType, OrchestrationStatus, type HistoryEvent } from './historyEvents.js';

const T = '2026-01-05T10:00:00.000Z';
const T1 = '2026-01-05T10:00:01.000Z';

function fixtureHistory(name: string): HistoryEvent[] {
  const fx = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', `${name}.json`), 'utf8')) as { executions: Array<{ history: HistoryEvent[] }> };
  return fx.executions[0]!.history;
}

describe('enums', () => {
  it('EventType numbers are DurableTask.Core’s (spec 5.1)', () => {
    expect(Object.entries(EventType)).toEqual(
      Object.entries({
        ExecutionStarted: 0,
        ExecutionCompleted: 1,
        ExecutionFailed: 2,
        ExecutionTerminated: 3,
        TaskScheduled: 4,
        TaskCompleted: 5,
        TaskFailed: 6,
        SubOrchestrationInstanceCreated: 7,
        SubOrchestrationInstanceCompleted: 8,
        SubOrchestrationInstanceFailed: 9,
        TimerCreated: 10,
        TimerFired: 11,
        OrchestratorStarted: 12,
        OrchestratorCompleted: 13,
        EventSent: 14,
        EventRaised: 15,
        ContinueAsNew: 16,
        GenericEvent: 17,
        HistoryState: 18,
        ExecutionSuspended: 19,
        ExecutionResumed: 20,
      }),
    );
  });

  it('OrchestrationStatus and ActionType numbers (spec 5.1, 4)', () => {
    expect(OrchestrationStatus).toEqual({ Running: 0, Completed: 1, ContinuedAsNew: 2, Failed: 3, Canceled: 4, Terminated: 5, Pending: 6, Suspended: 7 });
    expect(ActionType).toEqual({
      CallActivity: 0,
      CallActivityWithRetry: 1,
      CallSubOrchestrator: 2,
      CallSubOrchestratorWithRetry: 3,
      ContinueAsNew: 4,
      CreateTimer: 5,
      WaitForExternalEvent: 6,
      CallEntity: 7,
      CallHttp: 8,
      SignalEntity: 9,
      WhenAny: 11,
      WhenAll: 12,
      LockEntities: 13,
      ReleaseEntities: 14,
    });
  });

  it('names numbers and tolerates unknown ones', () => {
    expect(h.eventTypeName(4)).toBe('TaskScheduled');
    expect(h.eventTypeName(99)).toBe('99');
    expect(h.orchestrationStatusName(5)).toBe('Terminated');
    expect(h.actionTypeName(8)).toBe('CallHttp');
    expect(h.actionTypeName(10)).toBe('actionType 10');
  });
});

describe('builders', () => {
  it('write the exact PascalCase shapes of spec 5.2', () => {
    expect(h.orchestratorStarted(T)).toEqual({ EventType: 12, EventId: -1, IsPlayed: false, Timestamp: T });
    expect(h.orchestratorCompleted(T)).toEqual({ EventType: 13, EventId: -1, IsPlayed: false, Timestamp: T });
    expect(h.taskScheduled(T, 3, 'Hello', '"Tokyo"')).toEqual({ EventType: 4, EventId: 3, IsPlayed: false, Timestamp: T, Name: 'Hello', Version: '', Input: '"Tokyo"' });
    expect(h.taskCompleted(T, 3, null)).toEqual({ EventType: 5, EventId: -1, IsPlayed: false, Timestamp: T, TaskScheduledId: 3, Result: null });
    expect(h.taskFailed(T, 3, 'boom', '', null)).toEqual({
      EventType: 6,
      EventId: -1,
      IsPlayed: false,
      Timestamp: T,
      TaskScheduledId: 3,
      Reason: 'boom',
      Details: '',
      FailureDetails: null,
    });
    expect(h.timerCreated(T, 4, T1)).toEqual({ EventType: 10, EventId: 4, IsPlayed: false, Timestamp: T, FireAt: T1 });
    expect(h.timerFired(T1, 4, T1)).toEqual({ EventType: 11, EventId: -1, IsPlayed: false, Timestamp: T1, TimerId: 4, FireAt: T1 });
    expect(h.subOrchestrationCreated(T, 5, 'Child', 'exec:5', '{"a":1}')).toEqual({
      EventType: 7,
      EventId: 5,
      IsPlayed: false,
      Timestamp: T,
      Name: 'Child',
      Version: '',
      InstanceId: 'exec:5',
      Input: '{"a":1}',
    });
    expect(h.subOrchestrationCreated(T, 5, 'Child', 'c', null, '2.0').Version).toBe('2.0');
    expect(h.subOrchestrationCompleted(T, 5, '1')).toEqual({ EventType: 8, EventId: -1, IsPlayed: false, Timestamp: T, TaskScheduledId: 5, Result: '1' });
    expect(h.subOrchestrationFailed(T, 5, 'r', 'd', null)).toEqual({
      EventType: 9,
      EventId: -1,
      IsPlayed: false,
      Timestamp: T,
      TaskScheduledId: 5,
      Reason: 'r',
      Details: 'd',
      FailureDetails: null,
    });
    expect(h.eventRaised(T, 'Approval', null)).toEqual({ EventType: 15, EventId: -1, IsPlayed: false, Timestamp: T, Name: 'Approval', Input: null });
    expect(h.executionCompleted(T, 6, OrchestrationStatus.Completed, '"ok"', null)).toEqual({
      EventType: 1,
      EventId: 6,
      IsPlayed: false,
      Timestamp: T,
      OrchestrationStatus: 1,
      Result: '"ok"',
      FailureDetails: null,
    });
    expect(h.continueAsNew(T, 2, '3')).toEqual({ EventType: 16, EventId: 2, IsPlayed: false, Timestamp: T, OrchestrationStatus: 2, Result: '3', FailureDetails: null });
    expect(h.executionTerminated(T, 'no longer needed')).toEqual({ EventType: 3, EventId: -1, IsPlayed: false, Timestamp: T, Input: 'no longer needed' });
    expect(h.executionSuspended(T, 'pause')).toEqual({ EventType: 19, EventId: -1, IsPlayed: false, Timestamp: T, Reason: 'pause' });
    expect(h.executionResumed(T, null)).toEqual({ EventType: 20, EventId: -1, IsPlayed: false, Timestamp: T, Reason: null });
  });

  it('executionStarted takes the parent in camelCase or PascalCase', () => {
    const top = h.executionStarted(T, { instanceId: 'i', executionId: 'e', name: 'Orch', input: '""' });
    expect(top).toEqual({
      EventType: 0,
      EventId: -1,
      IsPlayed: false,
      Timestamp: T,
      OrchestrationInstance: { InstanceId: 'i', ExecutionId: 'e' },
      ParentInstance: null,
      Name: 'Orch',
      Version: '',
      Input: '""',
      Tags: null,
    });
    const child = h.executionStarted(T, {
      instanceId: 'c',
      executionId: 'ce',
      name: 'Child',
      input: null,
      parent: { instanceId: 'p', executionId: 'pe', name: 'Parent', taskScheduleId: 3 },
    });
    const parent = { OrchestrationInstance: { InstanceId: 'p', ExecutionId: 'pe' }, Name: 'Parent', Version: '', TaskScheduleId: 3 };
    expect(child.ParentInstance).toEqual(parent);
    expect(h.executionStarted(T, { instanceId: 'c', executionId: 'ce', name: 'Child', input: null, parent }).ParentInstance).toEqual(parent);
  });

  it('keeps ISO timestamp strings verbatim and formats Dates and epoch milliseconds', () => {
    expect(h.orchestratorStarted('2026-01-05T10:00:00.1234567Z').Timestamp).toBe('2026-01-05T10:00:00.1234567Z');
    expect(h.orchestratorStarted(new Date(T)).Timestamp).toBe(T);
    expect(h.orchestratorStarted(Date.parse(T)).Timestamp).toBe(T);
    expect(h.timerCreated(T, 0, Date.parse(T1)).FireAt).toBe(T1);
    expect(() => h.orchestratorStarted('yesterday')).toThrow(RangeError);
    expect(() => h.orchestratorStarted(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('historyForTrigger marks played events and hands out a copy the library may mutate', () => {
    const played = [h.orchestratorStarted(T), h.executionStarted(T, { instanceId: 'i', executionId: 'e', name: 'O', input: '{"Timestamp":"x"}' })];
    const fresh = [h.orchestratorStarted(T1), h.eventRaised(T1, 'E', null)];
    const trigger = h.historyForTrigger(played, fresh);
    expect(trigger.map((e) => e.IsPlayed)).toEqual([true, true, false, false]);
    (trigger[0] as { Timestamp: unknown }).Timestamp = new Date(T);
    expect(played[0]!.Timestamp).toBe(T);
    expect(played[0]!.IsPlayed).toBe(false);
  });
});

describe('parseToJToken', () => {
  it('parses JSON, keeps plain text, maps null and blank', () => {
    expect(h.parseToJToken('{"a":1}')).toEqual({ a: 1 });
    expect(h.parseToJToken('"s"')).toBe('s');
    expect(h.parseToJToken(" Orchestrator function 'X' failed: boom ")).toBe("Orchestrator function 'X' failed: boom");
    expect(h.parseToJToken('  ')).toBe('');
    expect(h.parseToJToken(null)).toBeNull();
  });
});

describe('toFriendlyHistory', () => {
  const sequence = fixtureHistory('sequence');

  it('folds TaskScheduled into its completion and drops episode framing', () => {
    const friendly = h.toFriendlyHistory(sequence, true);
    expect(friendly.map((e) => e['EventType'])).toEqual(['ExecutionStarted', 'TaskCompleted', 'TaskCompleted', 'TaskCompleted', 'ExecutionCompleted']);
    expect(friendly[0]).toEqual({ EventType: 'ExecutionStarted', Timestamp: '2026-01-05T10:00:00.000Z', FunctionName: 'Sequence', Input: null });
    expect(friendly[1]).toEqual({
      EventType: 'TaskCompleted',
      Timestamp: '2026-01-05T10:00:00.010Z',
      Result: 'Hello Tokyo!',
      ScheduledTime: '2026-01-05T10:00:00.000Z',
      FunctionName: 'Hello',
      Input: '"Tokyo"',
    });
    expect(friendly[4]).toEqual({
      EventType: 'ExecutionCompleted',
      Timestamp: '2026-01-05T10:00:00.030Z',
      OrchestrationStatus: 'Completed',
      Result: ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'],
      FailureDetails: null,
    });
  });

  it('shows Result only with showOutput and Input only with showInput', () => {
    const friendly = h.toFriendlyHistory(sequence, false, false);
    expect(friendly.some((e) => 'Result' in e)).toBe(false);
    expect(friendly.some((e) => 'Input' in e)).toBe(false);
    expect(friendly[1]).toEqual({ EventType: 'TaskCompleted', Timestamp: '2026-01-05T10:00:00.010Z', ScheduledTime: '2026-01-05T10:00:00.000Z', FunctionName: 'Hello' });
  });

  it('folds sub-orchestrations, keeps failures, strips TimerId and keeps unfinished scheduling events', () => {
    const events: HistoryEvent[] = [
      h.orchestratorStarted(T),
      h.executionStarted(T, { instanceId: 'i', executionId: 'e', name: 'P', input: null }),
      h.subOrchestrationCreated(T, 0, 'Child', 'e:0', '{"x":1}'),
      h.timerCreated(T, 1, T1),
      h.taskScheduled(T, 2, 'Pending', null),
      h.orchestratorCompleted(T),
      h.orchestratorStarted(T1),
      h.subOrchestrationFailed(T1, 0, "Orchestrator function 'Child' failed: boom", 'Message: boom, StackTrace: s', null),
      h.timerFired(T1, 1, T1),
      h.executionCompleted(T1, 3, OrchestrationStatus.Failed, "Orchestrator function 'P' failed: boom", null),
      h.orchestratorCompleted(T1),
    ];
    expect(h.toFriendlyHistory(events, true)).toEqual([
      { EventType: 'ExecutionStarted', Timestamp: T, FunctionName: 'P', Input: null },
      { EventType: 'TimerCreated', Timestamp: T, FireAt: T1 },
      { EventType: 'TaskScheduled', Timestamp: T, Name: 'Pending', Input: null },
      {
        EventType: 'SubOrchestrationInstanceFailed',
        Timestamp: T1,
        Reason: "Orchestrator function 'Child' failed: boom",
        Details: 'Message: boom, StackTrace: s',
        FailureDetails: null,
        ScheduledTime: T,
        FunctionName: 'Child',
        Input: '{"x":1}',
      },
      { EventType: 'TimerFired', Timestamp: T1, FireAt: T1 },
      { EventType: 'ExecutionCompleted', Timestamp: T1, OrchestrationStatus: 'Failed', Result: "Orchestrator function 'P' failed: boom", FailureDetails: null },
    ]);
  });

  it('does not modify the events it is given', () => {
    const copy = JSON.parse(JSON.stringify(sequence)) as HistoryEvent[];
    h.toFriendlyHistory(sequence, true);
    expect(sequence).toEqual(copy);
  });
});
