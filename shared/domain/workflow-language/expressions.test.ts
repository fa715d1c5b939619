import { describe, expect, it } from 'vitest';
import { analyzeExpression, ExpressionSyntaxError, parseExpression } from './expressions.js';

function syntaxError(source: string): { detail: string; offset: number } {
  try {
    parseExpression(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) return { detail: error.detail, offset: error.offset };
    throw error;
  }
  throw new Error(`'${source}' parsed`);
}

const refs = (source: string) => analyzeExpression(parseExpression(source));

describe('expression syntax (CEL)', () => {
  it.each([
    'true',
    'null',
    '1 + 2 * 3 - -4 % 2',
    '0x1F + 3u + 2.5e3 + .5',
    '"a" + \'b\' + """multi\nline""" + r"raw\\d" + b"bytes"',
    '"escapes: \\n \\t \\x41 \\u00e9 \\101"',
    'inputs.amount > 100.0 && inputs.country in ["NL", "BE"] || !inputs.vip',
    'steps.fetch.output.items.size() > 0 ? steps.fetch.output.items[0].id : "none"',
    'size(inputs.list) == 3',
    'has(inputs.customer.email)',
    'inputs.lines.map(l, l.price * double(l.quantity))',
    'inputs.lines.filter(l, l.quantity > 1).exists(l, l.sku.startsWith("X"))',
    'inputs.lines.all(l, l.price >= 0.0) && inputs.lines.exists_one(l, l.main)',
    'inputs.tags.map(t, t != "", t.upperAscii())',
    '{"id": item.id, "n": index, "nested": {"k": [1, 2, 3,]},}',
    'type(inputs.x) == string',
    'steps["fetch"].output // a comment',
    'steps["loop"].output',
    'timestamp(inputs.at) + duration("1h")',
    '.inputs.x',
  ])('parses %s', (source) => {
    expect(() => parseExpression(source)).not.toThrow();
  });

  it.each([
    ['', 'empty expression', 0],
    ['inputs.a +', 'unexpected end of expression', 10],
    ['(1 + 2', "expected ')' but found end of expression", 6],
    ['a b', "unexpected 'b'", 2],
    ['"open', 'unterminated string', 0],
    ['"bad \\q"', 'invalid escape sequence', 5],
    ['1..2', 'expected a field name after "." but found number .2', 2],
    ['1e', 'malformed exponent', 0],
    ['12abc', 'malformed number', 0],
    ['inputs.#', "unexpected character '#'", 7],
    ['if == 1', "'if' is a reserved word", 0],
    ['steps.loop.output', `'loop' is a reserved word; write ["loop"] instead of .loop`, 6],
    ['inputs.null', `'null' is a reserved word; write ["null"] instead of .null`, 7],
    ['x.map(1, 2)', 'the first argument of map() must be a variable name, e.g. list.map(x, ...)', 6],
    ['has(inputs)', 'has() needs exactly one field selection, e.g. has(inputs.name)', 0],
    ['Msg{a: 1}', 'message construction (Name{...}) is not supported; use a map literal {"key": value}', 3],
    ['a.?b', 'optional field selection (.?) is not supported', 1],
    ['"line\nbreak"', 'line break in a string (use a triple-quoted string)', 5],
  ])('rejects %j: %s at %i', (source, detail, offset) => {
    expect(syntaxError(source)).toEqual({ detail, offset });
  });

  it('limits length and nesting', () => {
    expect(syntaxError('1'.repeat(5000)).detail).toBe('expression longer than 4096 characters');
    expect(syntaxError('('.repeat(100) + '1' + ')'.repeat(100)).detail).toBe('expression nested too deeply');
  });

  it('says where the error is in the message', () => {
    expect(() => parseExpression('1 +')).toThrow('unexpected end of expression (at column 4)');
  });
});

describe('expression analysis', () => {
  it('lists step, input and variable references', () => {
    const { references, issues } = refs('steps.fetch.output.total > inputs.limit && item.ok && index > 0 || run.id == "" || error.code == "X"');
    expect(issues).toEqual([]);
    expect(references).toEqual([
      { variable: 'steps', stepId: 'fetch', member: 'output', offset: 0 },
      { variable: 'inputs', name: 'limit', offset: 27 },
      { variable: 'item', offset: 43 },
      { variable: 'index', offset: 54 },
      { variable: 'run', offset: 67 },
      { variable: 'error', offset: 83 },
    ]);
  });

  it('reads literal index steps["id"] like steps.id', () => {
    expect(refs('steps["fetch"]["status"] == "failed"').references).toEqual([{ variable: 'steps', stepId: 'fetch', member: 'status', offset: 0 }]);
  });

  it('binds comprehension variables (they shadow workflow variables)', () => {
    const { references, issues } = refs('inputs.lines.map(item, item.price).filter(x, x > steps.limit.output)');
    expect(issues).toEqual([]);
    expect(references.map((r) => r.variable)).toEqual(['inputs', 'steps']);
  });

  it('finds references inside index expressions, calls, lists and maps', () => {
    const { references } = refs('size([steps.a.output, {"k": steps.b.output}]) + inputs.list[steps.c.output.i]');
    expect(references.flatMap((r) => (r.variable === 'steps' ? [r.stepId] : []))).toEqual(['a', 'b', 'c']);
  });

  it('reports unknown variables and malformed references', () => {
    expect(refs('foo + steps + steps.a + steps.a.result + steps[inputs.k].output + run.tenant + error.stack').issues).toEqual([
      { kind: 'unknownVariable', message: "unknown name 'foo' (expressions can use inputs, steps, item, index, error, run)", offset: 0 },
      { kind: 'invalidReference', message: 'refer to a step by its id, e.g. steps.<stepId>.output (computed step ids are not allowed)', offset: 6 },
      { kind: 'invalidReference', message: 'read a step through steps.a.output, steps.a.status or steps.a.error', offset: 20 },
      { kind: 'invalidReference', message: 'read a step through steps.a.output, steps.a.status or steps.a.error', offset: 32 },
      { kind: 'invalidReference', message: 'refer to a step by its id, e.g. steps.<stepId>.output (computed step ids are not allowed)', offset: 41 },
      { kind: 'invalidReference', message: "'run' has no field 'tenant' (it has id, workflowId, version, startedAt)", offset: 70 },
      { kind: 'invalidReference', message: "'error' has no field 'stack' (it has stepId, code, message)", offset: 85 },
    ]);
  });

  it('accepts CEL type names as values', () => {
    expect(refs('type(inputs.x) == int || type(inputs.x) == map').issues).toEqual([]);
  });
});
