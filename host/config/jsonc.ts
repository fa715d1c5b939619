import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { HostConfigError } from './configError.js';

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/**
 * Parses JSON that may contain comments and trailing commas (the host accepts both in host.json and
 * local.settings.json). Any syntax error is reported with its position and the file name.
 */
export function parseJsonWithComments(text: string, fileName: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    throw new HostConfigError(
      `${fileName} is not valid JSON: ${printParseErrorCode(first.error)} at ${lineAndColumn(text, first.offset)}.`,
      fileName,
    );
  }
  return value;
}
