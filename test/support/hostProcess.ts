import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
const cli = path.join(repoRoot, 'dist', 'host', 'cli.js');

export interface HostProcess {
  baseUrl: string;
  stateDir: string;
  child: ChildProcess;
  /** Everything the host wrote to stdout and stderr so far. */
  output(): string;
  /** Parsed JSON log records written so far. */
  logs(): Array<Record<string, unknown>>;
  /** SIGTERM and wait for exit (graceful shutdown). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
}

export interface StartHostOptions {
  appDir: string;
  env?: Record<string, string>;
  args?: string[];
  /** Reuse a state directory (restarts); default: a new temporary one. */
  stateDir?: string;
  timeoutMs?: number;
}

/** Runs the compiled CLI (`aiq-host`) on an app as a child process, on a free port, and waits until it listens. */
export async function startHost(options: StartHostOptions): Promise<HostProcess> {
  if (!fs.existsSync(cli)) throw new Error(`${cli} does not exist: run the build (npm test does) first.`);
  const stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-host-state-'));
  const child = spawn(process.execPath, [cli, options.appDir, '--port', '0', '--state-dir', stateDir, '--log-format', 'json', ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The host did not start within ${options.timeoutMs ?? 20_000} ms:\n${output}`)), options.timeoutMs ?? 20_000);
    const check = (): void => {
      const match = /Host listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The host exited with code ${code} before listening:\n${output}`));
    });
  });

  return {
    baseUrl,
    stateDir,
    child,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs the CLI expecting it to fail at startup; resolves with its exit code and output. */
export async function runHostExpectingFailure(appDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-host-state-'));
  const child = spawn(process.execPath, [cli, appDir, '--port', '0', '--state-dir', stateDir, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, output };
}

/** Polls `probe` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}

/** Copies a fixture app to a temporary folder (so a test may change its files) and returns the new path. */
export function copyFixture(name: string): string {
  const source = path.join(repoRoot, 'test', 'fixtures', name);
  const target = fs.mkdtempSync(path.join(os.tmpdir(), `aiq-${name}-`));
  fs.cpSync(source, target, { recursive: true });
  // The copy must still resolve @azure/functions from this repository.
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(target, 'node_modules'), 'dir');
  return target;
}
