import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, eventually, type HostProcess, startHost } from '../support/hostProcess.js';

const TIMERS = `'use strict';
const { app } = require('@azure/functions');
const runs = [];
app.timer('minutely', { schedule: '0 * * * * *', handler: async (timer) => { runs.push({ fn: 'minutely', isPastDue: timer.isPastDue, status: timer.scheduleStatus }); } });
app.timer('atStartup', { schedule: '0 0 3 * * *', runOnStartup: true, handler: async (timer) => { runs.push({ fn: 'atStartup', isPastDue: timer.isPastDue }); } });
app.http('runs', { methods: ['GET'], authLevel: 'anonymous', route: 'runs', handler: async () => ({ jsonBody: runs }) });
`;

type Run = { fn: string; isPastDue: boolean; status?: { last: string; next: string; lastUpdated: string } | null };

describe('timer trigger on the embedded host', () => {
  let host: HostProcess | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('persists the schedule status, runs once past due after downtime, and honours runOnStartup', async () => {
    const app = copyFixture('minimal-app');
    fs.writeFileSync(path.join(app, 'functions', 'timers.js'), TIMERS);
    host = await startHost({ appDir: app, env: { WEBSITE_TIME_ZONE: 'Europe/Berlin' } });
    const first = host;
    const startup = await eventually(async () => ((await (await fetch(`${first.baseUrl}/api/runs`)).json()) as Run[]).find((run) => run.fn === 'atStartup'));
    expect(startup.isPastDue).toBe(false);
    const stateDir = host.stateDir;
    await host.stop();

    const timersDir = path.join(stateDir, 'timers');
    const file = fs.readdirSync(timersDir).find((name) => name.toLowerCase().includes('minutely'));
    expect(file).toBeDefined();
    const statusFile = path.join(timersDir, file!);
    const status = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { Last: string; Next: string; LastUpdated: string };
    expect(new Date(status.Next).getUTCSeconds()).toBe(0);
    // As if the host had stopped five minutes earlier: the whole recorded status moves into the past.
    const shift = (iso: string): string => (iso.startsWith('0001-') ? iso : new Date(new Date(iso).getTime() - 5 * 60_000).toISOString());
    fs.writeFileSync(statusFile, JSON.stringify({ Last: shift(status.Last), Next: shift(status.Next), LastUpdated: shift(status.LastUpdated) }));

    host = await startHost({ appDir: app, stateDir, env: { WEBSITE_TIME_ZONE: 'Europe/Berlin' } });
    const second = host;
    const pastDue = await eventually(async () => ((await (await fetch(`${second.baseUrl}/api/runs`)).json()) as Run[]).find((run) => run.fn === 'minutely'));
    expect(pastDue.isPastDue).toBe(true);
    // Dates come as the .NET host writes them: local time of WEBSITE_TIME_ZONE with its offset.
    expect(pastDue.status?.next).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00(\.\d+)?\+0[12]:00$/);
    // The listener records the new status right after the run.
    const next = await eventually(async () => {
      const recorded = new Date((JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { Next: string }).Next).getTime();
      return recorded > Date.now() - 1000 ? recorded : undefined;
    });
    expect(new Date(next).getUTCSeconds()).toBe(0);
  });

  it('refuses an unknown WEBSITE_TIME_ZONE for the timers and keeps the rest running', async () => {
    const app = copyFixture('minimal-app');
    fs.writeFileSync(path.join(app, 'functions', 'timers.js'), TIMERS);
    host = await startHost({ appDir: app, env: { WEBSITE_TIME_ZONE: 'Mars/Olympus_Mons' } });
    expect(host.output()).toMatch(/The function 'minutely' cannot run: .*Mars\/Olympus_Mons/);
    expect(await (await fetch(`${host.baseUrl}/api/ping`)).text()).toBe('pong');
  });
});
