import { describe, expect, it } from 'vitest';
import { RouteTemplate, RouteTemplateError } from './routeTemplate.js';

type Expected = Record<string, string> | undefined;

const GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** [template, raw request path, expected route values or undefined for no match] */
const MATCH_VECTORS: Array<[string, string, Expected]> = [
  // literals: case-insensitive, one trailing slash, no empty segments
  ['api/items', '/api/items', {}],
  ['api/items', '/API/Items', {}],
  ['api/items', '/api/items/', {}],
  ['api/items', 'api/items', {}],
  ['api/items', '/api/items//', undefined],
  ['api/items', '/api//items', undefined],
  ['api/items', '//api/items', undefined],
  ['api/items', '/api/items/x', undefined],
  ['api/items', '/api', undefined],
  ['api/items', '/api/itemsx', undefined],
  ['/api/items', '/api/items', {}],
  ['~/api/items', '/api/items', {}],
  ['api/items/', '/api/items', {}],
  ['', '/', {}],
  ['', '', {}],
  ['', '/x', undefined],
  ['api/hello world', '/api/hello%20world', {}],
  ['api/café', '/api/CAF%C3%89', {}],
  // single-segment parameters, decoded except %2F
  ['api/items/{id}', '/api/items/42', { id: '42' }],
  ['api/items/{id}', '/api/items', undefined],
  ['api/items/{id}', '/api/items/', undefined],
  ['api/items/{id}', '/api/items/a/b', undefined],
  ['api/items/{id}', '/api/items/a%2Fb', { id: 'a%2Fb' }],
  ['api/items/{id}', '/api/items/a%2fb', { id: 'a%2fb' }],
  ['api/items/{id}', '/api/items/caf%C3%A9', { id: 'café' }],
  ['api/items/{id}', '/api/items/hello%20world', { id: 'hello world' }],
  ['api/items/{id}', '/api/items/a+b', { id: 'a+b' }],
  ['api/items/{id}', '/api/items/%2541', { id: '%41' }],
  ['api/items/{id}', '/api/items/%E0%A4', { id: '%E0%A4' }],
  ['api/items/{id}', '/api/items/%zz', { id: '%zz' }],
  ['api/{Tenant}/x', '/api/acme/X', { Tenant: 'acme' }],
  ['api/{a}/{b}', '/api/1/2', { a: '1', b: '2' }],
  // optional parameters: absent → key left out
  ['api/tenants/{tenantId}/workflows/{id?}', '/api/tenants/acme/workflows', { tenantId: 'acme' }],
  ['api/tenants/{tenantId}/workflows/{id?}', '/api/tenants/acme/workflows/', { tenantId: 'acme' }],
  ['api/tenants/{tenantId}/workflows/{id?}', '/api/tenants/acme/workflows/9', { tenantId: 'acme', id: '9' }],
  ['api/tenants/{tenantId}/workflows/{id:int}', '/api/tenants/acme/workflows/x', undefined],
  ['api/{a?}/{b?}', '/api', {}],
  ['api/{a?}/{b?}', '/api/x', { a: 'x' }],
  ['api/{a?}/{b?}', '/api/x/y', { a: 'x', b: 'y' }],
  ['api/{a?}/{b?}', '/api/x/y/z', undefined],
  ['api/{id:int?}', '/api', {}],
  ['api/{id:int?}', '/api/x', undefined],
  // defaults: used when absent, and constraints apply to them
  ['api/v/{ver=1}', '/api/v', { ver: '1' }],
  ['api/v/{ver=1}', '/api/v/2', { ver: '2' }],
  ['api/{controller=Home}/{action=Index}/{id?}', '/api', { controller: 'Home', action: 'Index' }],
  ['api/{controller=Home}/{action=Index}/{id?}', '/api/shop/buy/3', { controller: 'shop', action: 'buy', id: '3' }],
  ['api/{a?}/{b=1}', '/api', { b: '1' }],
  ['api/{x=}', '/api', { x: '' }],
  ['api/{x:required=}', '/api', undefined],
  ['api/p/{n:int=5}', '/api/p', { n: '5' }],
  ['api/p/{n:int=abc}', '/api/p', undefined],
  ['api/p/{n=a=b}', '/api/p', { n: 'a=b' }],
  ['api/{a=1}/b', '/api/b', undefined],
  ['api/{a=1}/b', '/api/x/b', { a: 'x' }],
  // catch-alls: the rest of the path, slashes and a trailing '/' included, %2F kept for * and **
  ['api/files/{*path}', '/api/files/a/b/c.txt', { path: 'a/b/c.txt' }],
  ['api/files/{*path}', '/api/files', {}],
  ['api/files/{*path}', '/api/files/', {}],
  ['api/files/{*path}', '/api/files/a/b/', { path: 'a/b/' }],
  ['api/files/{*path}', '/api/files/a%2Fb/c%20d', { path: 'a%2Fb/c d' }],
  ['api/files/{**path}', '/api/files/a%2Fb/c%20d', { path: 'a%2Fb/c d' }],
  ['api/files/{**path}', '/api/FILES/a/b', { path: 'a/b' }],
  ['api/files/{*path}', '/api/files//x', undefined],
  ['api/files/{*path}', '/api/files/a//b', { path: 'a//b' }],
  ['api/files/{*path}', '/api/other/a', undefined],
  ['api/files/{*path=index.html}', '/api/files', { path: 'index.html' }],
  ['api/files/{*path:int}', '/api/files', undefined],
  ['api/files/{*path:int}', '/api/files/12', { path: '12' }],
  ['api/files/{*path:nonfile}', '/api/files', {}],
  ['api/files/{*path:file}', '/api/files/a/b.txt', { path: 'a/b.txt' }],
  ['api/files/{*path:file}', '/api/files/a.b/c', undefined],
  ['{*all}', '/anything/at/all', { all: 'anything/at/all' }],
  ['{*all}', '/', {}],
  // complex segments: right to left, the left-most parameter takes the surplus
  ['api/files/{name}.{ext}', '/api/files/report.final.pdf', { name: 'report.final', ext: 'pdf' }],
  ['api/files/{name}.{ext}', '/api/files/report.pdf', { name: 'report', ext: 'pdf' }],
  ['api/files/{name}.{ext}', '/api/files/report', undefined],
  ['api/files/{name}.{ext}', '/api/files/.pdf', undefined],
  ['api/files/{name}.{ext}', '/api/files/report.', undefined],
  ['api/files/{name}.{ext}', '/api/files', undefined],
  ['api/files/{a}.{b}', '/api/files/x%2Fy.z', { a: 'x%2Fy', b: 'z' }],
  ['api/reports/report-{id}', '/api/reports/report-42', { id: '42' }],
  ['api/reports/report-{id}', '/api/reports/REPORT-42', { id: '42' }],
  ['api/reports/report-{id}', '/api/reports/xreport-42', undefined],
  ['api/reports/report-{id}', '/api/reports/report-', undefined],
  ['api/reports/report-{id:int}', '/api/reports/report-x', undefined],
  ['api/{a}-{b}-{c}', '/api/1-2-3-4', { a: '1-2', b: '3', c: '4' }],
  ['api/{a}-{b}-{c}', '/api/1-2', undefined],
  ['api/x{id}y', '/api/xABCy', { id: 'ABC' }],
  ['api/x{id}y', '/api/xy', undefined],
  ['api/x{id}y', '/api/xABCyz', undefined],
  ['api/{name}.{ext?}', '/api/readme', { name: 'readme' }],
  ['api/{name}.{ext?}', '/api/readme.md', { name: 'readme', ext: 'md' }],
  ['api/{name}.{ext?}', '/api/a.b.c', { name: 'a.b', ext: 'c' }],
  ['api/{name}.{ext?}', '/api/readme.', undefined],
  ['api/{name}.{ext:alpha?}', '/api/v1.2', undefined],
  ['api/{name}.{ext:alpha?}', '/api/v1', { name: 'v1' }],
  ['api/v{major}.{minor?}', '/api/v2', { major: '2' }],
  // escaped braces
  ['api/{{literal}}', '/api/{literal}', {}],
  ['api/{{literal}}', '/api/%7Bliteral%7D', {}],
  ['api/a{{b}}c/{id}', '/api/a{b}c/1', { id: '1' }],
  ['api/codes/{code:regex(^[A-Z]{{3}}$)}', '/api/codes/ABC', { code: 'ABC' }],
  ['api/codes/{code:regex(^[A-Z]{{3}}$)}', '/api/codes/abc', { code: 'abc' }],
  ['api/codes/{code:regex(^[A-Z]{{3}}$)}', '/api/codes/ABCD', undefined],
  ['api/codes/{code:regex(^[A-Z]{{2,}}-\\d$)}', '/api/codes/AB-1', { code: 'AB-1' }],
  // constraints inside templates, chained, with awkward characters in arguments
  ['api/items/{id:int:min(10)}', '/api/items/5', undefined],
  ['api/items/{id:int:min(10)}', '/api/items/10', { id: '10' }],
  ['api/items/{id:int:min(10)}', '/api/items/abc', undefined],
  ['api/items/{id:int}', '/api/items/2147483647', { id: '2147483647' }],
  ['api/items/{id:int}', '/api/items/2147483648', undefined],
  ['api/items/{id:long}', '/api/items/2147483648', { id: '2147483648' }],
  ['api/items/{id:guid}', `/api/items/${GUID}`, { id: GUID }],
  ['api/items/{id:guid}', `/api/items/%7B${GUID}%7D`, { id: `{${GUID}}` }],
  ['api/items/{id:guid}', '/api/items/42', undefined],
  ['api/items/{id:INT}', '/api/items/7', { id: '7' }],
  ['api/s/{x:regex(\\d+)}', '/api/s/abc123', { x: 'abc123' }],
  ['api/s/{x:regex(^a:b$)}', '/api/s/a:b', { x: 'a:b' }],
  ['api/s/{x:regex(^(a|b)$)=a}', '/api/s', { x: 'a' }],
  ['api/s/{x:regex(^(ab)$):length(2)}', '/api/s/ab', { x: 'ab' }],
  ['api/s/{x:regex(^(ab)$):length(3)}', '/api/s/ab', undefined],
  ['api/s/{x:regex(^a=b$)}', '/api/s/a=b', { x: 'a=b' }],
  ['api/s/{x:regex(^a/b$)}', '/api/s/a%2Fb', undefined],
  ['api/s/{x:regex(^a%2Fb$)}', '/api/s/a%2Fb', { x: 'a%2Fb' }],
  ['api/s/{x:alpha:minlength(2)}', '/api/s/ab', { x: 'ab' }],
  ['api/s/{x:alpha:minlength(2)}', '/api/s/a', undefined],
  ['api/s/{x:}', '/api/s/a', { x: 'a' }],
];

describe('RouteTemplate.match', () => {
  it.each(MATCH_VECTORS)('%s ⟵ %s', (template, path, expected) => {
    expect(RouteTemplate.parse(template).match(path)).toStrictEqual(expected);
  });

  it('leaves absent optional parameters out rather than setting them to undefined', () => {
    const values = RouteTemplate.parse('api/items/{id?}').match('/api/items');
    expect(values).toBeDefined();
    expect(Object.keys(values ?? {})).toEqual([]);
    expect('id' in (values ?? {})).toBe(false);
  });

  it('lists complex-segment values in template order', () => {
    expect(Object.keys(RouteTemplate.parse('api/{name}.{ext}').match('/api/a.b') ?? {})).toEqual(['name', 'ext']);
  });

  it('ignores a query string left on the path', () => {
    expect(RouteTemplate.parse('api/items/{id}').match('/api/items/1?x=a/b')).toStrictEqual({ id: '1' });
  });

  it('returns a fresh object for every match', () => {
    const template = RouteTemplate.parse('api/items/{id}');
    const first = template.match('/api/items/1');
    expect(first).toEqual({ id: '1' });
    if (first) first['id'] = 'changed';
    expect(template.match('/api/items/1')).toEqual({ id: '1' });
  });

  it('handles parameter names that collide with Object.prototype', () => {
    const template = RouteTemplate.parse('api/{constructor?}/{__proto__?}');
    expect(template.match('/api')).toStrictEqual({});
    const values = template.match('/api/a/b');
    expect(Object.keys(values ?? {})).toEqual(['constructor', '__proto__']);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(values?.['constructor']).toBe('a');
  });
});

describe('RouteTemplate properties', () => {
  it('keeps the template and lists parameter names in order, as written', () => {
    const template = RouteTemplate.parse('api/{Tenant}/files/{name}.{ext?}/{*rest}');
    expect(template.template).toBe('api/{Tenant}/files/{name}.{ext?}/{*rest}');
    expect(template.parameterNames).toEqual(['Tenant', 'name', 'ext', 'rest']);
  });

  it.each([
    ['api/workflows/search', '/api/workflows/search'],
    ['api/items/{id?}', '/api/items'],
    ['api/files/{*rest}', '/api/files'],
    ['api/v/{ver=1}', '/api/v'],
    ['', '/'],
    ['api/{id}', undefined],
    ['api/{id}/x', undefined],
    ['api/{name}.{ext}', undefined],
  ])('literalPath of %s is %s', (template, expected) => {
    expect(RouteTemplate.parse(template).literalPath).toBe(expected);
  });
});

/** [template, expected message (substring)] */
const PARSE_ERRORS: Array<[string, string]> = [
  ['items/{id:foo}', "Unknown route constraint 'foo' in 'items/{id:foo}'"],
  ['items/{id:int:foo(1)}', "Unknown route constraint 'foo' in 'items/{id:int:foo(1)}'"],
  ['items/{id?}/x', "An optional parameter must be at the end of the template: optional parameter 'id' is followed by the segment 'x' in 'items/{id?}/x'"],
  ['items/{id?}/{key}', 'An optional parameter must be at the end of the template'],
  ['items/{id?}/{name}.{ext}', 'An optional parameter must be at the end of the template'],
  ['items/{name}.{ext?}/x', 'An optional parameter must be at the end of the template'],
  ['files/{*rest}/x', "A catch-all parameter can only appear as the last segment of the route template in 'files/{*rest}/x'"],
  ['files/{*rest}/{*more}', 'A catch-all parameter can only appear as the last segment'],
  ['files/x{*rest}', "The segment 'x{*rest}' has more than one section"],
  ['files/{*rest?}', 'A catch-all parameter cannot be marked optional'],
  ['items/{id', 'There is an incomplete parameter in the route template'],
  ['items/{', 'There is an incomplete parameter in the route template'],
  ['items/id}', 'There is an incomplete parameter in the route template'],
  ['items/{id}}', 'There is an incomplete parameter in the route template'],
  ['items/{a:regex(^\\d{3}$)}', "In a route parameter, '{' and '}' must be escaped as '{{' and '}}'"],
  ['items/{}', "The route parameter name '' is invalid"],
  ['items/{?}', "The route parameter name '' is invalid"],
  ['items/{*}', "The route parameter name '' is invalid"],
  ['items/{a/b}', "The route parameter name 'a/b' is invalid"],
  ['items/{a*b}', "The route parameter name 'a*b' is invalid"],
  ['items/{id}/{id}', "The route parameter name 'id' appears more than one time"],
  ['items/{id}/{ID}', "The route parameter name 'ID' appears more than one time"],
  ['items//x', "The route template separator character '/' cannot appear consecutively"],
  ['//items', "The route template separator character '/' cannot appear consecutively"],
  ['items//', "The route template separator character '/' cannot appear consecutively"],
  ['~items', "The route template cannot start with a '~' character unless followed by a '/'"],
  ['items/a?b', "The literal section 'a?b' is invalid"],
  ['items/{id=5?}', "The optional parameter 'id' cannot have a default value"],
  ['items/{a}{b}', "The segment '{a}{b}' has two consecutive parameters"],
  ['items/{a?}.{b}', "An optional parameter must be at the end of the segment: in the segment '{a?}.{b}', optional parameter 'a' is followed by '.'"],
  ['items/{a}-{b?}', "In the segment '{a}-{b?}', the optional parameter 'b' is preceded by '-'"],
  ['items/x.{b?}', "the optional parameter 'b' is preceded by 'x.'"],
  ['items/{id:min(abc)}', "The argument 'abc' of route constraint 'min(abc)' is not a valid Int64 in 'items/{id:min(abc)}'"],
  ['items/{id:range(10,5)}', "The minimum of route constraint 'range(10,5)' is greater than its maximum"],
  ['items/{id:int(5)}', "The route constraint 'int(5)' does not take arguments"],
  ['items/{id:regex([)}', "The regular expression in route constraint 'regex([)' is invalid"],
];

describe('RouteTemplate.parse errors', () => {
  it.each(PARSE_ERRORS)('%s', (template, message) => {
    let caught: unknown;
    try {
      RouteTemplate.parse(template);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RouteTemplateError);
    const error = caught as RouteTemplateError;
    expect(error.message).toContain(message);
    expect(error.template).toBe(template);
    expect(error.message).toBe(`${error.reason} in '${template}'`);
  });

  it.each([
    'api/{a?}/{b?}',
    'api/{a?}/{b=1}',
    'api/{a?}/{*rest}',
    'api/{name}.{ext?}/{*rest}',
    'api/{=x}',
    'api/{:x}',
    'api/{id:}',
    'api/{id::int}',
    'api/{{}}',
  ])('accepts %s', (template) => {
    expect(() => RouteTemplate.parse(template)).not.toThrow();
  });
});
