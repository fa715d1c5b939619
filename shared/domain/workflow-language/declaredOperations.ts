/**
 * Operations of REST connectors declared in a definition (`connectors`): the inputs a step gives them, their own
 * input schema, their path templates and where their secrets are. Used by the static checks at publish time and
 * by the REST connector before every call, so both judge inputs, schemas and paths by the same rules.
 *
 * - A step's inputs are `{path, query, headers, body}`; `path` holds a value for every `{placeholder}`.
 * - An operation's `input` is a tenant-written JSON Schema (2020-12) the inputs must also match. It is compiled
 *   with ajv in strict mode (an unknown keyword is an error: most are typos), and its `pattern`s run on the
 *   linear-time regex engine of the expression language, so a pattern cannot stall a worker (ReDoS).
 * - A path template cannot leave the base URL: no `.`/`..` segments (also percent-encoded), no `\`, `?` or `#`;
 *   and a path value cannot be `.` or `..` (values are URL-encoded, so `/` in a value stays inside its segment).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compileRegex, RegexSyntaxError } from '../engine/linearRegex.js';
import type { ValidationProblem } from '../errors.js';
import type { JsonValue } from '../json.js';
import { HEADER_NAME_PATTERN } from './constants.js';
import { escapePointerToken } from './text.js';

/** The inputs of a step calling a declared operation. */
export const OPERATION_INPUT_NAMES = ['path', 'query', 'headers', 'body'] as const;

/** `{name}` placeholders of a path template, in order. */
export function pathPlaceholders(path: string): string[] {
  return [...path.matchAll(/\{([^{}]*)\}/g)].map((match) => match[1]!);
}

const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Why an operation's path template is unsafe or malformed; `undefined` when it is fine. */
export function operationPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return "must start with '/'";
  if (/[\\?#\u0000-\u001f\u007f\s]/.test(path)) return "must not contain '\\', '?', '#', spaces or control characters (put query parameters in query)";
  if (path.startsWith('//')) return "must not start with '//'";
  const literal = path.replace(/\{[^{}]*\}/g, 'x');
  if (/[{}]/.test(literal)) return 'has an unbalanced { or }';
  for (const name of pathPlaceholders(path)) if (!PLACEHOLDER_NAME.test(name)) return `placeholder {${name}} must be a name: a letter or '_', then letters, digits or '_'`;
  const segments = path.split('/');
  if (segments.some((segment) => isDotSegment(segment))) return "must not contain '.' or '..' segments";
  return undefined;
}

/** `.` and `..`, also percent-encoded (`%2e`), which URL parsers treat as dot segments. */
export function isDotSegment(segment: string): boolean {
  const decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
}

/** Why a value cannot fill a path placeholder; `undefined` when it can. */
export function pathValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return 'must be a string, number or boolean';
  const text = String(value);
  if (text === '') return 'must not be empty';
  if (isDotSegment(text)) return "must not be '.' or '..'";
  return undefined;
}

const scalar = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

/** The schema every step's inputs to an operation with `path` match, before the operation's own. */
function envelopeSchema(path: string): Record<string, unknown> {
  const placeholders = [...new Set(pathPlaceholders(path))];
  return {
    type: 'object',
    additionalProperties: false,
    ...(placeholders.length > 0 ? { required: ['path'] } : {}),
    properties: {
      path: {
        type: 'object',
        additionalProperties: false,
        required: placeholders,
        properties: Object.fromEntries(placeholders.map((name) => [name, scalar])),
      },
      query: { type: 'object', additionalProperties: { anyOf: [scalar, { type: 'array', items: scalar, maxItems: 1000 }] } },
      headers: { type: 'object', propertyNames: { pattern: HEADER_NAME_PATTERN }, additionalProperties: { type: 'string', maxLength: 8192, pattern: '^[^\\r\\n\\x00]*$' } },
      body: {},
    },
  };
}

/** Work a `pattern` may do on one value before it counts as not matching (linear engine: units ≈ length × size). */
const PATTERN_BUDGET = 5_000_000;

class PatternBudgetExceeded extends Error {}

/** ajv's RegExp engine, backed by the linear-time engine (RE2 syntax, no back-references or look-around). */
function linearRegExp(pattern: string): { test: (subject: string) => boolean; toString(): string } {
  const regex = compileRegex(pattern);
  return {
    // ajv shares compiled patterns by this string: it must identify the pattern (as RegExp#toString does).
    toString: () => `linear:/${pattern}/`,
    test: (subject) => {
      let spent = 0;
      try {
        return regex.test(subject, (units) => {
          spent += units;
          if (spent > PATTERN_BUDGET) throw new PatternBudgetExceeded();
        });
      } catch (error) {
        if (error instanceof PatternBudgetExceeded) return false;
        throw error;
      }
    },
  };
}
linearRegExp.code = 'linearRegExp';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, code: { regExp: linearRegExp } });
addFormats(ajv);

const MAX_COMPILED = 500;
const compiled = new Map<string, ValidateFunction | { error: string }>();

/**
 * The validator of a schema, compiled once per distinct schema text (bounded cache), or why it does not compile
 * (unknown keyword, bad `$ref`, unsupported pattern...).
 */
function compileSchema(schema: object): ValidateFunction | { error: string } {
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  let result: ValidateFunction | { error: string };
  try {
    // A copy: ajv keeps the object it compiles; the caller's may be mutated or reused. Removed from ajv's registry
    // at once (the function stays usable), so two tenants' schemas with the same $id never collide.
    const copy = JSON.parse(key) as object;
    try {
      result = ajv.compile(copy);
    } finally {
      ajv.removeSchema(copy);
    }
  } catch (error) {
    const message = error instanceof RegexSyntaxError ? `a pattern is not supported: ${error.message}` : error instanceof Error ? error.message : String(error);
    result = { error: message.slice(0, 300) };
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, result);
  return result;
}

/** Why an operation's `input` schema cannot be used; `undefined` when it compiles. */
export function operationSchemaProblem(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return 'must be a JSON Schema object';
  const validate = compileSchema(schema);
  return 'error' in validate ? validate.error : undefined;
}

function problemOf(error: ErrorObject): ValidationProblem {
  const at = `/inputs${error.instancePath}`;
  if (error.keyword === 'required') {
    const property = (error.params as { missingProperty: string }).missingProperty;
    return { pointer: `${at}/${escapePointerToken(property)}`, kind: 'required', message: `'${property}' is required` };
  }
  if (error.keyword === 'additionalProperties') {
    const property = (error.params as { additionalProperty: string }).additionalProperty;
    return { pointer: `${at}/${escapePointerToken(property)}`, kind: 'additionalProperties', message: `'${property}' is not expected here` };
  }
  return { pointer: at, kind: error.keyword, message: error.message ?? 'is invalid' };
}

function schemaProblems(schema: object, inputs: unknown): ValidationProblem[] {
  const validate = compileSchema(schema);
  if ('error' in validate) return [{ pointer: '/inputs', kind: 'invalidSchema', message: `the operation's input schema is invalid: ${validate.error}` }];
  return validate(inputs) ? [] : (validate.errors ?? []).map(problemOf);
}

/** Every problem of `inputs` against the operation's own `input` schema only (pointers start with `/inputs`). */
export function operationSchemaInputProblems(operation: { input?: object }, inputs: unknown): ValidationProblem[] {
  return operation.input === undefined ? [] : schemaProblems(operation.input, inputs);
}

/**
 * Every problem of a step's rendered inputs to an operation (pointers start with `/inputs`): the shape
 * `{path, query, headers, body}` with a value for every placeholder, path values that cannot leave their segment,
 * then the operation's own `input` schema.
 */
export function operationInputProblems(operation: { path: string; input?: object }, inputs: unknown): ValidationProblem[] {
  const problems = schemaProblems(envelopeSchema(operation.path), inputs);
  const path = inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) ? (inputs as { path?: unknown }).path : undefined;
  if (path !== null && typeof path === 'object' && !Array.isArray(path)) {
    for (const [name, value] of Object.entries(path)) {
      const problem = pathValueProblem(value);
      if (problem !== undefined && !problems.some((p) => p.pointer === `/inputs/path/${escapePointerToken(name)}`)) {
        problems.push({ pointer: `/inputs/path/${escapePointerToken(name)}`, kind: 'invalidPathValue', message: problem });
      }
    }
  }
  return [...problems, ...operationSchemaInputProblems(operation, inputs)];
}

/** A `{"$secret": name}` reference found in a value, with its RFC 6901 pointer (relative to the value). */
export interface SecretReferenceAt {
  pointer: string;
  name: string;
}

/** Every secret reference in a declaration (or any JSON value), depth-first, in document order. */
export function secretReferencesIn(value: JsonValue | undefined, at = ''): SecretReferenceAt[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => secretReferencesIn(item, `${at}/${i}`));
  const name = value['$secret'];
  if (typeof name === 'string') return [{ pointer: at, name }];
  return Object.entries(value).flatMap(([key, item]) => secretReferencesIn(item, `${at}/${escapePointerToken(key)}`));
}
