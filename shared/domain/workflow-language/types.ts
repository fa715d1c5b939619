/**
 * The TypeScript shape of a valid workflow definition (what `validateDefinition` returns). The JSON Schema in
 * definitionSchema.ts is the contract; these types mirror it. See docs/workflow-language.md.
 */
import type { JsonValue } from '../json.js';

/** `^[A-Za-z][A-Za-z0-9_]{0,63}$`, unique in the whole definition (forEach bodies included). */
export type StepId = string;

/** A CEL expression, evaluated by the engine when the value is needed: `{ "$expr": "steps.fetch.output.id" }`. */
export interface Expression {
  readonly $expr: string;
}

/** A reference to a tenant secret by name; the value is resolved at execution time and never stored in a definition. */
export interface SecretReference {
  readonly $secret: string;
}

/** A value taken as it is, even if it contains `$expr`/`$secret`/`$literal` keys. */
export interface LiteralValue {
  readonly $literal: JsonValue;
}

/**
 * Any JSON value in which {@link Expression}s, {@link SecretReference}s (where allowed) and {@link LiteralValue}s
 * may appear at any depth; they are replaced by their values before the step runs.
 */
export type ValueTemplate = JsonValue;

/** An object of named values (step inputs, sub-workflow inputs): a literal object, or one expression giving the whole object. */
export type InputMap = { readonly [name: string]: ValueTemplate } | Expression;

/** What happens when a step fails (after its retries and fallbacks): fail the run, go on, or run a handler step. */
export type OnError = 'fail' | 'continue' | { readonly goto: StepId };

/** How a step's dependencies must have ended for it to run (see the docs: "Joining branches"). */
export type JoinMode = 'all' | 'any';

/** Retries of an action. Delay before retry k (1-based): min(intervalSeconds × backoffCoefficient^(k-1), maxIntervalSeconds). */
export interface RetryPolicy {
  /** Default 3. */
  readonly maxRetries?: number;
  /** Default 1. */
  readonly intervalSeconds?: number;
  /** Default 2. */
  readonly backoffCoefficient?: number;
  /** Default 60. */
  readonly maxIntervalSeconds?: number;
}

/** A connector action call: the part of an action step that a forEach can also run per item. */
export interface ActionCall {
  readonly connector: string;
  readonly action: string;
  readonly inputs?: InputMap;
  readonly retry?: RetryPolicy;
  /** Per attempt; default 30. */
  readonly timeoutSeconds?: number;
  /** Alternatives tried in order once the call (with its retries) has failed. */
  readonly fallbacks?: readonly Fallback[];
}

/** An alternative call: what is not given is taken from the step. */
export interface Fallback {
  readonly connector?: string;
  readonly action?: string;
  readonly inputs?: InputMap;
  readonly retry?: RetryPolicy;
  readonly timeoutSeconds?: number;
}

export const STEP_TYPES = ['action', 'forEach', 'delay', 'waitForEvent', 'approval', 'subWorkflow'] as const;
export type StepType = (typeof STEP_TYPES)[number];

interface StepBase {
  readonly id: StepId;
  readonly type: StepType;
  readonly description?: string;
  readonly dependsOn?: readonly StepId[];
  /** Default `all`. */
  readonly join?: JoinMode;
  /** When false, the step is skipped. */
  readonly condition?: Expression;
  /** Default `fail`. */
  readonly onError?: OnError;
}

export interface ActionStep extends StepBase, ActionCall {
  readonly type: 'action';
}

export interface ForEachStep extends StepBase {
  readonly type: 'forEach';
  /** An expression giving a list, or a literal list. */
  readonly items: Expression | readonly JsonValue[];
  /** Iterations running at once; default 1 (one after the other). */
  readonly concurrency?: number;
  /** The body: a steps list run per item... */
  readonly steps?: readonly StepDefinition[];
  /** ...or a single action run per item. */
  readonly action?: ActionCall;
  /** Each iteration's result, evaluated at its end; the step's output is the list of results. */
  readonly output?: ValueTemplate;
  /** The whole loop. */
  readonly timeoutSeconds?: number;
}

export interface DelayStep extends StepBase {
  readonly type: 'delay';
  readonly durationSeconds?: number | Expression;
  /** An RFC 3339 date-time. */
  readonly until?: string | Expression;
}

export interface WaitForEventStep extends StepBase {
  readonly type: 'waitForEvent';
  readonly event: string;
  /** Only an event raised with this key resumes the step. */
  readonly correlationKey?: string | Expression;
  /** Default 86400. */
  readonly timeoutSeconds?: number;
  /** Default `fail`. */
  readonly onTimeout?: OnError;
}

export const APPROVER_ROLES = ['Tenant.Admin', 'Tenant.User'] as const;
export type ApproverRole = (typeof APPROVER_ROLES)[number];

export interface ApprovalStep extends StepBase {
  readonly type: 'approval';
  readonly approvers: { readonly users?: readonly string[]; readonly roles?: readonly ApproverRole[] };
  /** Default 1. */
  readonly minApprovals?: number;
  readonly title?: string;
  readonly message?: string | Expression;
  /** Default 86400. */
  readonly timeoutSeconds?: number;
  /** Default `fail`. */
  readonly onTimeout?: OnError;
  /** Default `fail`. */
  readonly onReject?: OnError;
}

export interface SubWorkflowStep extends StepBase {
  readonly type: 'subWorkflow';
  readonly workflowId: string;
  readonly version: number | 'latest';
  readonly inputs?: InputMap;
  readonly timeoutSeconds?: number;
}

export type StepDefinition = ActionStep | ForEachStep | DelayStep | WaitForEventStep | ApprovalStep | SubWorkflowStep;

/** A string, or a secret reference (for header values and credentials). */
export type StringOrSecret = string | SecretReference;

export type RestAuth =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: SecretReference }
  | { readonly type: 'basic'; readonly username: StringOrSecret; readonly password: SecretReference }
  | { readonly type: 'apiKey'; readonly in: 'header' | 'query'; readonly name: string; readonly value: SecretReference }
  | {
      readonly type: 'oauth2ClientCredentials';
      readonly tokenUrl: string;
      readonly clientId: StringOrSecret;
      readonly clientSecret: SecretReference;
      readonly scope?: string;
      readonly audience?: string;
      readonly clientAuth?: 'body' | 'basic';
    };

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One operation (= action) of a declared REST connector. */
export interface RestOperation {
  readonly method: HttpMethod;
  /** Appended to baseUrl; `{name}` placeholders are filled from the step's `inputs.path`. */
  readonly path: string;
  readonly description?: string;
  readonly headers?: { readonly [name: string]: StringOrSecret };
  readonly query?: { readonly [name: string]: string };
  /** JSON Schema (2020-12) of the step's inputs `{path, query, headers, body}`. */
  readonly input?: { readonly [keyword: string]: unknown };
  /** `binary`: `inputs.body` is an artifact reference, streamed. */
  readonly bodyType?: 'json' | 'form' | 'text' | 'binary';
  /** `binary` streams the response into an artifact (`body` is its reference); `auto` does so for non-text content types. */
  readonly responseType?: 'json' | 'text' | 'auto' | 'binary';
  /** Cap of a response streamed into an artifact (default and maximum: the operator's, `AIQ_MAX_STREAMED_BYTES`). */
  readonly maxResponseBytes?: number;
}

/** A REST connector declared in the definition itself. */
export interface DeclaredRestConnector {
  readonly type: 'rest';
  readonly description?: string;
  /** http(s), without query, fragment or credentials; every request stays under it. */
  readonly baseUrl: string;
  /** Tried in order after a retryable fault of `baseUrl` (same rules). */
  readonly fallbackBaseUrls?: readonly string[];
  readonly auth?: RestAuth;
  readonly headers?: { readonly [name: string]: StringOrSecret };
  /** Per request; default 30. */
  readonly timeoutSeconds?: number;
  readonly operations: { readonly [action: string]: RestOperation };
}

export type InputType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

/** The JSON Schema subset for run inputs. */
export interface InputPropertySchema {
  readonly type: InputType;
  readonly title?: string;
  readonly description?: string;
  readonly default?: JsonValue;
  readonly enum?: readonly JsonValue[];
  readonly examples?: readonly JsonValue[];
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
  readonly items?: InputPropertySchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly properties?: { readonly [name: string]: InputPropertySchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
}

/** The run input: always an object. */
export interface InputsSchema {
  readonly type: 'object';
  readonly description?: string;
  readonly properties?: { readonly [name: string]: InputPropertySchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
}

export interface WorkflowDefinition {
  readonly schemaVersion: 1;
  readonly name: string;
  readonly description?: string;
  readonly inputs?: InputsSchema;
  readonly outputs?: { readonly [name: string]: ValueTemplate };
  readonly steps: readonly StepDefinition[];
  /** Run-level; default 604800 (7 days). */
  readonly timeoutSeconds?: number;
  readonly connectors?: { readonly [connectorId: string]: DeclaredRestConnector };
}

export function isExpression(value: unknown): value is Expression {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '$expr' in value;
}

export function isSecretReference(value: unknown): value is SecretReference {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '$secret' in value;
}

export function isLiteralValue(value: unknown): value is LiteralValue {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '$literal' in value;
}
