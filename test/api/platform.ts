import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signDevelopmentToken } from '../../shared/adapters/devissuer/index.js';
import { type HostProcess, repoRoot, startHost } from '../support/hostProcess.js';

export const AUDIENCE = 'api://automateiq';
/** The platform's run events topic in tests (the run status activities' Event Grid output needs one). */
export const PLATFORM_EVENTS_TOPIC = 'https://automateiq-events.localhost/api/events';
export type Role = 'Platform.Admin' | 'Tenant.Admin' | 'Tenant.User';

export interface Platform {
  host: HostProcess;
  /** The folder of the platform's SQLite files and development issuer key (pass it again to restart on them). */
  dir: string;
  keyFile: string;
  token(role: Role, tenantId?: string, options?: { lifetimeSeconds?: number; subject?: string }): Promise<string>;
  call(method: string, route: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string }): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * The AutomateIQ app on the embedded host with private SQLite files and a private development issuer key. With
 * `dir` (another platform's), the host runs on that platform's files: a restart, or a second host beside it.
 */
export async function startPlatform(env: Record<string, string> = {}, options: { dir?: string } = {}): Promise<Platform> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-platform-'));
  const keyFile = path.join(dir, 'dev-issuer', 'signing-key.json');
  const host = await startHost({
    appDir: repoRoot,
    env: {
      AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
      AIQ_SQLITE_PATH: path.join(dir, 'app.db'),
      AIQ_DEDICATED_TENANT_DIR: path.join(dir, 'tenants'),
      AIQ_DEV_ISSUER_KEY_FILE: keyFile,
      AIQ_API_AUDIENCE: AUDIENCE,
      AIQ_EVENTS_TOPIC_ENDPOINT: PLATFORM_EVENTS_TOPIC,
      ...env,
    },
  });
  return {
    host,
    dir,
    keyFile,
    token: (role, tenantId, options = {}) => signDevelopmentToken({ keyFile, role, audience: AUDIENCE, ...(tenantId ? { tenantId } : {}), ...options }),
    call: (method, route, options = {}) =>
      fetch(`${host.baseUrl}${route}`, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined || options.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.rawBody !== undefined ? { body: options.rawBody } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      }),
    stop: async () => {
      await host.stop();
    },
  };
}

/** An answer with its body parsed as JSON (undefined when empty). */
export interface JsonAnswer {
  status: number;
  json: any;
  headers: Headers;
}

/** A call to the platform whose answer body is read as JSON. */
export async function callJson(platform: Platform, method: string, route: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonAnswer> {
  const response = await platform.call(method, route, { ...(options.token ? { token: options.token } : {}), headers: options.headers ?? {}, ...(options.body === undefined ? {} : { body: options.body }) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** A minimal valid definition using the built-in core connector. */
export function sampleDefinition(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    name: 'Sample',
    steps: [{ id: 'hello', type: 'action', connector: 'core', action: 'noop', inputs: {} }],
    ...extra,
  };
}
