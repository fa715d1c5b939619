import type { DatabaseParameter } from './databaseInput.js';
import type { TranslatedSql } from './namedParameters.js';

export interface StatementOptions {
  /** Rows kept (0 for `execute`); one more row marks the result truncated. */
  maxRows: number;
  timeoutMs: number;
  signal: AbortSignal;
  parameters: Readonly<Record<string, DatabaseParameter>>;
}

export interface StatementResult {
  rows: unknown[];
  truncated: boolean;
  rowsAffected: number;
}

/** One engine's pool of connections to one checked address. */
export interface EnginePool {
  run(sql: TranslatedSql, options: StatementOptions): Promise<StatementResult>;
  close(): Promise<void>;
}

export const POOL_MAX = 5;
export const POOL_IDLE_MS = 30_000;
export const CONNECT_TIMEOUT_MS = 15_000;

/** Rejects with the signal's reason once it aborts, after `onAbort` ran. */
export function onAbort(signal: AbortSignal, onAbort: () => void): () => void {
  const listener = (): void => onAbort();
  if (signal.aborted) {
    queueMicrotask(listener);
    return () => undefined;
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
