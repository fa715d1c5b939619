import { describe, expect, it } from 'vitest';
import { compileRegex, MAX_REGEX_PATTERN_LENGTH, RegexSyntaxError } from './linearRegex.js';

const free = (): void => {};
const test = (pattern: string, subject: string): boolean => compileRegex(pattern).test(subject, free);

/** Patterns whose meaning is the same in RE2 and JavaScript (without flags), checked against RegExp. */
const SHARED_PATTERNS = [
  'abc',
  '^abc$',
  'a.c',
  'a*',
  '^a+$',
  '^a?b$',
  '^(ab)+$',
  '^(a|b)*c$',
  '^(?:foo|bar|baz)+$',
  '^a{2}$',
  '^a{2,}$',
  '^a{2,3}$',
  '^[a-z]+@[a-z]+\\.[a-z]{2,}$',
  '[^0-9]',
  '^\\d{4}-\\d{2}-\\d{2}$',
  '^\\w+$',
  '\\s',
  '^\\S+$',
  '\\bcat\\b',
  '\\Bcat',
  '^[\\w.-]+$',
  '^[]a]+$',
  '^[a\\-z]+$',
  '^\\x41\\x{42}$',
  'colou?r',
  '^(a*)*$',
  '^(a|)+$',
  '^$',
  '^.*$',
  'x*?y',
  '^[[:alpha:]]+$',
  '\\.',
  '^\\(\\)$',
  '^a|b$',
];
const SUBJECTS = ['', 'abc', 'xabcx', 'aaa', 'a', 'ab', 'b', 'abab', 'aabbc', 'foobarbaz', 'aa', 'aaaa', 'ada@example.com', 'x1', '2030-01-31', 'hello_world', 'a b', 'cat', 'concat', 'a.b-c', ']a]', 'a-z', 'AB', 'color', 'colour', 'xxy', 'line1\nline2', '()', 'y', 'ñ'];

describe('linear regex', () => {
  it('agrees with RegExp on the syntax both share', () => {
    for (const pattern of SHARED_PATTERNS) {
      const js = new RegExp(pattern.replace('[[:alpha:]]', '[A-Za-z]').replace('\\x{42}', '\\x42').replace('[]a]', '[\\]a]'));
      for (const subject of SUBJECTS) {
        expect(test(pattern, subject), `${pattern} on ${JSON.stringify(subject)}`).toBe(js.test(subject));
      }
    }
  });

  it('supports flags', () => {
    expect(test('(?i)^hello$', 'HeLLo')).toBe(true);
    expect(test('^hello$', 'HeLLo')).toBe(false);
    expect(test('(?i:h)ello', 'Hello')).toBe(true);
    expect(test('(?i:h)ello', 'HELLO')).toBe(false);
    expect(test('(?i)[a-c]+$', 'ABC')).toBe(true);
    expect(test('^line2$', 'line1\nline2')).toBe(false);
    expect(test('(?m)^line2$', 'line1\nline2')).toBe(true);
    expect(test('a.b', 'a\nb')).toBe(false);
    expect(test('(?s)a.b', 'a\nb')).toBe(true);
    expect(test('(?i)x(?-i)y', 'Xy')).toBe(true);
    expect(test('(?i)x(?-i)y', 'XY')).toBe(false);
    expect(test('(?U)a+', 'aaa')).toBe(true);
  });

  it('matches $ only at the end of the text, as RE2 does', () => {
    expect(test('a$', 'a\n')).toBe(false);
    expect(test('a\\z', 'a')).toBe(true);
    expect(test('\\Aa', 'ba')).toBe(false);
  });

  it('works on code points, with Unicode classes', () => {
    expect(test('^.$', '😀')).toBe(true);
    expect(test('^\\pL+$', 'héllo')).toBe(true);
    expect(test('^\\p{Greek}+$', 'αβγ')).toBe(true);
    expect(test('^\\p{Greek}+$', 'abc')).toBe(false);
    expect(test('^\\PL+$', '123')).toBe(true);
    expect(test('^\\p{Lu}', 'Ábc')).toBe(true);
    expect(test('^\\Qa.b\\E$', 'a.b')).toBe(true);
    expect(test('^\\Qa.b\\E$', 'axb')).toBe(false);
    expect(test('(?P<year>\\d{4})-(?<month>\\d{2})', '2030-01')).toBe(true);
  });

  it('rejects what RE2 rejects or does not support', () => {
    const bad = ['(a)\\1', '(?=a)', '(?!a)', '(?<=a)b', '(?<!a)b', 'a**', 'a{2}{3}', '*a', '(a', 'a)', '[a', '[z-a]', 'a{3,2}', 'a{1001}', '\\p{NoSuchClass}', '\\q', '(?x)a', '(?)', '\\x{110000}', '[[:nope:]]'];
    for (const pattern of bad) expect(() => compileRegex(pattern), pattern).toThrow(RegexSyntaxError);
    expect(() => compileRegex('a'.repeat(MAX_REGEX_PATTERN_LENGTH + 1))).toThrow(/limit is 1024/);
    expect(() => compileRegex('(a{1000}){1000}')).toThrow(/too large/);
  });

  it('takes linear time on patterns that make backtracking engines explode', () => {
    const subject = `${'a'.repeat(20_000)}!`;
    const started = performance.now();
    expect(test('(a+)+$', subject)).toBe(false);
    expect(test('(a|aa)+$', subject)).toBe(false);
    expect(test('a*a*a*a*a*b', subject)).toBe(false);
    expect(test('.*a.*b', subject)).toBe(false);
    expect(test('(x+x+)+y', 'x'.repeat(20_000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('reports its work to the charge callback, which can abort it', () => {
    let units = 0;
    compileRegex('a+b').test('aaaa', (n) => (units += n));
    expect(units).toBeGreaterThan(4);
    expect(() =>
      compileRegex('(a|b)*c').test('ab'.repeat(10_000), (n) => {
        units += n;
        if (units > 10_000) throw new Error('budget');
      }),
    ).toThrow('budget');
  });

  it('is deterministic', () => {
    const r = compileRegex('^(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$');
    for (let i = 0; i < 3; i++) {
      expect(r.test('Ada.Lovelace@Example.org', free)).toBe(true);
      expect(r.test('not an email', free)).toBe(false);
    }
  });
});
