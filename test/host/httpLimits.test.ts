import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, type HostProcess, startHost } from '../support/hostProcess.js';

const SLOW = `'use strict';
const { app } = require('@azure/functions');
app.http('slow', { methods: ['GET'], authLevel: 'function', route: 'slow', handler: async () => { await new Promise((r) => setTimeout(r, 400)); return { body: 'done' }; } });
app.http('upload', { methods: ['POST'], authLevel: 'anonymous', route: 'upload', handler: async (req) => ({ body: String((await req.arrayBuffer()).byteLength) }) });
`;

describe('HTTP limits and key defaults', () => {
  let host: HostProcess | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('queues beyond maxConcurrentRequests, answers 429 beyond maxOutstandingRequests and 413 beyond the body limit', async () => {
    const app = copyFixture('minimal-app');
    fs.writeFileSync(path.join(app, 'functions', 'slow.js'), SLOW);
    fs.writeFileSync(path.join(app, 'host.json'), JSON.stringify({ version: '2.0', extensions: { http: { maxConcurrentRequests: 1, maxOutstandingRequests: 2, maxRequestBodySize: 1024 } } }));
    host = await startHost({ appDir: app });
    const base = host.baseUrl;
    const statuses = await Promise.all([0, 1, 2, 3].map(async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 30));
      return (await fetch(`${base}/api/slow`)).status;
    }));
    expect(statuses.filter((status) => status === 200)).toHaveLength(2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(2);

    expect(await (await fetch(`${base}/api/upload`, { method: 'POST', body: Buffer.alloc(1024) })).text()).toBe('1024');
    expect((await fetch(`${base}/api/upload`, { method: 'POST', body: Buffer.alloc(1025) })).status).toBe(413);
    // A chunked body without Content-Length is counted as it streams.
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(800));
        controller.enqueue(new Uint8Array(800));
        controller.close();
      },
    });
    expect((await fetch(`${base}/api/upload`, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)).status).toBe(413);
  });

  it('needs no key in Development (as Core Tools) and generates a master key outside it', async () => {
    const app = copyFixture('minimal-app');
    fs.writeFileSync(path.join(app, 'functions', 'slow.js'), SLOW);
    host = await startHost({ appDir: app });
    expect((await fetch(`${host.baseUrl}/api/slow`)).status).toBe(200);
    await host.stop();

    host = await startHost({ appDir: app, env: { AZURE_FUNCTIONS_ENVIRONMENT: 'Production' } });
    expect((await fetch(`${host.baseUrl}/api/slow`)).status).toBe(401);
    const keyFile = path.join(host.stateDir, 'keys.json');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const { masterKey } = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as { masterKey: string };
    expect(masterKey.length).toBeGreaterThanOrEqual(40);
    expect((await fetch(`${host.baseUrl}/api/slow`, { headers: { 'x-functions-key': masterKey } })).status).toBe(200);
    expect(host.output()).not.toContain(masterKey);
  });
});
