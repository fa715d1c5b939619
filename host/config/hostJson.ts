import fs from 'node:fs';
import path from 'node:path';
import { HostConfigError } from './configError.js';
import { parseJsonWithComments } from './jsonc.js';
import { parseDotNetTimeSpan } from './timeSpan.js';

const FILE_NAME = 'host.json';
const OVERRIDE_PREFIX = 'azurefunctionsjobhost__';

export type JsonObject = Record<string, unknown>;

/** The host.json settings the embedded host acts on, validated and with the real host's defaults. */
export interface HostOptions {
  /** undefined = no limit (`functionTimeout: "-1"`). Default 30 minutes, as on Premium/Dedicated plans. */
  functionTimeoutMs: number | undefined;
  /** `functions`: when set, only these functions are enabled. */
  functions: readonly string[] | undefined;
  http: {
    routePrefix: string;
    /** undefined = unbounded (-1, the default). */
    maxConcurrentRequests: number | undefined;
    maxOutstandingRequests: number | undefined;
    /** Requests larger than this answer 413 (the real front end's 100 MB). */
    maxRequestBodySizeBytes: number;
  };
  serviceBus: {
    maxConcurrentCalls: number;
    maxAutoLockRenewalDurationMs: number;
  };
  /** The whole document after environment overrides, for sections read elsewhere (e.g. durableTask). */
  document: Readonly<JsonObject>;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** .NET configuration keys are case-insensitive: find `key` in `object` whatever its casing. */
function childKey(object: JsonObject, key: string): string | undefined {
  const lower = key.toLowerCase();
  return Object.keys(object).find((candidate) => candidate.toLowerCase() === lower);
}

export function getPath(document: JsonObject, dottedPath: string): unknown {
  let current: unknown = document;
  for (const part of dottedPath.split('.')) {
    if (!isObject(current)) return undefined;
    const key = childKey(current, part);
    current = key === undefined ? undefined : current[key];
  }
  return current;
}

function coerceOverride(value: string): unknown {
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

/** Applies `AzureFunctionsJobHost__a__b=value` environment variables onto the document (in place). */
function applyOverrides(document: JsonObject, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.toLowerCase().startsWith(OVERRIDE_PREFIX)) continue;
    const parts = name.slice(OVERRIDE_PREFIX.length).split('__').filter(Boolean);
    let current = document;
    parts.forEach((part, index) => {
      const key = childKey(current, part) ?? part;
      if (index === parts.length - 1) {
        current[key] = coerceOverride(value);
      } else {
        if (!isObject(current[key])) current[key] = {};
        current = current[key] as JsonObject;
      }
    });
  }
}

class OptionReader {
  constructor(private readonly document: JsonObject) {}

  private fail(dottedPath: string, expected: string, value: unknown): never {
    throw new HostConfigError(`${FILE_NAME}: "${dottedPath}" must be ${expected} (got ${JSON.stringify(value)}).`, FILE_NAME);
  }

  string(dottedPath: string, fallback: string): string {
    const value = getPath(this.document, dottedPath);
    if (value === undefined) return fallback;
    if (typeof value !== 'string') this.fail(dottedPath, 'a string', value);
    return value;
  }

  /** A positive integer, or undefined for -1 ("unbounded") and absence. */
  limit(dottedPath: string): number | undefined {
    const value = getPath(this.document, dottedPath);
    if (value === undefined || value === -1) return undefined;
    if (!Number.isInteger(value) || (value as number) < 1) this.fail(dottedPath, 'a positive integer or -1', value);
    return value as number;
  }

  integer(dottedPath: string, fallback: number): number {
    const value = getPath(this.document, dottedPath);
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || (value as number) < 1) this.fail(dottedPath, 'a positive integer', value);
    return value as number;
  }

  /** A TimeSpan such as "00:05:00"; "-1" (or -1) means no limit and gives undefined. */
  timeSpan(dottedPath: string, fallbackMs: number | undefined): number | undefined {
    const value = getPath(this.document, dottedPath);
    if (value === undefined) return fallbackMs;
    if (value === -1 || value === '-1') return undefined;
    const parsed = typeof value === 'string' ? parseDotNetTimeSpan(value) : undefined;
    if (!parsed || !('ms' in parsed)) this.fail(dottedPath, 'a TimeSpan such as "00:05:00", or "-1"', value);
    return parsed.ms;
  }

  stringList(dottedPath: string): string[] | undefined {
    const value = getPath(this.document, dottedPath);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) this.fail(dottedPath, 'an array of function names', value);
    return value as string[];
  }
}

/**
 * Reads host.json (comments allowed), applies `AzureFunctionsJobHost__*` overrides from the environment and
 * validates the settings the embedded host uses. A missing file or a wrong `version` is an error, as in the
 * real host.
 */
export function readHostJson(appDir: string, env: NodeJS.ProcessEnv, cpuCount: number): HostOptions {
  const file = path.join(appDir, FILE_NAME);
  if (!fs.existsSync(file)) {
    throw new HostConfigError(`${FILE_NAME} was not found in ${appDir}; a Functions app needs one with "version": "2.0".`, FILE_NAME);
  }
  const parsed = parseJsonWithComments(fs.readFileSync(file, 'utf8'), FILE_NAME);
  if (!isObject(parsed)) throw new HostConfigError(`${FILE_NAME} must contain a JSON object.`, FILE_NAME);
  applyOverrides(parsed, env);
  const version = getPath(parsed, 'version');
  if (version !== '2.0') {
    throw new HostConfigError(`${FILE_NAME}: "version" must be "2.0" (got ${JSON.stringify(version)}).`, FILE_NAME);
  }
  const read = new OptionReader(parsed);
  const routePrefix = read.string('extensions.http.routePrefix', 'api').replace(/^\/+|\/+$/g, '');
  return {
    functionTimeoutMs: read.timeSpan('functionTimeout', 30 * 60_000),
    functions: read.stringList('functions'),
    http: {
      routePrefix,
      maxConcurrentRequests: read.limit('extensions.http.maxConcurrentRequests'),
      maxOutstandingRequests: read.limit('extensions.http.maxOutstandingRequests'),
      maxRequestBodySizeBytes: read.integer('extensions.http.maxRequestBodySize', 100 * 1024 * 1024),
    },
    serviceBus: {
      // The Service Bus extension v5 default: 16 × processor count.
      maxConcurrentCalls: read.integer('extensions.serviceBus.maxConcurrentCalls', 16 * cpuCount),
      maxAutoLockRenewalDurationMs: read.timeSpan('extensions.serviceBus.maxAutoLockRenewalDuration', 5 * 60_000) ?? Number.MAX_SAFE_INTEGER,
    },
    document: parsed,
  };
}
