import { describe, expect, it } from 'vitest';
import { RouteIndexError, RouteTable, type RouteRegistration } from './routeTable.js';
import { RouteTemplateError } from './routeTemplate.js';

type Reg = Omit<RouteRegistration<string>, 'target'>;

function table(regs: readonly Reg[], routePrefix = 'api'): RouteTable<string> {
  const routes = new RouteTable<string>({ routePrefix });
  for (const reg of regs) {
    routes.add({ ...reg, target: `target:${reg.functionName}` });
  }
  return routes;
}

function winner(routes: RouteTable<string>, method: string, path: string): string | undefined {
  return routes.match(method, path)?.functionName;
}

function addError(routes: RouteTable<string>, reg: Reg): RouteIndexError {
  try {
    routes.add({ ...reg, target: 'rejected' });
  } catch (error) {
    if (error instanceof RouteIndexError) return error;
    throw error;
  }
  throw new Error(`expected '${reg.functionName}' to be rejected`);
}

describe('RouteTable precedence', () => {
  const byIdAndSearch: Reg[] = [
    { functionName: 'b-search', route: 'workflows/search', methods: ['GET'] },
    { functionName: 'a-byId', route: 'workflows/{id}', methods: ['GET'] },
  ];

  it('orders by function name, not specificity: a-byId takes workflows/search', () => {
    const routes = table(byIdAndSearch);
    expect(routes.match('GET', '/api/workflows/search')).toEqual({
      target: 'target:a-byId',
      functionName: 'a-byId',
      params: { id: 'search' },
    });
  });

  it('does not depend on registration order', () => {
    expect(winner(table([...byIdAndSearch].reverse()), 'GET', '/api/workflows/search')).toBe('a-byId');
  });

  it('sorts names ignoring case (alpha before Zeta, although Z < a in ordinal order)', () => {
    const routes = table([
      { functionName: 'Zeta', route: 'things/{id}', methods: [] },
      { functionName: 'alpha', route: 'things/{key}', methods: [] },
    ]);
    expect(winner(routes, 'GET', '/api/things/1')).toBe('alpha');
    expect(routes.routes().map((r) => r.functionName)).toEqual(['alpha', 'Zeta']);
  });

  it('lets the more specific route win when its name sorts first', () => {
    const routes = table([
      { functionName: 'b-byId', route: 'workflows/{id}', methods: ['GET'] },
      { functionName: 'a-search', route: 'workflows/search', methods: ['GET'] },
    ]);
    expect(winner(routes, 'GET', '/api/workflows/search')).toBe('a-search');
    expect(winner(routes, 'GET', '/api/workflows/42')).toBe('b-byId');
  });

  it('falls through to a later route when the method does not match', () => {
    const routes = table([
      { functionName: 'a-create', route: 'items/{id}', methods: ['POST'] },
      { functionName: 'b-read', route: 'items/{id}', methods: ['GET'] },
      { functionName: 'c-any', route: 'items/{*rest}', methods: [] },
    ]);
    expect(winner(routes, 'POST', '/api/items/1')).toBe('a-create');
    expect(winner(routes, 'GET', '/api/items/1')).toBe('b-read');
    expect(winner(routes, 'DELETE', '/api/items/1')).toBe('c-any');
  });

  it('falls through to a later route when the path does not match a constraint', () => {
    const routes = table([
      { functionName: 'a-numeric', route: 'items/{id:int}', methods: ['GET'] },
      { functionName: 'b-named', route: 'items/{name}', methods: ['GET'] },
    ]);
    expect(routes.match('GET', '/api/items/7')?.params).toEqual({ id: '7' });
    expect(routes.match('GET', '/api/items/seven')).toMatchObject({ functionName: 'b-named', params: { name: 'seven' } });
  });

  it('returns undefined (404, not 405) when only the method differs', () => {
    const routes = table([{ functionName: 'only-post', route: 'submit', methods: ['POST'] }]);
    expect(routes.match('GET', '/api/submit')).toBeUndefined();
    expect(routes.match('POST', '/api/submit')).toBeDefined();
  });

  it('does not imply HEAD from GET', () => {
    const routes = table([{ functionName: 'get-only', route: 'page', methods: ['GET'] }]);
    expect(routes.match('HEAD', '/api/page')).toBeUndefined();
    const withHead = table([{ functionName: 'get-head', route: 'page', methods: ['GET', 'HEAD'] }]);
    expect(winner(withHead, 'HEAD', '/api/page')).toBe('get-head');
  });

  it('compares methods case-insensitively', () => {
    const routes = table([
      { functionName: 'lower', route: 'lower', methods: ['get'] },
      { functionName: 'upper', route: 'upper', methods: ['POST'] },
    ]);
    expect(winner(routes, 'GET', '/api/lower')).toBe('lower');
    expect(winner(routes, 'post', '/api/upper')).toBe('upper');
  });

  it('treats an empty method list as every method', () => {
    const routes = table([{ functionName: 'any', route: 'any', methods: [] }]);
    for (const method of ['GET', 'POST', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND']) {
      expect(winner(routes, method, '/api/any')).toBe('any');
    }
  });

  it('returns undefined for paths no route matches', () => {
    const routes = table(byIdAndSearch);
    expect(routes.match('GET', '/api/other')).toBeUndefined();
    expect(routes.match('GET', '/workflows/1')).toBeUndefined();
    expect(new RouteTable<string>({ routePrefix: 'api' }).match('GET', '/api')).toBeUndefined();
  });
});

describe('RouteTable prefixes and default routes', () => {
  it('uses the function name when no route is given, matching it case-insensitively', () => {
    const routes = table([
      { functionName: 'HttpTrigger1', methods: ['GET'] },
      { functionName: 'Blank', route: '  ', methods: ['GET'] },
    ]);
    expect(winner(routes, 'GET', '/api/HttpTrigger1')).toBe('HttpTrigger1');
    expect(winner(routes, 'GET', '/api/httptrigger1')).toBe('HttpTrigger1');
    expect(winner(routes, 'GET', '/api/blank')).toBe('Blank');
    expect(routes.routes()).toEqual([
      { functionName: 'Blank', template: 'api/Blank', methods: ['GET'] },
      { functionName: 'HttpTrigger1', template: 'api/HttpTrigger1', methods: ['GET'] },
    ]);
  });

  it("supports routePrefix ''", () => {
    const routes = table([{ functionName: 'items', route: 'items/{id}', methods: [] }], '');
    expect(routes.match('GET', '/items/1')?.params).toEqual({ id: '1' });
    expect(routes.match('GET', '/api/items/1')).toBeUndefined();
    expect(routes.routes()[0]?.template).toBe('items/{id}');
  });

  it('supports a custom, multi-segment prefix and ignores its surrounding slashes', () => {
    const routes = table([{ functionName: 'items', route: 'items/{id}', methods: [] }], '/v1/public/');
    expect(routes.match('GET', '/v1/public/items/1')?.params).toEqual({ id: '1' });
    expect(routes.match('GET', '/V1/PUBLIC/items/1')?.params).toEqual({ id: '1' });
    expect(routes.match('GET', '/api/items/1')).toBeUndefined();
    expect(routes.routes()[0]?.template).toBe('v1/public/items/{id}');
  });

  it("accepts a leading '/' in the route only without a prefix, as the host does ('api//x' is invalid)", () => {
    const prefixed = new RouteTable<string>({ routePrefix: 'api' });
    const error = addError(prefixed, { functionName: 'slash', route: '/hello', methods: [] });
    expect(error.kind).toBe('template');
    expect(error.message).toContain("invalid route template 'api//hello'");
    const bare = table([{ functionName: 'slash', route: '/hello', methods: [] }], '');
    expect(winner(bare, 'GET', '/hello')).toBe('slash');
  });

  it('upper-cases and de-duplicates the listed methods', () => {
    const routes = table([{ functionName: 'f', route: 'f', methods: ['get', 'GET', 'Post'] }]);
    expect(routes.routes()[0]?.methods).toEqual(['GET', 'POST']);
  });
});

describe('RouteTable registration errors', () => {
  it.each(['admin/foo', '/Admin', 'administration/x', 'ADMIN', 'runtime/webhooks', '//Runtime/x'])(
    'rejects the reserved route %s',
    (route) => {
      const routes = table([]);
      const error = addError(routes, { functionName: 'reserved-fn', route, methods: ['GET'] });
      expect(error.kind).toBe('reserved');
      expect(error.functionName).toBe('reserved-fn');
      expect(error.message).toContain("Function 'reserved-fn'");
      expect(error.message).toContain('built-in routes');
      expect(routes.routes()).toEqual([]);
    },
  );

  it('rejects a reserved function name used as the route', () => {
    expect(addError(table([]), { functionName: 'admin-tools', methods: [] }).kind).toBe('reserved');
  });

  it.each(['myadmin', 'api-admin', 'tenants/admin', 'runtimes-x'.slice(1)])('accepts the route %s', (route) => {
    expect(() => table([{ functionName: 'f', route, methods: [] }])).not.toThrow();
  });

  it('wraps a template error, naming the function and the full template', () => {
    const routes = table([]);
    const error = addError(routes, { functionName: 'bad', route: 'items/{id:foo}', methods: ['GET'] });
    expect(error.kind).toBe('template');
    expect(error.functionName).toBe('bad');
    expect(error.message).toBe(
      "Function 'bad': invalid route template 'api/items/{id:foo}': Unknown route constraint 'foo'.",
    );
    expect(error.cause).toBeInstanceOf(RouteTemplateError);
  });

  it('rejects the same route (ignoring case and slashes) with overlapping methods, naming both functions', () => {
    const routes = table([{ functionName: 'first', route: 'Items/{id}', methods: ['GET', 'PUT'] }]);
    const error = addError(routes, { functionName: 'second', route: '/items/{ID}/', methods: ['put', 'DELETE'] });
    expect(error.kind).toBe('conflict');
    expect(error.functionName).toBe('second');
    expect(error.message).toContain("Function 'second'");
    expect(error.message).toContain("function 'first'");
    expect(error.message).toContain('PUT');
  });

  it('treats an empty method list as overlapping with any other', () => {
    const routes = table([{ functionName: 'first', route: 'items', methods: ['GET'] }]);
    expect(addError(routes, { functionName: 'second', route: 'items', methods: [] }).kind).toBe('conflict');
    const allFirst = table([{ functionName: 'first', route: 'items', methods: [] }]);
    expect(addError(allFirst, { functionName: 'second', route: 'items', methods: ['PATCH'] }).kind).toBe('conflict');
  });

  it('allows the same route with disjoint methods, and different route strings that overlap', () => {
    expect(() =>
      table([
        { functionName: 'read', route: 'items/{id}', methods: ['GET'] },
        { functionName: 'write', route: 'items/{id}', methods: ['POST'] },
        { functionName: 'other', route: 'items/{key}', methods: ['GET'] },
      ]),
    ).not.toThrow();
  });

  it('rejects a duplicate function name, ignoring case', () => {
    const routes = table([{ functionName: 'Orders', route: 'orders', methods: ['GET'] }]);
    const error = addError(routes, { functionName: 'orders', route: 'other', methods: ['GET'] });
    expect(error.kind).toBe('duplicate');
    expect(error.message).toContain("'Orders'");
  });

  it('keeps working after a rejected registration, which is not added', () => {
    const routes = table([{ functionName: 'first', route: 'items/{id}', methods: ['GET'] }]);
    addError(routes, { functionName: 'dup', route: 'items/{id}', methods: ['GET'] });
    addError(routes, { functionName: 'bad', route: 'x/{', methods: ['GET'] });
    addError(routes, { functionName: 'adm', route: 'admin', methods: ['GET'] });
    routes.add({ functionName: 'later', route: 'later', methods: ['GET'], target: 'target:later' });
    expect(routes.routes().map((r) => r.functionName)).toEqual(['first', 'later']);
    expect(winner(routes, 'GET', '/api/items/1')).toBe('first');
    expect(winner(routes, 'GET', '/api/x/')).toBeUndefined();
    expect(winner(routes, 'GET', '/api/later')).toBe('later');
  });
});

describe('RouteTable.warnings', () => {
  it('reports a literal route shadowed by an earlier parameterised one', () => {
    const routes = table([
      { functionName: 'b-search', route: 'workflows/search', methods: ['GET'] },
      { functionName: 'a-byId', route: 'workflows/{id}', methods: ['GET', 'DELETE'] },
    ]);
    const warnings = routes.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("Function 'a-byId'");
    expect(warnings[0]).toContain("function 'b-search'");
    expect(warnings[0]).toContain('GET /api/workflows/search');
    expect(warnings[0]).not.toContain('DELETE');
  });

  it('reports nothing when the methods are disjoint or the more specific route comes first', () => {
    expect(
      table([
        { functionName: 'a-byId', route: 'workflows/{id}', methods: ['DELETE'] },
        { functionName: 'b-search', route: 'workflows/search', methods: ['GET'] },
      ]).warnings(),
    ).toEqual([]);
    expect(
      table([
        { functionName: 'a-search', route: 'workflows/search', methods: ['GET'] },
        { functionName: 'b-byId', route: 'workflows/{id}', methods: ['GET'] },
      ]).warnings(),
    ).toEqual([]);
  });

  it('honours constraints: an int route does not shadow a literal', () => {
    expect(
      table([
        { functionName: 'a-byId', route: 'workflows/{id:int}', methods: ['GET'] },
        { functionName: 'b-search', route: 'workflows/search', methods: ['GET'] },
      ]).warnings(),
    ).toEqual([]);
  });

  it('reports catch-alls and the bare path of routes with optional tails', () => {
    const warnings = table([
      { functionName: 'a-files', route: 'files/{*rest}', methods: [] },
      { functionName: 'b-index', route: 'files/index', methods: ['GET'] },
      { functionName: 'c-items', route: 'items', methods: ['GET'] },
      { functionName: 'd-items', route: 'items/{id?}', methods: ['GET', 'POST'] },
    ]).warnings();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/'a-files'.*'b-index'.*for GET \/api\/files\/index/);
    expect(warnings[1]).toMatch(/'c-items'.*'d-items'.*for GET \/api\/items:/);
  });

  it('is recomputed after add', () => {
    const routes = table([{ functionName: 'a-byId', route: 'workflows/{id}', methods: ['GET'] }]);
    expect(routes.warnings()).toEqual([]);
    routes.add({ functionName: 'b-search', route: 'workflows/search', methods: ['GET'], target: 'x' });
    expect(routes.warnings()).toHaveLength(1);
  });
});

describe('RouteTable performance', () => {
  it('matches the last of 100 routes in a few microseconds', () => {
    const routes = new RouteTable<number>({ routePrefix: 'api' });
    for (let i = 0; i < 100; i++) {
      const name = `fn${String(i).padStart(3, '0')}`;
      routes.add({ functionName: name, route: `service${i}/tenants/{tenant}/items/{id:int}`, methods: ['GET', 'POST'], target: i });
    }
    const path = '/api/service99/tenants/acme/items/42';
    expect(routes.match('GET', path)).toEqual({ target: 99, functionName: 'fn099', params: { tenant: 'acme', id: '42' } });
    for (let i = 0; i < 20_000; i++) routes.match('GET', path);
    const iterations = 100_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) routes.match('GET', path);
    const microseconds = Number(process.hrtime.bigint() - start) / 1000 / iterations;
    // The target is a few microseconds; the bound leaves room for slow, shared CI machines.
    expect(microseconds).toBeLessThan(20);
  });
});
