import { foldCase, RequestPath } from './routePath.js';
import { RouteTemplate, RouteTemplateError } from './routeTemplate.js';

/** One HTTP-triggered function's route, as the app registered it. */
export interface RouteRegistration<T> {
  functionName: string;
  /** The route as the app registered it, without the prefix; undefined (or blank) means the function name. */
  route?: string;
  /** Allowed methods; an empty list allows every method. */
  methods: readonly string[];
  target: T;
}

/** Why a registration was rejected. */
export type RouteIndexErrorKind = 'reserved' | 'template' | 'conflict' | 'duplicate';

/**
 * A registration the host refuses, as the Functions host refuses it at indexing time: that function is
 * left out (disabled) and the rest of the app keeps working.
 */
export class RouteIndexError extends Error {
  readonly functionName: string;
  readonly kind: RouteIndexErrorKind;

  constructor(functionName: string, kind: RouteIndexErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RouteIndexError';
    this.functionName = functionName;
    this.kind = kind;
  }
}

/** A successful match. */
export interface RouteMatch<T> {
  target: T;
  functionName: string;
  /** Route values; absent optional parameters are left out, defaulted ones included. */
  params: Record<string, string>;
}

/** A registered route, for listing (startup log, admin endpoints). */
export interface RouteInfo {
  functionName: string;
  /** The full template, with the prefix. */
  template: string;
  /** Upper-cased methods; empty means every method. */
  methods: readonly string[];
}

interface Entry<T> {
  readonly functionName: string;
  /** {@link foldCase} of the name: the sort key, and the key that makes names unique. */
  readonly sortKey: string;
  /** The route without prefix, '/' trimmed and folded: two functions with equal keys have the same route. */
  readonly routeKey: string;
  readonly template: RouteTemplate;
  /** Upper-cased methods, or null for every method. */
  readonly methods: ReadonlySet<string> | null;
  readonly methodList: readonly string[];
  readonly target: T;
}

function trimSlashes(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === '/') {
    start++;
  }
  while (end > start && text[end - 1] === '/') {
    end--;
  }
  return text.slice(start, end);
}

/** The methods two entries share: null when both allow every method. */
function commonMethods(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): string[] | null {
  if (a === null) {
    return b === null ? null : [...b];
  }
  return b === null ? [...a] : [...a].filter((m) => b.has(m));
}

function describeMethods(methods: readonly string[] | null): string {
  return methods === null ? 'all methods' : methods.join(', ');
}

/**
 * The HTTP route table of the Functions host (WebJobsRouteBuilder over a legacy ASP.NET `RouteCollection`):
 *
 * - the full template is `routePrefix + '/' + route` (just `route` when the prefix is empty);
 * - routes are tried in function-name order (ordinal, ignoring case) and the **first match wins**; there is
 *   no most-specific-first ordering, so `a-byId: workflows/{id}` takes `workflows/search` from
 *   `b-search: workflows/search` ({@link warnings} reports such cases);
 * - a route whose methods do not include the request's method is skipped, so the request falls through to
 *   later routes and finally to 404 (never 405); methods compare case-insensitively and HEAD is not implied
 *   by GET.
 */
export class RouteTable<T> {
  private readonly routePrefix: string;
  /** Sorted by sortKey: the matching order. */
  private readonly entries: Array<Entry<T>> = [];
  private cachedWarnings: string[] | undefined;

  /**
   * @param options.routePrefix host.json `extensions.http.routePrefix` (the caller applies the 'api'
   *   default); '' means no prefix. Surrounding '/' are ignored, so '/api/' behaves as 'api'.
   */
  constructor(options: { routePrefix: string }) {
    this.routePrefix = trimSlashes(options.routePrefix);
  }

  /**
   * Adds a function's route. Throws {@link RouteIndexError}, leaving the table unchanged, when the function
   * name is already registered, the route is in the host's reserved space (it starts with 'admin' or
   * 'runtime', ignoring case and surrounding '/'), another function has the same route (ignoring case and
   * surrounding '/') with an overlapping method, or the full template is invalid; checked in that order,
   * as the host validates routes at indexing before it builds their templates.
   */
  add(reg: RouteRegistration<T>): void {
    const { functionName } = reg;
    const sortKey = foldCase(functionName);
    const existing = this.entries.find((e) => e.sortKey === sortKey);
    if (existing !== undefined) {
      throw new RouteIndexError(
        functionName,
        'duplicate',
        `Function '${functionName}': the function name is already registered (as '${existing.functionName}'); function names must be unique, ignoring case.`,
      );
    }

    // As the host does: a missing or blank route means the function name.
    const route = reg.route === undefined || reg.route.trim() === '' ? functionName : reg.route;
    const trimmed = trimSlashes(route);
    const lowered = trimmed.toLowerCase();
    if (lowered.startsWith('admin') || lowered.startsWith('runtime')) {
      throw new RouteIndexError(
        functionName,
        'reserved',
        `Function '${functionName}': the route '${route}' conflicts with the host's built-in routes (routes starting with 'admin' or 'runtime' are reserved).`,
      );
    }

    const methodList = Object.freeze([...new Set(reg.methods.map((m) => m.toUpperCase()))]);
    const methods = methodList.length === 0 ? null : new Set(methodList);
    const routeKey = foldCase(trimmed);
    for (const other of this.entries) {
      if (other.routeKey !== routeKey) {
        continue;
      }
      const shared = commonMethods(methods, other.methods);
      if (shared === null || shared.length > 0) {
        throw new RouteIndexError(
          functionName,
          'conflict',
          `Function '${functionName}': the route '${route}' conflicts with the route defined by function '${other.functionName}' (same route, both accept ${describeMethods(shared)}).`,
        );
      }
    }

    const fullTemplate = this.routePrefix === '' ? route : `${this.routePrefix}/${route}`;
    let template: RouteTemplate;
    try {
      template = RouteTemplate.parse(fullTemplate);
    } catch (error) {
      if (error instanceof RouteTemplateError) {
        throw new RouteIndexError(
          functionName,
          'template',
          `Function '${functionName}': invalid route template '${fullTemplate}': ${error.reason}.`,
          { cause: error },
        );
      }
      throw error;
    }

    const entry: Entry<T> = { functionName, sortKey, routeKey, template, methods, methodList, target: reg.target };
    let at = this.entries.length;
    while (at > 0 && (this.entries[at - 1] as Entry<T>).sortKey > sortKey) {
      at--;
    }
    this.entries.splice(at, 0, entry);
    this.cachedWarnings = undefined;
  }

  /**
   * Finds the function for a request: the first route, in function-name order, whose methods allow
   * `method` and whose template matches `rawPath` (percent-encoded, without the query). Undefined means 404.
   */
  match(method: string, rawPath: string): RouteMatch<T> | undefined {
    const upper = method.toUpperCase();
    let path: RequestPath | undefined;
    for (const entry of this.entries) {
      if (entry.methods !== null && !entry.methods.has(upper)) {
        continue;
      }
      // Decoded and split once, and only when some route accepts the method.
      path ??= RequestPath.parse(rawPath);
      const params = entry.template.matchPath(path);
      if (params !== undefined) {
        return { target: entry.target, functionName: entry.functionName, params };
      }
    }
    return undefined;
  }

  /** The registered routes in matching order. */
  routes(): RouteInfo[] {
    return this.entries.map((e) => ({ functionName: e.functionName, template: e.template.template, methods: e.methodList }));
  }

  /**
   * Best-effort report of shadowed routes: for each route whose template can match a literal-only path
   * (`workflows/search`, or `items` for `items/{id?}`), every earlier route in matching order that also
   * matches that path with a method in common. Such requests never reach the later function.
   */
  warnings(): string[] {
    if (this.cachedWarnings !== undefined) {
      return [...this.cachedWarnings];
    }
    const warnings: string[] = [];
    this.entries.forEach((later, index) => {
      const literalPath = later.template.literalPath;
      if (literalPath === undefined) {
        return;
      }
      const path = RequestPath.fromDecoded(literalPath);
      if (later.template.matchPath(path) === undefined) {
        return;
      }
      for (const earlier of this.entries.slice(0, index)) {
        const shared = commonMethods(earlier.methods, later.methods);
        if (shared !== null && shared.length === 0) {
          continue;
        }
        if (earlier.template.matchPath(path) !== undefined) {
          warnings.push(
            `Function '${earlier.functionName}' (route '${earlier.template.template}') shadows function '${later.functionName}' (route '${later.template.template}') for ${describeMethods(shared)} ${literalPath}: routes are tried in function-name order and the first match wins.`,
          );
        }
      }
    });
    this.cachedWarnings = warnings;
    return [...warnings];
  }
}
