import type { JsonValue } from './json.js';

/** What a redacted secret value is replaced with. */
export const REDACTED = '[secret]';

/** Values shorter than this are not redacted: replacing every `a` or `42` would destroy the text and reveal nothing. */
export const MIN_REDACTED_LENGTH = 4;

/**
 * The forms in which a value commonly leaks into text: as it is, JSON-escaped (inside a serialized string),
 * base64 and base64url (encoded headers, tokens), URL-encoded (query strings, form bodies; `%20` and `+`).
 */
function formsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(JSON.stringify(value).slice(1, -1));
  const bytes = Buffer.from(value, 'utf8');
  forms.add(bytes.toString('base64'));
  forms.add(bytes.toString('base64').replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  const uri = encodeURIComponent(value);
  forms.add(uri);
  forms.add(uri.replace(/%20/g, '+'));
  forms.add(encodeURI(value));
  return [...forms].filter((form) => form.length >= MIN_REDACTED_LENGTH);
}

/**
 * One regular expression matching any form of any value, longest first (alternation tries left to right, so a
 * longer form is never left half-replaced by a shorter one), applied in a single pass (so the marker itself is
 * never redacted again when a value occurs in `[secret]`).
 */
function matcherOf(values: readonly string[]): RegExp | undefined {
  const patterns = new Set<string>();
  for (const value of values) if (typeof value === 'string' && value.length >= MIN_REDACTED_LENGTH) for (const form of formsOf(value)) patterns.add(form);
  if (patterns.size === 0) return undefined;
  const escaped = [...patterns].sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(escaped.join('|'), 'g');
}

function redactWith(text: string, matcher: RegExp): string {
  return text.replace(matcher, REDACTED);
}

/**
 * Replaces every occurrence of each secret value in `text` (and of its JSON-escaped, base64, base64url and
 * URL-encoded forms) with `[secret]`. Values shorter than {@link MIN_REDACTED_LENGTH} are skipped. A value that
 * is only part of a larger encoded string (e.g. the password inside a base64 `user:password`) is not found:
 * redact before encoding where that matters.
 */
export function redactSecrets(text: string, values: readonly string[]): string {
  const matcher = matcherOf(values);
  return matcher ? redactWith(text, matcher) : text;
}

/**
 * A copy of a JSON value with every secret value redacted from its strings, object keys and numbers (a number
 * whose text contains a secret becomes the string `[secret]`). The input is not modified.
 */
export function redactJson(value: JsonValue, secrets: readonly string[]): JsonValue {
  const patterns = matcherOf(secrets);
  if (!patterns) return value;
  const visit = (node: JsonValue): JsonValue => {
    if (typeof node === 'string') return redactWith(node, patterns);
    if (typeof node === 'number') {
      const text = String(node);
      return redactWith(text, patterns) === text ? node : REDACTED;
    }
    if (node === null || typeof node === 'boolean') return node;
    if (Array.isArray(node)) return node.map(visit);
    const copy: { [key: string]: JsonValue } = {};
    for (const [key, child] of Object.entries(node)) copy[redactWith(key, patterns)] = visit(child);
    return copy;
  };
  return visit(value);
}
