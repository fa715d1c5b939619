import { ConnectorError } from '../sdk.js';
import type { DatabaseEngine, DatabaseParameter } from './databaseInput.js';

export const DATABASE_PARAMETER_MISSING = 'DATABASE.PARAMETER_MISSING';

export interface TranslatedSql {
  /** The SQL with `@name` replaced by the engine's placeholder (`$n` for postgres, `?` for mysql, unchanged for sqlserver). */
  text: string;
  /** Positional values (postgres, mysql). */
  values: DatabaseParameter[];
  /** The parameter names the SQL uses (sqlserver binds these as named inputs). */
  names: string[];
}

const NAME = /[A-Za-z0-9_]/;

/**
 * Finds `@name` placeholders outside string literals, quoted identifiers and comments, and rewrites them for the
 * engine. Values are never put into the SQL text. A placeholder without a parameter is a permanent
 * DATABASE.PARAMETER_MISSING. `@@name` (system variables) is left alone.
 */
export function translateNamedParameters(sql: string, parameters: Readonly<Record<string, DatabaseParameter>>, engine: DatabaseEngine): TranslatedSql {
  let text = '';
  const values: DatabaseParameter[] = [];
  const names: string[] = [];
  const pgIndex = new Map<string, number>();
  let i = 0;
  const copyUntil = (end: string, from: number, backslashEscapes: boolean): number => {
    let j = from;
    while (j < sql.length) {
      if (backslashEscapes && sql[j] === '\\') {
        j += 2;
        continue;
      }
      if (sql.startsWith(end, j)) {
        // A doubled quote ('' or "") is an escaped quote inside the literal.
        if (end.length === 1 && sql[j + 1] === end) {
          j += 2;
          continue;
        }
        return j + end.length;
      }
      j++;
    }
    return sql.length;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    let end = -1;
    if (ch === "'") end = copyUntil("'", i + 1, engine === 'mysql');
    else if (ch === '"') end = copyUntil('"', i + 1, engine === 'mysql');
    else if (ch === '`' && engine === 'mysql') end = copyUntil('`', i + 1, false);
    else if (ch === '[' && engine === 'sqlserver') end = copyUntil(']', i + 1, false);
    else if (ch === '-' && sql[i + 1] === '-') end = copyUntil('\n', i + 2, false);
    else if (ch === '#' && engine === 'mysql') end = copyUntil('\n', i + 1, false);
    else if (ch === '/' && sql[i + 1] === '*') end = copyUntil('*/', i + 2, false);
    else if (ch === '$' && engine === 'postgres') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) end = copyUntil(tag[0], i + tag[0].length, false);
    }
    if (end >= 0) {
      text += sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '@' && sql[i + 1] === '@') {
      let j = i + 2;
      while (j < sql.length && NAME.test(sql[j]!)) j++;
      text += sql.slice(i, j);
      i = j;
      continue;
    }
    if (ch === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && NAME.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      if (!Object.prototype.hasOwnProperty.call(parameters, name)) {
        throw new ConnectorError(DATABASE_PARAMETER_MISSING, `The SQL uses the parameter @${name}, which is not in 'parameters'.`, { details: { parameter: name } });
      }
      const value = parameters[name]!;
      if (!names.includes(name)) names.push(name);
      if (engine === 'postgres') {
        let index = pgIndex.get(name);
        if (index === undefined) {
          values.push(value);
          index = values.length;
          pgIndex.set(name, index);
        }
        text += `$${index}`;
      } else if (engine === 'mysql') {
        values.push(value);
        text += '?';
      } else {
        text += `@${name}`;
      }
      i = j;
      continue;
    }
    text += ch;
    i++;
  }
  return { text, values, names };
}
