import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { EgressPolicy } from '../domain/egress.js';
import { AppError, ErrorCodes, type ValidationProblem, ValidationError } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';
import type { StepArtifacts } from '../ports/artifactStore.js';

/** What an action gets besides its input: who runs it, a cancellation signal for the step timeout, a logger. */
export interface ActionContext {
  tenantId: string;
  runId: string;
  stepId: string;
  /** Aborted when the step's timeout passes or the run is cancelled. */
  signal: AbortSignal;
  /** A line in the step log (never pass secret values). */
  log(message: string, level?: 'information' | 'warning' | 'error'): void;
  /**
   * Marks a value derived from secrets (e.g. an encoded `user:password`) so it is redacted from the step's
   * output, errors and logs like the resolved secrets themselves (which are redacted without this).
   */
  redact?(value: string): void;
  /**
   * The egress allow-list of the tenant the step runs for (hosts/CIDRs, ports), if it has one. A connector that
   * connects out checks with its operator policy merged with this one (`withTenantEgress`), for this call only.
   */
  egress?: EgressPolicy | undefined;
  /**
   * Artifacts as streams, scoped to this tenant and step: `open(ref)` → { stream, size, contentType } and
   * `create(stream, { contentType, name, maxBytes })` → a reference later steps receive like a claim-checked
   * output. Absent where no artifact store is wired (direct calls in tests); actions then keep content inline.
   */
  artifacts?: StepArtifacts;
}

/** Rendered inputs that do not match the action's input schema (every problem listed); permanent. */
export const STEP_INPUT_INVALID = 'STEP.INPUT_INVALID';

/** A JSON Schema (2020-12) object. */
export type JsonSchema = Record<string, unknown>;

/** The schema of an artifact reference in connector inputs (the claim check's shape, see `isArtifactRef`). */
export const artifactRefSchema: JsonSchema = {
  type: 'object',
  required: ['$artifact', 'size', 'contentType', 'sha256'],
  additionalProperties: false,
  properties: {
    $artifact: { type: 'string', pattern: '^artifact://' },
    size: { type: 'integer', minimum: 0 },
    contentType: { type: 'string' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
};

export interface ActionDefinition<TInput = JsonValue, TOutput extends JsonValue = JsonValue> {
  name: string;
  description: string;
  /** Validates the literal inputs at publish time (when they hold no expression or secret) and the rendered inputs before every call. */
  input: JsonSchema;
  output?: JsonSchema;
  run(input: TInput, context: ActionContext): Promise<TOutput>;
}

export interface ConnectorDefinition {
  name: string;
  description: string;
  /** The shape of the connection/credentials the connector expects (secret references), if any. */
  auth?: JsonSchema;
  actions: readonly ActionDefinition<never, JsonValue>[];
  /** The kind of connector a workflow definition may declare as JSON and this connector runs, if any. */
  declarable?: DeclarableConnector;
  /** Releases what the connector holds (connection pools); called when the app stops. */
  close?(): Promise<void>;
}

/**
 * A kind of connector a workflow definition declares as JSON in `connectors` (`{"type": "rest", ...}`), run by the
 * platform connector that offers it. Its operations become actions, built per call from the (secret-resolved)
 * declaration; an action validates its own inputs before it sends anything (STEP.INPUT_INVALID).
 */
export interface DeclarableConnector {
  /** The `type` of the declarations it runs. */
  type: string;
  /** The action running `operation` of the connector declared as `connectorId`; throws WORKFLOW.INVALID when it has no such operation. */
  action(connectorId: string, declaration: JsonValue, operation: string): ActionDefinition<never, JsonValue>;
}

/**
 * A failure an action reports. `retryable: true` (a transient fault: timeout, 429, 5xx, connection reset) is
 * thrown so the durable retry policy retries it; permanent faults fail the step at once.
 */
export class ConnectorError extends AppError {
  override readonly name = 'ConnectorError';
}

/** Declares one action: its input/output schemas and what it does. */
export function defineAction<TInput, TOutput extends JsonValue>(definition: ActionDefinition<TInput, TOutput>): ActionDefinition<TInput, TOutput> {
  return definition;
}

/** Declares a connector: a name and a list of actions (never a switch over action names). */
export function defineConnector(definition: ConnectorDefinition): ConnectorDefinition {
  const names = new Set<string>();
  for (const action of definition.actions) {
    if (names.has(action.name)) throw new Error(`Connector '${definition.name}' declares the action '${action.name}' twice.`);
    names.add(action.name);
  }
  return definition;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);

/** The registry of connectors the engine can call; adding a connector is one line where it is built. */
export class ConnectorRegistry {
  readonly #connectors = new Map<string, ConnectorDefinition>();
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #declarable = new Map<string, DeclarableConnector>();

  constructor(connectors: readonly ConnectorDefinition[]) {
    for (const connector of connectors) {
      if (this.#connectors.has(connector.name)) throw new Error(`Two connectors are named '${connector.name}'.`);
      this.#connectors.set(connector.name, connector);
      if (connector.declarable) {
        if (this.#declarable.has(connector.declarable.type)) throw new Error(`Two connectors run declared connectors of type '${connector.declarable.type}'.`);
        this.#declarable.set(connector.declarable.type, connector.declarable);
      }
      for (const action of connector.actions) this.#validators.set(`${connector.name}/${action.name}`, ajv.compile(action.input));
    }
  }

  /** Closes every connector that holds resources (pools); a failure of one does not keep the others open. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#connectors.values()].map((connector) => connector.close?.()));
  }

  /** Connector name → action names, for validating definitions. */
  catalog(): ReadonlyMap<string, ReadonlySet<string>> {
    return new Map([...this.#connectors].map(([name, connector]) => [name, new Set(connector.actions.map((action) => action.name))]));
  }

  /** Whether `name` is a connector of the platform (a name a definition cannot declare). */
  has(name: string): boolean {
    return this.#connectors.has(name);
  }

  /**
   * The action running `operation` of the connector a definition declares as `connectorId` (`declaration`, its
   * secret references already resolved). WORKFLOW.INVALID when no platform connector runs its `type`.
   */
  declaredAction(connectorId: string, declaration: JsonValue, operation: string): ActionDefinition<never, JsonValue> {
    const type = declaration !== null && typeof declaration === 'object' && !Array.isArray(declaration) ? declaration['type'] : undefined;
    const kind = typeof type === 'string' ? this.#declarable.get(type) : undefined;
    if (!kind) throw new AppError(ErrorCodes.workflowInvalid, `The declared connector '${connectorId}' has a type no platform connector runs.`);
    return kind.action(connectorId, declaration, operation);
  }

  action(connector: string, action: string): ActionDefinition<never, JsonValue> {
    const found = this.#connectors.get(connector)?.actions.find((candidate) => candidate.name === action);
    if (!found) throw new AppError(ErrorCodes.workflowInvalid, `The connector action '${connector}.${action}' does not exist.`);
    return found;
  }

  /** Every problem of inputs against the action's schema (pointers start with `/inputs`); empty when valid. */
  inputProblems(connector: string, action: string, input: unknown): ValidationProblem[] {
    const validate = this.#validators.get(`${connector}/${action}`);
    if (!validate) throw new AppError(ErrorCodes.workflowInvalid, `The connector action '${connector}.${action}' does not exist.`);
    if (validate(input)) return [];
    return (validate.errors ?? []).map((error) => ({ pointer: `/inputs${error.instancePath}`, message: error.message ?? 'is invalid', kind: error.keyword }));
  }

  /** Checks rendered inputs against the action's schema; every problem is reported (STEP.INPUT_INVALID). */
  validateInput(connector: string, action: string, input: unknown): void {
    const problems = this.inputProblems(connector, action, input);
    if (problems.length > 0) throw new ValidationError(STEP_INPUT_INVALID, `The inputs of '${connector}.${action}' are invalid.`, problems);
  }
}
