import type { IncomingHttpHeaders } from 'node:http';

const DROPPED = new Set(['set-cookie', 'set-cookie2']);

/** Response headers for the step output: lower-cased names, repeated values joined, cookies dropped. */
export function responseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value === undefined || DROPPED.has(key)) continue;
    out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
