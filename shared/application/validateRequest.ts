import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ErrorCodes, type ValidationProblem, ValidationError } from '../domain/errors.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, useDefaults: false });
addFormats(ajv);
const compiled = new WeakMap<object, ValidateFunction>();

function toProblem(error: ErrorObject): ValidationProblem {
  if (error.keyword === 'required') {
    const property = (error.params as { missingProperty: string }).missingProperty;
    return { pointer: `${error.instancePath}/${property}`, message: `'${property}' is required.`, kind: 'required' };
  }
  if (error.keyword === 'additionalProperties') {
    const property = (error.params as { additionalProperty: string }).additionalProperty;
    return { pointer: `${error.instancePath}/${property}`, message: `'${property}' is not a known property.`, kind: 'additionalProperties' };
  }
  return { pointer: error.instancePath, message: error.message ?? 'is invalid', kind: error.keyword };
}

/** Validates a request body against its JSON Schema; every problem is reported as a JSON Pointer + message. */
export function validateRequest<T>(schema: object, value: unknown, what = 'The request body'): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (value === undefined) throw new ValidationError(ErrorCodes.requestInvalid, `${what} is required.`, [{ pointer: '', message: 'A JSON body is required.', kind: 'required' }]);
  if (!validate(value)) {
    throw new ValidationError(ErrorCodes.requestInvalid, `${what} is invalid.`, (validate.errors ?? []).map(toProblem));
  }
  return value as T;
}
