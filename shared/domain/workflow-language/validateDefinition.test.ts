import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, ValidationError, type ValidationProblem } from '../errors.js';
import {
  definitionProblems,
  definitionSchema,
  EXAMPLE_FILES,
  EXAMPLES,
  LIMITS,
  validateDefinition,
  WORKFLOW_DEFINITION_SCHEMA_ID,
  workflowDefinitionSchema,
  type ValidationContext,
} from './index.js';

const context: ValidationContext = {
  connectors: new Map([
    ['http', { actions: new Set(['request']) }],
    ['email', { actions: new Set(['send']) }],
  ]),
  secretNames: new Set(['crm-token', 'smtp-password']),
  workflowExists: (id) => ['invoice-customers', 'notify-finance'].includes(id),
};

type Json = Record<string, unknown>;
const definition = (steps: unknown[], extra: Json = {}): Json => ({ schemaVersion: 1, name: 'test', steps, ...extra });
const noop = (id: string, extra: Json = {}): Json => ({ id, type: 'action', connector: 'core', action: 'noop', ...extra });
const set = (id: string, value: unknown, extra: Json = {}): Json => ({ id, type: 'action', connector: 'core', action: 'set', inputs: { value }, ...extra });
const expr = (source: string) => ({ $expr: source });

/** The problems as [pointer, kind], sorted. */
function found(def: unknown, ctx: ValidationContext = context): [string, string][] {
  return definitionProblems(def, ctx)
    .map((p): [string, string] => [p.pointer, p.kind ?? ''])
    .sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
}
const sorted = (list: [string, string][]) => [...list].sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
function problemAt(def: unknown, pointer: string, ctx: ValidationContext = context): ValidationProblem {
  const problem = definitionProblems(def, ctx).find((p) => p.pointer === pointer);
  if (!problem) throw new Error(`no problem at ${pointer}: ${JSON.stringify(definitionProblems(def, ctx))}`);
  return problem;
}

const restConnectorDefinition = definition(
  [
    {
      id: 'findCustomer',
      type: 'action',
      connector: 'crm',
      action: 'getCustomer',
      inputs: { path: { customerId: expr('inputs.customerId') }, query: { expand: 'orders' } },
      retry: { maxRetries: 2 },
      fallbacks: [{ connector: 'crmBackup' }],
    },
    {
      id: 'notify',
      type: 'action',
      dependsOn: ['findCustomer'],
      connector: 'http',
      action: 'request',
      inputs: { url: 'https://hooks.example.com/x', headers: { 'X-Key': { $secret: 'smtp-password' } }, body: { name: expr('steps.findCustomer.output.body.name') } },
    },
  ],
  {
    inputs: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string' } } },
    connectors: {
      crm: {
        type: 'rest',
        baseUrl: 'https://crm.example.com/api/v2',
        auth: { type: 'bearer', token: { $secret: 'crm-token' } },
        headers: { Accept: 'application/json' },
        operations: {
          getCustomer: { method: 'GET', path: '/customers/{customerId}' },
          createNote: { method: 'POST', path: '/customers/{customerId}/notes', description: 'Adds a note.' },
        },
      },
      crmBackup: {
        type: 'rest',
        baseUrl: 'https://backup.crm.example.com',
        auth: { type: 'apiKey', in: 'header', name: 'X-Api-Key', value: { $secret: 'crm-token' } },
        operations: { getCustomer: { method: 'GET', path: '/customers/{customerId}' } },
      },
    },
  },
);

describe('examples', () => {
  it('has at least six examples, each identical to its file in docs/examples/', () => {
    expect(Object.keys(EXAMPLES).length).toBeGreaterThanOrEqual(6);
    for (const [name, file] of Object.entries(EXAMPLE_FILES)) {
      const text = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'examples', file), 'utf8');
      expect(EXAMPLES[name as keyof typeof EXAMPLES], file).toEqual(JSON.parse(text));
    }
  });

  it('the declared REST connector example of docs/connectors.md is valid', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'connectors.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Declared REST connectors'));
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const example = JSON.parse(json!) as Record<string, unknown>;
    expect(Object.keys(example['connectors'] as object)).toEqual(['crm']);
    expect(definitionProblems(example, context)).toEqual([]);
  });

  it.each(Object.entries(EXAMPLES))('%s is valid', (_name, example) => {
    expect(definitionProblems(example, context)).toEqual([]);
    expect(validateDefinition(example, context)).toBe(example);
  });

  it('use only the core connector, so they validate with no platform connectors, secrets or workflow check', () => {
    const bare: ValidationContext = { connectors: new Map(), secretNames: new Set() };
    for (const example of Object.values(EXAMPLES)) expect(definitionProblems(example, bare)).toEqual([]);
  });

  it('cover every step kind', () => {
    const kinds = new Set<string>();
    const visit = (steps: unknown): void => {
      for (const step of steps as Json[]) {
        kinds.add(step['type'] as string);
        if (step['steps']) visit(step['steps']);
      }
    };
    for (const example of Object.values(EXAMPLES)) visit(example['steps']);
    expect([...kinds].sort()).toEqual(['action', 'approval', 'delay', 'forEach', 'subWorkflow', 'waitForEvent']);
  });

  it('a definition with declared REST connectors and secrets is valid', () => {
    expect(definitionProblems(restConnectorDefinition, context)).toEqual([]);
  });
});

describe('the schema', () => {
  it('is JSON Schema 2020-12 with an $id, exported under both names', () => {
    expect(workflowDefinitionSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(workflowDefinitionSchema.$id).toBe(WORKFLOW_DEFINITION_SCHEMA_ID);
    expect(definitionSchema).toBe(workflowDefinitionSchema);
  });

  it('describes every property and every definition', () => {
    const missing: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Json;
      for (const [name, property] of Object.entries((schema['properties'] ?? {}) as Json)) {
        if (typeof property !== 'object') continue; // `true` in oneOf branches
        if (!(property as Json)['description']) missing.push(`${at}/properties/${name}`);
        visit(property, `${at}/properties/${name}`);
      }
      for (const key of ['items', 'additionalProperties', 'propertyNames', 'then', 'else']) visit(schema[key], `${at}/${key}`);
      for (const key of ['allOf', 'oneOf']) ((schema[key] ?? []) as unknown[]).forEach((s, i) => visit(s, `${at}/${key}/${i}`));
      for (const [name, def] of Object.entries((schema['$defs'] ?? {}) as Json)) {
        if (!(def as Json)['description']) missing.push(`${at}/$defs/${name}`);
        visit(def, `${at}/$defs/${name}`);
      }
    };
    visit(workflowDefinitionSchema, '#');
    expect(missing).toEqual([]);
  });
});

describe('validateDefinition', () => {
  it('throws one ValidationError (WORKFLOW.INVALID) listing every problem', () => {
    const bad = definition([noop('a', { dependsOn: ['b'] }), noop('b', { dependsOn: ['a'] })], { name: '' });
    let error: unknown;
    try {
      validateDefinition(bad, context);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.code).toBe(ErrorCodes.workflowInvalid);
    expect(validation.problems).toEqual([
      { pointer: '/name', kind: 'minLength', message: 'must not be empty' },
      { pointer: '/steps/0/dependsOn/0', kind: 'cycle', message: "steps form a cycle: a → b → a ('b' depends on 'a', 'a' depends on 'b')" },
    ]);
    expect(validation.details).toEqual({ problems: validation.problems });
    expect(validation.message).toBe('The workflow definition is invalid: 2 problems (first: /name: must not be empty).');
  });

  it('rejects what is not an object', () => {
    expect(found('steps')).toEqual([['', 'type']]);
    expect(found(null)).toEqual([['', 'type']]);
  });

  it('reports schema errors in several places at once, with readable messages', () => {
    const bad = {
      schemaVersion: 2,
      steps: [
        { id: 'fetch', type: 'action', connector: 'http', retrys: 3 },
        { id: 'loop', type: 'forEach', items: 'inputs.list', concurrency: 0, action: { connector: 'core', action: 'noop' } },
        { id: 'wait', type: 'delay', durationSeconds: 10, until: '2030-01-01T00:00:00Z', onError: 'ignore' },
        { id: '9lives', type: 'teleport' },
      ],
      outputs: { 'total amount': expr('1') },
      connectors: { crm: { type: 'rest', baseUrl: 'ftp://crm.example.com', operations: { get: { method: 'FETCH', path: 'customers' } } } },
    };
    expect(found(bad)).toEqual(
      sorted([
        ['/schemaVersion', 'const'],
        ['/name', 'required'],
        ['/steps/0/action', 'required'],
        ['/steps/0/retrys', 'unknownProperty'],
        ['/steps/1/items', 'type'],
        ['/steps/1/concurrency', 'minimum'],
        ['/steps/2', 'conflict'],
        ['/steps/2/onError', 'enum'],
        ['/steps/3/id', 'pattern'],
        ['/steps/3/type', 'enum'],
        ['/outputs/total amount', 'invalidName'],
        ['/connectors/crm/baseUrl', 'pattern'],
        ['/connectors/crm/operations/get/method', 'enum'],
        ['/connectors/crm/operations/get/path', 'pattern'],
      ]),
    );
    expect(problemAt(bad, '/steps/0/retrys').message).toBe("unknown property 'retrys' (did you mean 'retry'?)");
    expect(problemAt(bad, '/steps/1/items').message).toBe('must be a list or an expression object {"$expr": "<CEL>"}');
    expect(problemAt(bad, '/steps/2').message).toBe("use only one of 'durationSeconds' or 'until'");
    expect(problemAt(bad, '/steps/2/onError').message).toBe('must be "fail", "continue" or {"goto": "<stepId>"}');
    expect(problemAt(bad, '/steps/3/id').message).toBe('must be a step id: a letter, then up to 63 letters, digits or underscores');
    expect(problemAt(bad, '/connectors/crm/baseUrl').message).toBe('must be an http:// or https:// URL');
    expect(problemAt(bad, '/name').message).toBe("required property 'name' is missing");
  });

  it('explains alternatives, formats and repeated items', () => {
    const bad = definition(
      [
        noop('a'),
        noop('b', { dependsOn: ['a', 'a'] }),
        { id: 'c', type: 'delay', until: 'tomorrow' },
        { id: 'd', type: 'delay', durationSeconds: 'PT5M' },
        { id: 'e', type: 'subWorkflow', workflowId: 'invoice-customers', version: 'v2' },
        { id: 'f', type: 'waitForEvent', event: 'payment received', correlationKey: 42 },
        { id: 'g', type: 'approval', approvers: { roles: ['Platform.Admin'] }, minApprovals: 0 },
        noop('h', { condition: 'inputs.x > 1' }),
      ],
      { connectors: { crm: { type: 'rest', baseUrl: 'https://crm.example.com', auth: { type: 'basic', username: 7, password: 'plain' }, operations: { get: { method: 'GET', path: '/' } } } } },
    );
    const messages = Object.fromEntries(definitionProblems(bad, context).map((p) => [p.pointer, `${p.kind}: ${p.message}`]));
    expect(messages).toEqual({
      '/steps/1/dependsOn': 'uniqueItems: must not repeat items (items 0 and 1 are equal)',
      '/steps/2/until': 'format: must be an RFC 3339 date-time, e.g. 2030-01-31T09:00:00Z',
      '/steps/3/durationSeconds': 'type: must be a whole number of seconds or an expression object {"$expr": "<CEL>"}',
      '/steps/4/version': 'const: must be a version number (1, 2, ...) or "latest"',
      '/steps/5/event': 'pattern: must be an event name: letters, digits, ".", "_", ":" or "-", up to 128',
      '/steps/5/correlationKey': 'type: must be a string or an expression object {"$expr": "<CEL>"}',
      '/steps/6/approvers/roles/0': 'enum: must be one of "Tenant.Admin", "Tenant.User"',
      '/steps/6/minApprovals': 'minimum: must be >= 1',
      '/steps/7/condition': 'type: must be an expression object {"$expr": "<CEL>"}',
      '/connectors/crm/auth/username': 'type: must be a string or a secret reference {"$secret": "<name>"}',
      '/connectors/crm/auth/password': 'type: must be a secret reference {"$secret": "<name>"}',
    });
  });

  it('reports a missing step body and a delay without duration', () => {
    expect(found(definition([{ id: 'loop', type: 'forEach', items: [1, 2] }, { id: 'wait', type: 'delay' }]))).toEqual([
      ['/steps/0', 'required'],
      ['/steps/1', 'required'],
    ]);
    expect(problemAt(definition([{ id: 'wait', type: 'delay' }]), '/steps/0').message).toBe("one of 'durationSeconds' or 'until' is required");
  });

  it('reports duplicate step ids, in bodies too', () => {
    const bad = definition([noop('a'), noop('b'), noop('a'), { id: 'loop', type: 'forEach', items: [1], steps: [noop('b')] }]);
    expect(found(bad)).toEqual([
      ['/steps/2/id', 'duplicateId'],
      ['/steps/3/steps/0/id', 'duplicateId'],
    ]);
    expect(problemAt(bad, '/steps/2/id').message).toBe("step id 'a' is already used by /steps/0");
  });

  it('reports a 3-step cycle with its path, at the dependsOn entry that closes it', () => {
    const bad = definition([noop('start'), noop('a', { dependsOn: ['start', 'c'] }), noop('b', { dependsOn: ['a'] }), noop('c', { dependsOn: ['b'] }), noop('after', { dependsOn: ['c'] })]);
    expect(found(bad)).toEqual([['/steps/1/dependsOn/1', 'cycle']]);
    expect(problemAt(bad, '/steps/1/dependsOn/1').message).toBe("steps form a cycle: a → b → c → a ('b' depends on 'a', 'c' depends on 'b', 'a' depends on 'c')");
  });

  it('reports self-dependencies and cycles through an onError handler', () => {
    const bad = definition([
      noop('self', { dependsOn: ['self'] }),
      noop('work', { dependsOn: ['fix'], onError: { goto: 'fix' } }),
      noop('fix'),
    ]);
    expect(found(bad)).toEqual([
      ['/steps/0/dependsOn/0', 'cycle'],
      ['/steps/1/dependsOn/0', 'cycle'],
    ]);
    expect(problemAt(bad, '/steps/0/dependsOn/0').message).toBe("step 'self' depends on itself");
    expect(problemAt(bad, '/steps/1/dependsOn/0').message).toBe("steps form a cycle: work → fix → work ('fix' handles the errors of 'work', 'work' depends on 'fix')");
  });

  it('reports dangling dependsOn and goto references, with suggestions and scope hints', () => {
    const bad = definition([
      noop('fetch'),
      noop('store', { dependsOn: ['fecth'], onError: { goto: 'recover' } }),
      { id: 'loop', type: 'forEach', items: [1], steps: [noop('inner', { dependsOn: ['fetch'] })] },
      noop('after', { dependsOn: ['inner'] }),
    ]);
    expect(found(bad)).toEqual([
      ['/steps/1/dependsOn/0', 'unknownStep'],
      ['/steps/1/onError/goto', 'unknownStep'],
      ['/steps/2/steps/0/dependsOn/0', 'unknownStep'],
      ['/steps/3/dependsOn/0', 'unknownStep'],
    ]);
    expect(problemAt(bad, '/steps/1/dependsOn/0').message).toBe("no step has id 'fecth' (did you mean 'fetch'?)");
    expect(problemAt(bad, '/steps/1/onError/goto').message).toBe("no step has id 'recover'");
    expect(problemAt(bad, '/steps/2/steps/0/dependsOn/0').message).toBe(
      "step 'fetch' is not in the body of forEach 'loop' (it is a top-level step); dependsOn can only name steps of the same steps list",
    );
    expect(problemAt(bad, '/steps/3/dependsOn/0').message).toBe(
      "step 'inner' is not in the top-level steps (it is in the body of forEach 'loop'); dependsOn can only name steps of the same steps list",
    );
  });

  it('rejects dependsOn on a handler step', () => {
    const bad = definition([noop('work', { onError: { goto: 'fix' } }), noop('other'), noop('fix', { dependsOn: ['other'] })]);
    expect(found(bad)).toEqual([['/steps/2/dependsOn', 'invalidHandler']]);
  });

  it('reports unreachable steps: after an always-failing step, after an unreachable step, handlers of unreachable steps', () => {
    const bad = definition([
      { id: 'stop', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'no' } },
      noop('afterStop', { dependsOn: ['stop'], onError: { goto: 'handler' } }),
      noop('handler'),
      noop('later', { dependsOn: ['afterStop'] }),
      noop('either', { dependsOn: ['stop', 'afterStop'], join: 'any' }),
    ]);
    expect(found(bad)).toEqual([
      ['/steps/1', 'unreachable'],
      ['/steps/2', 'unreachable'],
      ['/steps/3', 'unreachable'],
      ['/steps/4', 'unreachable'],
    ]);
    expect(problemAt(bad, '/steps/1').message).toBe(
      "step 'afterStop' can never run: it depends on 'stop', which always fails (core.fail without fallbacks and without onError \"continue\")",
    );
    expect(problemAt(bad, '/steps/2').message).toBe("step 'handler' can never run: it is a handler and none of the steps that go to it ('afterStop') can run");
    expect(problemAt(bad, '/steps/3').message).toBe("step 'later' can never run: it depends on 'afterStop', which can never run");
  });

  it('accepts handlers reachable only through onError, join any, and core.fail with onError continue', () => {
    const ok = definition([
      noop('work', { onError: { goto: 'fix' } }),
      noop('fix'),
      noop('afterFix', { dependsOn: ['fix'] }),
      { id: 'soft', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'soft' }, onError: 'continue' },
      noop('afterSoft', { dependsOn: ['soft'] }),
      { id: 'hard', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'hard' }, onError: { goto: 'fix' } },
      noop('merge', { dependsOn: ['hard', 'work'], join: 'any' }),
    ]);
    expect(found(ok)).toEqual([]);
  });

  it('reports unknown connectors and actions (declared REST connectors count)', () => {
    const bad = definition(
      [
        { id: 'a', type: 'action', connector: 'htp', action: 'request' },
        { id: 'b', type: 'action', connector: 'http', action: 'reqest' },
        { id: 'c', type: 'action', connector: 'core', action: 'sleep' },
        { id: 'd', type: 'action', connector: 'crm', action: 'deleteCustomer' },
        { id: 'e', type: 'action', connector: 'crm', action: 'listCustomers', fallbacks: [{ connector: 'email' }, { action: 'nope' }] },
        { id: 'f', type: 'forEach', items: [1], action: { connector: 'sms', action: 'send' } },
      ],
      { connectors: { crm: { type: 'rest', baseUrl: 'https://crm.example.com', operations: { listCustomers: { method: 'GET', path: '/customers' } } } } },
    );
    expect(found(bad)).toEqual([
      ['/steps/0/connector', 'unknownConnector'],
      ['/steps/1/action', 'unknownAction'],
      ['/steps/2/action', 'unknownAction'],
      ['/steps/3/action', 'unknownAction'],
      ['/steps/4/fallbacks/0/connector', 'unknownAction'],
      ['/steps/4/fallbacks/1/action', 'unknownAction'],
      ['/steps/5/action/connector', 'unknownConnector'],
    ]);
    expect(problemAt(bad, '/steps/0/connector').message).toBe("no connector has id 'htp' (did you mean 'http'?)");
    expect(problemAt(bad, '/steps/1/action').message).toBe("connector 'http' has no action 'reqest' (did you mean 'request'?); its actions: request");
    expect(problemAt(bad, '/steps/2/action').message).toBe("connector 'core' has no action 'sleep'; its actions: fail, log, noop, set");
    expect(problemAt(bad, '/steps/4/fallbacks/0/connector').message).toBe("connector 'email' has no action 'listCustomers' (the step's action); its actions: send");
  });

  it('accepts binary bodies on declared operations, with a positive maxResponseBytes', () => {
    const withOperations = (operations: Json): Json => definition([noop('a')], { connectors: { files: { type: 'rest', baseUrl: 'https://files.example.com', operations } } });
    const good = withOperations({
      get: { method: 'GET', path: '/report', responseType: 'binary', maxResponseBytes: 1048576 },
      put: { method: 'PUT', path: '/upload', bodyType: 'binary', responseType: 'auto' },
    });
    expect(found(good)).toEqual([]);
    const bad = withOperations({ get: { method: 'GET', path: '/report', responseType: 'blob', maxResponseBytes: 0 } });
    expect(found(bad).map(([pointer]) => pointer)).toEqual(expect.arrayContaining(['/connectors/files/operations/get/maxResponseBytes', '/connectors/files/operations/get/responseType']));
  });

  it('rejects a declared connector that shadows a platform connector', () => {
    const bad = definition([noop('a')], { connectors: { http: { type: 'rest', baseUrl: 'https://x.example.com', operations: { get: { method: 'GET', path: '/' } } } } });
    expect(found(bad)).toEqual([['/connectors/http', 'connectorConflict']]);
  });

  it('reports secret references that do not exist, and secrets where they could leak', () => {
    const bad = definition(
      [
        { id: 'call', type: 'action', connector: 'http', action: 'request', inputs: { headers: { Authorization: { $secret: 'crm-tokn' } } } },
        set('leak', { $secret: 'crm-token' }),
        { id: 'child', type: 'subWorkflow', workflowId: 'notify-finance', version: 1, inputs: { key: { $secret: 'crm-token' } } },
      ],
      {
        outputs: { token: { $secret: 'crm-token' } },
        connectors: {
          crm: { type: 'rest', baseUrl: 'https://crm.example.com', auth: { type: 'bearer', token: { $secret: 'missing-token' } }, operations: { get: { method: 'GET', path: '/' } } },
        },
      },
    );
    expect(found(bad)).toEqual([
      ['/connectors/crm/auth/token/$secret', 'unknownSecret'],
      ['/outputs/token/$secret', 'secretNotAllowed'],
      ['/steps/0/inputs/headers/Authorization/$secret', 'unknownSecret'],
      ['/steps/1/inputs/value/$secret', 'secretNotAllowed'],
      ['/steps/2/inputs/key/$secret', 'secretNotAllowed'],
    ]);
    expect(problemAt(bad, '/steps/0/inputs/headers/Authorization/$secret').message).toBe("the tenant has no secret named 'crm-tokn' (did you mean 'crm-token'?)");
    expect(problemAt(bad, '/steps/1/inputs/value/$secret').message).toBe(
      'a secret cannot be used here: core actions keep their inputs in the run history; pass secrets only to connector actions',
    );
  });

  it('reports malformed $expr/$secret objects, and leaves $literal data alone', () => {
    const bad = definition([
      set('a', { $expr: 'inputs.x', note: 'oops' }),
      set('b', { $expr: 42 }),
      { id: 'c', type: 'action', connector: 'http', action: 'request', inputs: { key: { $secret: 'has spaces' } } },
      set('d', { $literal: { $expr: 'not evaluated ((', $secret: 'not a reference' } }),
    ]);
    expect(found(bad)).toEqual([
      ['/steps/0/inputs/value', 'malformedReference'],
      ['/steps/1/inputs/value/$expr', 'malformedReference'],
      ['/steps/2/inputs/key/$secret', 'malformedReference'],
    ]);
  });

  it('reports item and index used outside a forEach body', () => {
    const bad = definition(
      [
        set('top', expr('item.id')),
        { id: 'loop', type: 'forEach', items: expr('inputs.list.map(x, x * index)'), action: { connector: 'core', action: 'set', inputs: { value: expr('item') } }, output: expr('item') },
        { id: 'loop2', type: 'forEach', items: [1, 2], steps: [set('inner', expr('item + index'))], condition: expr('item > 0') },
      ],
      { outputs: { last: expr('item') } },
    );
    expect(found(bad)).toEqual([
      ['/outputs/last/$expr', 'itemOutsideForEach'],
      ['/steps/0/inputs/value/$expr', 'itemOutsideForEach'],
      ['/steps/1/items/$expr', 'itemOutsideForEach'],
      ['/steps/2/condition/$expr', 'itemOutsideForEach'],
    ]);
    expect(problemAt(bad, '/steps/0/inputs/value/$expr').message).toBe(
      "'item' is only available inside a forEach body (its steps, its action and its output) (column 1)",
    );
  });

  it('reports expressions that read steps which are not upstream', () => {
    const bad = definition(
      [
        set('start', 1),
        set('left', expr('steps.start.output + steps.right.output'), { dependsOn: ['start'] }),
        set('right', 2, { dependsOn: ['start'] }),
        {
          id: 'each',
          type: 'forEach',
          dependsOn: ['left'],
          items: expr('[steps.left.output]'),
          steps: [set('first', expr('item + steps.start.output')), set('second', expr('steps.each.output'), { dependsOn: ['first'] })],
          output: expr('steps.second.output'),
        },
        set('after', expr('steps.first.output'), { dependsOn: ['each'] }),
        set('self', expr('steps.self.output')),
        set('ghost', expr('steps.gohst.output')),
      ],
      { outputs: { fine: expr('steps.each.output'), inner: expr('steps.first.output') } },
    );
    expect(found(bad)).toEqual([
      ['/outputs/inner/$expr', 'notUpstream'],
      ['/steps/1/inputs/value/$expr', 'notUpstream'],
      ['/steps/3/steps/1/inputs/value/$expr', 'notUpstream'],
      ['/steps/4/inputs/value/$expr', 'notUpstream'],
      ['/steps/5/inputs/value/$expr', 'notUpstream'],
      ['/steps/6/inputs/value/$expr', 'unknownStep'],
    ]);
    expect(problemAt(bad, '/steps/1/inputs/value/$expr').message).toBe(
      "step 'right' is not upstream of 'left': it may not have finished when 'left' runs; add it to dependsOn (directly or through another step) (column 22)",
    );
    expect(problemAt(bad, '/steps/3/steps/1/inputs/value/$expr').message).toBe(
      "step 'each' is the forEach around this step; its output exists only when the whole loop has finished (column 1)",
    );
    expect(problemAt(bad, '/steps/4/inputs/value/$expr').message).toBe(
      "step 'first' is inside the body of forEach 'each'; read the loop's results through steps.each.output (column 1)",
    );
    expect(problemAt(bad, '/steps/5/inputs/value/$expr').message).toBe("step 'self' cannot read its own result (column 1)");
  });

  it('lets a handler read error and the step that failed into it', () => {
    const ok = definition([
      set('work', 1, { onError: { goto: 'fix' } }),
      { id: 'fix', type: 'action', connector: 'core', action: 'log', inputs: { message: expr('error.stepId + ": " + error.message'), data: expr('steps.work.error') } },
    ]);
    expect(found(ok)).toEqual([]);
    const bad = definition([set('work', expr('error.code'))]);
    expect(found(bad)).toEqual([['/steps/0/inputs/value/$expr', 'errorOutsideHandler']]);
  });

  it('reports expression syntax errors, unknown variables, malformed references and undeclared inputs', () => {
    const bad = definition(
      [
        noop('a', { condition: expr('inputs.amount >') }),
        set('b', expr('amount > 1')),
        set('c', expr('steps.a.result')),
        set('d', expr('inputs.amont + inputs.count')),
      ],
      { inputs: { type: 'object', properties: { amount: { type: 'number' }, count: { type: 'integer', default: 1 } } } },
    );
    expect(found(bad)).toEqual([
      ['/steps/0/condition/$expr', 'expressionSyntax'],
      ['/steps/1/inputs/value/$expr', 'unknownVariable'],
      ['/steps/2/inputs/value/$expr', 'invalidReference'],
      ['/steps/3/inputs/value/$expr', 'unknownInput'],
    ]);
    expect(problemAt(bad, '/steps/0/condition/$expr').message).toBe('syntax error: unexpected end of expression (column 16)');
    expect(problemAt(bad, '/steps/3/inputs/value/$expr').message).toBe("the workflow inputs declare no 'amont' (did you mean 'amount'?) (declared: amount, count) (column 1)");
  });

  it('reports sub-workflows that do not exist, only when it can check', () => {
    const def = definition([{ id: 'child', type: 'subWorkflow', workflowId: 'invoice-customer', version: 'latest' }]);
    expect(found(def)).toEqual([['/steps/0/workflowId', 'unknownWorkflow']]);
    expect(found(def, { connectors: new Map(), secretNames: new Set() })).toEqual([]);
  });

  it('checks the inputs of core actions and declared REST operations', () => {
    const bad = definition(
      [
        { id: 'a', type: 'action', connector: 'core', action: 'set' },
        noop('b', { inputs: { x: 1 } }),
        { id: 'c', type: 'action', connector: 'core', action: 'fail', inputs: { message: 'm', reason: 'r' } },
        { id: 'd', type: 'action', connector: 'crm', action: 'get' },
        { id: 'e', type: 'action', connector: 'crm', action: 'get', inputs: { path: { id: 1 }, params: {} } },
        { id: 'f', type: 'action', connector: 'crm', action: 'get', inputs: expr('{"path": {"customerId": "1", "noteId": "2"}}') },
      ],
      { connectors: { crm: { type: 'rest', baseUrl: 'https://crm.example.com', operations: { get: { method: 'GET', path: '/customers/{customerId}/notes/{noteId}' } } } } },
    );
    expect(found(bad)).toEqual([
      ['/steps/0/inputs/value', 'invalidInput'],
      ['/steps/1/inputs/x', 'invalidInput'],
      ['/steps/2/inputs/reason', 'invalidInput'],
      ['/steps/3/inputs/path', 'invalidInput'],
      ['/steps/4/inputs/params', 'invalidInput'],
      ['/steps/4/inputs/path/customerId', 'invalidInput'],
      ['/steps/4/inputs/path/id', 'invalidInput'],
      ['/steps/4/inputs/path/noteId', 'invalidInput'],
    ]);
    expect(problemAt(bad, '/steps/1/inputs/x').message).toBe('core.noop takes no inputs');
    expect(problemAt(bad, '/steps/3/inputs/path').message).toBe("operation 'get' (/customers/{customerId}/notes/{noteId}) needs path parameters: customerId, noteId");
  });

  it('reports unsafe declared paths and base URLs, input schemas that do not compile and literal inputs that break an operation schema, all at once', () => {
    const operations = {
      up: { method: 'GET', path: '/customers/../admin' },
      encodedUp: { method: 'GET', path: '/customers/%2E%2e/admin' },
      dot: { method: 'GET', path: '/./x' },
      protocolRelative: { method: 'GET', path: '//evil.example/x' },
      withQuery: { method: 'GET', path: '/customers?admin=1' },
      backslash: { method: 'GET', path: '/a\\..\\b' },
      badPlaceholder: { method: 'GET', path: '/customers/{customer-id}' },
      typo: { method: 'POST', path: '/notes', input: { type: 'object', requried: ['body'] } },
      badType: { method: 'POST', path: '/notes', input: { type: 'strng' } },
      remoteRef: { method: 'POST', path: '/notes', input: { $ref: 'https://schemas.example/note.json' } },
      backReference: { method: 'POST', path: '/notes', input: { properties: { body: { type: 'string', pattern: '(a)\\1' } } } },
      note: {
        method: 'POST',
        path: '/customers/{id}/notes',
        input: { type: 'object', required: ['body'], properties: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 5 } } } } },
      },
    };
    const bad = definition(
      [
        { id: 'a', type: 'action', connector: 'crm', action: 'note', inputs: { path: { id: '..' }, body: { text: 'far too long' } } },
        { id: 'b', type: 'action', connector: 'crm', action: 'note', inputs: { path: { id: '%2e%2E' } } },
        { id: 'c', type: 'action', connector: 'crm', action: 'note', inputs: { path: { id: expr('"x"') }, body: { text: 'far too long' } } },
        { id: 'd', type: 'action', connector: 'crm', action: 'note', inputs: { path: { id: 'a/b' }, body: { text: 'ok' } } },
      ],
      {
        connectors: {
          crm: { type: 'rest', baseUrl: 'https://crm.example.com/api?key=1', operations },
          other: { type: 'rest', baseUrl: 'https://user:pw@crm.example.com', fallbackBaseUrls: ['https://ok.example.com', 'https://x.example.com/#frag'], operations: { get: { method: 'GET', path: '/' } } },
        },
      },
    );
    expect(found(bad)).toEqual(
      sorted([
        ['/connectors/crm/baseUrl', 'invalidBaseUrl'],
        ['/connectors/other/baseUrl', 'invalidBaseUrl'],
        ['/connectors/other/fallbackBaseUrls/1', 'invalidBaseUrl'],
        ['/connectors/crm/operations/up/path', 'invalidPath'],
        ['/connectors/crm/operations/encodedUp/path', 'invalidPath'],
        ['/connectors/crm/operations/dot/path', 'invalidPath'],
        ['/connectors/crm/operations/protocolRelative/path', 'invalidPath'],
        ['/connectors/crm/operations/withQuery/path', 'invalidPath'],
        ['/connectors/crm/operations/backslash/path', 'invalidPath'],
        ['/connectors/crm/operations/badPlaceholder/path', 'invalidPath'],
        ['/connectors/crm/operations/typo/input', 'invalidSchema'],
        ['/connectors/crm/operations/badType/input', 'invalidSchema'],
        ['/connectors/crm/operations/remoteRef/input', 'invalidSchema'],
        ['/connectors/crm/operations/backReference/input', 'invalidSchema'],
        ['/steps/0/inputs/path/id', 'invalidPathValue'],
        ['/steps/0/inputs/body/text', 'maxLength'],
        ['/steps/1/inputs/path/id', 'invalidPathValue'],
        ['/steps/1/inputs/body', 'required'],
      ]),
    );
    expect(problemAt(bad, '/connectors/crm/operations/up/path').message).toBe("the path of operation 'up' must not contain '.' or '..' segments");
    expect(problemAt(bad, '/connectors/crm/operations/typo/input').message).toMatch(/^the input schema of operation 'typo' does not compile: .*requried/);
    expect(problemAt(bad, '/steps/0/inputs/path/id').message).toBe("path parameter 'id' must not be '.' or '..'");
    expect(problemAt(bad, '/connectors/crm/baseUrl').message).toBe('must not have a query or fragment; put query parameters in the operations');
  });

  it('checks input defaults against their schema', () => {
    const bad = definition([noop('a')], {
      inputs: {
        type: 'object',
        properties: {
          count: { type: 'integer', minimum: 1, default: 0 },
          mode: { type: 'string', enum: ['fast', 'safe'], default: 'slow' },
          address: { type: 'object', properties: { zip: { type: 'string', default: 1234 } } },
          ok: { type: 'string', format: 'email', default: 'ops@example.com' },
        },
      },
    });
    expect(found(bad)).toEqual([
      ['/inputs/properties/address/properties/zip/default', 'invalidDefault'],
      ['/inputs/properties/count/default', 'invalidDefault'],
      ['/inputs/properties/mode/default', 'invalidDefault'],
    ]);
    expect(problemAt(bad, '/inputs/properties/count/default').message).toBe('the default does not match its schema: must be >= 1');
  });

  it('reports step timeouts longer than the run timeout', () => {
    const bad = definition(
      [
        { id: 'wait', type: 'waitForEvent', event: 'x' },
        { id: 'ask', type: 'approval', approvers: { users: ['a@example.com'] }, timeoutSeconds: 7200 },
        { id: 'nap', type: 'delay', durationSeconds: 4000 },
        { id: 'ok', type: 'approval', approvers: { roles: ['Tenant.User'] }, timeoutSeconds: 600 },
      ],
      { timeoutSeconds: 3600 },
    );
    expect(found(bad)).toEqual([
      ['/steps/0', 'timeoutExceedsRun'],
      ['/steps/1/timeoutSeconds', 'timeoutExceedsRun'],
      ['/steps/2/durationSeconds', 'timeoutExceedsRun'],
    ]);
  });

  it('reports many kinds of problems together, schema and static', () => {
    const bad = definition(
      [
        { id: 'a', type: 'action', connector: 'http', action: 'request', dependsOn: ['c'], inputs: { token: { $secret: 'nope' } }, timeout: 5 },
        noop('b', { dependsOn: ['a'] }),
        noop('c', { dependsOn: ['b'] }),
        noop('a'),
        noop('d', { dependsOn: ['zzz'] }),
        set('e', expr('item')),
        { id: 'f', type: 'action', connector: 'ftp', action: 'put' },
      ],
      { timeoutSeconds: 0 },
    );
    expect(found(bad)).toEqual(
      sorted([
        ['/timeoutSeconds', 'minimum'],
        ['/steps/0/timeout', 'unknownProperty'],
        ['/steps/3/id', 'duplicateId'],
        ['/steps/4/dependsOn/0', 'unknownStep'],
        ['/steps/0/dependsOn/0', 'cycle'],
        ['/steps/0/inputs/token/$secret', 'unknownSecret'],
        ['/steps/5/inputs/value/$expr', 'itemOutsideForEach'],
        ['/steps/6/connector', 'unknownConnector'],
      ]),
    );
  });

  it('caps the number of problems listed', () => {
    const bad = definition(Array.from({ length: 150 }, (_, i) => noop(`s${i}`, { dependsOn: [`missing${i}`] })));
    const problems = definitionProblems(bad, context);
    expect(problems).toHaveLength(LIMITS.maxProblems + 1);
    expect(problems[LIMITS.maxProblems]).toEqual({ pointer: '', kind: 'tooManyProblems', message: '50 more problems are not listed' });
  });
});

describe('limits', () => {
  it('allows 500 steps and rejects more, forEach bodies included', () => {
    const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => noop(`${prefix}${i}`));
    expect(found(definition(many(500, 's')))).toEqual([]);
    expect(found(definition(many(501, 's')))).toEqual([['/steps', 'maxItems']]);
    const nested = definition([...many(300, 's'), { id: 'loop', type: 'forEach', items: [1], steps: many(250, 'b') }]);
    expect(found(nested)).toEqual([['/steps', 'tooManySteps']]);
    expect(problemAt(nested, '/steps').message).toBe('the definition has 551 steps (forEach bodies included); the limit is 500');
  });

  it('allows forEach nested three deep, not four', () => {
    const loop = (id: string, body: Json): Json => ({ id, type: 'forEach', items: [1], steps: [body] });
    expect(found(definition([loop('l1', loop('l2', loop('l3', noop('x'))))]))).toEqual([]);
    expect(found(definition([loop('l1', loop('l2', loop('l3', loop('l4', noop('x')))))]))).toEqual([['/steps/0/steps/0/steps/0/steps/0', 'nestingTooDeep']]);
  });

  it('rejects deeply nested values and oversized definitions before anything else', () => {
    let value: unknown = 1;
    for (let i = 0; i < 40; i++) value = [value];
    expect(found(definition([set('a', value)]))).toEqual([[`/steps/0/inputs/value${'/0'.repeat(LIMITS.maxValueDepth)}`, 'nestingTooDeep']]);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(found(definition([set('a', deep)]))).toEqual([[`/steps/0/inputs/value${'/a'.repeat(LIMITS.maxJsonDepth - 4)}`, 'nestingTooDeep']]);
    expect(found(definition([set('a', 'x'.repeat(LIMITS.maxDefinitionBytes))]))).toEqual([['', 'tooLarge']]);
  });
});
