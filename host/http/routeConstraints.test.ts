import { describe, expect, it } from 'vitest';
import { isInvariantDateTime, parseRouteConstraint, ROUTE_CONSTRAINT_NAMES, RouteConstraintError } from './routeConstraints.js';

const GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** [constraint, value, passes] */
const VECTORS: Array<[string, string, boolean]> = [
  // int: Int32 with NumberStyles.Integer (white space, leading sign, leading zeros)
  ['int', '0', true],
  ['int', '2147483647', true],
  ['int', '2147483648', false],
  ['int', '-2147483648', true],
  ['int', '-2147483649', false],
  ['int', '+5', true],
  ['int', '007', true],
  ['int', '00000000002147483647', true],
  ['int', ' 42 ', true],
  ['int', '4 2', false],
  ['int', '1.0', false],
  ['int', '0x10', false],
  ['int', '1,000', false],
  ['int', '-', false],
  ['int', '', false],
  ['int', '٣', false],
  // long: Int64
  ['long', '9223372036854775807', true],
  ['long', '9223372036854775808', false],
  ['long', '-9223372036854775808', true],
  ['long', '-9223372036854775809', false],
  ['long', '123456789012345678901234567890', false],
  // bool
  ['bool', 'true', true],
  ['bool', 'FALSE', true],
  ['bool', ' True ', true],
  ['bool', 'yes', false],
  ['bool', '1', false],
  // guid: N, D, B, P, X
  ['guid', GUID, true],
  ['guid', GUID.toUpperCase(), true],
  ['guid', GUID.replace(/-/g, ''), true],
  ['guid', `{${GUID}}`, true],
  ['guid', `(${GUID})`, true],
  ['guid', '{0x0f8fad5b,0xd9cb,0x469f,{0xa1,0x65,0x70,0x86,0x77,0x28,0x95,0x0e}}', true],
  ['guid', `{${GUID})`, false],
  ['guid', GUID.slice(1), false],
  ['guid', GUID.replace('0f', 'zz'), false],
  ['guid', `${GUID.replace(/-/g, '')}0`, false],
  // datetime (invariant culture)
  ['datetime', '2024-01-15', true],
  ['datetime', '2024-01-15T10:30:00Z', true],
  ['datetime', '2024-01-15T10:30:00.1234567+05:30', true],
  ['datetime', '2024-01-15 10:30', true],
  ['datetime', '2024-02-29', true],
  ['datetime', '2023-02-29', false],
  ['datetime', '2024-02-30', false],
  ['datetime', '2024-13-01', false],
  ['datetime', '01-15-2024', true],
  ['datetime', '1.15.2024', true],
  ['datetime', '15-01-2024', false],
  ['datetime', '15 Jan 2024', true],
  ['datetime', 'January 15, 2024', true],
  ['datetime', 'Mon, 15 Jan 2024 10:30:00 GMT', true],
  ['datetime', '10:30', true],
  ['datetime', '2:30:15 PM', true],
  ['datetime', '25:00', false],
  ['datetime', '13:00 PM', false],
  ['datetime', '2024', false],
  ['datetime', 'notadate', false],
  // decimal: NumberStyles.Number (thousands, trailing sign, no exponent)
  ['decimal', '1.5', true],
  ['decimal', '-1.5', true],
  ['decimal', '.5', true],
  ['decimal', '5.', true],
  ['decimal', '1,000.25', true],
  ['decimal', '5-', true],
  ['decimal', '-5-', false],
  ['decimal', ',5', false],
  ['decimal', '.', false],
  ['decimal', '1e5', false],
  ['decimal', 'abc', false],
  ['decimal', '79228162514264337593543950335', true],
  ['decimal', '79228162514264337593543950336', false],
  // double / float: NumberStyles.Float | AllowThousands; overflow is infinity, not a failure
  ['double', '1e5', true],
  ['double', '-1.5E-3', true],
  ['double', '1,000.5', true],
  ['double', 'NaN', true],
  ['double', 'Infinity', true],
  ['double', '-infinity', true],
  ['double', '1e999', true],
  ['double', '1e', false],
  ['double', '5-', false],
  ['double', 'abc', false],
  ['float', '3.14', true],
  ['float', '1e999', true],
  ['float', 'x', false],
  // alpha: ASCII letters only
  ['alpha', 'abc', true],
  ['alpha', 'ABC', true],
  ['alpha', 'abc1', false],
  ['alpha', 'é', false],
  // min / max / range: Int64 values
  ['min(10)', '10', true],
  ['min(10)', '9', false],
  ['min(10)', 'abc', false],
  ['min(-5)', '-5', true],
  ['max(10)', '10', true],
  ['max(10)', '11', false],
  ['max(10)', '-5', true],
  ['max(10)', '9223372036854775808', false],
  ['range(5,10)', '5', true],
  ['range(5,10)', '10', true],
  ['range(5,10)', '4', false],
  ['range(5,10)', '11', false],
  ['range(5, 10)', '7', true],
  // lengths
  ['length(3)', 'abc', true],
  ['length(3)', 'ab', false],
  ['length(2,4)', 'ab', true],
  ['length(2,4)', 'abcd', true],
  ['length(2,4)', 'a', false],
  ['length(2,4)', 'abcde', false],
  ['minlength(2)', 'ab', true],
  ['minlength(2)', 'a', false],
  ['maxlength(2)', 'ab', true],
  ['maxlength(2)', 'abc', false],
  // regex: case-insensitive, not anchored
  ['regex(\\d+)', 'abc123', true],
  ['regex(\\d+)', 'abc', false],
  ['regex(^\\d+$)', '123', true],
  ['regex(^\\d+$)', '12a', false],
  ['regex(^[A-Z]{3}$)', 'abc', true],
  ['regex(^a,b$)', 'a,b', true],
  // required / file / nonfile
  ['required', 'x', true],
  ['required', '', false],
  ['file', 'a.txt', true],
  ['file', 'dir/a.txt', true],
  ['file', '.gitignore', true],
  ['file', 'abc', false],
  ['file', 'a.', false],
  ['file', 'a.b/c', false],
  ['nonfile', 'abc', true],
  ['nonfile', 'a.txt', false],
  // names are case-insensitive
  ['INT', '5', true],
  ['Min(3)', '2', false],
];

describe('route constraints', () => {
  it.each(VECTORS)('%s on %j → %s', (text, value, expected) => {
    expect(parseRouteConstraint(text).test(value)).toBe(expected);
  });

  it('fails every constraint except nonfile for a parameter without a value (empty catch-all)', () => {
    for (const name of ROUTE_CONSTRAINT_NAMES) {
      const text = ['min', 'max', 'minlength', 'maxlength', 'length'].includes(name)
        ? `${name}(1)`
        : name === 'range'
          ? 'range(1,2)'
          : name === 'regex'
            ? 'regex(.*)'
            : name;
      expect(parseRouteConstraint(text).test(undefined), text).toBe(name === 'nonfile');
    }
  });

  it('knows exactly the ASP.NET inline constraints', () => {
    expect([...ROUTE_CONSTRAINT_NAMES].sort()).toEqual(
      ['alpha', 'bool', 'datetime', 'decimal', 'double', 'file', 'float', 'guid', 'int', 'length', 'long', 'max', 'maxlength', 'min', 'minlength', 'nonfile', 'range', 'regex', 'required'],
    );
  });

  it.each([
    ['foo', "Unknown route constraint 'foo'"],
    ['int(5)', "The route constraint 'int(5)' does not take arguments"],
    ['int()', "The route constraint 'int()' does not take arguments"],
    ['min', "The route constraint 'min' requires arguments"],
    ['min(abc)', "The argument 'abc' of route constraint 'min(abc)' is not a valid Int64"],
    ['min(1,2)', "The argument '1,2' of route constraint 'min(1,2)' is not a valid Int64"],
    ['maxlength(2147483648)', 'is not a valid Int32'],
    ['minlength(-1)', 'must not be negative'],
    ['length(-1)', 'must not be negative'],
    ['length(5,2)', 'greater than its maximum'],
    ['length(1,2,3)', 'takes one or two arguments'],
    ['range(10,5)', 'greater than its maximum'],
    ['range(1)', 'takes two arguments'],
    ['regex([)', "The regular expression in route constraint 'regex([)' is invalid"],
    ['regex(a', "Unknown route constraint 'regex(a'"],
  ])('rejects %s', (text, message) => {
    expect(() => parseRouteConstraint(text)).toThrow(RouteConstraintError);
    expect(() => parseRouteConstraint(text)).toThrow(message);
  });

  it('accepts month-day dates in the current year', () => {
    expect(isInvariantDateTime('2/29')).toBe(new Date(new Date().getFullYear(), 1, 29).getMonth() === 1);
    expect(isInvariantDateTime('12/31')).toBe(true);
  });
});
