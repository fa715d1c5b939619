/**
 * A small regular-expression engine whose matching time is linear in the subject: a Thompson NFA simulated
 * breadth-first (Pike VM, without captures). It backs CEL's `string.matches(pattern)` in the engine, because
 * JavaScript's backtracking `RegExp` can take exponential (or high polynomial) time on a few hundred bytes
 * (`/a*a*a*b/` on 1 KB of `a` runs for a minute), which would block an orchestrator on every replay.
 *
 * The syntax is the RE2 syntax CEL specifies (https://github.com/google/re2/wiki/Syntax), minus what needs
 * captures or backtracking (which RE2 does not have either): literals and escapes (`\n \t \r \f \v \a \x41 \x{263a}
 * \0 \Q…\E`, escaped punctuation), `.`, classes (`[a-z]`, `[^…]`, `\d \D \w \W \s \S`, `[[:alpha:]]`,
 * `\pL`, `\p{Greek}`, `\PL`), groups (`(…)`, `(?:…)`, `(?P<name>…)`, `(?<name>…)`), flags (`(?i)`, `(?m)`,
 * `(?s)`, `(?U)`, `(?i:…)`, `(?-i)`), alternation, repetition (`* + ? {n} {n,} {n,m}`, lazy forms accepted)
 * and the assertions `^ $ \A \z \b \B`. Back-references and look-around are rejected (as RE2 does). Matching
 * is a search (the pattern may match anywhere), over Unicode code points; `\d \w \s \b` are ASCII, as in RE2.
 *
 * Cost: compiling is bounded by {@link MAX_REGEX_PATTERN_LENGTH} and {@link MAX_REGEX_PROGRAM_SIZE}; matching
 * reports its work (one unit per NFA state visited per position) to a `charge` callback, which the expression
 * evaluator counts against its evaluation budget. The result is deterministic: it depends only on the pattern
 * and the subject.
 */

/** Longest pattern accepted (in UTF-16 code units). */
export const MAX_REGEX_PATTERN_LENGTH = 1024;
/** Most NFA instructions a pattern may compile to (counted repetitions are expanded). */
export const MAX_REGEX_PROGRAM_SIZE = 10_000;
/** Largest count in `{n}`, `{n,}` and `{n,m}` (as in RE2). */
export const MAX_REGEX_REPEAT = 1000;

/** The pattern is not a valid (supported) regular expression. */
export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
}

type Matcher = (cp: number) => boolean;
type AssertKind = 'beginText' | 'endText' | 'beginLine' | 'endLine' | 'wordBoundary' | 'notWordBoundary';

type RegexNode =
  | { readonly t: 'char'; readonly m: Matcher }
  | { readonly t: 'assert'; readonly k: AssertKind }
  | { readonly t: 'cat'; readonly items: readonly RegexNode[] }
  | { readonly t: 'alt'; readonly items: readonly RegexNode[] }
  | { readonly t: 'rep'; readonly node: RegexNode; readonly min: number; readonly max: number }
  | { readonly t: 'empty' };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

type Inst =
  | { op: 'char'; m: Matcher; next: number }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'assert'; k: AssertKind; next: number }
  | { op: 'match' };

const NEWLINE = 10;

function isWordChar(cp: number): boolean {
  return (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95;
}
const isDigit: Matcher = (cp) => cp >= 48 && cp <= 57;
const isSpace: Matcher = (cp) => cp === 32 || cp === 9 || cp === 10 || cp === 12 || cp === 13;
const not =
  (m: Matcher): Matcher =>
  (cp) =>
    !m(cp);

const POSIX_CLASSES: Readonly<Record<string, Matcher>> = {
  alnum: (cp) => isDigit(cp) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122),
  alpha: (cp) => (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122),
  ascii: (cp) => cp >= 0 && cp <= 0x7f,
  blank: (cp) => cp === 32 || cp === 9,
  cntrl: (cp) => (cp >= 0 && cp <= 31) || cp === 127,
  digit: isDigit,
  graph: (cp) => cp >= 33 && cp <= 126,
  lower: (cp) => cp >= 97 && cp <= 122,
  print: (cp) => cp >= 32 && cp <= 126,
  punct: (cp) => (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126),
  space: (cp) => isSpace(cp) || cp === 11,
  upper: (cp) => cp >= 65 && cp <= 90,
  word: isWordChar,
  xdigit: (cp) => isDigit(cp) || (cp >= 65 && cp <= 70) || (cp >= 97 && cp <= 102),
};

const unicodeClassCache = new Map<string, Matcher>();

/** `\p{Name}`: a Unicode general category (`L`, `Lu`, …) or script (`Greek`), tested one code point at a time. */
function unicodeClass(name: string): Matcher {
  const cached = unicodeClassCache.get(name);
  if (cached) return cached;
  if (!/^[A-Za-z_]{1,40}$/.test(name)) throw new RegexSyntaxError(`invalid Unicode class \\p{${name}}`);
  let re: RegExp | undefined;
  for (const source of name === 'Any' ? ['[\\s\\S]'] : [`\\p{${name}}`, `\\p{Script=${name}}`]) {
    try {
      // A single-code-point test of a class without quantifiers: linear, no backtracking.
      re = new RegExp(`^${source}$`, 'u');
      break;
    } catch {
      // try the next form
    }
  }
  if (!re) throw new RegexSyntaxError(`unknown Unicode class \\p{${name}}`);
  const test = re;
  const matcher: Matcher = (cp) => test.test(String.fromCodePoint(cp));
  unicodeClassCache.set(name, matcher);
  return matcher;
}

function singleCodePoint(s: string): number | undefined {
  const cp = s.codePointAt(0);
  return cp !== undefined && String.fromCodePoint(cp).length === s.length ? cp : undefined;
}

/** Case-insensitive version of a matcher: also tries the lower- and upper-case forms of the code point. */
function foldCase(m: Matcher): Matcher {
  return (cp) => {
    if (m(cp)) return true;
    if (cp < 0) return false;
    const ch = String.fromCodePoint(cp);
    const lower = singleCodePoint(ch.toLowerCase());
    if (lower !== undefined && lower !== cp && m(lower)) return true;
    const upper = singleCodePoint(ch.toUpperCase());
    return upper !== undefined && upper !== cp && m(upper);
  };
}

class Parser {
  private pos = 0;
  private readonly chars: string[];

  constructor(pattern: string) {
    this.chars = Array.from(pattern);
  }

  parse(): RegexNode {
    const node = this.parseAlternation({ i: false, m: false, s: false });
    if (this.pos < this.chars.length) throw this.error(`unexpected ')'`);
    return node;
  }

  private error(message: string): RegexSyntaxError {
    return new RegexSyntaxError(`${message} in regular expression at position ${this.pos}`);
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.pos + offset];
  }

  private next(): string {
    const c = this.chars[this.pos++];
    if (c === undefined) throw this.error('unexpected end');
    return c;
  }

  private parseAlternation(outer: Flags): RegexNode {
    const flags: Flags = { ...outer };
    const branches = [this.parseConcatenation(flags)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.parseConcatenation(flags));
    }
    return branches.length === 1 ? branches[0]! : { t: 'alt', items: branches };
  }

  private parseConcatenation(flags: Flags): RegexNode {
    const items: RegexNode[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      const atom = this.parseAtom(flags);
      if (atom === null) continue;
      items.push(this.parseRepetition(atom));
    }
    if (items.length === 0) return { t: 'empty' };
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private parseRepetition(atom: RegexNode): RegexNode {
    const quantifier = this.readQuantifier();
    if (!quantifier) return atom;
    if (this.peek() === '?') this.pos++; // lazy: same result for a yes/no match
    if (this.readQuantifier(true)) throw this.error('bad repetition operator (a repetition of a repetition)');
    return { t: 'rep', node: atom, min: quantifier.min, max: quantifier.max };
  }

  /** Reads `*`, `+`, `?` or a well-formed `{n}`, `{n,}`, `{n,m}` (anything else starting with `{` is a literal). */
  private readQuantifier(peekOnly = false): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      if (!peekOnly) this.pos++;
      return c === '*' ? { min: 0, max: -1 } : c === '+' ? { min: 1, max: -1 } : { min: 0, max: 1 };
    }
    if (c !== '{') return undefined;
    const rest = this.chars.slice(this.pos, this.pos + 24).join('');
    const match = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    if (!match) return undefined;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? -1 : Number(match[3]);
    if (min > MAX_REGEX_REPEAT || max > MAX_REGEX_REPEAT || (max !== -1 && max < min)) {
      throw this.error(`invalid repeat count ${match[0]} (at most ${MAX_REGEX_REPEAT}, and min <= max)`);
    }
    if (!peekOnly) this.pos += match[0].length;
    return { min, max };
  }

  /** One atom; null for a flags-only group `(?i)`, which changes `flags` for the rest of the group. */
  private parseAtom(flags: Flags): RegexNode | null {
    const c = this.next();
    switch (c) {
      case '(':
        return this.parseGroup(flags);
      case '[':
        return { t: 'char', m: this.parseClass(flags) };
      case '.':
        return { t: 'char', m: flags.s ? () => true : (cp) => cp !== NEWLINE };
      case '^':
        return { t: 'assert', k: flags.m ? 'beginLine' : 'beginText' };
      case '$':
        return { t: 'assert', k: flags.m ? 'endLine' : 'endText' };
      case '\\':
        return this.parseEscape(flags);
      case '*':
      case '+':
      case '?':
        throw this.error('missing argument to repetition operator');
      default:
        return this.literal(c.codePointAt(0)!, flags);
    }
  }

  private literal(cp: number, flags: Flags): RegexNode {
    const exact: Matcher = (x) => x === cp;
    return { t: 'char', m: flags.i ? foldCase(exact) : exact };
  }

  private parseGroup(flags: Flags): RegexNode | null {
    if (this.peek() !== '?') return this.finishGroup(flags);
    this.pos++;
    const c = this.peek();
    if (c === ':') {
      this.pos++;
      return this.finishGroup(flags);
    }
    if (c === '=' || c === '!' || (c === '<' && (this.peek(1) === '=' || this.peek(1) === '!'))) {
      throw this.error('look-around is not supported');
    }
    if (c === 'P' || c === '<') {
      if (c === 'P') this.pos++;
      if (this.next() !== '<') throw this.error('invalid named group');
      let name = '';
      for (let n = this.next(); n !== '>'; n = this.next()) name += n;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw this.error(`invalid group name '${name}'`);
      return this.finishGroup(flags);
    }
    // Flags: (?flags) or (?flags:re), flags from i, m, s, U, optionally negated after '-'.
    const scoped: Flags = { ...flags };
    let negate = false;
    let any = false;
    for (;;) {
      const f = this.next();
      if (f === ')' || f === ':') {
        if (!any) throw this.error('missing flags');
        if (f === ')') {
          Object.assign(flags, scoped);
          return null;
        }
        return this.finishGroup(scoped);
      }
      if (f === '-') {
        if (negate) throw this.error('invalid flags');
        negate = true;
        continue;
      }
      if (f === 'i' || f === 'm' || f === 's') scoped[f] = !negate;
      else if (f !== 'U') throw this.error(`unknown flag '${f}'`);
      any = true;
    }
  }

  private finishGroup(flags: Flags): RegexNode {
    const node = this.parseAlternation(flags);
    if (this.peek() !== ')') throw this.error('missing closing )');
    this.pos++;
    return node;
  }

  private parseEscape(flags: Flags): RegexNode {
    const c = this.next();
    switch (c) {
      case 'b':
        return { t: 'assert', k: 'wordBoundary' };
      case 'B':
        return { t: 'assert', k: 'notWordBoundary' };
      case 'A':
        return { t: 'assert', k: 'beginText' };
      case 'z':
        return { t: 'assert', k: 'endText' };
      case 'Q': {
        const items: RegexNode[] = [];
        while (this.pos < this.chars.length && !(this.peek() === '\\' && this.peek(1) === 'E')) {
          items.push(this.literal(this.next().codePointAt(0)!, flags));
        }
        if (this.pos < this.chars.length) this.pos += 2;
        return items.length === 0 ? { t: 'empty' } : { t: 'cat', items };
      }
      default: {
        const cls = this.classEscape(c);
        if (cls) return { t: 'char', m: flags.i ? foldCase(cls) : cls };
        return this.literal(this.characterEscape(c), flags);
      }
    }
  }

  /** `\d \D \w \W \s \S \p \P`, or undefined for other escapes. */
  private classEscape(c: string): Matcher | undefined {
    switch (c) {
      case 'd':
        return isDigit;
      case 'D':
        return not(isDigit);
      case 'w':
        return isWordChar;
      case 'W':
        return not(isWordChar);
      case 's':
        return isSpace;
      case 'S':
        return not(isSpace);
      case 'p':
      case 'P': {
        let name: string;
        if (this.peek() === '{') {
          this.pos++;
          name = '';
          for (let n = this.next(); n !== '}'; n = this.next()) name += n;
        } else {
          name = this.next();
        }
        let negate = c === 'P';
        if (name.startsWith('^')) {
          negate = !negate;
          name = name.slice(1);
        }
        const m = unicodeClass(name);
        return negate ? not(m) : m;
      }
      default:
        return undefined;
    }
  }

  /** A single-character escape: `\n`, `\x41`, `\x{263a}`, octal `\0`…, or escaped punctuation. */
  private characterEscape(c: string): number {
    switch (c) {
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 'v':
        return 11;
      case 'x': {
        let hex = '';
        if (this.peek() === '{') {
          this.pos++;
          for (let n = this.next(); n !== '}'; n = this.next()) hex += n;
        } else {
          hex = this.next() + this.next();
        }
        if (!/^[0-9A-Fa-f]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) throw this.error(`invalid escape \\x${hex}`);
        return Number.parseInt(hex, 16);
      }
      case '0': {
        let oct = '0';
        while (oct.length < 3 && /^[0-7]$/.test(this.peek() ?? '')) oct += this.next();
        return Number.parseInt(oct, 8);
      }
      default:
        if (/^[1-9]$/.test(c)) throw this.error('back-references are not supported');
        if (/^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(c)) return c.codePointAt(0)!;
        throw this.error(`invalid escape sequence \\${c}`);
    }
  }

  private parseClass(flags: Flags): Matcher {
    let negate = false;
    if (this.peek() === '^') {
      this.pos++;
      negate = true;
    }
    const ranges: [number, number][] = [];
    const parts: Matcher[] = [];
    let first = true;
    for (;;) {
      const c = this.next();
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.peek() === ':') {
        const rest = this.chars.slice(this.pos, this.pos + 16).join('');
        const posix = /^:(\^?)([a-z]+):\]/.exec(rest);
        if (posix) {
          const m = POSIX_CLASSES[posix[2]!];
          if (!m) throw this.error(`unknown class [:${posix[2]}:]`);
          parts.push(posix[1] ? not(m) : m);
          this.pos += Array.from(posix[0]).length;
          continue;
        }
      }
      let lo: number;
      if (c === '\\') {
        const e = this.next();
        const cls = this.classEscape(e);
        if (cls) {
          parts.push(cls);
          continue;
        }
        lo = this.characterEscape(e);
      } else {
        lo = c.codePointAt(0)!;
      }
      let hi = lo;
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.pos++;
        const h = this.next();
        if (h === '\\') {
          const e = this.next();
          if (this.classEscape(e)) throw this.error('invalid character class range');
          hi = this.characterEscape(e);
        } else {
          hi = h.codePointAt(0)!;
        }
        if (hi < lo) throw this.error('invalid character class range');
      }
      ranges.push([lo, hi]);
    }
    const base: Matcher = (cp) => {
      for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
      for (const m of parts) if (m(cp)) return true;
      return false;
    };
    const folded = flags.i ? foldCase(base) : base;
    return negate ? (cp) => cp >= 0 && !folded(cp) : folded;
  }
}

function compile(node: RegexNode): Inst[] {
  const prog: Inst[] = [];
  const push = (inst: Inst): number => {
    if (prog.length >= MAX_REGEX_PROGRAM_SIZE) {
      throw new RegexSyntaxError(`regular expression too large (more than ${MAX_REGEX_PROGRAM_SIZE} states once repetitions are expanded)`);
    }
    prog.push(inst);
    return prog.length - 1;
  };
  const emit = (n: RegexNode): void => {
    switch (n.t) {
      case 'empty':
        return;
      case 'char':
        push({ op: 'char', m: n.m, next: prog.length + 1 });
        return;
      case 'assert':
        push({ op: 'assert', k: n.k, next: prog.length + 1 });
        return;
      case 'cat':
        for (const item of n.items) emit(item);
        return;
      case 'alt': {
        const jumps: Extract<Inst, { op: 'jmp' }>[] = [];
        n.items.forEach((item, i) => {
          if (i < n.items.length - 1) {
            const split: Extract<Inst, { op: 'split' }> = { op: 'split', a: prog.length + 1, b: -1 };
            push(split);
            emit(item);
            const jmp: Extract<Inst, { op: 'jmp' }> = { op: 'jmp', to: -1 };
            push(jmp);
            jumps.push(jmp);
            split.b = prog.length;
          } else {
            emit(item);
          }
        });
        for (const jmp of jumps) jmp.to = prog.length;
        return;
      }
      case 'rep': {
        for (let i = 0; i < n.min; i++) emit(n.node);
        if (n.max === -1) {
          const split: Extract<Inst, { op: 'split' }> = { op: 'split', a: prog.length + 1, b: -1 };
          const loop = push(split);
          emit(n.node);
          push({ op: 'jmp', to: loop });
          split.b = prog.length;
          return;
        }
        const splits: Extract<Inst, { op: 'split' }>[] = [];
        for (let i = n.min; i < n.max; i++) {
          const split: Extract<Inst, { op: 'split' }> = { op: 'split', a: prog.length + 1, b: -1 };
          push(split);
          splits.push(split);
          emit(n.node);
        }
        for (const split of splits) split.b = prog.length;
        return;
      }
    }
  };
  emit(node);
  push({ op: 'match' });
  return prog;
}

/** A compiled pattern. */
export interface LinearRegex {
  readonly source: string;
  /**
   * Whether the pattern matches somewhere in `subject`. `charge(units)` is called with the work done (it may
   * throw to abort); the total is at most about (subject length + 1) × program size.
   */
  test(subject: string, charge: (units: number) => void): boolean;
}

const compiledCache = new Map<string, LinearRegex>();
const COMPILED_CACHE_SIZE = 256;

/** Compiles an RE2-syntax pattern (cached); throws {@link RegexSyntaxError} when it is invalid or unsupported. */
export function compileRegex(pattern: string): LinearRegex {
  const cached = compiledCache.get(pattern);
  if (cached) return cached;
  if (pattern.length > MAX_REGEX_PATTERN_LENGTH) {
    throw new RegexSyntaxError(`regular expression is ${pattern.length} characters; the limit is ${MAX_REGEX_PATTERN_LENGTH}`);
  }
  const prog = compile(new Parser(pattern).parse());
  const regex: LinearRegex = { source: pattern, test: (subject, charge) => run(prog, subject, charge) };
  if (compiledCache.size >= COMPILED_CACHE_SIZE) compiledCache.clear();
  compiledCache.set(pattern, regex);
  return regex;
}

function run(prog: readonly Inst[], subject: string, charge: (units: number) => void): boolean {
  charge(subject.length);
  const text = Array.from(subject, (ch) => ch.codePointAt(0)!);
  const n = text.length;
  const size = prog.length;
  // Sparse sets of instruction indexes, with a generation mark per instruction to avoid clearing.
  let current = new Int32Array(size);
  let currentLength = 0;
  let following = new Int32Array(size);
  let followingLength = 0;
  const mark = new Int32Array(size).fill(-1);
  let generation = 0;
  const stack: number[] = [];

  const holds = (k: AssertKind, pos: number): boolean => {
    const before = pos > 0 ? text[pos - 1]! : -1;
    const after = pos < n ? text[pos]! : -1;
    switch (k) {
      case 'beginText':
        return pos === 0;
      case 'endText':
        return pos === n;
      case 'beginLine':
        return pos === 0 || before === NEWLINE;
      case 'endLine':
        return pos === n || after === NEWLINE;
      case 'wordBoundary':
        return isWordChar(before) !== isWordChar(after);
      case 'notWordBoundary':
        return isWordChar(before) === isWordChar(after);
    }
  };

  /** Adds the epsilon closure of `pc` at `pos` to the list being built; true when it reaches a match. */
  const add = (list: Int32Array, length: number, pc: number, pos: number): { length: number; matched: boolean } => {
    let visited = 0;
    let matched = false;
    stack.push(pc);
    while (stack.length > 0) {
      const at = stack.pop()!;
      if (mark[at] === generation) continue;
      mark[at] = generation;
      visited++;
      const inst = prog[at]!;
      switch (inst.op) {
        case 'match':
          matched = true;
          break;
        case 'jmp':
          stack.push(inst.to);
          break;
        case 'split':
          stack.push(inst.b, inst.a);
          break;
        case 'assert':
          if (holds(inst.k, pos)) stack.push(inst.next);
          break;
        case 'char':
          list[length++] = at;
          break;
      }
    }
    charge(visited);
    return { length, matched };
  };

  generation++;
  for (let pos = 0; ; pos++) {
    // Unanchored search: a new thread starts at every position.
    const started = add(current, currentLength, 0, pos);
    currentLength = started.length;
    if (started.matched) return true;
    if (pos === n || currentLength === 0) {
      if (pos === n) return false;
      generation++;
      continue;
    }
    const cp = text[pos]!;
    generation++;
    followingLength = 0;
    for (let i = 0; i < currentLength; i++) {
      const inst = prog[current[i]!]!;
      if (inst.op === 'char' && inst.m(cp)) {
        const step = add(following, followingLength, inst.next, pos + 1);
        followingLength = step.length;
        if (step.matched) return true;
      }
    }
    charge(currentLength);
    [current, following] = [following, current];
    currentLength = followingLength;
  }
}
