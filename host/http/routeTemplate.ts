import { parseRouteConstraint, RouteConstraintError, type RouteConstraint } from './routeConstraints.js';
import { foldCase, RequestPath } from './routePath.js';

/**
 * An invalid route template. `reason` says what is wrong, `template` is the template as given, and the
 * message is `<reason> in '<template>'`.
 */
export class RouteTemplateError extends Error {
  readonly template: string;
  readonly reason: string;

  constructor(template: string, reason: string) {
    super(`${reason} in '${template}'`);
    this.name = 'RouteTemplateError';
    this.template = template;
    this.reason = reason;
  }
}

interface LiteralPart {
  readonly kind: 'literal';
  readonly text: string;
  /** {@link foldCase} of `text`, compared with folded request text. */
  readonly folded: string;
}

interface ParameterPart {
  readonly kind: 'parameter';
  readonly name: string;
  readonly catchAll: boolean;
  readonly optional: boolean;
  readonly defaultValue: string | undefined;
  readonly constraints: readonly RouteConstraint[];
}

type Part = LiteralPart | ParameterPart;

const enum SegmentKind {
  Literal,
  Parameter,
  CatchAll,
  Complex,
}

interface Segment {
  readonly kind: SegmentKind;
  readonly parts: readonly Part[];
  /** The segment's first part, the only one unless the segment is complex. */
  readonly first: Part;
  /** A complex segment ending in `.{p?}`: it may also match without the '.' and that parameter. */
  readonly optionalTail: boolean;
  /** Whether the request may omit this segment (an optional, defaulted or catch-all parameter). */
  readonly omittable: boolean;
}

interface RawParameter {
  readonly name: string;
  readonly catchAll: boolean;
  readonly optional: boolean;
  readonly defaultValue: string | undefined;
  readonly constraintTexts: readonly string[];
}

const INVALID_NAME_CHARS = /[/{}?*]/;
const MISMATCHED_BRACE =
  "There is an incomplete parameter in the route template: each '{' needs a matching '}' (write '{{' or '}}' for a literal brace)";

function describePart(part: Part): string {
  return part.kind === 'literal' ? part.text : `{${part.catchAll ? '*' : ''}${part.name}${part.optional ? '?' : ''}}`;
}

function describeSegment(parts: readonly Part[]): string {
  return parts.map(describePart).join('');
}

function setValue(values: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') {
    Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    values[name] = value;
  }
}

function getValue(values: Record<string, string>, name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
}

/**
 * An ASP.NET Core route template (`api/items/{id:int}`), parsed and compiled for matching, with the rules of
 * `RoutePatternParser` and the legacy `Route`/`RoutePatternMatcher` pair the Functions host uses:
 *
 * - literals match case-insensitively; one trailing '/' in the request is ignored; an empty segment ('//')
 *   never matches;
 * - `{p}` takes one whole segment; `{p?}` may be absent (the key is then left out) and may only be followed
 *   by other omittable parameters; `{p=v}` takes `v` when absent;
 * - `{*p}` and `{**p}` take the rest of the path, slashes included, and must be last (they match alike;
 *   see {@link RouteTemplate.matchPath});
 * - complex segments (`{name}.{ext}`, `report-{id}`) match right to left, so the left-most parameter takes
 *   the surplus: `report.final.pdf` gives name=report.final and ext=pdf;
 * - inline constraints (`{id:int:min(1)}`) must all pass, defaults included; see routeConstraints.ts;
 * - `{{` and `}}` are literal braces, in literals and inside parameters (for regex constraints).
 */
export class RouteTemplate {
  /** The template as given. */
  readonly template: string;
  /** Parameter names in template order, as written. */
  readonly parameterNames: readonly string[];
  /**
   * When every segment before the omittable tail is a plain literal, the path those literals spell
   * ('/api/items'), which this template may match; otherwise undefined. Used to detect shadowed routes.
   */
  readonly literalPath: string | undefined;

  private readonly segments: readonly Segment[];
  /** The fewest request segments that can match: segments from here on are all omittable. */
  private readonly minSegments: number;
  private readonly endsWithCatchAll: boolean;
  private readonly constrained: readonly ParameterPart[];

  private constructor(template: string, segments: readonly Segment[]) {
    this.template = template;
    this.segments = segments;
    let minSegments = segments.length;
    while (minSegments > 0 && segments[minSegments - 1]?.omittable === true) {
      minSegments--;
    }
    this.minSegments = minSegments;
    this.endsWithCatchAll = segments.length > 0 && segments[segments.length - 1]?.kind === SegmentKind.CatchAll;
    const parameters = segments.flatMap((s) => s.parts.filter((p): p is ParameterPart => p.kind === 'parameter'));
    this.parameterNames = Object.freeze(parameters.map((p) => p.name));
    this.constrained = parameters.filter((p) => p.constraints.length > 0);
    const leading = segments.slice(0, minSegments);
    this.literalPath = leading.every((s) => s.kind === SegmentKind.Literal)
      ? `/${leading.map((s) => (s.first as LiteralPart).text).join('/')}`
      : undefined;
  }

  /**
   * Parses and compiles a template. A leading '/' or '~/' is ignored. Throws {@link RouteTemplateError}
   * with a precise reason for any syntax error, unknown constraint or bad constraint argument.
   */
  static parse(template: string): RouteTemplate {
    return new RouteTemplate(template, new TemplateParser(template).parse());
  }

  /** Matches a raw (percent-encoded) request path without its query; see {@link RequestPath.parse}. */
  match(rawPath: string): Record<string, string> | undefined {
    return this.matchPath(RequestPath.parse(rawPath));
  }

  /**
   * Matches a prepared request path, so a route table decodes and splits each request once. Returns the
   * route values (URL-decoded except `%2F`; absent optional parameters left out) or undefined.
   */
  matchPath(path: RequestPath): Record<string, string> | undefined {
    const segments = this.segments;
    const count = path.count;
    if (count < this.minSegments || (count > segments.length && !this.endsWithCatchAll)) {
      return undefined;
    }
    const requestSegments = path.segments;
    const present = Math.min(count, segments.length);

    // First pass: cheap rejections (empty segments, literals) before allocating the result.
    for (let i = 0; i < present; i++) {
      if (requestSegments[i] === '') {
        return undefined;
      }
      const segment = segments[i] as Segment;
      if (segment.kind === SegmentKind.CatchAll) {
        break;
      }
      if (segment.kind === SegmentKind.Literal && path.folded(i) !== (segment.first as LiteralPart).folded) {
        return undefined;
      }
    }

    const values: Record<string, string> = {};
    for (let i = 0; i < present; i++) {
      const segment = segments[i] as Segment;
      if (segment.kind === SegmentKind.Parameter) {
        setValue(values, (segment.first as ParameterPart).name, requestSegments[i] as string);
      } else if (segment.kind === SegmentKind.CatchAll) {
        // The rest of the decoded path as it is, so a trailing '/' is kept ('a/b/'), as ASP.NET does.
        // `{*p}` and `{**p}` capture the same value: RoutePatternMatcher cuts the catch-all from the request
        // path, which Kestrel has decoded except for %2F, and ignores the '**' flag (EncodeSlashes). That
        // flag only changes URL generation ('*' writes '/' in a value as %2F, '**' keeps it), which a
        // host that only routes incoming requests never does. So %2F stays encoded for both.
        const parameter = segment.first as ParameterPart;
        const rest = path.path.slice(path.starts[i]);
        if (rest !== '') {
          setValue(values, parameter.name, rest);
        } else if (parameter.defaultValue !== undefined) {
          setValue(values, parameter.name, parameter.defaultValue);
        }
        break;
      } else if (segment.kind === SegmentKind.Complex) {
        if (!matchComplexSegment(segment, requestSegments[i] as string, path.folded(i), values)) {
          return undefined;
        }
      }
    }
    // Segments the request left out are omittable parameters: fill in defaults.
    for (let i = present; i < segments.length; i++) {
      const parameter = (segments[i] as Segment).first as ParameterPart;
      if (parameter.defaultValue !== undefined) {
        setValue(values, parameter.name, parameter.defaultValue);
      }
    }

    for (const parameter of this.constrained) {
      const value = getValue(values, parameter.name);
      // An optional parameter without a value skips its constraints (ASP.NET's OptionalRouteConstraint).
      if (value === undefined && parameter.optional) {
        continue;
      }
      for (const constraint of parameter.constraints) {
        if (!constraint.test(value)) {
          return undefined;
        }
      }
    }
    return values;
  }

}

/**
 * Matches a complex segment. A trailing `.{p?}` is first matched as present; if that fails and the request
 * does not end with the '.', the segment is matched again without it (so `{name}.{ext?}` matches `readme`).
 */
function matchComplexSegment(segment: Segment, value: string, folded: string, values: Record<string, string>): boolean {
  const parts = segment.parts;
  const last = parts.length - 1;
  if (!segment.optionalTail) {
    return matchComplexParts(parts, last, value, folded, values);
  }
  if (matchComplexParts(parts, last, value, folded, values)) {
    return true;
  }
  const separator = parts[last - 1] as LiteralPart;
  if (folded.endsWith(separator.folded)) {
    return false;
  }
  return matchComplexParts(parts, last - 2, value, folded, values);
}

/**
 * Walks parts[0..lastPart] right to left. Each literal is found by its last occurrence left of the text
 * already consumed (keeping one character for a parameter waiting on its right), and that parameter takes
 * the text between the literal and the previous boundary. Values are written only when the whole segment
 * matches, because the optional-tail retry must not see values from the failed first attempt.
 */
function matchComplexParts(
  parts: readonly Part[],
  lastPart: number,
  value: string,
  folded: string,
  values: Record<string, string>,
): boolean {
  const captured: string[] = [];
  let end = value.length;
  let pending: ParameterPart | undefined;
  let lastLiteral: LiteralPart | undefined;
  for (let k = lastPart; k >= 0; k--) {
    const part = parts[k] as Part;
    let newEnd = end;
    if (part.kind === 'parameter') {
      pending = part;
    } else {
      lastLiteral = part;
      const searchEnd = pending === undefined ? end : end - 1;
      const length = part.folded.length;
      if (searchEnd <= 0 || searchEnd < length) {
        return false;
      }
      const found = folded.lastIndexOf(part.folded, searchEnd - length);
      if (found === -1) {
        return false;
      }
      // A literal at the very end of the template must end the request text too ('Foo' vs 'xFoo/Foox').
      if (k === parts.length - 1 && found + length !== value.length) {
        return false;
      }
      newEnd = found;
    }
    if (pending !== undefined && ((lastLiteral !== undefined && part.kind === 'literal') || k === 0)) {
      let start = 0;
      let take = end;
      if (lastLiteral !== undefined && !(k === 0 && part.kind === 'parameter')) {
        start = newEnd + lastLiteral.folded.length;
        take = end - start;
      }
      if (take <= 0) {
        return false;
      }
      captured.push(pending.name, value.substr(start, take));
      pending = undefined;
      lastLiteral = undefined;
    }
    end = newEnd;
  }
  // Unless the segment starts with a parameter (which took everything on its left), the literals must have
  // consumed the text up to its start.
  if (end !== 0 && parts[0]?.kind !== 'parameter') {
    return false;
  }
  // Captured right to left; committed left to right so keys follow the template.
  for (let i = captured.length - 2; i >= 0; i -= 2) {
    setValue(values, captured[i] as string, captured[i + 1] as string);
  }
  return true;
}

/** One-shot parser for a template string, in the manner of ASP.NET Core's RoutePatternParser. */
class TemplateParser {
  private readonly template: string;
  private readonly body: string;
  private index = 0;
  /** Folded names seen so far: route value names are case-insensitive. */
  private readonly names = new Set<string>();

  constructor(template: string) {
    this.template = template;
    if (template.startsWith('~/')) {
      this.body = template.slice(2);
    } else if (template.startsWith('/')) {
      this.body = template.slice(1);
    } else if (template.startsWith('~')) {
      throw this.error("The route template cannot start with a '~' character unless followed by a '/'");
    } else {
      this.body = template;
    }
  }

  parse(): Segment[] {
    const rawSegments: Array<Array<LiteralPart | RawParameter>> = [];
    const body = this.body;
    while (this.index < body.length) {
      if (body[this.index] === '/') {
        throw this.error(
          "The route template separator character '/' cannot appear consecutively; it must be separated by a parameter or a literal value",
        );
      }
      const parts: Array<LiteralPart | RawParameter> = [];
      while (this.index < body.length && body[this.index] !== '/') {
        if (body[this.index] === '{' && body[this.index + 1] !== '{') {
          parts.push(this.parseParameter());
        } else {
          parts.push(this.parseLiteral());
        }
      }
      rawSegments.push(parts);
      // Skips the '/' that ended the segment; a single trailing '/' in the template is ignored.
      this.index++;
    }
    const segments = rawSegments.map((parts) => this.compileSegment(parts.map((p) => this.resolve(p))));
    this.validateTemplate(segments);
    return segments;
  }

  private error(reason: string): RouteTemplateError {
    return new RouteTemplateError(this.template, reason);
  }

  private parseLiteral(): LiteralPart {
    const body = this.body;
    const start = this.index;
    while (this.index < body.length) {
      const ch = body[this.index];
      if (ch === '/') {
        break;
      }
      if (ch === '{') {
        if (this.index + 1 >= body.length) {
          throw this.error(MISMATCHED_BRACE);
        }
        if (body[this.index + 1] !== '{') {
          break;
        }
        this.index += 2;
        continue;
      }
      if (ch === '}') {
        if (body[this.index + 1] !== '}') {
          throw this.error(MISMATCHED_BRACE);
        }
        this.index += 2;
        continue;
      }
      this.index++;
    }
    const text = unescapeBraces(body.slice(start, this.index));
    if (text.includes('?')) {
      throw this.error(`The literal section '${text}' is invalid: literal sections cannot contain the '?' character`);
    }
    return { kind: 'literal', text, folded: foldCase(text) };
  }

  /** Parses `{...}` at the current index. Inside, only '{{' and '}}' are allowed as braces. */
  private parseParameter(): RawParameter {
    const body = this.body;
    const open = this.index;
    let i = open + 1;
    for (;;) {
      if (i >= body.length) {
        throw this.error(MISMATCHED_BRACE);
      }
      const ch = body[i];
      if (ch === '{') {
        if (i + 1 >= body.length) {
          throw this.error(MISMATCHED_BRACE);
        }
        if (body[i + 1] !== '{') {
          throw this.error("In a route parameter, '{' and '}' must be escaped as '{{' and '}}'");
        }
        i += 2;
        continue;
      }
      if (ch === '}') {
        if (body[i + 1] === '}') {
          i += 2;
          continue;
        }
        break;
      }
      i++;
    }
    this.index = i + 1;
    const text = unescapeBraces(body.slice(open + 1, i));
    const parameter = parseParameterText(text);
    if (parameter.catchAll && parameter.optional) {
      throw this.error('A catch-all parameter cannot be marked optional');
    }
    if (parameter.optional && parameter.defaultValue !== undefined) {
      throw this.error(`The optional parameter '${parameter.name}' cannot have a default value`);
    }
    if (parameter.name === '' || INVALID_NAME_CHARS.test(parameter.name)) {
      throw this.error(
        `The route parameter name '${parameter.name}' is invalid: names must be non-empty and cannot contain '{', '}', '/', '?' or '*' ('?' may only end a parameter, '*' or '**' only start one)`,
      );
    }
    const key = foldCase(parameter.name);
    if (this.names.has(key)) {
      throw this.error(`The route parameter name '${parameter.name}' appears more than one time (names are case-insensitive)`);
    }
    this.names.add(key);
    return parameter;
  }

  private resolve(part: LiteralPart | RawParameter): Part {
    if ('kind' in part) {
      return part;
    }
    const constraints = part.constraintTexts.map((text) => {
      try {
        return parseRouteConstraint(text);
      } catch (error) {
        if (error instanceof RouteConstraintError) {
          throw this.error(error.message);
        }
        throw error;
      }
    });
    return {
      kind: 'parameter',
      name: part.name,
      catchAll: part.catchAll,
      optional: part.optional,
      defaultValue: part.defaultValue,
      constraints,
    };
  }

  private compileSegment(parts: Part[]): Segment {
    const first = parts[0] as Part;
    if (parts.length === 1) {
      if (first.kind === 'literal') {
        return { kind: SegmentKind.Literal, parts, first, optionalTail: false, omittable: false };
      }
      const omittable = first.catchAll || first.optional || first.defaultValue !== undefined;
      const kind = first.catchAll ? SegmentKind.CatchAll : SegmentKind.Parameter;
      return { kind, parts, first, optionalTail: false, omittable };
    }
    const text = describeSegment(parts);
    let previousWasParameter = false;
    let optionalTail = false;
    parts.forEach((part, i) => {
      if (part.kind !== 'parameter') {
        previousWasParameter = false;
        return;
      }
      if (part.catchAll) {
        throw this.error(
          `The segment '${text}' has more than one section (literals or parameters), so it cannot contain a catch-all parameter`,
        );
      }
      if (previousWasParameter) {
        throw this.error(
          `The segment '${text}' has two consecutive parameters; they must be separated by a '/' or by a literal string`,
        );
      }
      previousWasParameter = true;
      if (!part.optional) {
        return;
      }
      if (i !== parts.length - 1) {
        throw this.error(
          `An optional parameter must be at the end of the segment: in the segment '${text}', optional parameter '${part.name}' is followed by '${describePart(parts[i + 1] as Part)}'`,
        );
      }
      const previous = parts[i - 1] as Part;
      if (previous.kind !== 'literal' || previous.text !== '.') {
        throw this.error(
          `In the segment '${text}', the optional parameter '${part.name}' is preceded by '${describePart(previous)}'; only a period (.) can precede an optional parameter`,
        );
      }
      optionalTail = true;
    });
    return { kind: SegmentKind.Complex, parts, first, optionalTail, omittable: false };
  }

  private validateTemplate(segments: readonly Segment[]): void {
    segments.forEach((segment, i) => {
      if (segment.kind === SegmentKind.CatchAll && i !== segments.length - 1) {
        throw this.error('A catch-all parameter can only appear as the last segment of the route template');
      }
    });
    // Stricter than ASP.NET, which accepts '{a?}/b' and then simply never matches without 'a': an optional
    // parameter may only be followed by segments a request can also leave out.
    const firstOptional = segments.findIndex((s) => s.parts.some((p) => p.kind === 'parameter' && p.optional));
    if (firstOptional === -1) {
      return;
    }
    const blocking = segments.slice(firstOptional + 1).find((s) => !s.omittable);
    if (blocking !== undefined) {
      const optional = (segments[firstOptional] as Segment).parts.find((p) => p.kind === 'parameter' && p.optional) as ParameterPart;
      throw this.error(
        `An optional parameter must be at the end of the template: optional parameter '${optional.name}' is followed by the segment '${describeSegment(blocking.parts)}'`,
      );
    }
  }
}

function unescapeBraces(text: string): string {
  return text.replaceAll('}}', '}').replaceAll('{{', '{');
}

/**
 * Splits the text inside `{...}` (braces already unescaped) into name, kind, constraints and default,
 * following ASP.NET's RouteParameterParser, quirks included:
 * - a leading `**` or `*` marks a catch-all; a trailing `?` (the very last character) marks it optional;
 * - the name runs to the first ':' or '=' that is not its first character;
 * - constraints are separated by ':'; inside a constraint's parentheses a ':' or '=' jumps to the next ')'
 *   when there is one, so `regex(^a:b$)` and `regex(x=1)` stay whole, and a ')' only closes the constraint
 *   when followed by ':', '=' or the end;
 * - an '=' outside parentheses starts the default value, which runs to the end.
 */
function parseParameterText(text: string): RawParameter {
  let start = 0;
  let catchAll = false;
  if (text.startsWith('**')) {
    catchAll = true;
    start = 2;
  } else if (text.startsWith('*')) {
    catchAll = true;
    start = 1;
  }
  const optional = text.endsWith('?');
  const end = optional ? text.length - 1 : text.length;

  let pos = start;
  while (pos < end && !((text[pos] === ':' || text[pos] === '=') && pos !== start)) {
    pos++;
  }
  const name = text.slice(start, pos);

  const constraintTexts: string[] = [];
  const add = (from: number, to: number): void => {
    if (to > from) {
      constraintTexts.push(text.slice(from, to));
    }
  };
  let state: 'between' | 'name' | 'arguments' = 'between';
  let constraintStart = pos;
  // Each branch either continues scanning or stops with `pos` at the default's '=' (or past the end).
  scan: for (; ; pos++) {
    const ch = pos < end ? text[pos] : undefined;
    switch (state) {
      case 'between':
        if (ch === undefined || ch === '=') {
          break scan;
        }
        if (ch === ':') {
          state = 'name';
          constraintStart = pos + 1;
        } else if (ch === '(') {
          state = 'arguments';
        }
        break;
      case 'name':
        if (ch === undefined || ch === '=') {
          add(constraintStart, pos);
          break scan;
        }
        if (ch === ':') {
          add(constraintStart, pos);
          constraintStart = pos + 1;
        } else if (ch === '(') {
          state = 'arguments';
        }
        break;
      case 'arguments':
        if (ch === undefined) {
          add(constraintStart, pos);
          break scan;
        }
        if (ch === ')') {
          const next = pos + 1 < end ? text[pos + 1] : undefined;
          if (next === undefined || next === '=') {
            add(constraintStart, pos + 1);
            pos++;
            break scan;
          }
          if (next === ':') {
            add(constraintStart, pos + 1);
            state = 'between';
            constraintStart = pos + 1;
          }
        } else if (ch === ':' || ch === '=') {
          const close = text.indexOf(')', pos + 1);
          if (close === -1 || close >= end) {
            add(constraintStart, pos);
            if (ch === '=') {
              break scan;
            }
            state = 'name';
            constraintStart = pos + 1;
          } else {
            pos = close;
          }
        }
        break;
    }
  }
  const defaultValue = pos < end && text[pos] === '=' ? text.slice(pos + 1, end) : undefined;
  return { name, catchAll, optional, defaultValue, constraintTexts };
}
