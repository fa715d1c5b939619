/**
 * The JSON Schema (2020-12) of workflow definitions, schema version 1. Every property carries a description:
 * they feed the OpenAPI document and the docs. Alternatives are written with `if`/`then`/`else` on the type or
 * on the `type` discriminator (not `anyOf`), so that a validator reports only the errors of the branch the
 * data meant. Static checks that a schema cannot express (references, cycles, reachability, expressions,
 * secrets, connectors) are in validateDefinition.ts.
 */
import { WORKFLOW_ID_PATTERN } from '../workflow.js';
import {
  CONNECTOR_NAME_PATTERN,
  DEFAULTS,
  EVENT_NAME_PATTERN,
  FIELD_NAME_PATTERN,
  HEADER_NAME_PATTERN,
  INPUT_FORMATS,
  LIMITS,
  SECRET_NAME_PATTERN,
  STEP_ID_PATTERN,
} from './constants.js';
import { APPROVER_ROLES, HTTP_METHODS, STEP_TYPES } from './types.js';

export const WORKFLOW_DEFINITION_SCHEMA_ID = 'https://automateiq.dev/schemas/workflow-definition/v1.json';

const ref = <N extends string>(name: N) => ({ $ref: `#/$defs/${name}` }) as const;

/** Properties every step kind has. */
const commonStepProperties = {
  id: { ...ref('stepId'), description: 'The step id: unique in the whole definition; expressions read the step as steps.<id>.' },
  description: { type: 'string', maxLength: 2000, description: 'What the step does, for people.' },
  dependsOn: { ...ref('dependsOn'), description: 'Steps (of the same steps list) that must have finished before this one starts.' },
  join: { ...ref('join'), description: 'How the dependencies must have ended for this step to run: all (default) or any.' },
  condition: { ...ref('expression'), description: 'Evaluated when the dependencies have finished; when false, the step is skipped.' },
  onError: { ...ref('onError'), description: 'What happens when the step fails, after its retries and fallbacks: fail (default), continue, or goto a handler step.' },
} as const;

const timeout = (description: string, maximum: number) => ({ type: 'integer', minimum: 1, maximum, description }) as const;

/** An object of named values: step inputs, sub-workflow inputs. */
const inputMap = (description: string) => ({ ...ref('inputMap'), description }) as const;

const typeBranch = <T extends string, N extends string>(type: T, def: N) =>
  ({ if: { properties: { type: { const: type } }, required: ['type'] }, then: ref(def) }) as const;

export const workflowDefinitionSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: WORKFLOW_DEFINITION_SCHEMA_ID,
  title: 'AutomateIQ workflow definition',
  description:
    'A workflow: its run inputs, its steps (a graph built from dependsOn), its outputs and the REST connectors it declares. Expressions are CEL in {"$expr": "..."} objects; secrets are referenced as {"$secret": "name"}.',
  type: 'object',
  required: ['schemaVersion', 'name', 'steps'],
  additionalProperties: false,
  properties: {
    schemaVersion: { const: 1, description: 'The version of the workflow language this definition is written in: 1.' },
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'A display name.' },
    description: { type: 'string', maxLength: 4000, description: 'What the workflow does, for people.' },
    inputs: { ...ref('inputsSchema'), description: 'The JSON Schema of the run input (an object); defaults are applied before the run starts. Without it, any object is accepted.' },
    outputs: {
      type: 'object',
      description: 'The run output: output name → value, usually an expression over steps.<id>.output, evaluated when the steps have finished.',
      maxProperties: LIMITS.maxOutputs,
      propertyNames: { type: 'string', pattern: FIELD_NAME_PATTERN },
      additionalProperties: { ...ref('valueTemplate'), description: 'The value of this output.' },
    },
    steps: { ...ref('steps'), description: 'The steps. Those without dependsOn start when the run starts.' },
    timeoutSeconds: timeout(`Run-level timeout in seconds; default ${DEFAULTS.runTimeoutSeconds} (7 days). When it passes, the run fails.`, LIMITS.maxRunTimeoutSeconds),
    connectors: {
      type: 'object',
      description: 'REST connectors declared in the definition: connector id → declaration. Steps call them like built-in connectors, with operation names as actions.',
      maxProperties: LIMITS.maxConnectors,
      propertyNames: { type: 'string', pattern: CONNECTOR_NAME_PATTERN },
      additionalProperties: { ...ref('restConnector'), description: 'A declared REST connector.' },
    },
  },
  $defs: {
    stepId: { type: 'string', pattern: STEP_ID_PATTERN, description: 'A step id: a letter, then up to 63 letters, digits or underscores.' },
    connectorName: { type: 'string', pattern: CONNECTOR_NAME_PATTERN, description: 'A connector id or an action name.' },
    secretName: { type: 'string', pattern: SECRET_NAME_PATTERN, description: 'A secret name: letters, digits and dashes, up to 127.' },
    expression: {
      type: 'object',
      description: 'A CEL expression, evaluated when the value is needed. Variables: inputs, steps.<id>.output|status|error, item and index (in a forEach body), error (in a handler step), run.',
      required: ['$expr'],
      additionalProperties: false,
      properties: {
        $expr: { type: 'string', minLength: 1, maxLength: LIMITS.maxExpressionLength, description: 'The CEL source, e.g. steps.fetch.output.total > 100.' },
      },
    },
    secretReference: {
      type: 'object',
      description: 'A reference to a tenant secret, resolved when the step runs; the value is never stored in the definition or the run history.',
      required: ['$secret'],
      additionalProperties: false,
      properties: {
        $secret: { ...ref('secretName'), description: 'The name of the secret.' },
      },
    },
    valueTemplate: {
      description:
        'Any JSON value. At any depth, {"$expr": "<CEL>"} is replaced by the value of the expression, {"$secret": "<name>"} by the secret (in connector action inputs only) and {"$literal": <value>} by <value> taken as is.',
    },
    inputMap: {
      type: 'object',
      description: 'Named values (each a value template), or a single {"$expr": ...} that gives the whole object.',
      additionalProperties: { ...ref('valueTemplate'), description: 'One named value.' },
    },
    stringOrExpression: {
      description: 'A string, or an expression giving one.',
      if: { type: 'string' },
      then: { type: 'string', maxLength: 4000 },
      else: { type: 'object', ...ref('expression') },
    },
    stringOrSecret: {
      description: 'A string, or a secret reference.',
      if: { type: 'string' },
      then: { type: 'string', maxLength: 2000 },
      else: { type: 'object', ...ref('secretReference') },
    },
    dependsOn: {
      type: 'array',
      description: 'Ids of steps of the same steps list.',
      maxItems: LIMITS.maxDependsOn,
      uniqueItems: true,
      items: { ...ref('stepId'), description: 'A step this one waits for.' },
    },
    join: { enum: ['all', 'any'], description: 'all: run only if no dependency was skipped; any: run if at least one dependency was not skipped.' },
    onError: {
      description: 'fail: the run fails; continue: the step ends as failed and its dependents run; {"goto": "<stepId>"}: run that handler step instead of the dependents.',
      if: { type: 'string' },
      then: { enum: ['fail', 'continue'] },
      else: {
        type: 'object',
        required: ['goto'],
        additionalProperties: false,
        properties: { goto: { ...ref('stepId'), description: 'The handler step (same steps list, without dependsOn).' } },
      },
    },
    retryPolicy: {
      type: 'object',
      description: `Retries after a retryable failure (timeouts included). Defaults: ${DEFAULTS.retry.maxRetries} retries after 1 s, 2 s, 4 s.`,
      additionalProperties: false,
      properties: {
        maxRetries: { type: 'integer', minimum: 0, maximum: LIMITS.maxRetries, description: `Retries after the first attempt; default ${DEFAULTS.retry.maxRetries}; 0 disables retries.` },
        intervalSeconds: { type: 'number', minimum: 0.1, maximum: LIMITS.maxRetryIntervalSeconds, description: `Delay before the first retry; default ${DEFAULTS.retry.intervalSeconds}.` },
        backoffCoefficient: { type: 'number', minimum: 1, maximum: 10, description: `Each delay is the previous one times this; default ${DEFAULTS.retry.backoffCoefficient}.` },
        maxIntervalSeconds: { type: 'number', minimum: 0.1, maximum: LIMITS.maxRetryIntervalSeconds, description: `Upper bound of a delay; default ${DEFAULTS.retry.maxIntervalSeconds}.` },
      },
    },
    fallback: {
      type: 'object',
      description: 'An alternative call, tried when the step (and the fallbacks before it) failed; what it does not give is taken from the step.',
      minProperties: 1,
      additionalProperties: false,
      properties: {
        connector: { ...ref('connectorName'), description: 'Another connector (default: the step\'s).' },
        action: { ...ref('connectorName'), description: 'Another action (default: the step\'s).' },
        inputs: inputMap('Other inputs, replacing the step\'s (default: the step\'s).'),
        retry: { ...ref('retryPolicy'), description: 'Retries of this alternative (default: the step\'s).' },
        timeoutSeconds: timeout('Per-attempt timeout of this alternative (default: the step\'s).', LIMITS.maxActionTimeoutSeconds),
      },
    },
    fallbacks: {
      type: 'array',
      description: 'Alternatives tried in order once the call, with its retries, has failed.',
      minItems: 1,
      maxItems: LIMITS.maxFallbacks,
      items: { ...ref('fallback'), description: 'One alternative.' },
    },
    actionCall: {
      type: 'object',
      description: 'A connector action called once per item of a forEach.',
      required: ['connector', 'action'],
      additionalProperties: false,
      properties: {
        connector: { ...ref('connectorName'), description: 'The connector: core, a platform connector or one declared in connectors.' },
        action: { ...ref('connectorName'), description: 'The action of the connector.' },
        inputs: inputMap('The inputs of the action; item and index are available.'),
        retry: { ...ref('retryPolicy'), description: 'Retries of each call.' },
        timeoutSeconds: timeout(`Per-attempt timeout in seconds; default ${DEFAULTS.actionTimeoutSeconds}.`, LIMITS.maxActionTimeoutSeconds),
        fallbacks: { ...ref('fallbacks'), description: 'Alternatives tried in order.' },
      },
    },
    steps: {
      type: 'array',
      description: 'A steps list.',
      minItems: 1,
      maxItems: LIMITS.maxSteps,
      items: { ...ref('step'), description: 'One step.' },
    },
    step: {
      type: 'object',
      description: 'A step; its type says which other properties it has.',
      required: ['id', 'type'],
      properties: {
        id: { ...ref('stepId'), description: 'The step id.' },
        type: { enum: STEP_TYPES, description: 'The kind of step.' },
      },
      allOf: [
        typeBranch('action', 'actionStep'),
        typeBranch('forEach', 'forEachStep'),
        typeBranch('delay', 'delayStep'),
        typeBranch('waitForEvent', 'waitForEventStep'),
        typeBranch('approval', 'approvalStep'),
        typeBranch('subWorkflow', 'subWorkflowStep'),
      ],
    },
    actionStep: {
      type: 'object',
      description: 'Calls an action of a connector.',
      required: ['id', 'type', 'connector', 'action'],
      additionalProperties: false,
      properties: {
        ...commonStepProperties,
        type: { const: 'action', description: 'action' },
        connector: { ...ref('connectorName'), description: 'The connector: core, a platform connector or one declared in connectors.' },
        action: { ...ref('connectorName'), description: 'The action of the connector (for a declared REST connector: an operation name).' },
        inputs: inputMap('The inputs of the action.'),
        retry: { ...ref('retryPolicy'), description: 'Retry policy; default 3 retries after 1 s, 2 s, 4 s.' },
        timeoutSeconds: timeout(`Per-attempt timeout in seconds; default ${DEFAULTS.actionTimeoutSeconds}.`, LIMITS.maxActionTimeoutSeconds),
        fallbacks: { ...ref('fallbacks'), description: 'Alternatives tried in order once the action, with its retries, has failed.' },
      },
    },
    forEachStep: {
      type: 'object',
      description: 'Runs a body (steps, or a single action) once per item of a list, up to concurrency at a time. Its output is the list of the iteration results.',
      required: ['id', 'type', 'items'],
      additionalProperties: false,
      properties: {
        ...commonStepProperties,
        type: { const: 'forEach', description: 'forEach' },
        items: { ...ref('forEachItems'), description: 'The list to iterate over.' },
        concurrency: { type: 'integer', minimum: 1, maximum: LIMITS.maxConcurrency, description: `Iterations running at once; default ${DEFAULTS.forEachConcurrency} (one after the other).` },
        steps: { ...ref('steps'), description: 'The body, run per item: a steps list of its own (dependsOn stays inside it).' },
        action: { ...ref('actionCall'), description: 'The body, run per item: a single action.' },
        output: { ...ref('valueTemplate'), description: "Each iteration's result, evaluated at its end. Default: the action's output, or an object of the body steps' outputs by step id." },
        timeoutSeconds: timeout('Timeout of the whole loop, in seconds; none by default.', LIMITS.maxRunTimeoutSeconds),
      },
      oneOf: [
        { properties: { steps: true }, required: ['steps'] },
        { properties: { action: true }, required: ['action'] },
      ],
    },
    forEachItems: {
      description: 'An expression giving a list, or a literal list.',
      if: { type: 'array' },
      then: { type: 'array', maxItems: LIMITS.maxForEachItems },
      else: { type: 'object', ...ref('expression') },
    },
    delayStep: {
      type: 'object',
      description: 'Waits for a duration, or until a point in time.',
      required: ['id', 'type'],
      additionalProperties: false,
      properties: {
        ...commonStepProperties,
        type: { const: 'delay', description: 'delay' },
        durationSeconds: { ...ref('durationOrExpression'), description: 'How long to wait, in seconds.' },
        until: { ...ref('dateTimeOrExpression'), description: 'When to resume: an RFC 3339 date-time (a time in the past resumes at once).' },
      },
      oneOf: [
        { properties: { durationSeconds: true }, required: ['durationSeconds'] },
        { properties: { until: true }, required: ['until'] },
      ],
    },
    durationOrExpression: {
      description: `Seconds (1 to ${LIMITS.maxWaitSeconds}), or an expression giving them.`,
      if: { type: 'object' },
      then: ref('expression'),
      else: { type: 'integer', minimum: 1, maximum: LIMITS.maxWaitSeconds },
    },
    dateTimeOrExpression: {
      description: 'An RFC 3339 date-time, or an expression giving one.',
      if: { type: 'string' },
      then: { type: 'string', format: 'date-time' },
      else: { type: 'object', ...ref('expression') },
    },
    waitForEventStep: {
      type: 'object',
      description: 'Waits until an event with this name (and correlation key) is raised for the run; its output is the event payload.',
      required: ['id', 'type', 'event'],
      additionalProperties: false,
      properties: {
        ...commonStepProperties,
        type: { const: 'waitForEvent', description: 'waitForEvent' },
        event: { type: 'string', pattern: EVENT_NAME_PATTERN, description: 'The event name, e.g. payment.received.' },
        correlationKey: { ...ref('stringOrExpression'), description: 'Only an event raised with this key resumes the step, e.g. {"$expr": "inputs.orderId"}.' },
        timeoutSeconds: timeout(`How long to wait, in seconds; default ${DEFAULTS.waitTimeoutSeconds}.`, LIMITS.maxWaitSeconds),
        onTimeout: { ...ref('onError'), description: 'What happens when the timeout passes: fail (default: the step fails and onError applies), continue (the step succeeds with output {"timedOut": true}), or goto a handler step.' },
      },
    },
    approvalStep: {
      type: 'object',
      description: 'Asks people to approve or reject; its output is {decision, approvals, comment}.',
      required: ['id', 'type', 'approvers'],
      additionalProperties: false,
      properties: {
        ...commonStepProperties,
        type: { const: 'approval', description: 'approval' },
        approvers: {
          type: 'object',
          description: 'Who may decide: users, members of tenant roles, or both.',
          minProperties: 1,
          additionalProperties: false,
          properties: {
            users: {
              type: 'array',
              description: 'User principal names or object ids.',
              minItems: 1,
              maxItems: LIMITS.maxApprovers,
              uniqueItems: true,
              items: { type: 'string', minLength: 1, maxLength: 256, description: 'A user.' },
            },
            roles: {
              type: 'array',
              description: 'Tenant roles whose members may decide.',
              minItems: 1,
              uniqueItems: true,
              items: { enum: APPROVER_ROLES, description: 'A tenant role.' },
            },
          },
        },
        minApprovals: { type: 'integer', minimum: 1, maximum: LIMITS.maxApprovals, description: `Approvals needed; default ${DEFAULTS.minApprovals}. One rejection rejects.` },
        title: { type: 'string', minLength: 1, maxLength: 200, description: 'The title of the request shown to approvers.' },
        message: { ...ref('stringOrExpression'), description: 'The text shown to approvers.' },
        timeoutSeconds: timeout(`How long to wait for the decision, in seconds; default ${DEFAULTS.waitTimeoutSeconds}.`, LIMITS.maxWaitSeconds),
        onTimeout: { ...ref('onError'), description: 'When nobody decided in time: fail (default), continue (output decision "timedOut"), or goto a handler step.' },
        onReject: { ...ref('onError'), description: 'When rejected: fail (default), continue (output decision "rejected"), or goto a handler step.' },
      },
    },
    subWorkflowStep: {
      type: 'object',
      description: "Runs another workflow of the tenant as a child run and waits for it; its output is the child's outputs.",
      required: ['id', 'type', 'workflowId', 'version'],
      additionalProperties: false,
      properties: {
        ...commonStepProperties,
        type: { const: 'subWorkflow', description: 'subWorkflow' },
        workflowId: { type: 'string', pattern: WORKFLOW_ID_PATTERN.source, description: 'The id of the workflow to run.' },
        version: { ...ref('workflowVersion'), description: 'A published version number (pinned), or "latest" (the latest published version when the step starts).' },
        inputs: inputMap("The child run's input."),
        timeoutSeconds: timeout('Timeout of the child run, in seconds; by default only the run-level timeouts apply.', LIMITS.maxRunTimeoutSeconds),
      },
    },
    workflowVersion: {
      description: 'A version number, or "latest".',
      if: { type: 'string' },
      then: { const: 'latest' },
      else: { type: 'integer', minimum: 1 },
    },
    inputsSchema: {
      type: 'object',
      description: 'A JSON Schema for the run input (a subset: no $ref, no combinators, no pattern).',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'object', description: 'The run input is always an object.' },
        description: { type: 'string', maxLength: 4000, description: 'What the input is.' },
        properties: {
          type: 'object',
          description: 'Input name → schema.',
          maxProperties: LIMITS.maxInputs,
          propertyNames: { type: 'string', pattern: FIELD_NAME_PATTERN },
          additionalProperties: { ...ref('inputProperty'), description: 'The schema of one input.' },
        },
        required: { type: 'array', uniqueItems: true, items: { type: 'string', description: 'An input name.' }, description: 'Inputs that must be given (or have a default).' },
        additionalProperties: { type: 'boolean', description: 'Whether inputs not listed in properties are accepted (default true).' },
      },
    },
    inputProperty: {
      type: 'object',
      description: 'The schema of one input value (a JSON Schema subset).',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { enum: ['string', 'number', 'integer', 'boolean', 'array', 'object'], description: 'The JSON type.' },
        title: { type: 'string', maxLength: 200, description: 'A label for forms.' },
        description: { type: 'string', maxLength: 2000, description: 'Help text.' },
        default: { description: 'The value used when the input is not given; must be valid against this schema.' },
        enum: { type: 'array', minItems: 1, maxItems: 1000, description: 'The allowed values.' },
        examples: { type: 'array', maxItems: 20, description: 'Example values.' },
        format: { enum: INPUT_FORMATS, description: 'A string format.' },
        minLength: { type: 'integer', minimum: 0, description: 'Minimum string length.' },
        maxLength: { type: 'integer', minimum: 0, description: 'Maximum string length.' },
        minimum: { type: 'number', description: 'Inclusive minimum.' },
        maximum: { type: 'number', description: 'Inclusive maximum.' },
        exclusiveMinimum: { type: 'number', description: 'Exclusive minimum.' },
        exclusiveMaximum: { type: 'number', description: 'Exclusive maximum.' },
        multipleOf: { type: 'number', exclusiveMinimum: 0, description: 'The number must be a multiple of this.' },
        items: { ...ref('inputProperty'), description: 'The schema of array items.' },
        minItems: { type: 'integer', minimum: 0, description: 'Minimum array length.' },
        maxItems: { type: 'integer', minimum: 0, description: 'Maximum array length.' },
        uniqueItems: { type: 'boolean', description: 'Whether array items must be distinct.' },
        properties: {
          type: 'object',
          description: 'Property name → schema, for objects.',
          maxProperties: LIMITS.maxInputs,
          additionalProperties: { ...ref('inputProperty'), description: 'The schema of one property.' },
        },
        required: { type: 'array', uniqueItems: true, items: { type: 'string', description: 'A property name.' }, description: 'Properties that must be present.' },
        additionalProperties: { type: 'boolean', description: 'Whether properties not listed are accepted (default true).' },
      },
    },
    headers: {
      type: 'object',
      description: 'HTTP header name → value (a string or a secret reference).',
      maxProperties: LIMITS.maxHeaders,
      propertyNames: { type: 'string', pattern: HEADER_NAME_PATTERN },
      additionalProperties: { ...ref('stringOrSecret'), description: 'The header value.' },
    },
    restConnector: {
      type: 'object',
      description: 'A REST API the workflow calls: a base URL, credentials from secrets and named operations.',
      required: ['type', 'baseUrl', 'operations'],
      additionalProperties: false,
      properties: {
        type: { const: 'rest', description: 'rest' },
        description: { type: 'string', maxLength: 2000, description: 'What the API is.' },
        baseUrl: {
          type: 'string',
          format: 'uri',
          pattern: '^https?://',
          maxLength: 2000,
          description: 'The http(s) URL operation paths are appended to; no query, fragment or credentials. Every request stays under it (same origin, same path prefix).',
        },
        fallbackBaseUrls: {
          type: 'array',
          maxItems: 3,
          items: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000, description: 'Another base URL of the same API (same rules as baseUrl).' },
          description: 'Tried in order, with the same operation, when baseUrl fails with a retryable fault (network, timeout, 5xx, 408, 429).',
        },
        auth: { ...ref('restAuth'), description: 'How requests authenticate; none by default.' },
        headers: { ...ref('headers'), description: 'Headers sent with every request.' },
        timeoutSeconds: timeout(`Per-request timeout in seconds; default ${DEFAULTS.actionTimeoutSeconds} (the step's timeoutSeconds bounds the whole call, fallbacks included).`, LIMITS.maxActionTimeoutSeconds),
        operations: {
          type: 'object',
          description: 'Operation name (the action name steps use) → operation.',
          minProperties: 1,
          maxProperties: LIMITS.maxOperations,
          propertyNames: { type: 'string', pattern: CONNECTOR_NAME_PATTERN },
          additionalProperties: { ...ref('restOperation'), description: 'One operation.' },
        },
      },
    },
    restOperation: {
      type: 'object',
      description: 'One HTTP operation. A step calling it gives inputs path (values for {placeholders}), query, headers and body; its output is {status, headers, body, url}.',
      required: ['method', 'path'],
      additionalProperties: false,
      properties: {
        method: { enum: HTTP_METHODS, description: 'The HTTP method.' },
        path: {
          type: 'string',
          pattern: '^/',
          maxLength: 2000,
          description: "Appended to baseUrl; {name} placeholders are filled from the step's inputs.path, URL-encoded. No '.' or '..' segments, '\\', '?' or '#'.",
        },
        description: { type: 'string', maxLength: 2000, description: 'What the operation does.' },
        headers: { ...ref('headers'), description: 'Headers of this operation (over the connector\'s).' },
        query: {
          type: 'object',
          description: 'Fixed query parameters (the step\'s inputs.query adds to them).',
          maxProperties: LIMITS.maxHeaders,
          additionalProperties: { type: 'string', maxLength: 2000, description: 'The parameter value.' },
        },
        input: {
          type: 'object',
          description:
            "A JSON Schema (2020-12) the step's inputs ({path, query, headers, body}) must match, checked at publish time (literal inputs) and before every call. Compiled when the definition is validated: an invalid schema is a problem (invalidSchema).",
        },
        bodyType: { enum: ['json', 'form', 'text', 'binary'], description: 'How inputs.body is sent: json (default), form, text, or binary (inputs.body is an artifact reference, streamed).' },
        responseType: {
          enum: ['json', 'text', 'auto', 'binary'],
          description: 'How the response body is read: auto (default, by Content-Type; a non-text type is streamed into an artifact), json, text, or binary (always into an artifact; body is its reference).',
        },
        maxResponseBytes: { type: 'integer', minimum: 1, description: 'Cap of a response streamed into an artifact; at most the operator maximum (AIQ_MAX_STREAMED_BYTES).' },
      },
    },
    restAuth: {
      type: 'object',
      description: 'Credentials; every secret part is a secret reference.',
      required: ['type'],
      properties: {
        type: { enum: ['none', 'bearer', 'basic', 'apiKey', 'oauth2ClientCredentials'], description: 'The authentication scheme.' },
      },
      allOf: [
        typeBranch('none', 'authNone'),
        typeBranch('bearer', 'authBearer'),
        typeBranch('basic', 'authBasic'),
        typeBranch('apiKey', 'authApiKey'),
        typeBranch('oauth2ClientCredentials', 'authOAuth2'),
      ],
    },
    authNone: {
      type: 'object',
      description: 'No authentication.',
      additionalProperties: false,
      properties: { type: { const: 'none', description: 'none' } },
    },
    authBearer: {
      type: 'object',
      description: 'Authorization: Bearer <token>.',
      required: ['type', 'token'],
      additionalProperties: false,
      properties: {
        type: { const: 'bearer', description: 'bearer' },
        token: { ...ref('secretReference'), description: 'The token.' },
      },
    },
    authBasic: {
      type: 'object',
      description: 'HTTP Basic authentication.',
      required: ['type', 'username', 'password'],
      additionalProperties: false,
      properties: {
        type: { const: 'basic', description: 'basic' },
        username: { ...ref('stringOrSecret'), description: 'The user name.' },
        password: { ...ref('secretReference'), description: 'The password.' },
      },
    },
    authApiKey: {
      type: 'object',
      description: 'An API key in a header or a query parameter.',
      required: ['type', 'in', 'name', 'value'],
      additionalProperties: false,
      properties: {
        type: { const: 'apiKey', description: 'apiKey' },
        in: { enum: ['header', 'query'], description: 'Where the key goes.' },
        name: { type: 'string', pattern: HEADER_NAME_PATTERN, description: 'The header or query parameter name.' },
        value: { ...ref('secretReference'), description: 'The key.' },
      },
    },
    authOAuth2: {
      type: 'object',
      description: 'OAuth 2.0 client credentials; the engine fetches and caches the access token.',
      required: ['type', 'tokenUrl', 'clientId', 'clientSecret'],
      additionalProperties: false,
      properties: {
        type: { const: 'oauth2ClientCredentials', description: 'oauth2ClientCredentials' },
        tokenUrl: { type: 'string', format: 'uri', pattern: '^https://', maxLength: 2000, description: 'The token endpoint.' },
        clientId: { ...ref('stringOrSecret'), description: 'The client id.' },
        clientSecret: { ...ref('secretReference'), description: 'The client secret.' },
        scope: { type: 'string', maxLength: 2000, description: 'Space-separated scopes.' },
        audience: { type: 'string', maxLength: 2000, description: 'The audience parameter some token endpoints require.' },
        clientAuth: { enum: ['body', 'basic'], description: 'How the client authenticates to the token endpoint: form fields (body, default) or HTTP basic.' },
      },
    },
  },
} as const;

export type WorkflowDefinitionSchema = typeof workflowDefinitionSchema;
