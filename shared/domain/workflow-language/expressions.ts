/**
 * Expressions of the workflow language: CEL (Common Expression Language, https://cel.dev) source held in
 * `{ "$expr": "<CEL>" }` objects.
 *
 * This module is the static side: a parser for the CEL grammar (literals, operators, `? :`, member access,
 * indexing, list/map literals, function and method calls, the standard macros `has`, `all`, `exists`,
 * `exists_one`, `map`, `filter`) that reports syntax errors with their offset, and an analysis that lists
 * what an expression refers to (`steps.<id>`, `inputs.<name>`, `item`, `index`, `error`, `run`). The engine
 * evaluates expressions with a CEL library (`@marcbachmann/cel-js`), which stays the authority on semantics;
 * what this parser rejects, CEL rejects too. Not supported (rejected here): protobuf message construction
 * (`Name{...}`) and the optional-field syntax (`a.?b`, `a[?b]`).
 */

/** The variables an expression can use. */
export const EXPRESSION_VARIABLES = ['inputs', 'steps', 'item', 'index', 'error', 'run'] as const;
export type ExpressionVariable = (typeof EXPRESSION_VARIABLES)[number];

/** What `steps.<id>.<member>` may read. */
export const STEP_MEMBERS = ['output', 'status', 'error'] as const;
/** What `run.<field>` may read. */
export const RUN_FIELDS = ['id', 'workflowId', 'version', 'startedAt'] as const;
/** What `error.<field>` may read (in a step reached through onError/onTimeout/onReject `goto`). */
export const ERROR_FIELDS = ['stepId', 'code', 'message'] as const;

/** CEL type names, usable as values (`type(x) == string`). */
const TYPE_IDENTIFIERS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);
const RESERVED = new Set([
  'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);
const LITERAL_WORDS = new Set(['true', 'false', 'null']);
/** Comprehension macros: `target.name(var, ...)`, with their arities. */
const COMPREHENSION_MACROS: ReadonlyMap<string, readonly number[]> = new Map([
  ['all', [2]],
  ['exists', [2]],
  ['exists_one', [2]],
  ['filter', [2]],
  ['map', [2, 3]],
]);

/** Longest expression source accepted. */
export const MAX_EXPRESSION_LENGTH = 4096;
const MAX_NESTING = 64;

export type ExpressionNode =
  | { readonly kind: 'literal'; readonly type: 'null' | 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes'; readonly value: string; readonly offset: number }
  | { readonly kind: 'ident'; readonly name: string; readonly offset: number }
  | { readonly kind: 'select'; readonly operand: ExpressionNode; readonly field: string; readonly offset: number }
  | { readonly kind: 'index'; readonly operand: ExpressionNode; readonly index: ExpressionNode; readonly offset: number }
  | { readonly kind: 'call'; readonly target: ExpressionNode | null; readonly name: string; readonly args: readonly ExpressionNode[]; readonly offset: number }
  | { readonly kind: 'list'; readonly elements: readonly ExpressionNode[]; readonly offset: number }
  | { readonly kind: 'map'; readonly entries: readonly { readonly key: ExpressionNode; readonly value: ExpressionNode }[]; readonly offset: number }
  | { readonly kind: 'unary'; readonly op: '!' | '-'; readonly operand: ExpressionNode; readonly offset: number }
  | { readonly kind: 'binary'; readonly op: string; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly offset: number }
  | { readonly kind: 'conditional'; readonly test: ExpressionNode; readonly then: ExpressionNode; readonly otherwise: ExpressionNode; readonly offset: number };

/** A syntax error; `offset` is the 0-based position in the source. */
export class ExpressionSyntaxError extends Error {
  override readonly name = 'ExpressionSyntaxError';
  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {
    super(`${detail} (at column ${offset + 1})`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Lexer

type Token =
  | { type: 'ident'; text: string; offset: number }
  | { type: 'number'; literal: 'int' | 'uint' | 'double'; text: string; offset: number }
  | { type: 'string'; literal: 'string' | 'bytes'; value: string; offset: number }
  | { type: 'punct'; text: string; offset: number }
  | { type: 'eof'; offset: number };

const PUNCTUATION = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '?': '?', '"': '"', "'": "'", '`': '`', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}
function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z_]$/.test(c);
}
function isIdentPart(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9_]$/.test(c);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (isIdentPart(source[i])) i++;
      const text = source.slice(start, i);
      const quote = source[i];
      if ((quote === '"' || quote === "'") && /^(r|b|rb|br)$/i.test(text)) {
        const raw = /r/i.test(text);
        const bytes = /b/i.test(text);
        const [value, end] = readString(source, i, raw);
        tokens.push({ type: 'string', literal: bytes ? 'bytes' : 'string', value, offset: start });
        i = end;
        continue;
      }
      tokens.push({ type: 'ident', text, offset: start });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1]))) {
      i = readNumber(source, i, tokens);
      continue;
    }
    if (c === '"' || c === "'") {
      const [value, end] = readString(source, i, false);
      tokens.push({ type: 'string', literal: 'string', value, offset: start });
      i = end;
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (punct === undefined) throw new ExpressionSyntaxError(`unexpected character '${c}'`, i);
    tokens.push({ type: 'punct', text: punct, offset: start });
    i += punct.length;
  }
  tokens.push({ type: 'eof', offset: source.length });
  return tokens;
}

function readNumber(source: string, start: number, tokens: Token[]): number {
  let i = start;
  if (source[i] === '0' && (source[i + 1] === 'x' || source[i + 1] === 'X')) {
    i += 2;
    if (!isHex(source[i])) throw new ExpressionSyntaxError('malformed hexadecimal number', start);
    while (isHex(source[i])) i++;
    let literal: 'int' | 'uint' = 'int';
    if (source[i] === 'u' || source[i] === 'U') {
      literal = 'uint';
      i++;
    }
    tokens.push({ type: 'number', literal, text: source.slice(start, i), offset: start });
    if (isIdentPart(source[i])) throw new ExpressionSyntaxError('malformed number', start);
    return i;
  }
  let isFloat = false;
  while (isDigit(source[i])) i++;
  if (source[i] === '.' && isDigit(source[i + 1])) {
    isFloat = true;
    i++;
    while (isDigit(source[i])) i++;
  }
  if (source[i] === 'e' || source[i] === 'E') {
    let j = i + 1;
    if (source[j] === '+' || source[j] === '-') j++;
    if (!isDigit(source[j])) throw new ExpressionSyntaxError('malformed exponent', start);
    while (isDigit(source[j])) j++;
    isFloat = true;
    i = j;
  }
  let literal: 'int' | 'uint' | 'double' = isFloat ? 'double' : 'int';
  if (!isFloat && (source[i] === 'u' || source[i] === 'U')) {
    literal = 'uint';
    i++;
  }
  if (isIdentPart(source[i]) || (source[i] === '.' && isDigit(source[i + 1]))) throw new ExpressionSyntaxError('malformed number', start);
  tokens.push({ type: 'number', literal, text: source.slice(start, i), offset: start });
  return i;
}

/** Reads a string literal starting at the opening quote; returns its value and the offset after it. */
function readString(source: string, start: number, raw: boolean): [string, number] {
  const q = source[start]!;
  const triple = source.startsWith(q.repeat(3), start);
  const close = triple ? q.repeat(3) : q;
  let i = start + close.length;
  let value = '';
  for (;;) {
    if (i >= source.length) throw new ExpressionSyntaxError('unterminated string', start);
    if (source.startsWith(close, i)) return [value, i + close.length];
    const c = source[i]!;
    if (!triple && (c === '\n' || c === '\r')) throw new ExpressionSyntaxError('line break in a string (use a triple-quoted string)', i);
    if (c === '\\' && !raw) {
      const e = source[i + 1];
      if (e !== undefined && SIMPLE_ESCAPES[e] !== undefined) {
        value += SIMPLE_ESCAPES[e];
        i += 2;
        continue;
      }
      const hexDigits = e === 'x' || e === 'X' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hexDigits > 0) {
        const hex = source.slice(i + 2, i + 2 + hexDigits);
        if (hex.length !== hexDigits || ![...hex].every(isHex)) throw new ExpressionSyntaxError('malformed escape sequence', i);
        const code = parseInt(hex, 16);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new ExpressionSyntaxError('invalid code point in escape sequence', i);
        value += String.fromCodePoint(code);
        i += 2 + hexDigits;
        continue;
      }
      const oct = source.slice(i + 1, i + 4);
      if (/^[0-3][0-7][0-7]$/.test(oct)) {
        value += String.fromCharCode(parseInt(oct, 8));
        i += 4;
        continue;
      }
      throw new ExpressionSyntaxError('invalid escape sequence', i);
    }
    value += c;
    i++;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parser

class Parser {
  private position = 0;
  private depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): ExpressionNode {
    if (this.peek().type === 'eof') throw new ExpressionSyntaxError('empty expression', 0);
    const node = this.expr();
    const next = this.peek();
    if (next.type !== 'eof') throw new ExpressionSyntaxError(`unexpected ${describe(next)}`, next.offset);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }
  private next(): Token {
    const token = this.tokens[this.position]!;
    if (token.type !== 'eof') this.position++;
    return token;
  }
  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.type === 'punct' && t.text === text;
  }
  private accept(text: string): boolean {
    if (!this.isPunct(text)) return false;
    this.position++;
    return true;
  }
  private expect(text: string): void {
    const t = this.peek();
    if (!this.accept(text)) throw new ExpressionSyntaxError(`expected '${text}' but found ${describe(t)}`, t.offset);
  }

  private expr(): ExpressionNode {
    if (++this.depth > MAX_NESTING) throw new ExpressionSyntaxError('expression nested too deeply', this.peek().offset);
    try {
      const test = this.or();
      if (!this.isPunct('?')) return test;
      const offset = this.next().offset;
      const then = this.or();
      this.expect(':');
      const otherwise = this.expr();
      return { kind: 'conditional', test, then, otherwise, offset };
    } finally {
      this.depth--;
    }
  }

  private binaryLevel(operators: readonly string[], operand: () => ExpressionNode): ExpressionNode {
    let left = operand();
    for (;;) {
      const t = this.peek();
      const op = t.type === 'punct' && operators.includes(t.text) ? t.text : t.type === 'ident' && t.text === 'in' && operators.includes('in') ? 'in' : undefined;
      if (op === undefined) return left;
      this.next();
      const right = operand();
      left = { kind: 'binary', op, left, right, offset: t.offset };
    }
  }
  private or(): ExpressionNode {
    return this.binaryLevel(['||'], () => this.and());
  }
  private and(): ExpressionNode {
    return this.binaryLevel(['&&'], () => this.relation());
  }
  private relation(): ExpressionNode {
    return this.binaryLevel(['<', '<=', '>=', '>', '==', '!=', 'in'], () => this.addition());
  }
  private addition(): ExpressionNode {
    return this.binaryLevel(['+', '-'], () => this.multiplication());
  }
  private multiplication(): ExpressionNode {
    return this.binaryLevel(['*', '/', '%'], () => this.unary());
  }

  private unary(): ExpressionNode {
    const t = this.peek();
    if (t.type === 'punct' && (t.text === '!' || t.text === '-')) {
      const ops: Token[] = [];
      while (this.isPunct(t.text)) ops.push(this.next());
      let node = this.member();
      for (let k = ops.length - 1; k >= 0; k--) node = { kind: 'unary', op: t.text as '!' | '-', operand: node, offset: ops[k]!.offset };
      return node;
    }
    return this.member();
  }

  private member(): ExpressionNode {
    let node = this.primary();
    for (;;) {
      const t = this.peek();
      if (this.accept('.')) {
        if (this.isPunct('?')) throw new ExpressionSyntaxError('optional field selection (.?) is not supported', t.offset);
        const name = this.identifier('a field name after "."', true);
        if (this.accept('(')) {
          const args = this.arguments(')');
          node = { kind: 'call', target: node, name: name.text, args, offset: name.offset };
          checkMacro(node);
        } else {
          node = { kind: 'select', operand: node, field: name.text, offset: name.offset };
        }
      } else if (this.accept('[')) {
        if (this.isPunct('?')) throw new ExpressionSyntaxError('optional index ([?) is not supported', t.offset);
        const index = this.expr();
        this.expect(']');
        node = { kind: 'index', operand: node, index, offset: t.offset };
      } else {
        return node;
      }
    }
  }

  private identifier(what: string, afterDot = false): { text: string; offset: number } {
    const t = this.next();
    if (t.type !== 'ident') throw new ExpressionSyntaxError(`expected ${what} but found ${describe(t)}`, t.offset);
    if (RESERVED.has(t.text) || t.text === 'in' || (afterDot && LITERAL_WORDS.has(t.text))) {
      const hint = afterDot ? `; write ["${t.text}"] instead of .${t.text}` : '';
      throw new ExpressionSyntaxError(`'${t.text}' is a reserved word${hint}`, t.offset);
    }
    return t;
  }

  private arguments(close: string): ExpressionNode[] {
    const args: ExpressionNode[] = [];
    if (this.accept(close)) return args;
    for (;;) {
      args.push(this.expr());
      if (this.accept(close)) return args;
      this.expect(',');
      if (close === ']' && this.accept(close)) return args;
    }
  }

  private primary(): ExpressionNode {
    const t = this.peek();
    switch (t.type) {
      case 'eof':
        throw new ExpressionSyntaxError('unexpected end of expression', t.offset);
      case 'number':
        this.next();
        return { kind: 'literal', type: t.literal, value: t.text, offset: t.offset };
      case 'string':
        this.next();
        return { kind: 'literal', type: t.literal, value: t.value, offset: t.offset };
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') {
          this.next();
          return { kind: 'literal', type: 'bool', value: t.text, offset: t.offset };
        }
        if (t.text === 'null') {
          this.next();
          return { kind: 'literal', type: 'null', value: 'null', offset: t.offset };
        }
        return this.identOrCall();
      }
      case 'punct':
        break;
    }
    if (t.text === '.') {
      this.next();
      return this.identOrCall();
    }
    if (this.accept('(')) {
      const inner = this.expr();
      this.expect(')');
      return inner;
    }
    if (this.accept('[')) return { kind: 'list', elements: this.arguments(']'), offset: t.offset };
    if (this.accept('{')) {
      const entries: { key: ExpressionNode; value: ExpressionNode }[] = [];
      while (!this.accept('}')) {
        const key = this.expr();
        this.expect(':');
        const value = this.expr();
        entries.push({ key, value });
        if (this.accept('}')) break;
        this.expect(',');
      }
      return { kind: 'map', entries, offset: t.offset };
    }
    throw new ExpressionSyntaxError(`unexpected ${describe(t)}`, t.offset);
  }

  private identOrCall(): ExpressionNode {
    const name = this.identifier('a name');
    if (this.accept('(')) {
      const node: ExpressionNode = { kind: 'call', target: null, name: name.text, args: this.arguments(')'), offset: name.offset };
      checkMacro(node);
      return node;
    }
    if (this.isPunct('{')) throw new ExpressionSyntaxError('message construction (Name{...}) is not supported; use a map literal {"key": value}', this.peek().offset);
    return { kind: 'ident', name: name.text, offset: name.offset };
  }
}

function checkMacro(node: Extract<ExpressionNode, { kind: 'call' }>): void {
  if (node.target === null) {
    if (node.name === 'has' && (node.args.length !== 1 || node.args[0]!.kind !== 'select')) {
      throw new ExpressionSyntaxError('has() needs exactly one field selection, e.g. has(inputs.name)', node.offset);
    }
    return;
  }
  const arities = COMPREHENSION_MACROS.get(node.name);
  if (arities?.includes(node.args.length) && node.args[0]!.kind !== 'ident') {
    throw new ExpressionSyntaxError(`the first argument of ${node.name}() must be a variable name, e.g. list.${node.name}(x, ...)`, node.args[0]!.offset);
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of expression';
    case 'ident':
      return `'${t.text}'`;
    case 'number':
      return `number ${t.text}`;
    case 'string':
      return 'a string';
    case 'punct':
      return `'${t.text}'`;
  }
}

/** Parses CEL source; throws {@link ExpressionSyntaxError} on a syntax error. */
export function parseExpression(source: string): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionSyntaxError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  return new Parser(tokenize(source)).parse();
}

// ---------------------------------------------------------------------------------------------------------
// Analysis

/** One use of a workflow variable in an expression. */
export type ExpressionReference =
  /** `steps.<stepId>.<member>` */
  | { readonly variable: 'steps'; readonly stepId: string; readonly member: string; readonly offset: number }
  /** `inputs.<name>` (name is null for `inputs` as a whole or a computed index) */
  | { readonly variable: 'inputs'; readonly name: string | null; readonly offset: number }
  | { readonly variable: 'item' | 'index' | 'error' | 'run'; readonly offset: number };

/** A misuse found by {@link analyzeExpression}. */
export interface ExpressionIssue {
  readonly kind: 'unknownVariable' | 'invalidReference';
  readonly message: string;
  readonly offset: number;
}

export interface ExpressionAnalysis {
  readonly references: readonly ExpressionReference[];
  readonly issues: readonly ExpressionIssue[];
}

type Segment = { name: string; offset: number } | { name: null; node: ExpressionNode; offset: number };

/**
 * Lists the workflow variables an expression uses and the references that are malformed regardless of where
 * the expression is (unknown variables, `steps` without a literal step id or member, unknown `run`/`error`
 * fields). Variables bound by comprehension macros (`list.map(x, x.id)`) shadow workflow variables.
 */
export function analyzeExpression(ast: ExpressionNode): ExpressionAnalysis {
  const references: ExpressionReference[] = [];
  const issues: ExpressionIssue[] = [];

  const visit = (node: ExpressionNode, bound: ReadonlySet<string>): void => {
    switch (node.kind) {
      case 'literal':
        return;
      case 'ident':
      case 'select':
      case 'index':
        return visitChain(node, bound);
      case 'call': {
        if (node.target !== null) visit(node.target, bound);
        const arities = COMPREHENSION_MACROS.get(node.name);
        if (node.target !== null && arities?.includes(node.args.length) && node.args[0]!.kind === 'ident') {
          const inner = new Set(bound).add(node.args[0].name);
          for (const arg of node.args.slice(1)) visit(arg, inner);
          return;
        }
        for (const arg of node.args) visit(arg, bound);
        return;
      }
      case 'list':
        for (const e of node.elements) visit(e, bound);
        return;
      case 'map':
        for (const e of node.entries) {
          visit(e.key, bound);
          visit(e.value, bound);
        }
        return;
      case 'unary':
        return visit(node.operand, bound);
      case 'binary':
        visit(node.left, bound);
        return visit(node.right, bound);
      case 'conditional':
        visit(node.test, bound);
        visit(node.then, bound);
        return visit(node.otherwise, bound);
    }
  };

  const visitChain = (node: ExpressionNode, bound: ReadonlySet<string>): void => {
    const segments: Segment[] = [];
    let root = node;
    while (root.kind === 'select' || root.kind === 'index') {
      if (root.kind === 'select') segments.unshift({ name: root.field, offset: root.offset });
      else if (root.index.kind === 'literal' && root.index.type === 'string') segments.unshift({ name: root.index.value, offset: root.index.offset });
      else segments.unshift({ name: null, node: root.index, offset: root.index.offset });
      root = root.operand;
    }
    for (const s of segments) if (s.name === null) visit(s.node, bound);
    if (root.kind !== 'ident') return visit(root, bound);
    if (bound.has(root.name)) return;
    checkVariable(root.name, root.offset, segments);
  };

  const checkVariable = (name: string, offset: number, segments: readonly Segment[]): void => {
    const first = segments[0];
    const fieldCheck = (fields: readonly string[]): void => {
      if (first === undefined) return;
      if (first.name === null) return;
      if (!fields.includes(first.name)) {
        issues.push({ kind: 'invalidReference', message: `'${name}' has no field '${first.name}' (it has ${fields.join(', ')})`, offset: first.offset });
      }
    };
    switch (name) {
      case 'steps': {
        const member = segments[1];
        if (first === undefined || first.name === null) {
          issues.push({ kind: 'invalidReference', message: "refer to a step by its id, e.g. steps.<stepId>.output (computed step ids are not allowed)", offset });
          return;
        }
        if (member === undefined || member.name === null || !(STEP_MEMBERS as readonly string[]).includes(member.name)) {
          issues.push({
            kind: 'invalidReference',
            message: `read a step through steps.${first.name}.output, steps.${first.name}.status or steps.${first.name}.error`,
            offset: member?.offset ?? first.offset,
          });
          return;
        }
        references.push({ variable: 'steps', stepId: first.name, member: member.name, offset });
        return;
      }
      case 'inputs':
        references.push({ variable: 'inputs', name: first?.name ?? null, offset });
        return;
      case 'run':
        fieldCheck(RUN_FIELDS);
        references.push({ variable: 'run', offset });
        return;
      case 'error':
        fieldCheck(ERROR_FIELDS);
        references.push({ variable: 'error', offset });
        return;
      case 'item':
      case 'index':
        references.push({ variable: name, offset });
        return;
      default:
        if (TYPE_IDENTIFIERS.has(name)) return;
        issues.push({ kind: 'unknownVariable', message: `unknown name '${name}' (expressions can use ${EXPRESSION_VARIABLES.join(', ')})`, offset });
    }
  };

  visit(ast, new Set());
  return { references, issues };
}
