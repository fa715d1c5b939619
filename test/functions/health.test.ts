import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';

/** The product's own app on the embedded host, as `npm start` runs it. */
describe('GET /api/health', () => {
  let host: HostProcess | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  const env = (extra: Record<string, string>): Record<string, string> => ({
    AIQ_SQLITE_PATH: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-health-')), 'app.db'),
    ServiceBusConnection: 'Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=secret-value;UseDevelopmentEmulator=true;',
    ...extra,
  });

  it('reports the version and every configured backend, anonymously', async () => {
    const redisUrl = process.env['REDIS_URL'];
    if (!redisUrl) throw new Error('REDIS_URL is not set: run the suite with npm test, which finds or starts Redis.');
    host = await startHost({ appDir: repoRoot, env: env({ REDIS_URL: redisUrl, AZURE_FUNCTIONS_ENVIRONMENT: 'Production' }) });
    const response = await fetch(`${host.baseUrl}/api/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const report = (await response.json()) as { status: string; version: string; checks: Record<string, { kind: string; status: string }> };
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(report.version).toBe(pkg.version);
    expect(report.status).toBe('healthy');
    expect(report.checks['appStore']).toMatchObject({ kind: 'sqlite', status: 'healthy' });
    expect(report.checks['redis']).toMatchObject({ kind: 'redis', status: 'healthy' });
    expect(report.checks['serviceBus']).toMatchObject({ kind: 'embedded-broker', status: 'configured' });
    expect(JSON.stringify(report)).not.toContain('secret-value');
  });

  it('answers 503 and names the backend that is down', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    host = await startHost({ appDir: repoRoot, env: env({ REDIS_URL: `redis://127.0.0.1:${port}` }) });
    const response = await fetch(`${host.baseUrl}/api/health`);
    expect(response.status).toBe(503);
    const report = (await response.json()) as { status: string; checks: Record<string, { status: string; detail?: string }> };
    expect(report.status).toBe('unhealthy');
    expect(report.checks['redis']!.status).toBe('unhealthy');
    expect(report.checks['appStore']!.status).toBe('healthy');
  });
});
