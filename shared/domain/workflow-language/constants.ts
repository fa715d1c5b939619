/** Patterns, defaults and limits of the workflow language (schema version 1). */

/** Step ids: a letter, then up to 63 letters, digits or underscores. Unique in the whole definition. */
export const STEP_ID_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,63}$';
/** Connector ids and action (operation) names. */
export const CONNECTOR_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';
/** Secret names (as in Azure Key Vault: letters, digits and dashes, up to 127). */
export const SECRET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9-]{0,126}$';
/** Names of workflow inputs and outputs. */
export const FIELD_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
/** Event names for waitForEvent. */
export const EVENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
/** HTTP header names (RFC 9110 tokens). */
export const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$";

/** The built-in connector every workflow can use, and its actions. */
export const CORE_CONNECTOR_ID = 'core';
export const CORE_ACTIONS = ['noop', 'set', 'log', 'fail'] as const;
export type CoreAction = (typeof CORE_ACTIONS)[number];

/** The defaults the engine applies where a definition says nothing. */
export const DEFAULTS = {
  /** 3 retries, after 1 s, 2 s and 4 s. */
  retry: { maxRetries: 3, intervalSeconds: 1, backoffCoefficient: 2, maxIntervalSeconds: 60 },
  /** Per attempt of an action. */
  actionTimeoutSeconds: 30,
  /** Run-level timeout: 7 days. */
  runTimeoutSeconds: 604_800,
  /** waitForEvent and approval: 1 day. */
  waitTimeoutSeconds: 86_400,
  forEachConcurrency: 1,
  minApprovals: 1,
  join: 'all',
  onError: 'fail',
  onTimeout: 'fail',
  onReject: 'fail',
  subWorkflowVersion: 'latest',
} as const;

/** Payload limits, enforced by the schema and the static checks. */
export const LIMITS = {
  /** Serialized size of a definition (UTF-8). */
  maxDefinitionBytes: 1_048_576,
  /** Steps in the whole definition, forEach bodies included. */
  maxSteps: 500,
  /** forEach inside forEach: at most this many levels. */
  maxForEachDepth: 3,
  /** Nesting of any JSON value in a definition (objects and arrays), checked before anything else. */
  maxJsonDepth: 64,
  /** Nesting of JSON values (inputs, outputs) inside a definition. */
  maxValueDepth: 32,
  maxExpressionLength: 4096,
  maxDependsOn: 100,
  maxFallbacks: 5,
  maxRetries: 10,
  maxRetryIntervalSeconds: 86_400,
  maxActionTimeoutSeconds: 3_600,
  /** delay, waitForEvent and approval: 30 days. */
  maxWaitSeconds: 2_592_000,
  /** Run-level and sub-workflow timeouts: 365 days. */
  maxRunTimeoutSeconds: 31_536_000,
  maxConcurrency: 50,
  /** Items a forEach iterates over (a literal list, or the list its expression gives at run time). */
  maxForEachItems: 1_000,
  /** Sub-workflow nesting at run time (a run started by a subWorkflow step of a run started by ...). */
  maxSubWorkflowDepth: 5,
  maxOutputs: 100,
  maxInputs: 100,
  maxConnectors: 20,
  maxOperations: 100,
  maxHeaders: 50,
  maxApprovers: 50,
  maxApprovals: 10,
  /** Problems reported for one definition; the rest are summarized in one last problem. */
  maxProblems: 100,
} as const;

/** Formats a workflow input of type string may declare. */
export const INPUT_FORMATS = ['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'uuid'] as const;
