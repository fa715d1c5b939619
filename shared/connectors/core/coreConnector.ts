import type { JsonObject, JsonValue } from '../../domain/json.js';
import { ConnectorError, defineAction, defineConnector } from '../sdk.js';

/**
 * The built-in `core` connector (docs/workflow-language.md, "The core connector"): what every engine feature can
 * be tested with before the real connectors.
 * - `noop` returns null;
 * - `set` returns its `value` (data mapping: the value is a template over earlier outputs);
 * - `log` writes `message` (and `data`) to the step log and returns null;
 * - `fail` fails with `code` and `message`; `kind: "transient"` makes it retryable by the step's retry policy.
 */
export const coreConnector = defineConnector({
  name: 'core',
  description: 'Built-in actions for data mapping, logging and testing failure handling.',
  actions: [
    defineAction<JsonObject, null>({
      name: 'noop',
      description: 'Does nothing; the output is null.',
      input: { type: 'object' },
      run: async () => null,
    }),
    defineAction<{ value: JsonValue }, JsonValue>({
      name: 'set',
      description: 'Returns `value` as the step output.',
      input: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: {} } },
      run: async (input) => input.value,
    }),
    defineAction<{ message: string; level?: 'debug' | 'info' | 'warn' | 'error'; data?: JsonValue }, null>({
      name: 'log',
      description: 'Writes a message (and optional data) to the step log; the output is null.',
      input: {
        type: 'object',
        required: ['message'],
        additionalProperties: false,
        properties: { message: { type: 'string', maxLength: 8192 }, level: { enum: ['debug', 'info', 'warn', 'error'] }, data: {} },
      },
      run: async (input, context) => {
        const level = input.level === 'error' ? 'error' : input.level === 'warn' ? 'warning' : 'information';
        context.log(input.data === undefined ? input.message : `${input.message} ${JSON.stringify(input.data)}`, level);
        return null;
      },
    }),
    defineAction<{ message: string; code?: string; kind?: 'transient' | 'permanent' }, JsonValue>({
      name: 'fail',
      description: 'Always fails with `code` and `message`; `kind: "transient"` makes the failure retryable.',
      input: {
        type: 'object',
        required: ['message'],
        additionalProperties: false,
        properties: {
          message: { type: 'string', maxLength: 2000 },
          code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*(\\.[A-Z0-9_]+)+$' },
          kind: { enum: ['transient', 'permanent'] },
        },
      },
      run: async (input) => {
        throw new ConnectorError(input.code ?? 'CORE.FAIL', input.message, { retryable: input.kind === 'transient' });
      },
    }),
  ],
});
