import type { JsonObject, JsonValue } from '../../domain/json.js';
import { ConnectorError, defineAction, defineConnector } from '../sdk.js';

/**
 * The built-in `core` connector: what every engine feature can be tested with before the real connectors.
 * - `noop` returns `{}`;
 * - `set` returns its inputs (data mapping: inputs are expressions over earlier outputs);
 * - `log` writes a line to the step log and returns it;
 * - `fail` fails with a chosen error kind (transient faults are retried by the step's retry policy).
 */
export const coreConnector = defineConnector({
  name: 'core',
  description: 'Built-in actions for data mapping, logging and testing failure handling.',
  actions: [
    defineAction<JsonObject, JsonObject>({
      name: 'noop',
      description: 'Does nothing and returns an empty object.',
      input: { type: 'object' },
      run: async () => ({}),
    }),
    defineAction<JsonObject, JsonObject>({
      name: 'set',
      description: 'Returns its inputs as the step output.',
      input: { type: 'object' },
      run: async (input) => input,
    }),
    defineAction<{ message: string; level?: 'information' | 'warning' | 'error' }, JsonObject>({
      name: 'log',
      description: 'Writes a message to the step log.',
      input: {
        type: 'object',
        required: ['message'],
        additionalProperties: false,
        properties: { message: { type: 'string', maxLength: 8192 }, level: { enum: ['information', 'warning', 'error'] } },
      },
      run: async (input, context) => {
        context.log(input.message, input.level ?? 'information');
        return { message: input.message, level: input.level ?? 'information' };
      },
    }),
    defineAction<{ kind?: 'transient' | 'permanent'; code?: string; message?: string }, JsonValue>({
      name: 'fail',
      description: 'Fails the step: `transient` failures are retried by the retry policy, `permanent` ones are not.',
      input: {
        type: 'object',
        additionalProperties: false,
        properties: {
          kind: { enum: ['transient', 'permanent'], default: 'permanent' },
          code: { type: 'string', pattern: '^[A-Z][A-Z0-9_.]{0,63}$' },
          message: { type: 'string', maxLength: 2000 },
        },
      },
      run: async (input) => {
        const kind = input.kind ?? 'permanent';
        throw new ConnectorError(input.code ?? `CORE.${kind.toUpperCase()}_FAILURE`, input.message ?? `core.fail raised a ${kind} failure.`, { retryable: kind === 'transient' });
      },
    }),
  ],
});
