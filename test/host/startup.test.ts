import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, runHostExpectingFailure, startHost } from '../support/hostProcess.js';

/** Every bad input at startup gets a clear message naming the file or setting; the host never starts half-configured. */
describe('host startup errors', () => {
  const write = (dir: string, file: string, text: string): void => fs.writeFileSync(path.join(dir, file), text);

  it('reports host.json syntax errors with their position', async () => {
    const app = copyFixture('minimal-app');
    write(app, 'host.json', '{\n  "version": "2.0",\n  "extensions": { "http": }\n}');
    const { code, output } = await runHostExpectingFailure(app);
    expect(code).toBe(1);
    expect(output).toMatch(/host\.json is not valid JSON: ValueExpected at line 3, column \d+/);
  });

  it('requires host.json version 2.0', async () => {
    const app = copyFixture('minimal-app');
    write(app, 'host.json', '{ "version": "1.0" }');
    const { code, output } = await runHostExpectingFailure(app);
    expect(code).toBe(1);
    expect(output).toContain('host.json: "version" must be "2.0" (got "1.0")');
  });

  it('rejects an invalid functionTimeout set through AzureFunctionsJobHost__functionTimeout', async () => {
    const app = copyFixture('minimal-app');
    const { code, output } = await runHostExpectingFailure(app, { AzureFunctionsJobHost__functionTimeout: 'ten minutes' });
    expect(code).toBe(1);
    expect(output).toContain('host.json: "functionTimeout" must be a TimeSpan such as "00:05:00", or "-1" (got "ten minutes")');
  });

  it('rejects local.settings.json values that are not strings, and encrypted files', async () => {
    const app = copyFixture('minimal-app');
    write(app, 'local.settings.json', '{ "Values": { "Retries": 3 } }');
    const numeric = await runHostExpectingFailure(app);
    expect(numeric.code).toBe(1);
    expect(numeric.output).toContain('local.settings.json: "Values.Retries" must be a string');
    write(app, 'local.settings.json', '{ "IsEncrypted": true, "Values": {} }');
    const encrypted = await runHostExpectingFailure(app);
    expect(encrypted.output).toContain('local.settings.json is encrypted');
  });

  it('explains a package.json main that matches nothing, and an entry point that throws', async () => {
    const app = copyFixture('minimal-app');
    write(app, 'package.json', '{ "main": "dist/**/*.js" }');
    const missing = await runHostExpectingFailure(app);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('package.json "main" (dist/**/*.js) matches no file');
    write(app, 'package.json', '{ "main": "functions/*.js" }');
    write(app, 'functions/broken.js', "throw new Error('module init failed');");
    const broken = await runHostExpectingFailure(app);
    expect(broken.output).toContain('Worker was unable to load entry point "functions/broken.js": module init failed');
  });

  it('fails fast when the library latched into test mode (app.* used before the host installed the core module)', async () => {
    const app = copyFixture('minimal-app');
    fs.rmSync(path.join(app, 'functions', 'ping.js'));
    write(app, 'early.js', "const { app } = require('@azure/functions'); app.http('early', { handler: async () => ({}) });\n");
    write(app, 'package.json', '{ "main": "functions/*.js" }');
    write(app, 'functions/late.js', "'use strict';\n");
    // Preload the app code with -r so it runs before the host: the library then finds no core module.
    const { code, output } = await runHostExpectingFailure(app, { NODE_OPTIONS: `-r ${path.join(app, 'early.js')}` });
    expect(code).toBe(1);
    expect(output).toContain('No programming model was registered');
  });

  it('says which port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const app = copyFixture('minimal-app');
      const { code, output } = await runHostExpectingFailure(app, {}, ['--port', String(port)]);
      expect(code).toBe(1);
      expect(output).toContain(`Port ${port} is in use`);
    } finally {
      blocker.close();
    }
  });

  it('rejects bad CLI arguments', async () => {
    const app = copyFixture('minimal-app');
    const { code, output } = await runHostExpectingFailure(app, {}, ['--auth', 'maybe']);
    expect(code).toBe(1);
    expect(output).toContain("--auth must be 'enforce' or 'disabled' (got 'maybe')");
  });
});

describe('indexing errors disable one function and the rest of the app runs', () => {
  it('reports a missing Service Bus connection, an unknown setting, an unsupported binding and a route conflict', async () => {
    const app = copyFixture('minimal-app');
    fs.writeFileSync(
      path.join(app, 'functions', 'bad.js'),
      `'use strict';
const { app, output, input } = require('@azure/functions');
app.serviceBusQueue('noConnection', { queueName: 'q1', connection: 'MissingConnection', handler: async () => {} });
app.timer('unresolved', { schedule: '%NoSuchSchedule%', handler: async () => {} });
app.timer('badSchedule', { schedule: '61 * * * * *', handler: async () => {} });
app.http('withBlobInput', { route: 'blob', extraInputs: [input.storageBlob({ path: 'c/b', connection: 'AzureWebJobsStorage' })], handler: async () => ({}) });
app.http('zConflict', { methods: ['GET'], route: 'ping', handler: async () => ({}) });
app.serviceBusQueue('realNamespace', { queueName: 'q2', connection: 'RealSb', handler: async () => {} });
`,
    );
    const host = await startHost({ appDir: app, env: { RealSb: 'Endpoint=sb://prod.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v' } });
    try {
      const out = host.output();
      expect(out).toContain("Service Bus account connection string 'MissingConnection' does not exist. Make sure that it is a defined App Setting.");
      expect(out).toContain("'%NoSuchSchedule%' does not resolve to a value.");
      expect(out).toMatch(/The function 'badSchedule' cannot run: the schedule of binding '\w+' is invalid/);
      expect(out).toMatch(/The function 'withBlobInput' cannot run: input binding '\w+' has the type 'blob', which the embedded host does not support/);
      expect(out).toMatch(/zConflict.*ping/);
      expect(out).toContain('UseDevelopmentEmulator=true');
      expect(out).not.toContain('SharedAccessKey=v');
      expect(await (await fetch(`${host.baseUrl}/api/ping`)).text()).toBe('pong');
    } finally {
      await host.stop();
    }
  });

  it('disables functions through AzureWebJobs.<name>.Disabled and the host.json functions list', async () => {
    const app = copyFixture('minimal-app');
    fs.writeFileSync(path.join(app, 'functions', 'second.js'), "'use strict';\nrequire('@azure/functions').app.http('second', { methods: ['GET'], authLevel: 'anonymous', route: 'second', handler: async () => ({ body: 'two' }) });\n");
    const disabled = await startHost({ appDir: app, env: { 'AzureWebJobs.ping.Disabled': 'true' } });
    try {
      expect((await fetch(`${disabled.baseUrl}/api/ping`)).status).toBe(404);
      expect((await fetch(`${disabled.baseUrl}/api/second`)).status).toBe(200);
    } finally {
      await disabled.stop();
    }
    fs.writeFileSync(path.join(app, 'host.json'), '{ "version": "2.0", "functions": ["ping"] }');
    const allowList = await startHost({ appDir: app });
    try {
      expect((await fetch(`${allowList.baseUrl}/api/ping`)).status).toBe(200);
      expect((await fetch(`${allowList.baseUrl}/api/second`)).status).toBe(404);
    } finally {
      await allowList.stop();
    }
  });
});
