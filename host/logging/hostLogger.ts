import pino from 'pino';
import type { RpcLogLevel } from '../core/coreApi.js';

/** Host log levels, ordered as the Functions host's (`Microsoft.Extensions.Logging`). */
export const LOG_LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'] as const;
/** The same names as the worker's `RpcLogLevel`. */
export type HostLogLevel = RpcLogLevel;

export interface LogRecord {
  level: HostLogLevel;
  /** `Host`, `Function.<name>` or `Function.<name>.User`, as the real host categorizes. */
  category: string;
  message: string;
  invocationId?: string;
  functionName?: string;
}

export interface HostLogger {
  isEnabled(level: HostLogLevel, category: string): boolean;
  write(record: LogRecord): void;
  flush(): void;
}

const PINO_LEVEL: Record<Exclude<HostLogLevel, 'none'>, pino.Level> = {
  trace: 'trace',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
};

function rank(level: HostLogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/** Maps host.json `logging.logLevel` values (`Information`, `Warning`, ...) to our levels. */
export function parseLogLevel(value: unknown): HostLogLevel | undefined {
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as HostLogLevel) : undefined;
}

export interface HostLoggerOptions {
  /** host.json `logging.logLevel`: `default` plus category prefixes such as `Function` or `Function.health`. */
  levels: Record<string, HostLogLevel>;
  /** `pretty` prints one readable line per record (a terminal); `json` writes pino JSON lines. */
  format: 'pretty' | 'json';
  destination?: NodeJS.WritableStream;
}

/**
 * The host's logger: category filtering as host.json `logging.logLevel` (longest matching prefix wins), JSON
 * lines through pino for machines or one readable line per record for a terminal.
 */
export function createHostLogger(options: HostLoggerOptions): HostLogger {
  const prefixes = Object.entries(options.levels)
    .filter(([category]) => category.toLowerCase() !== 'default')
    .map(([category, level]) => [category.toLowerCase(), level] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const defaultLevel = Object.entries(options.levels).find(([category]) => category.toLowerCase() === 'default')?.[1] ?? 'information';
  const cache = new Map<string, number>();
  const minimumFor = (category: string): number => {
    let minimum = cache.get(category);
    if (minimum === undefined) {
      const lower = category.toLowerCase();
      const match = prefixes.find(([prefix]) => lower === prefix || lower.startsWith(`${prefix}.`));
      minimum = rank(match ? match[1] : defaultLevel);
      cache.set(category, minimum);
    }
    return minimum;
  };
  const destination = options.destination ?? process.stdout;
  const json =
    options.format === 'json'
      ? pino(
          { base: undefined, level: 'trace', messageKey: 'message', timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
          options.destination ?? pino.destination({ dest: 1, sync: false }))
      : undefined;

  return {
    isEnabled(level, category) {
      return level !== 'none' && rank(level) >= minimumFor(category);
    },
    write(record) {
      if (!this.isEnabled(record.level, record.category)) return;
      if (json) {
        const { level, message, ...fields } = record;
        json[PINO_LEVEL[level as Exclude<HostLogLevel, 'none'>]](fields, message);
        return;
      }
      const time = new Date().toISOString();
      destination.write(`[${time}] ${record.level.padEnd(11)} ${record.category}: ${record.message}\n`);
    },
    flush() {
      json?.flush();
    },
  };
}
