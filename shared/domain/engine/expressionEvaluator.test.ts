import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import type { JsonValue } from '../json.js';
import {
  EXPRESSION_LIMITS,
  ExpressionError,
  evaluateCondition,
  evaluateExpression,
  renderTemplate,
  renderValue,
  type ExpressionContext,
  type ExpressionSite,
} from './expressionEvaluator.js';

const RUN = { id: 'run-1', workflowId: 'wf-1', version: 3, startedAt: '2030-01-01T00:00:00.000Z' };
const SITE: ExpressionSite = { stepId: 'calc', field: 'inputs/value' };

function ctx(overrides: Partial<ExpressionContext> = {}): ExpressionContext {
  return {
    inputs: { name: 'Ada', amount: 1200, lines: [{ sku: 'A', quantity: 2, price: 300 }], country: 'NL' },
    steps: {
      fetch: { output: { total: 42, items: [1, 2, 3] }, status: 'succeeded', error: null },
      broken: { output: null, status: 'failed', error: { code: 'HTTP.500', message: 'server error' } },
      maybe: { output: null, status: 'skipped', error: null },
    },
    run: RUN,
    ...overrides,
  };
}

const ev = (source: string, context: ExpressionContext = ctx(), site: ExpressionSite = SITE): JsonValue => evaluateExpression({ $expr: source }, context, site);

function failure(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error('expected an ExpressionError');
}

describe('evaluateExpression: variables', () => {
  it('reads inputs, steps, run, item, index and error', () => {
    expect(ev('"Hello, " + inputs.name + "!"')).toBe('Hello, Ada!');
    expect(ev('steps.fetch.output.total * 2.0')).toBe(84);
    expect(ev('steps.fetch.status')).toBe('succeeded');
    expect(ev('steps.broken.error.code')).toBe('HTTP.500');
    expect(ev('steps.broken.output')).toBeNull();
    expect(ev('steps.maybe.status == "skipped"')).toBe(true);
    expect(ev('run.id + "/" + run.workflowId + "@" + string(run.version)')).toBe('run-1/wf-1@3');
    expect(ev('run.version + 1')).toBe(4);
    expect(ev('run.startedAt')).toBe('2030-01-01T00:00:00.000Z');
    const loop = ctx({ item: { sku: 'B', quantity: 3, price: 2.5 }, index: 4 });
    expect(ev('double(item.quantity) * item.price', loop)).toBe(7.5);
    expect(ev('"line " + string(index) + ": " + item.sku', loop)).toBe('line 4: B');
    expect(ev('index + 1', loop)).toBe(5);
    expect(ev('error.stepId + " failed: " + error.message', ctx({ error: { stepId: 'fetch', code: 'X.Y', message: 'boom' } }))).toBe('fetch failed: boom');
  });

  it('reads data and step ids named like Object.prototype members', () => {
    const context = ctx({
      inputs: { payload: { constructor: { name: 'x' }, toString: 1, list: [{ constructor: 2 }] } },
      steps: { constructor: { output: 'c', status: 'succeeded' as const, error: null } },
    });
    expect(ev('inputs.payload.constructor.name + "/" + string(inputs.payload.toString)', context)).toBe('x/1');
    expect(ev('inputs.payload.list[0].constructor + 1.0', context)).toBe(3);
    expect(ev('steps.constructor.output', context)).toBe('c');
    expect(ev('inputs.payload', context)).toEqual({ constructor: { name: 'x' }, toString: 1, list: [{ constructor: 2 }] });
    expect(ev('has(inputs.payload.hasOwnProperty)', context)).toBe(false);
    expect(failure(() => ev('inputs.name.constructor', context)).reason).toMatch(/No such key|Cannot index|no such overload/);
  });

  it('treats JSON numbers as doubles, as the language documents', () => {
    expect(ev('inputs.amount > 1000.0')).toBe(true);
    expect(ev('inputs.amount == 1200')).toBe(true);
    expect(failure(() => ev('inputs.amount + 1')).reason).toMatch(/no such overload/);
    expect(ev('int(inputs.amount) + 1')).toBe(1201);
  });

  it('supports the documented functions and macros', () => {
    expect(ev('steps.fetch.output.items.size() > 0 && inputs.country in ["NL", "BE"]')).toBe(true);
    expect(ev('size(inputs.name)')).toBe(3);
    expect(ev('has(inputs.missing) ? inputs.missing : "default"')).toBe('default');
    expect(ev('inputs.lines.map(l, l.sku)')).toEqual(['A']);
    expect(ev('inputs.lines.filter(l, l.price > 100.0).size()')).toBe(1);
    expect(ev('[1, 2, 3].all(x, x > 0) && [1, 2, 3].exists(x, x == 2) && [1, 2, 3].exists_one(x, x == 3)')).toBe(true);
    expect(ev('[1, 2, 3].map(x, x > 1, x * 10)')).toEqual([20, 30]);
    expect(ev('inputs.name.startsWith("A") && inputs.name.endsWith("a") && inputs.name.contains("d")')).toBe(true);
    expect(ev('"order-123".matches("^order-[0-9]+$")')).toBe(true);
    expect(ev('{"sku": "A", "n": 1, "ok": true}')).toEqual({ sku: 'A', n: 1, ok: true });
  });

  it('makes item, index and error unknown where they are not given', () => {
    expect(failure(() => ev('item.sku')).reason).toMatch(/Unknown variable: item/);
    expect(failure(() => ev('error.message')).reason).toMatch(/Unknown variable: error/);
    expect(failure(() => ev('secrets.token')).reason).toMatch(/Unknown variable: secrets/);
  });
});

describe('evaluateExpression: CEL values to JSON', () => {
  it('converts ints to numbers when safe, else to decimal strings', () => {
    expect(ev('1 + 2')).toBe(3);
    expect(ev('9007199254740991')).toBe(9007199254740991);
    expect(ev('9007199254740992')).toBe('9007199254740992');
    expect(ev('-9223372036854775807 - 1')).toBe('-9223372036854775808');
    expect(ev('uint(7)')).toBe(7);
    expect(ev('18446744073709551615u')).toBe('18446744073709551615');
    expect(ev('7 / 2')).toBe(3);
  });

  it('converts doubles, rejecting NaN and infinities', () => {
    expect(ev('2.5 * 2.0')).toBe(5);
    expect(Object.is(ev('-0.0'), 0)).toBe(true);
    expect(failure(() => ev('1.0 / 0.0')).reason).toMatch(/Infinity, which JSON cannot hold/);
  });

  it('converts timestamps, durations, bytes, maps and lists deterministically', () => {
    expect(ev('timestamp("2030-01-31T09:00:00Z") + duration("1h30m")')).toBe('2030-01-31T10:30:00.000Z');
    expect(ev('duration("1h")')).toBe('3600s');
    expect(ev('duration("1.5s")')).toBe('1.5s');
    expect(ev('b"hello"')).toBe('aGVsbG8=');
    expect(ev('b"hi"')).toBe('aGk=');
    expect(ev('{1: "one", 2: "two"}')).toEqual({ '1': 'one', '2': 'two' });
    expect(ev('{true: 1, false: 0}')).toEqual({ true: 1, false: 0 });
    expect(ev('[[1, 2], ["a"], []]')).toEqual([[1, 2], ['a'], []]);
    expect(ev('null')).toBeNull();
    expect(Object.keys(ev('{"b": 1, "a": 2}') as object)).toEqual(['b', 'a']);
  });

  it('rejects values JSON cannot hold', () => {
    expect(failure(() => ev('type(1)')).reason).toMatch(/cannot hold/);
  });
});

describe('evaluateExpression: errors', () => {
  it('reports division by zero as EXPRESSION.FAILED naming the step and the expression', () => {
    const error = failure(() => ev('steps.fetch.output.total / 0', ctx(), { stepId: 'divide', field: 'inputs/value' }));
    // JSON numbers are doubles; use ints to get CEL's division-by-zero error.
    expect(error.code).toBe('EXPRESSION.FAILED');
    const intError = failure(() => ev('10 / (5 - 5)', ctx(), { stepId: 'divide', field: 'inputs/value' }));
    expect(intError).toBeInstanceOf(AppError);
    expect(intError.code).toBe('EXPRESSION.FAILED');
    expect(intError.message).toContain("step 'divide'");
    expect(intError.message).toContain('inputs/value');
    expect(intError.message).toContain('10 / (5 - 5)');
    expect(intError.message).toMatch(/division by zero/);
    expect(intError.stepId).toBe('divide');
    expect(intError.details).toEqual({ stepId: 'divide', field: 'inputs/value', expression: '10 / (5 - 5)', reason: 'division by zero' });
  });

  it('reports syntax errors, missing keys and type errors', () => {
    expect(failure(() => ev('1 +')).reason).toMatch(/^syntax error/);
    expect(failure(() => ev('steps.fetch.output.nothing')).reason).toMatch(/No such key: nothing/);
    expect(failure(() => ev('"a" + 1')).reason).toMatch(/no such overload/);
    expect(failure(() => ev('steps.maybe.output.decision')).reason).toMatch(/No such key/);
  });

  it('rejects an expression longer than the limit before parsing it', () => {
    const source = `"${'x'.repeat(EXPRESSION_LIMITS.maxExpressionLength)}"`;
    const error = failure(() => ev(source));
    expect(error.reason).toBe(`the expression is ${source.length} characters; the limit is 4096`);
    expect(error.expression.length).toBeLessThanOrEqual(200);
    expect(ev(`"${'x'.repeat(EXPRESSION_LIMITS.maxExpressionLength - 2)}"`)).toHaveLength(4094);
  });

  it('rejects a result larger than 256 KiB as JSON', () => {
    const big = 'é'.repeat(140_000); // 280 000 bytes as UTF-8
    const error = failure(() => ev('inputs.big', ctx({ inputs: { big } })));
    expect(error.reason).toMatch(/larger than 262144 bytes|bytes as JSON; the limit is 262144/);
    expect(ev('size(inputs.big)', ctx({ inputs: { big } }))).toBe(140_000);
    // Many references to one value are caught before serializing them all.
    const list = Array.from({ length: 1000 }, (_, i) => i);
    const many = failure(() => ev('inputs.list.map(x, inputs.s)', ctx({ inputs: { list, s: 'y'.repeat(100_000) } })));
    expect(many.reason).toMatch(/larger than 262144 bytes/);
  });

  it('bounds strings built by the expression (repeated doubling)', () => {
    const source = 'cel.bind(a, inputs.s + inputs.s, cel.bind(b, a + a, cel.bind(c, b + b, cel.bind(d, c + c, size(d + d)))))';
    const error = failure(() => ev(source, ctx({ inputs: { s: 'z'.repeat(100_000) } })));
    expect(error.reason).toMatch(/a string built by the expression has \d+ characters; the limit is 1048576/);
  });

  it('bounds lists built by the expression', () => {
    const list = Array.from({ length: 60_000 }, (_, i) => i);
    const error = failure(() => ev('size(inputs.l + inputs.l)', ctx({ inputs: { l: list } })));
    expect(error.reason).toMatch(/a list built by the expression has 120000 items/);
  });

  it('stops runaway evaluation with a deterministic step budget, even under || and exists', () => {
    const l = Array.from({ length: 200 }, (_, i) => i);
    const nested = 'inputs.l.map(x, inputs.l.map(y, inputs.l.map(z, 1))).size()';
    expect(failure(() => ev(nested, ctx({ inputs: { l } }))).reason).toMatch(/exceeded its budget of 1000000 steps/);
    expect(failure(() => ev(`${nested} > 0 || true`, ctx({ inputs: { l } }))).reason).toMatch(/exceeded its budget/);
    expect(failure(() => ev(`inputs.l.exists(a, inputs.l.exists(b, inputs.l.exists(c, c < 0)))`, ctx({ inputs: { l } }))).reason).toMatch(/exceeded its budget/);
    // Within budget: 200 × 200.
    expect(ev('inputs.l.map(x, inputs.l.filter(y, y < x).size()).size()', ctx({ inputs: { l } }))).toBe(200);
  });

  it('matches with a linear-time engine: catastrophic patterns finish quickly', () => {
    const s = `${'a'.repeat(5000)}!`;
    const started = performance.now();
    expect(ev('inputs.s.matches("(a+)+$")', ctx({ inputs: { s } }))).toBe(false);
    expect(ev('inputs.s.matches("a*a*a*a*b")', ctx({ inputs: { s } }))).toBe(false);
    expect(ev('inputs.s.matches("(a|aa)*!$")', ctx({ inputs: { s } }))).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(failure(() => ev('"a".matches("(a)\\\\1")')).reason).toMatch(/back-references are not supported/);
    expect(failure(() => ev('"a".matches("(?=a)")')).reason).toMatch(/look-around is not supported/);
  });

  it('charges regular-expression work to the budget', () => {
    const s = 'a'.repeat(600_000);
    expect(failure(() => ev('inputs.s.matches("(a|b|c|d|e)*z")', ctx({ inputs: { s } }))).reason).toMatch(/exceeded its budget/);
  });

  it('requires conditions to be bools', () => {
    expect(evaluateCondition({ $expr: 'steps.fetch.output.total > 40.0' }, ctx(), { stepId: 's', field: 'condition' })).toBe(true);
    const error = failure(() => evaluateCondition({ $expr: 'steps.fetch.output.total' }, ctx(), { stepId: 's', field: 'condition' }));
    expect(error.reason).toBe('a condition must give a bool, not a number');
    expect(error.message).toContain("step 's'");
  });

  it('names the run when there is no step', () => {
    expect(failure(() => ev('1 / 0', ctx(), { field: 'outputs/total' })).message).toMatch(/^the run: the expression at outputs\/total failed: division by zero/);
  });

  it('is deterministic', () => {
    const source = 'inputs.lines.map(l, {"sku": l.sku, "total": double(l.quantity) * l.price, "at": run.startedAt})';
    const first = ev(source);
    for (let i = 0; i < 5; i++) expect(ev(source)).toEqual(first);
    expect(first).toEqual([{ sku: 'A', total: 600, at: '2030-01-01T00:00:00.000Z' }]);
  });

  it('does not change the context', () => {
    const context = ctx();
    const snapshot = JSON.stringify(context);
    ev('inputs.lines.map(l, l.sku) + ["x"]', context);
    expect(JSON.stringify(context)).toBe(snapshot);
  });
});

describe('renderTemplate / renderValue', () => {
  it('evaluates $expr at any depth and keeps everything else', () => {
    const template: JsonValue = {
      to: { $expr: 'inputs.name' },
      subject: 'Your order',
      lines: { $expr: 'inputs.lines.map(l, l.sku)' },
      meta: { source: 'automateiq', attempt: 1, nested: [{ total: { $expr: 'steps.fetch.output.total' } }, null, true] },
    };
    expect(renderValue(template, ctx(), SITE)).toEqual({
      to: 'Ada',
      subject: 'Your order',
      lines: ['A'],
      meta: { source: 'automateiq', attempt: 1, nested: [{ total: 42 }, null, true] },
    });
  });

  it('unwraps $literal without looking inside it', () => {
    const template: JsonValue = { data: { $literal: { $expr: 'not evaluated', $secret: 'not-a-reference' } }, list: { $literal: [1, { $expr: 'x' }] } };
    const rendered = renderTemplate(template, ctx(), SITE);
    expect(rendered.value).toEqual({ data: { $expr: 'not evaluated', $secret: 'not-a-reference' }, list: [1, { $expr: 'x' }] });
    expect(rendered.secrets).toEqual([]);
  });

  it('leaves $secret references untouched and lists where they are', () => {
    const template: JsonValue = {
      headers: { Authorization: { $secret: 'crm-token' }, 'a/b~c': { $secret: 'other' } },
      list: [{ $secret: 'third' }],
      body: { $expr: 'inputs.payload' },
    };
    const payload = { $secret: 'crm-token' }; // data that looks like a reference: never a slot
    const rendered = renderTemplate(template, ctx({ inputs: { payload } }), SITE);
    expect(rendered.value).toEqual({ headers: { Authorization: { $secret: 'crm-token' }, 'a/b~c': { $secret: 'other' } }, list: [{ $secret: 'third' }], body: { $secret: 'crm-token' } });
    expect(rendered.secrets).toEqual([
      { pointer: '/headers/Authorization', name: 'crm-token' },
      { pointer: '/headers/a~1b~0c', name: 'other' },
      { pointer: '/list/0', name: 'third' },
    ]);
    expect(renderTemplate({ $secret: 'whole' }, ctx(), SITE).secrets).toEqual([{ pointer: '', name: 'whole' }]);
  });

  it('does not render results of expressions again', () => {
    expect(renderValue({ v: { $expr: 'inputs.t' } }, ctx({ inputs: { t: { $expr: '1 + 1' } } }), SITE)).toEqual({ v: { $expr: '1 + 1' } });
  });

  it('keeps a "__proto__" key as data', () => {
    const template = JSON.parse('{"__proto__": {"polluted": {"$expr": "1 + 1"}}, "ok": 1}') as JsonValue;
    const value = renderValue(template, ctx(), SITE) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'ok']);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"polluted":2},"ok":1}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('names the position of a failing expression in the template', () => {
    const error = failure(() => renderValue({ a: [{ b: { $expr: '1 / 0' } }] }, ctx(), { stepId: 'send', field: 'inputs' }));
    expect(error.field).toBe('inputs/a/0/b');
    expect(error.message).toContain("step 'send': the expression at inputs/a/0/b failed: division by zero");
  });

  it('rejects templates nested too deeply', () => {
    let template: JsonValue = 1;
    for (let i = 0; i < EXPRESSION_LIMITS.maxTemplateDepth + 2; i++) template = [template];
    expect(failure(() => renderValue(template, ctx(), SITE)).reason).toMatch(/nested deeper than 64 levels/);
  });
});
