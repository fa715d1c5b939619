/**
 * Run-time evaluation of workflow expressions (`{ "$expr": "<CEL>" }`) and value templates, with
 * `@marcbachmann/cel-js`. Pure and deterministic: the result depends only on the expression and the context
 * (no clock, no randomness, no I/O), so an orchestrator replaying a run gets the same values every time.
 *
 * ## Limits (all enforced on every evaluation; see {@link EXPRESSION_LIMITS})
 *
 * - **Source length**: at most `LIMITS.maxExpressionLength` (4096) characters, checked before parsing.
 * - **Parse limits** (cel-js): at most 64 levels of nesting and 10 000 AST nodes; list/map literals at most
 *   1000 entries; calls at most 32 arguments.
 * - **Evaluation budget** (a deterministic step budget instead of a wall-clock timeout, which would break
 *   replay): every evaluation of an AST node costs 1 unit (so every iteration of `map`/`filter`/`all`/
 *   `exists`/`exists_one` costs at least 1), and `matches` costs 1 unit per regex state visited per character;
 *   an evaluation may spend at most `maxEvaluationCost` (1 000 000) units. cel-js has no step budget of its
 *   own: the engine installs a counting wrapper on every node of the parsed AST.
 * - **Intermediate values**: any string (or bytes) built by an operator or a function (`+`, calls, literals)
 *   may hold at most `maxIntermediateStringLength` (1 Mi) characters, and any list or map built so at most
 *   `maxIntermediateCollectionSize` (100 000) entries: this bounds memory against repeated doubling
 *   (`cel.bind(a, s + s, …)`). Values only read from the context are not counted.
 * - **Regular expressions**: `matches` does not use JavaScript's backtracking `RegExp` (catastrophic on
 *   patterns such as `(a+)+$`) but a linear-time NFA ({@link compileRegex}) with RE2 syntax; patterns are at most
 *   1024 characters and 10 000 NFA states.
 * - **Result**: converted to JSON (see below), nested at most `maxResultDepth` (64) levels, and at most
 *   `maxResultBytes` (256 KiB) once serialized as UTF-8 JSON.
 * - **Templates**: nested at most `LIMITS.maxJsonDepth` (64) levels.
 * - Not limited here: the size of the context (run input, step outputs), which the engine bounds where those
 *   values are produced.
 *
 * A limit that is exceeded fails the expression even when CEL's error-absorbing operators (`||`, `&&`,
 * `all`, `exists`) would have swallowed the error.
 *
 * ## Values
 *
 * Into CEL: JSON values as they are (JSON numbers are CEL doubles, as the language docs say), except `index`
 * and `run.version`, which are CEL ints, and objects with an own `constructor` key, which are passed as `Map`s
 * (cel-js would otherwise reject them). Known cel-js limitation: a map *literal* in an expression silently
 * drops a `"constructor"` key. Out of CEL, deterministically: `int`/`uint` → a JSON number when it is
 * a safe integer (|n| ≤ 2^53 − 1), else its decimal string; `double` → number (−0 → 0; NaN and ±Infinity are
 * errors); `timestamp` → RFC 3339 string in UTC with milliseconds (`2030-01-31T09:00:00.000Z`); `duration` →
 * protobuf JSON form (`"3600s"`, `"1.5s"`); `bytes` → base64; maps → objects (keys as strings: ints in decimal,
 * bools as `true`/`false`), in insertion order; lists → arrays; `null` → null. Type values cannot be
 * converted (error).
 *
 * Errors are {@link ExpressionError}s (`EXPRESSION.FAILED`): the message names the step, where the expression
 * is and its source (truncated), never a value of the context, and never secret material (secrets are not in
 * the context; `$secret` references are never evaluated).
 */
import { Environment } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { AppError } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import { LIMITS } from '../workflow-language/constants.js';
import type { Expression } from '../workflow-language/types.js';
import { compileRegex, RegexSyntaxError } from './linearRegex.js';

/** The limits enforced on every evaluation (documented at the top of this module). */
export const EXPRESSION_LIMITS = {
  maxExpressionLength: LIMITS.maxExpressionLength,
  maxAstDepth: 64,
  maxAstNodes: 10_000,
  maxEvaluationCost: 1_000_000,
  maxIntermediateStringLength: 1_048_576,
  maxIntermediateCollectionSize: 100_000,
  maxResultBytes: 262_144,
  maxResultDepth: LIMITS.maxJsonDepth,
  maxTemplateDepth: LIMITS.maxJsonDepth,
} as const;

/** The error code of every expression failure. */
export const EXPRESSION_FAILED = 'EXPRESSION.FAILED';

/** How an expression's step reads another step: `steps.<id>.output|status|error`. */
export interface StepView {
  /** The output of a succeeded step; null when the step failed or was skipped. */
  readonly output: JsonValue;
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** `run.*` in expressions. */
export interface RunInfo {
  readonly id: string;
  readonly workflowId: string;
  readonly version: number;
  /** RFC 3339. */
  readonly startedAt: string;
}

/** `error` in a handler step: the failure that started it. */
export interface HandlerErrorInfo {
  readonly stepId: string;
  readonly code: string;
  readonly message: string;
}

/** The variables an expression can read. Absent optional fields are unknown variables in CEL. */
export interface ExpressionContext {
  readonly inputs: JsonValue;
  readonly steps: { readonly [stepId: string]: StepView };
  readonly item?: JsonValue;
  readonly index?: number;
  readonly error?: HandlerErrorInfo;
  readonly run: RunInfo;
}

/** Where an expression sits, for error messages: the step (if any) and the field, e.g. `condition`, `inputs/to`. */
export interface ExpressionSite {
  readonly stepId?: string;
  readonly field: string;
}

const MAX_SOURCE_IN_MESSAGE = 200;
const MAX_REASON_LENGTH = 500;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** An expression could not be evaluated (code `EXPRESSION.FAILED`). Holds no context values and no secrets. */
export class ExpressionError extends AppError {
  override readonly name = 'ExpressionError';
  /** The step whose expression failed, if any. */
  readonly stepId: string | undefined;
  /** Where in the step (or `outputs/<name>`) the expression is. */
  readonly field: string;
  /** The expression source, truncated to 200 characters. */
  readonly expression: string;
  /** What went wrong, without the expression. */
  readonly reason: string;

  constructor(site: ExpressionSite, expression: string, reason: string) {
    const source = truncate(expression, MAX_SOURCE_IN_MESSAGE);
    const shortReason = truncate(reason, MAX_REASON_LENGTH);
    const owner = site.stepId !== undefined ? `step '${site.stepId}'` : 'the run';
    super(EXPRESSION_FAILED, `${owner}: the expression at ${site.field} failed: ${shortReason} (expression: ${JSON.stringify(source)})`, {
      details: { stepId: site.stepId ?? null, field: site.field, expression: source, reason: shortReason },
    });
    this.stepId = site.stepId;
    this.field = site.field;
    this.expression = source;
    this.reason = shortReason;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The CEL environment, the evaluation budget and the AST instrumentation

const VARIABLES = ['inputs', 'steps', 'item', 'index', 'error', 'run'] as const;

const environment = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: false,
  limits: { maxDepth: EXPRESSION_LIMITS.maxAstDepth, maxAstNodes: EXPRESSION_LIMITS.maxAstNodes },
});
for (const name of VARIABLES) environment.registerVariable(name, 'dyn');

/** A limit was exceeded; sticky, so that CEL's error absorption cannot hide it. */
class LimitExceeded extends Error {
  override readonly name = 'LimitExceeded';
}

/** An evaluation error raised by the engine's own code (e.g. `matches` on a non-string). */
class EvaluationFailure extends Error {
  override readonly name = 'EvaluationFailure';
}

interface Budget {
  remaining: number;
  violation: string | undefined;
}

/** The budget of the evaluation in progress (evaluation is synchronous, so one at a time). */
let activeBudget: Budget | undefined;

function violate(message: string): never {
  const budget = activeBudget;
  if (budget && budget.violation === undefined) budget.violation = message;
  throw new LimitExceeded(budget?.violation ?? message);
}

function charge(units: number): void {
  const budget = activeBudget;
  if (!budget) return;
  budget.remaining -= units;
  if (budget.remaining < 0) {
    violate(`the evaluation exceeded its budget of ${EXPRESSION_LIMITS.maxEvaluationCost} steps (too many iterations or too large a regular-expression search)`);
  }
}

function checkIntermediate(value: unknown): void {
  if (typeof value === 'string') {
    if (value.length > EXPRESSION_LIMITS.maxIntermediateStringLength) {
      violate(`a string built by the expression has ${value.length} characters; the limit is ${EXPRESSION_LIMITS.maxIntermediateStringLength}`);
    }
  } else if (Array.isArray(value)) {
    if (value.length > EXPRESSION_LIMITS.maxIntermediateCollectionSize) {
      violate(`a list built by the expression has ${value.length} items; the limit is ${EXPRESSION_LIMITS.maxIntermediateCollectionSize}`);
    }
  } else if (value instanceof Uint8Array) {
    if (value.length > EXPRESSION_LIMITS.maxIntermediateStringLength) {
      violate(`bytes built by the expression are ${value.length} long; the limit is ${EXPRESSION_LIMITS.maxIntermediateStringLength}`);
    }
  } else if (value instanceof Map) {
    if (value.size > EXPRESSION_LIMITS.maxIntermediateCollectionSize) {
      violate(`a map built by the expression has ${value.size} entries; the limit is ${EXPRESSION_LIMITS.maxIntermediateCollectionSize}`);
    }
  }
}

/** The parts of a cel-js AST node this module relies on (cel-js 8). */
interface CelNode {
  readonly op: string;
  readonly args: unknown;
  evaluate: EvaluateFn;
}
interface CelEvaluator {
  run(node: CelNode, ctx: unknown): unknown;
}
type EvaluateFn = (this: CelNode, evaluator: CelEvaluator, ast: CelNode, ctx: unknown) => unknown;

function isCelNode(value: unknown): value is CelNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { op?: unknown }).op === 'string' &&
    typeof (value as { evaluate?: unknown }).evaluate === 'function' &&
    'args' in value
  );
}

/** Operators that build new values, whose results are checked against the intermediate-size limits. */
const CONSTRUCTING_OPS = new Set(['+', 'call', 'rcall', 'list', 'map']);

/**
 * Wraps `evaluate` of every node reachable from the root so that each evaluation is charged to the active
 * budget (and constructed values are size-checked), and replaces `string.matches` by the linear-time engine.
 * cel-js resolves a node's evaluate function on first use by assigning `this.evaluate`; the wrapper calls
 * the prototype's resolver each time and then puts itself back.
 */
function instrument(root: CelNode): number {
  const seen = new Set<CelNode>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 4 * EXPRESSION_LIMITS.maxAstDepth + 16) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (!isCelNode(value) || seen.has(value)) return;
    seen.add(value);
    const node = value;
    const args = node.args;
    if (node.op === 'rcall' && Array.isArray(args) && args[0] === 'matches' && isCelNode(args[1]) && Array.isArray(args[2]) && args[2].length === 1 && isCelNode(args[2][0])) {
      node.evaluate = matchesEvaluator(args[1], args[2][0]);
    } else {
      const resolve = (Object.getPrototypeOf(node) as { evaluate?: unknown }).evaluate;
      if (typeof resolve !== 'function') throw new Error('unsupported cel-js AST: nodes have no evaluate method');
      const resolver = resolve as EvaluateFn;
      const constructs = CONSTRUCTING_OPS.has(node.op);
      const wrapped: EvaluateFn = function (this: CelNode, evaluator, ast, ctx) {
        charge(1);
        let result: unknown;
        try {
          result = resolver.call(this, evaluator, ast, ctx);
        } finally {
          this.evaluate = wrapped;
        }
        if (constructs) checkIntermediate(result);
        return result;
      };
      node.evaluate = wrapped;
    }
    visit(args, depth + 1);
  };
  visit(root, 0);
  return seen.size;
}

function matchesEvaluator(receiver: CelNode, patternNode: CelNode): EvaluateFn {
  return function (this: CelNode, evaluator, _ast, ctx) {
    charge(1);
    const subject = evaluator.run(receiver, ctx);
    const pattern = evaluator.run(patternNode, ctx);
    if (typeof subject !== 'string' || typeof pattern !== 'string') {
      throw new EvaluationFailure(`no such overload: ${celTypeName(subject)}.matches(${celTypeName(pattern)})`);
    }
    try {
      return compileRegex(pattern).test(subject, charge);
    } catch (error) {
      if (error instanceof RegexSyntaxError) throw new EvaluationFailure(`invalid regular expression: ${error.message}`);
      throw error;
    }
  };
}

function celTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return value instanceof Map || Object.getPrototypeOf(value) === Object.prototype ? 'map' : 'object';
  return typeof value;
}

type Compiled = (context: Record<string, unknown>) => unknown;

const compiledCache = new Map<string, Compiled>();
const COMPILED_CACHE_SIZE = 1000;

function compileExpression(source: string): Compiled {
  const cached = compiledCache.get(source);
  if (cached) return cached;
  const parsed = environment.parse(source);
  instrument(parsed.ast as unknown as CelNode);
  const compiled: Compiled = (context) => parsed(context);
  if (compiledCache.size >= COMPILED_CACHE_SIZE) compiledCache.clear();
  compiledCache.set(source, compiled);
  return compiled;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const summary = (error as { summary?: unknown }).summary;
    const text = typeof summary === 'string' && summary !== '' ? summary : error.message.split('\n')[0] ?? error.message;
    if (error.name === 'ParseError') return `syntax error: ${text}`;
    if (error.name === 'TypeError' && (error as { code?: unknown }).code !== undefined) return `type error: ${text}`;
    if (error instanceof RangeError) return `the expression could not be evaluated: ${text}`;
    return text;
  }
  return 'the expression could not be evaluated';
}

/** JSON values already prepared for cel-js, by identity (context values are never mutated). */
const celValues = new WeakMap<object, unknown>();

/**
 * Prepares a JSON value for cel-js, which tells maps from other objects by their `constructor` property: an
 * object with an own `constructor` key (a step id, or data from an API) would be an "unsupported type". Such
 * objects become `Map`s (which CEL reads the same way); everything else is passed as it is. Cached per object.
 */
function toCelValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const cached = celValues.get(value);
  if (cached !== undefined) return cached;
  let result: unknown = value;
  if (Array.isArray(value)) {
    const items = value.map(toCelValue);
    if (items.some((item, i) => item !== value[i])) result = items;
  } else if (isPlainObject(value)) {
    const entries = Object.entries(value);
    const converted = entries.map(([k, v]): [string, unknown] => [k, toCelValue(v)]);
    if (Object.prototype.hasOwnProperty.call(value, 'constructor')) result = new Map(converted);
    else if (converted.some(([, v], i) => v !== entries[i]![1])) result = Object.fromEntries(converted);
  }
  celValues.set(value, result);
  return result;
}

function activation(context: ExpressionContext): Record<string, unknown> {
  const result: Record<string, unknown> = {
    inputs: toCelValue(context.inputs),
    steps: toCelValue(context.steps),
    run: { ...context.run, version: toCelInt(context.run.version) },
  };
  if (context.item !== undefined) result['item'] = toCelValue(context.item);
  if (context.index !== undefined) result['index'] = toCelInt(context.index);
  if (context.error !== undefined) result['error'] = toCelValue(context.error);
  return result;
}

function toCelInt(value: number): bigint | number {
  return Number.isSafeInteger(value) ? BigInt(value) : value;
}

/**
 * Evaluates one expression and converts the result to JSON. Throws {@link ExpressionError} when it cannot be
 * evaluated, breaks a limit, or gives a value JSON cannot hold.
 */
export function evaluateExpression(expression: Expression, context: ExpressionContext, site: ExpressionSite): JsonValue {
  const source: unknown = expression.$expr;
  if (typeof source !== 'string') throw new ExpressionError(site, String(source), '$expr must be a string of CEL');
  if (source.length > EXPRESSION_LIMITS.maxExpressionLength) {
    throw new ExpressionError(site, source, `the expression is ${source.length} characters; the limit is ${EXPRESSION_LIMITS.maxExpressionLength}`);
  }
  let compiled: Compiled;
  try {
    compiled = compileExpression(source);
  } catch (error) {
    throw new ExpressionError(site, source, reasonOf(error));
  }
  const budget: Budget = { remaining: EXPRESSION_LIMITS.maxEvaluationCost, violation: undefined };
  const previous = activeBudget;
  activeBudget = budget;
  let raw: unknown;
  let failure: unknown;
  let failed = false;
  try {
    const variables = activation(context);
    raw = compiled(variables);
  } catch (error) {
    failed = true;
    failure = error;
  } finally {
    activeBudget = previous;
  }
  if (budget.violation !== undefined) throw new ExpressionError(site, source, budget.violation);
  if (failed) throw new ExpressionError(site, source, reasonOf(failure));
  try {
    return celToJson(raw);
  } catch (error) {
    if (error instanceof ConversionError) throw new ExpressionError(site, source, error.message);
    throw error;
  }
}

/** Evaluates a condition: the result must be a bool. */
export function evaluateCondition(expression: Expression, context: ExpressionContext, site: ExpressionSite): boolean {
  const value = evaluateExpression(expression, context, site);
  if (typeof value !== 'boolean') {
    throw new ExpressionError(site, expression.$expr, `a condition must give a bool, not ${jsonTypeName(value)}`);
  }
  return value;
}

/** The JSON type of a value, for messages (never the value itself). */
export function jsonTypeName(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  return 'a bool';
}

// ---------------------------------------------------------------------------------------------------------
// CEL → JSON

class ConversionError extends Error {
  override readonly name = 'ConversionError';
}

/** Sets a property without ever invoking the `__proto__` setter. */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    const n = (a << 16) | (b << 8) | c;
    out += BASE64[(n >> 18) & 63]! + BASE64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? BASE64[n & 63]! : '=';
  }
  return out;
}

function integerToJson(value: bigint): JsonValue {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function mapKey(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'bigint') return key.toString();
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  if (key instanceof UnsignedInt) return key.value.toString();
  if (typeof key === 'number' && Number.isFinite(key)) return String(key);
  throw new ConversionError(`a map key of type ${celTypeName(key)} cannot be converted to JSON`);
}

/**
 * Converts a CEL value to JSON (rules at the top of this module), enforcing the result depth and size limits.
 * Throws {@link ExpressionError}-ready ConversionErrors.
 */
function celToJson(value: unknown): JsonValue {
  const limit = EXPRESSION_LIMITS.maxResultBytes;
  // A running lower bound of the serialized size, to stop early on huge (e.g. repeated-reference) values.
  let estimate = 0;
  const add = (bytes: number): void => {
    estimate += bytes;
    if (estimate > limit) throw new ConversionError(`the result is larger than ${limit} bytes as JSON`);
  };
  const convert = (v: unknown, depth: number): JsonValue => {
    if (depth > EXPRESSION_LIMITS.maxResultDepth) throw new ConversionError(`the result is nested deeper than ${EXPRESSION_LIMITS.maxResultDepth} levels`);
    if (v === null) {
      add(4);
      return null;
    }
    switch (typeof v) {
      case 'boolean':
        add(5);
        return v;
      case 'string':
        add(utf8Length(v) + 2);
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw new ConversionError(`the result contains ${String(v)}, which JSON cannot hold`);
        add(8);
        return Object.is(v, -0) ? 0 : v;
      case 'bigint': {
        const n = integerToJson(v);
        add(String(n).length);
        return n;
      }
      case 'object':
        break;
      default:
        throw new ConversionError(`the result contains a value of type ${typeof v}, which JSON cannot hold`);
    }
    if (Array.isArray(v)) {
      add(2);
      const out: JsonValue[] = [];
      for (const item of v) {
        add(1);
        out.push(convert(item, depth + 1));
      }
      return out;
    }
    if (v instanceof UnsignedInt) return convert(v.value, depth);
    if (v instanceof Date) {
      const time = v.getTime();
      if (!Number.isFinite(time)) throw new ConversionError('the result contains an invalid timestamp');
      add(26);
      return v.toISOString();
    }
    if (v instanceof Duration) {
      const text = v.toString();
      add(text.length + 2);
      return text;
    }
    if (v instanceof Uint8Array) {
      add(Math.ceil(v.length / 3) * 4 + 2);
      return base64(v);
    }
    const out: JsonObject = {};
    const entries: Iterable<[unknown, unknown]> =
      v instanceof Map ? (v.entries() as Iterable<[unknown, unknown]>) : isPlainObject(v) ? Object.entries(v) : unsupported(v);
    add(2);
    for (const [key, item] of entries) {
      const name = mapKey(key);
      add(utf8Length(name) + 4);
      setOwn(out, name, convert(item, depth + 1));
    }
    return out;
  };
  const result = convert(value, 0);
  const bytes = utf8Length(JSON.stringify(result));
  if (bytes > limit) throw new ConversionError(`the result is ${bytes} bytes as JSON; the limit is ${limit}`);
  return result;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function unsupported(value: object): never {
  const tag = Object.prototype.toString.call(value);
  const what = /Type/.test(tag) || (value as { constructor?: { name?: unknown } }).constructor?.name === 'Type' ? 'a type value' : 'a value of an unsupported type';
  throw new ConversionError(`the result contains ${what}, which JSON cannot hold`);
}

// ---------------------------------------------------------------------------------------------------------
// Value templates

/** A `$secret` reference left in a rendered value: where it is (JSON Pointer into the value) and its name. */
export type SecretSlot = {
  /** RFC 6901 pointer into the rendered value; `""` when the whole value is the reference. */
  readonly pointer: string;
  readonly name: string;
};

/** A rendered template and the secret references it holds. */
export interface RenderedTemplate {
  readonly value: JsonValue;
  /**
   * The `$secret` references that came from the template itself, in document order. The activity must
   * resolve exactly these slots: an object that looks like `{"$secret": …}` elsewhere in the value came from
   * data (run input, step outputs, `$literal`) and must be passed on as data, never resolved.
   */
  readonly secrets: readonly SecretSlot[];
}

function pointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObjectValue(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Renders a value template: evaluates every `{"$expr": …}` (at any depth), unwraps `{"$literal": …}` (its
 * content is not looked into) and leaves `{"$secret": …}` references as they are (they are never evaluated;
 * the activity resolves them, see {@link RenderedTemplate.secrets}). Results of expressions are not
 * rendered again. Errors name the site and the position in the template, e.g. `inputs/to`.
 */
export function renderTemplate(template: JsonValue, context: ExpressionContext, site: ExpressionSite): RenderedTemplate {
  const secrets: SecretSlot[] = [];
  const render = (value: JsonValue, pointer: string, depth: number): JsonValue => {
    if (depth > EXPRESSION_LIMITS.maxTemplateDepth) {
      throw new ExpressionError({ ...site, field: `${site.field}${pointer}` }, '', `the template is nested deeper than ${EXPRESSION_LIMITS.maxTemplateDepth} levels`);
    }
    if (Array.isArray(value)) return value.map((item, i) => render(item, `${pointer}/${i}`, depth + 1));
    if (!isObjectValue(value)) return value;
    if ('$expr' in value) return evaluateExpression(value as unknown as Expression, context, { ...site, field: `${site.field}${pointer}` });
    if ('$literal' in value) return (value as { $literal: JsonValue }).$literal;
    if ('$secret' in value) {
      const name = (value as { $secret: JsonValue }).$secret;
      if (typeof name === 'string') secrets.push({ pointer, name });
      return { $secret: name };
    }
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value as JsonObject)) setOwn(out, key, render(item, `${pointer}/${pointerToken(key)}`, depth + 1));
    return out;
  };
  const value = render(template, '', 0);
  return { value, secrets };
}

/** {@link renderTemplate}, keeping only the value. */
export function renderValue(template: JsonValue, context: ExpressionContext, site: ExpressionSite = { field: 'value' }): JsonValue {
  return renderTemplate(template, context, site).value;
}
