/**
 * Inline route constraints (`{id:int}`, `{code:regex(^[a-z]+$)}`), with the semantics of ASP.NET Core's
 * constraint classes as resolved by `DefaultInlineConstraintResolver`.
 *
 * Number and date parsing follow the .NET `TryParse` calls those classes make with the invariant culture,
 * re-implemented here for the forms a URL segment can carry.
 */

/** Thrown for an unknown constraint or bad constraint arguments; the template parser adds the template. */
export class RouteConstraintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteConstraintError';
  }
}

/** One resolved inline constraint. */
export interface RouteConstraint {
  /** The constraint as written in the template, e.g. `min(10)`. */
  readonly text: string;
  /** The constraint's name, lower-cased, e.g. `min`. */
  readonly name: string;
  /**
   * Whether a route value passes. `undefined` is a parameter with no value, which only reaches a constraint
   * for a catch-all that captured nothing: like ASP.NET, every constraint then fails except `nonfile`.
   */
  test(value: string | undefined): boolean;
}

type Test = (value: string) => boolean;

interface ConstraintDefinition {
  /** Builds the test from the text between the parentheses (undefined when there are none). */
  create(args: string | undefined, text: string): Test;
  /** Result for a parameter with no value. */
  readonly whenAbsent: boolean;
}

// .NET number parsing treats exactly these as white space (NumberStyles.AllowLeading/TrailingWhite).
const WS = '[\\t\\n\\v\\f\\r ]*';
const INTEGER = new RegExp(`^${WS}([+-]?)0*(\\d+)${WS}$`);
// NumberStyles.Number: leading or trailing sign (not both), ',' group separators after the first digit.
const NUMBER = new RegExp(`^${WS}([+-]?)(\\d[\\d,]*)?(?:\\.(\\d*))?${WS}([+-]?)${WS}$`);
// NumberStyles.Float | AllowThousands: leading sign only, optional exponent.
const FLOAT = new RegExp(`^${WS}[+-]?(\\d[\\d,]*)?(?:\\.(\\d*))?(?:[eE][+-]?\\d+)?${WS}$`);
const FLOAT_SYMBOLS = new Set(['infinity', '+infinity', '-infinity', 'nan', '+nan', '-nan']);
const DECIMAL_MAX = '79228162514264337593543950335';

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `int.TryParse`/`long.TryParse` with NumberStyles.Integer: the value, or undefined when out of range. */
function parseInteger(value: string, min: bigint, max: bigint): bigint | undefined {
  const match = INTEGER.exec(value);
  if (match === null) {
    return undefined;
  }
  const digits = match[2] ?? '';
  // More digits than the type can hold cannot be in range; this also bounds the BigInt work.
  if (digits.length > 20) {
    return undefined;
  }
  const magnitude = BigInt(digits);
  const number = match[1] === '-' ? -magnitude : magnitude;
  return number >= min && number <= max ? number : undefined;
}

function isInteger(value: string, min: bigint, max: bigint): boolean {
  const match = INTEGER.exec(value);
  if (match === null) {
    return false;
  }
  const digits = match[2] ?? '';
  // Fast path: up to 9 digits always fits an Int32 (and so an Int64).
  if (digits.length <= 9) {
    return true;
  }
  return parseInteger(value, min, max) !== undefined;
}

/** `decimal.TryParse` with NumberStyles.Number. */
function isDecimal(value: string): boolean {
  const match = NUMBER.exec(value);
  if (match === null) {
    return false;
  }
  const [, leadingSign, integerPart = '', fraction = '', trailingSign] = match;
  if (integerPart === '' && fraction === '') {
    return false;
  }
  if (leadingSign !== '' && trailingSign !== '') {
    return false;
  }
  const digits = integerPart.replace(/,/g, '').replace(/^0+/, '');
  return digits.length < DECIMAL_MAX.length || (digits.length === DECIMAL_MAX.length && digits <= DECIMAL_MAX);
}

/**
 * `double.TryParse`/`float.TryParse` with NumberStyles.Float | AllowThousands. Since .NET Core 3.0 an
 * overflow parses as infinity instead of failing, so `float` and `double` accept the same strings.
 */
function isFloatingPoint(value: string): boolean {
  const match = FLOAT.exec(value);
  if (match !== null) {
    return (match[1] ?? '') !== '' || (match[2] ?? '') !== '';
  }
  return FLOAT_SYMBOLS.has(value.trim().toLowerCase());
}

const BOOL = /^\s*(?:true|false)\s*$/i;

const HEX_GUID_D = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const GUID_FORMATS = new RegExp(
  [
    `^[0-9a-f]{32}$`, // N
    `^${HEX_GUID_D}$`, // D
    `^\\{${HEX_GUID_D}\\}$`, // B
    `^\\(${HEX_GUID_D}\\)$`, // P
    // X: {0xXXXXXXXX,0xXXXX,0xXXXX,{0xXX,0xXX,0xXX,0xXX,0xXX,0xXX,0xXX,0xXX}}
    `^\\{0x[0-9a-f]{1,8},0x[0-9a-f]{1,4},0x[0-9a-f]{1,4},\\{0x[0-9a-f]{1,2}(?:,0x[0-9a-f]{1,2}){7}\\}\\}$`,
  ].join('|'),
  'i',
);

/** `Guid.TryParse`: the N, D, B, P and X formats, surrounding white space ignored. */
function isGuid(value: string): boolean {
  return GUID_FORMATS.test(value.trim());
}

// .NET's `$` also matches before a final '\n' (no RegexOptions.Multiline), and alpha's regex ends in `$`.
const ALPHA = /^[A-Za-z]*\n?$/;

/** The `file` test from ASP.NET: the last '/'-separated part has a '.' followed by a non-'.' character. */
function isFileName(value: string): boolean {
  const last = value.slice(value.lastIndexOf('/') + 1);
  const dot = last.indexOf('.');
  if (dot === -1) {
    return false;
  }
  for (let i = dot + 1; i < last.length; i++) {
    if (last[i] !== '.') {
      return true;
    }
  }
  return false;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAME = '(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\\.?';
const DAY_NAME = '(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun),?\\s+)?';
const TIME = '(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:\\.\\d+)?)?(?:\\s*([ap]m))?';
const ZONE = '(?:\\s*(?:z|gmt|utc|[+-](\\d{1,2})(?::?(\\d{2}))?))?';
const TIME_SUFFIX = `(?:(?:t|\\s+)${TIME}${ZONE})?`;

interface DatePattern {
  readonly regex: RegExp;
  /** Maps the captured groups to [year, month, day]; the time groups follow at `timeGroup`. */
  readonly date: (groups: readonly (string | undefined)[]) => [number, number, number];
  readonly timeGroup: number;
}

function monthIndex(name: string | undefined): number {
  return MONTHS.indexOf((name ?? '').slice(0, 3).toLowerCase()) + 1;
}

function twoDigitYear(text: string | undefined): number {
  const year = Number(text);
  // The invariant calendar's TwoDigitYearMax is 2049.
  return (text ?? '').length <= 2 ? (year <= 49 ? 2000 + year : 1900 + year) : year;
}

const CURRENT_YEAR = (): number => new Date().getFullYear();

const DATE_PATTERNS: readonly DatePattern[] = [
  // yyyy-M-d, yyyy/M/d, yyyy.M.d (ISO 8601 and friends)
  { regex: new RegExp(`^${DAY_NAME}(\\d{4})([-/.])(\\d{1,2})\\2(\\d{1,2})${TIME_SUFFIX}$`, 'i'), date: (g) => [Number(g[1]), Number(g[3]), Number(g[4])], timeGroup: 5 },
  // M/d/yyyy, M-d-yyyy, M.d.yyyy and two-digit years: the invariant culture is month first
  { regex: new RegExp(`^${DAY_NAME}(\\d{1,2})([-/.])(\\d{1,2})\\2(\\d{4}|\\d{2})${TIME_SUFFIX}$`, 'i'), date: (g) => [twoDigitYear(g[4]), Number(g[1]), Number(g[3])], timeGroup: 5 },
  // M/d (current year)
  { regex: new RegExp(`^${DAY_NAME}(\\d{1,2})/(\\d{1,2})${TIME_SUFFIX}$`, 'i'), date: (g) => [CURRENT_YEAR(), Number(g[1]), Number(g[2])], timeGroup: 3 },
  // d MMM yyyy, d-MMM-yyyy (also RFC 1123 with the day name)
  { regex: new RegExp(`^${DAY_NAME}(\\d{1,2})[\\s-]+${MONTH_NAME}[\\s,-]+(\\d{4}|\\d{2})${TIME_SUFFIX}$`, 'i'), date: (g) => [twoDigitYear(g[3]), monthIndex(g[2]), Number(g[1])], timeGroup: 4 },
  // MMM d, yyyy
  { regex: new RegExp(`^${DAY_NAME}${MONTH_NAME}\\s+(\\d{1,2}),?\\s+(\\d{4})${TIME_SUFFIX}$`, 'i'), date: (g) => [Number(g[3]), monthIndex(g[1]), Number(g[2])], timeGroup: 4 },
  // MMMM yyyy (first of the month)
  { regex: new RegExp(`^${MONTH_NAME},?\\s+(\\d{4})${TIME_SUFFIX}$`, 'i'), date: (g) => [Number(g[2]), monthIndex(g[1]), 1], timeGroup: 3 },
  // MMMM d (current year)
  { regex: new RegExp(`^${MONTH_NAME}\\s+(\\d{1,2})${TIME_SUFFIX}$`, 'i'), date: (g) => [CURRENT_YEAR(), monthIndex(g[1]), Number(g[2])], timeGroup: 3 },
];

const TIME_ONLY = new RegExp(`^${TIME}${ZONE}$`, 'i');

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isValidTime(groups: readonly (string | undefined)[], at: number): boolean {
  if (groups[at] === undefined) {
    return true;
  }
  const hour = Number(groups[at]);
  const minute = Number(groups[at + 1]);
  const second = groups[at + 2] === undefined ? 0 : Number(groups[at + 2]);
  const meridiem = groups[at + 3];
  const zoneHours = groups[at + 4] === undefined ? 0 : Number(groups[at + 4]);
  const zoneMinutes = groups[at + 5] === undefined ? 0 : Number(groups[at + 5]);
  const maxHour = meridiem === undefined ? 23 : 12;
  return hour <= maxHour && minute <= 59 && second <= 59 && zoneHours <= 14 && zoneMinutes <= 59;
}

/**
 * Approximates `DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None)`, whose lenient
 * parser has no exact specification. Accepted: ISO 8601 dates and date-times (with 'T' or a space, fractional
 * seconds, 'Z' or an offset), month-first numeric dates (`M/d/yyyy`, `M-d-yyyy`, `M.d.yyyy`, two-digit years,
 * `M/d`), year-first numeric dates, English month-name forms (`5 Jan 2024`, `January 5, 2024`,
 * `January 2024`, `January 5`, RFC 1123), and times alone (`14:30`, `2:30:15 PM`). Calendar validity is
 * checked (no 30 February, leap years honoured).
 */
export function isInvariantDateTime(value: string): boolean {
  const text = value.trim();
  if (text === '') {
    return false;
  }
  const timeOnly = TIME_ONLY.exec(text);
  if (timeOnly !== null) {
    return isValidTime(timeOnly, 1);
  }
  for (const pattern of DATE_PATTERNS) {
    const groups = pattern.regex.exec(text);
    if (groups === null) {
      continue;
    }
    const [year, month, day] = pattern.date(groups);
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      return false;
    }
    return isValidTime(groups, pattern.timeGroup);
  }
  return false;
}

function noArguments(test: Test, whenAbsent = false): ConstraintDefinition {
  return {
    whenAbsent,
    create(args, text) {
      if (args !== undefined) {
        throw new RouteConstraintError(`The route constraint '${text}' does not take arguments`);
      }
      return test;
    },
  };
}

function requireArguments(args: string | undefined, text: string): string {
  if (args === undefined) {
    throw new RouteConstraintError(`The route constraint '${text}' requires arguments in parentheses`);
  }
  return args;
}

/** Converts an argument the way `Convert.ChangeType(arg, typeof(long|int), InvariantCulture)` does. */
function integerArgument(arg: string, text: string, bits: 32 | 64): bigint {
  const value = bits === 32 ? parseInteger(arg, INT32_MIN, INT32_MAX) : parseInteger(arg, INT64_MIN, INT64_MAX);
  if (value === undefined) {
    throw new RouteConstraintError(
      `The argument '${arg}' of route constraint '${text}' is not a valid ${bits === 32 ? 'Int32' : 'Int64'}`,
    );
  }
  return value;
}

function lengthArgument(arg: string, text: string): number {
  const value = integerArgument(arg, text, 32);
  if (value < 0n) {
    throw new RouteConstraintError(`The argument '${arg}' of route constraint '${text}' must not be negative`);
  }
  return Number(value);
}

/** Splits the arguments of a constraint with several parameters, as the resolver does (',' and trim). */
function splitArguments(args: string): string[] {
  return args.split(',').map((arg) => arg.trim());
}

function valueInRange(min: bigint, max: bigint): Test {
  return (value) => {
    const number = parseInteger(value, INT64_MIN, INT64_MAX);
    return number !== undefined && number >= min && number <= max;
  };
}

const DEFINITIONS: ReadonlyMap<string, ConstraintDefinition> = new Map<string, ConstraintDefinition>([
  ['int', noArguments((v) => isInteger(v, INT32_MIN, INT32_MAX))],
  ['long', noArguments((v) => isInteger(v, INT64_MIN, INT64_MAX))],
  ['bool', noArguments((v) => BOOL.test(v))],
  ['guid', noArguments(isGuid)],
  ['datetime', noArguments(isInvariantDateTime)],
  ['decimal', noArguments(isDecimal)],
  ['double', noArguments(isFloatingPoint)],
  ['float', noArguments(isFloatingPoint)],
  ['alpha', noArguments((v) => ALPHA.test(v))],
  ['required', noArguments((v) => v !== '')],
  ['file', noArguments(isFileName)],
  ['nonfile', noArguments((v) => !isFileName(v), true)],
  [
    'min',
    {
      whenAbsent: false,
      // A single-parameter constraint gets the whole argument text, so 'min(1,2)' is a bad Int64.
      create: (args, text) => valueInRange(integerArgument(requireArguments(args, text), text, 64), INT64_MAX),
    },
  ],
  [
    'max',
    {
      whenAbsent: false,
      create: (args, text) => valueInRange(INT64_MIN, integerArgument(requireArguments(args, text), text, 64)),
    },
  ],
  [
    'range',
    {
      whenAbsent: false,
      create(args, text) {
        const parts = splitArguments(requireArguments(args, text));
        if (parts.length !== 2) {
          throw new RouteConstraintError(`The route constraint '${text}' takes two arguments: range(min,max)`);
        }
        const min = integerArgument(parts[0] ?? '', text, 64);
        const max = integerArgument(parts[1] ?? '', text, 64);
        if (min > max) {
          throw new RouteConstraintError(`The minimum of route constraint '${text}' is greater than its maximum`);
        }
        return valueInRange(min, max);
      },
    },
  ],
  [
    'length',
    {
      whenAbsent: false,
      create(args, text) {
        const parts = splitArguments(requireArguments(args, text));
        if (parts.length === 1) {
          const length = lengthArgument(parts[0] ?? '', text);
          return (value) => value.length === length;
        }
        if (parts.length !== 2) {
          throw new RouteConstraintError(`The route constraint '${text}' takes one or two arguments: length(n) or length(min,max)`);
        }
        const min = lengthArgument(parts[0] ?? '', text);
        const max = lengthArgument(parts[1] ?? '', text);
        if (min > max) {
          throw new RouteConstraintError(`The minimum of route constraint '${text}' is greater than its maximum`);
        }
        return (value) => value.length >= min && value.length <= max;
      },
    },
  ],
  [
    'minlength',
    {
      whenAbsent: false,
      create(args, text) {
        const min = lengthArgument(requireArguments(args, text), text);
        return (value) => value.length >= min;
      },
    },
  ],
  [
    'maxlength',
    {
      whenAbsent: false,
      create(args, text) {
        const max = lengthArgument(requireArguments(args, text), text);
        return (value) => value.length <= max;
      },
    },
  ],
  [
    'regex',
    {
      whenAbsent: false,
      create(args, text) {
        // ASP.NET compiles with IgnoreCase | CultureInvariant and calls IsMatch: no implicit anchors, so
        // 'regex(\d+)' accepts 'abc123'. The pattern is used as JavaScript syntax; the common subset
        // (classes, quantifiers, anchors, groups, named groups) behaves the same.
        const pattern = requireArguments(args, text);
        let regex: RegExp;
        try {
          regex = new RegExp(pattern, 'i');
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new RouteConstraintError(`The regular expression in route constraint '${text}' is invalid: ${reason}`);
        }
        return (value) => regex.test(value);
      },
    },
  ],
]);

/** The names of the supported inline constraints (lower case). */
export const ROUTE_CONSTRAINT_NAMES: readonly string[] = Object.freeze([...DEFINITIONS.keys()]);

/**
 * Resolves one inline constraint as written between ':' separators, e.g. `int`, `min(10)`, `regex(^a$)`.
 * Names are case-insensitive. Like the ASP.NET resolver, text only has arguments when it contains '(' and
 * ends with ')'. Throws {@link RouteConstraintError} for unknown names and bad arguments.
 */
export function parseRouteConstraint(text: string): RouteConstraint {
  const open = text.indexOf('(');
  const hasArguments = open >= 0 && text.endsWith(')');
  const key = hasArguments ? text.slice(0, open) : text;
  const args = hasArguments ? text.slice(open + 1, -1) : undefined;
  const name = key.toLowerCase();
  const definition = DEFINITIONS.get(name);
  if (definition === undefined) {
    throw new RouteConstraintError(`Unknown route constraint '${key}'`);
  }
  const test = definition.create(args, text);
  const whenAbsent = definition.whenAbsent;
  return {
    text,
    name,
    test: (value) => (value === undefined ? whenAbsent : test(value)),
  };
}
