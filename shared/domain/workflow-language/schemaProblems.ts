/**
 * Schema validation of definitions with ajv (compiled once, at module load) and the conversion of ajv's
 * errors into readable {pointer, message, kind} problems.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidationProblem } from '../errors.js';
import { CONNECTOR_NAME_PATTERN, EVENT_NAME_PATTERN, FIELD_NAME_PATTERN, HEADER_NAME_PATTERN, SECRET_NAME_PATTERN, STEP_ID_PATTERN } from './constants.js';
import { workflowDefinitionSchema } from './definitionSchema.js';
import { WORKFLOW_ID_PATTERN } from '../workflow.js';
import { escapePointerToken, suggest } from './text.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
addFormats(ajv);
const validateAgainstSchema = ajv.compile(workflowDefinitionSchema);

const defs = workflowDefinitionSchema.$defs;
const ON_ERROR = 'must be "fail", "continue" or {"goto": "<stepId>"}';
const EXPRESSION = 'must be an expression object {"$expr": "<CEL>"}';
const SECRET = 'must be a secret reference {"$secret": "<name>"}';

/** Messages for type/enum/const errors, by the schema object that raised them. */
const MESSAGES_BY_SCHEMA = new Map<object, string>([
  [defs.onError.then, ON_ERROR],
  [defs.onError.else, ON_ERROR],
  [defs.expression, EXPRESSION],
  [defs.secretReference, SECRET],
  [defs.stringOrExpression.else, `must be a string or ${EXPRESSION.slice('must be '.length)}`],
  [defs.stringOrSecret.else, `must be a string or ${SECRET.slice('must be '.length)}`],
  [defs.durationOrExpression.else, `must be a whole number of seconds or ${EXPRESSION.slice('must be '.length)}`],
  [defs.dateTimeOrExpression.else, `must be an RFC 3339 date-time or ${EXPRESSION.slice('must be '.length)}`],
  [defs.forEachItems.else, `must be a list or ${EXPRESSION.slice('must be '.length)}`],
  [defs.workflowVersion.then, 'must be a version number (1, 2, ...) or "latest"'],
  [defs.workflowVersion.else, 'must be a version number (1, 2, ...) or "latest"'],
]);

const PATTERN_MESSAGES = new Map<string, string>([
  [STEP_ID_PATTERN, 'must be a step id: a letter, then up to 63 letters, digits or underscores'],
  [CONNECTOR_NAME_PATTERN, 'must be a name: a letter, then up to 63 letters, digits, ".", "_" or "-"'],
  [SECRET_NAME_PATTERN, 'must be a secret name: letters, digits and dashes, up to 127'],
  [FIELD_NAME_PATTERN, 'must be a name: a letter or "_", then up to 63 letters, digits or underscores'],
  [EVENT_NAME_PATTERN, 'must be an event name: letters, digits, ".", "_", ":" or "-", up to 128'],
  [HEADER_NAME_PATTERN, 'must be an HTTP header name'],
  [WORKFLOW_ID_PATTERN.source, 'must be a workflow id: lowercase letters, digits and dashes'],
  ['^https://', 'must be an https:// URL'],
  ['^https?://', 'must be an http:// or https:// URL'],
  ['^/', 'must start with "/"'],
]);

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

const FORMAT_MESSAGES: Readonly<Record<string, string>> = {
  'date-time': 'must be an RFC 3339 date-time, e.g. 2030-01-31T09:00:00Z',
  uri: 'must be an absolute URL',
};

/** Validates against the JSON Schema; returns the problems (none when valid). */
export function schemaProblems(definition: unknown): ValidationProblem[] {
  if (validateAgainstSchema(definition)) return [];
  return convertErrors(validateAgainstSchema.errors ?? []);
}

function convertErrors(errors: readonly ErrorObject[]): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const consumed = new Set<ErrorObject>();
  // oneOf: its branch errors are replaced by one problem.
  for (const error of errors) {
    if (error.keyword !== 'oneOf') continue;
    const branches = (Array.isArray(error.schema) ? error.schema : []) as { required?: string[] }[];
    for (const other of errors) if (branches.includes(other.parentSchema as { required?: string[] })) consumed.add(other);
  }
  // One type error per value: the one with the most specific message.
  const typeErrors = new Map<string, ErrorObject>();
  for (const error of errors) {
    if (error.keyword !== 'type' || consumed.has(error)) continue;
    const kept = typeErrors.get(error.instancePath);
    if (!kept || (!MESSAGES_BY_SCHEMA.has(kept.parentSchema as object) && MESSAGES_BY_SCHEMA.has(error.parentSchema as object))) typeErrors.set(error.instancePath, error);
  }
  for (const error of errors) {
    if (consumed.has(error) || error.keyword === 'if' || error.keyword === 'propertyNames') continue;
    if (error.keyword === 'type' && typeErrors.get(error.instancePath) !== error) continue;
    problems.push(convertError(error));
  }
  return problems;
}

function convertError(error: ErrorObject): ValidationProblem {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const byParent = MESSAGES_BY_SCHEMA.get(error.parentSchema as object);
  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    const rule = error.keyword === 'pattern' ? (PATTERN_MESSAGES.get(String(params['pattern'])) ?? `must match ${String(params['pattern'])}`) : (error.message ?? 'is invalid');
    return { pointer: `${at}/${escapePointerToken(name)}`, kind: 'invalidName', message: `'${name}' is not a valid name: it ${rule}` };
  }
  switch (error.keyword) {
    case 'required': {
      const name = String(params['missingProperty']);
      return { pointer: `${at}/${escapePointerToken(name)}`, kind: 'required', message: `required property '${name}' is missing` };
    }
    case 'additionalProperties': {
      const name = String(params['additionalProperty']);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { pointer: `${at}/${escapePointerToken(name)}`, kind: 'unknownProperty', message: `unknown property '${name}'${suggest(name, known)}` };
    }
    case 'type':
      return { pointer: at, kind: 'type', message: byParent ?? `must be ${TYPE_NAMES[String(params['type'])] ?? String(params['type'])}` };
    case 'enum':
      return {
        pointer: at,
        kind: 'enum',
        message: byParent ?? `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { pointer: at, kind: 'const', message: byParent ?? `must be ${JSON.stringify(params['allowedValue'])}` };
    case 'pattern':
      return { pointer: at, kind: 'pattern', message: PATTERN_MESSAGES.get(String(params['pattern'])) ?? `must match the pattern ${String(params['pattern'])}` };
    case 'format':
      return { pointer: at, kind: 'format', message: FORMAT_MESSAGES[String(params['format'])] ?? `must be a valid ${String(params['format'])}` };
    case 'minLength':
      return { pointer: at, kind: 'minLength', message: params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} characters` };
    case 'maxLength':
      return { pointer: at, kind: 'maxLength', message: `must have at most ${String(params['limit'])} characters` };
    case 'minItems':
      return { pointer: at, kind: 'minItems', message: params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} items` };
    case 'maxItems':
      return { pointer: at, kind: 'maxItems', message: `must have at most ${String(params['limit'])} items` };
    case 'minProperties':
      return { pointer: at, kind: 'minProperties', message: params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} entries` };
    case 'maxProperties':
      return { pointer: at, kind: 'maxProperties', message: `must have at most ${String(params['limit'])} entries` };
    case 'uniqueItems':
      return { pointer: at, kind: 'uniqueItems', message: `must not repeat items (items ${String(params['j'])} and ${String(params['i'])} are equal)` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { pointer: at, kind: error.keyword, message: `must be ${String(params['comparison'])} ${String(params['limit'])}` };
    case 'oneOf': {
      const names = ((Array.isArray(error.schema) ? error.schema : []) as { required?: string[] }[]).flatMap((b) => b.required ?? []);
      const list = names.map((n) => `'${n}'`).join(' or ');
      return Array.isArray(params['passingSchemas'])
        ? { pointer: at, kind: 'conflict', message: `use only one of ${list}` }
        : { pointer: at, kind: 'required', message: `one of ${list} is required` };
    }
    default:
      return { pointer: at, kind: error.keyword, message: error.message ?? 'is invalid' };
  }
}

/** A separate ajv for the tenant-written run-input schemas (to check their defaults). */
const inputsAjv = new Ajv2020({ allErrors: false, strict: false });
addFormats(inputsAjv);

/** Checks a value against one input schema node; returns a message when it does not match. */
export function inputValueProblem(schema: object, value: unknown): string | undefined {
  let validate;
  try {
    validate = inputsAjv.compile(schema);
  } catch {
    return undefined; // a malformed input schema is reported by the definition schema
  } finally {
    inputsAjv.removeSchema(schema);
  }
  if (validate(value)) return undefined;
  const error = validate.errors?.[0];
  if (!error) return 'is invalid';
  return `${error.instancePath === '' ? '' : `${error.instancePath}: `}${error.message ?? 'is invalid'}`;
}
