/**
 * A request path prepared once per request for route matching: decoded the way Kestrel decodes
 * `HttpRequest.Path`, split into segments the way ASP.NET Core's `PathTokenizer` splits it, with
 * case-folded segments computed on demand for case-insensitive literal comparison.
 *
 * Every route in a table is matched against the same instance, so this work is not repeated per route.
 */
export class RequestPath {
  /** The decoded path, always starting with '/'. Catch-all values are cut from this string. */
  readonly path: string;
  /** The decoded segments. An empty string marks an empty segment ('//'), which no route matches. */
  readonly segments: readonly string[];
  /** Where each segment starts in {@link path}. */
  readonly starts: readonly number[];
  private readonly foldedCache: Array<string | undefined>;

  private constructor(path: string) {
    this.path = path;
    const segments: string[] = [];
    const starts: number[] = [];
    // Same rules as PathTokenizer: skip the leading '/', and a single trailing '/' does not make a segment.
    let index = 1;
    while (index < path.length) {
      const slash = path.indexOf('/', index);
      if (slash === -1) {
        segments.push(path.slice(index));
        starts.push(index);
        break;
      }
      segments.push(path.slice(index, slash));
      starts.push(index);
      index = slash + 1;
    }
    this.segments = segments;
    this.starts = starts;
    this.foldedCache = new Array<string | undefined>(segments.length);
  }

  /**
   * Prepares a raw, percent-encoded URL path. The leading '/' is optional; a query string is ignored.
   * Percent-escapes are decoded as UTF-8 except `%2F`, which Kestrel leaves encoded so that an encoded
   * slash never splits a segment; invalid UTF-8 escapes are kept as they are, as Kestrel does.
   */
  static parse(rawPath: string): RequestPath {
    // A '?' cannot appear unencoded in a path, so one here starts a query string the caller left on.
    const query = rawPath.indexOf('?');
    const decoded = decodePathPreservingSlashes(query === -1 ? rawPath : rawPath.slice(0, query));
    return new RequestPath(decoded.startsWith('/') ? decoded : `/${decoded}`);
  }

  /** Prepares a path that is already decoded (for example one built from template literals). */
  static fromDecoded(path: string): RequestPath {
    return new RequestPath(path.startsWith('/') ? path : `/${path}`);
  }

  /** The number of segments. */
  get count(): number {
    return this.segments.length;
  }

  /** The segment at `index`, case-folded with {@link foldCase}; same length as the segment. */
  folded(index: number): string {
    let value = this.foldedCache[index];
    if (value === undefined) {
      value = foldCase(this.segments[index] ?? '');
      this.foldedCache[index] = value;
    }
    return value;
  }
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * Case-folds text for .NET `OrdinalIgnoreCase`-style comparison: each code point is upper-cased on its own,
 * and a mapping that would change the string's length (for example 'ß' → 'SS') is not applied. Keeping the
 * length lets complex-segment matching use indexes from the folded text to cut values from the original.
 */
export function foldCase(text: string): string {
  if (ASCII_ONLY.test(text)) {
    return text.toUpperCase();
  }
  let folded = '';
  for (const ch of text) {
    const upper = ch.toUpperCase();
    folded += upper.length === ch.length ? upper : ch;
  }
  return folded;
}

const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const ENCODED_SLASH = /(%2[Ff])/;

/** Decodes percent-escapes as UTF-8, leaving `%2F`/`%2f` and invalid UTF-8 escapes untouched. */
export function decodePathPreservingSlashes(rawPath: string): string {
  if (!rawPath.includes('%')) {
    return rawPath;
  }
  return rawPath.replace(ESCAPE_RUN, (run) => {
    if (!ENCODED_SLASH.test(run)) {
      return decodeEscapeRun(run);
    }
    // split() with a capture group keeps the separators at odd indexes.
    return run
      .split(ENCODED_SLASH)
      .map((piece, i) => (i % 2 === 1 ? piece : decodeEscapeRun(piece)))
      .join('');
  });
}

/** Decodes a run of `%XX` escapes; bytes that do not form valid UTF-8 stay as their escapes. */
function decodeEscapeRun(run: string): string {
  if (run === '') {
    return run;
  }
  try {
    return decodeURIComponent(run);
  } catch {
    return decodeLeniently(run);
  }
}

function decodeLeniently(run: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < run.length; i += 3) {
    bytes.push(parseInt(run.slice(i + 1, i + 3), 16));
  }
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      out += run.slice(i * 3, i * 3 + 3);
      i += 1;
    } else {
      out += decodeURIComponent(run.slice(i * 3, (i + length) * 3));
      i += length;
    }
  }
  return out;
}

/** The length of the valid UTF-8 sequence starting at `start`, or 0 when it is not valid. */
function utf8SequenceLength(bytes: readonly number[], start: number): number {
  const lead = bytes[start] ?? 0;
  let length: number;
  let min: number;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (start + length > bytes.length) {
    return 0;
  }
  let codePoint = lead & (0xff >> (length + 1));
  for (let k = 1; k < length; k++) {
    const next = bytes[start + k] ?? 0;
    if ((next & 0xc0) !== 0x80) {
      return 0;
    }
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
    return 0;
  }
  return length;
}
