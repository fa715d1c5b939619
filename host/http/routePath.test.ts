import { describe, expect, it } from 'vitest';
import { decodePathPreservingSlashes, foldCase, RequestPath } from './routePath.js';

describe('decodePathPreservingSlashes', () => {
  it.each([
    ['/plain/path', '/plain/path'],
    ['/a%20b', '/a b'],
    ['/a%2Fb%2fc', '/a%2Fb%2fc'],
    ['/x%41%2F%42', '/xA%2FB'],
    ['/caf%C3%A9', '/café'],
    ['/%F0%9F%98%80', '/😀'],
    ['/%C3%A9%C3', '/é%C3'],
    ['/%C0%AF', '/%C0%AF'],
    ['/%ED%A0%80', '/%ED%A0%80'],
    ['/%FF%41', '/%FFA'],
    ['/%zz%4', '/%zz%4'],
    ['/%2541', '/%41'],
    ['/a+b', '/a+b'],
  ])('%s → %s', (raw, decoded) => {
    expect(decodePathPreservingSlashes(raw)).toBe(decoded);
  });
});

describe('RequestPath', () => {
  it.each([
    ['', []],
    ['/', []],
    ['/a', ['a']],
    ['a/b', ['a', 'b']],
    ['/a/b/', ['a', 'b']],
    ['/a//b', ['a', '', 'b']],
    ['/a/b//', ['a', 'b', '']],
    ['//a', ['', 'a']],
    ['/a%2Fb/c', ['a%2Fb', 'c']],
    ['/a/b?x=1/2', ['a', 'b']],
  ])('splits %j into %j', (raw, segments) => {
    expect(RequestPath.parse(raw).segments).toEqual(segments);
  });

  it('records where each segment starts in the decoded path', () => {
    const path = RequestPath.parse('/api/a%20b/c/');
    expect(path.path).toBe('/api/a b/c/');
    expect(path.starts).toEqual([1, 5, 9]);
    expect(path.path.slice(path.starts[1])).toBe('a b/c/');
  });

  it('folds segments on demand', () => {
    const path = RequestPath.fromDecoded('/Api/Straße');
    expect(path.folded(0)).toBe('API');
    expect(path.folded(1)).toBe('STRAßE');
  });
});

describe('foldCase', () => {
  it('upper-cases without changing the length', () => {
    expect(foldCase('Hello-World')).toBe('HELLO-WORLD');
    expect(foldCase('café')).toBe('CAFÉ');
    expect(foldCase('ß')).toBe('ß');
    expect(foldCase('ﬀ😀a')).toBe('ﬀ😀A');
  });
});
