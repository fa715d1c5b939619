/**
 * Validation of workflow definitions: the JSON Schema, then the static checks a schema cannot express. Every
 * problem is collected (the static checks also run on a definition with schema errors, on the parts that are
 * well-formed enough) and thrown at once as a ValidationError with code WORKFLOW.INVALID.
 *
 * Semantics the checks rely on (documented in docs/workflow-language.md):
 * - A steps list (top-level, or a forEach body) is a graph: `dependsOn` edges, plus an edge from a step to the
 *   handler named by its onError/onTimeout/onReject `goto`. dependsOn and goto name steps of the same list.
 * - A handler step (a goto target) has no dependsOn; it runs only when a step fails into it.
 * - Reachability: a step *can run* when it is a root (no dependsOn, not a handler); a handler can run when one
 *   of the steps that go to it can run; a step with dependsOn can run when all (join "all") or one (join "any")
 *   of its dependencies *can complete*. A step can complete when it can run and does not always fail (a
 *   `core.fail` action without fallbacks whose onError is not "continue" always fails). Steps that cannot
 *   run are reported as unreachable (not in a steps list that has a cycle: the cycle is reported instead).
 * - Upstream: the steps an expression may read are the step's ancestors in its list's graph, plus the
 *   upstream of the enclosing forEach (recursively). Top-level outputs may read every top-level step; a
 *   forEach output may read its body steps.
 */
import { ErrorCodes, ValidationError, type ValidationProblem } from '../errors.js';
import type { JsonValue } from '../json.js';
import { WORKFLOW_ID_PATTERN } from '../workflow.js';
import { CORE_ACTIONS, CORE_CONNECTOR_ID, DEFAULTS, LIMITS, SECRET_NAME_PATTERN, type CoreAction } from './constants.js';
import { analyzeExpression, ExpressionSyntaxError, parseExpression } from './expressions.js';
import { ancestors, createGraph, findCycles, type EdgeKind, type GraphEdge, type StepGraph } from './graph.js';
import { inputValueProblem, schemaProblems } from './schemaProblems.js';
import { operationPathProblem, operationSchemaInputProblems, operationSchemaProblem, pathPlaceholders, pathValueProblem, secretReferencesIn } from './declaredOperations.js';
import { pointer, suggest } from './text.js';
import type { WorkflowDefinition } from './types.js';

/** What the static checks need to know about the tenant and the platform. */
export interface ValidationContext {
  /** Connectors of the platform (connector id → its actions). `core` is always known; connectors declared in the definition count too. */
  connectors: ReadonlyMap<string, { actions: ReadonlySet<string> }>;
  /** The names of the tenant's secrets (never their values). */
  secretNames: ReadonlySet<string>;
  /** Whether the tenant has a workflow with this id; when absent, sub-workflow ids are not checked. */
  workflowExists?: (workflowId: string) => boolean;
  /**
   * The problems of a platform connector action's literal inputs against its input schema (pointers start with
   * `/inputs`). Only inputs without `$expr`/`$secret`/`$literal` are checked here; the rest are checked when the
   * step runs. When absent, inputs of platform connectors are not checked at publish time.
   */
  actionInputProblems?: (connector: string, action: string, inputs: unknown) => ReadonlyArray<{ pointer: string; message: string; kind?: string }>;
}

/** Why a declared connector's base URL cannot be used; `undefined` when it is fine. */
function baseUrlProblem(baseUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined; // not a URL: the schema reports it (format)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined; // the schema reports it (pattern)
  if (url.username !== '' || url.password !== '') return 'must not contain credentials; use auth';
  if (url.search !== '' || url.hash !== '' || baseUrl.includes('?') || baseUrl.includes('#')) return 'must not have a query or fragment; put query parameters in the operations';
  return undefined;
}

/** Validates a definition; returns it typed, or throws a ValidationError (WORKFLOW.INVALID) listing every problem. */
export function validateDefinition(definition: unknown, context: ValidationContext): WorkflowDefinition {
  const problems = definitionProblems(definition, context);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ValidationError(
      ErrorCodes.workflowInvalid,
      `The workflow definition is invalid: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`} (first: ${first.pointer || '/'}: ${first.message}).`,
      problems,
    );
  }
  return definition as WorkflowDefinition;
}

/** Every problem of a definition (empty when it is valid), in a stable order, at most LIMITS.maxProblems + 1. */
export function definitionProblems(definition: unknown, context: ValidationContext): ValidationProblem[] {
  const deep = tooDeepAt(definition);
  if (deep !== undefined) {
    return [{ pointer: deep, kind: 'nestingTooDeep', message: `the definition is nested more than ${LIMITS.maxJsonDepth} levels deep` }];
  }
  const size = serializedSize(definition);
  if (size > LIMITS.maxDefinitionBytes) {
    return [{ pointer: '', kind: 'tooLarge', message: `the definition is ${size} bytes; the limit is ${LIMITS.maxDefinitionBytes}` }];
  }
  const problems = [...schemaProblems(definition)];
  if (isObject(definition)) problems.push(...new StaticChecker(definition, context).run());
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.kind ?? ''}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length <= LIMITS.maxProblems) return unique;
  return [
    ...unique.slice(0, LIMITS.maxProblems),
    { pointer: '', kind: 'tooManyProblems', message: `${unique.length - LIMITS.maxProblems} more problems are not listed` },
  ];
}

/** The pointer of the first value nested deeper than LIMITS.maxJsonDepth (iteratively: no recursion on hostile input). */
function tooDeepAt(root: unknown): string | undefined {
  const stack: { value: unknown; at: string; depth: number }[] = [{ value: root, at: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, at, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= LIMITS.maxJsonDepth) return at;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (let k = entries.length - 1; k >= 0; k--) stack.push({ value: entries[k]![1], at: pointer(at, entries[k]![0]), depth: depth + 1 });
  }
  return undefined;
}

function serializedSize(value: unknown): number {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? 0 : new TextEncoder().encode(text).length;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
const MARKERS = ['$expr', '$secret', '$literal'] as const;
/** Whether a value holds an expression, secret or literal marker anywhere (its final shape is known only at run time). */
function holdsMarker(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsMarker);
  if (!isObject(value)) return false;
  return markerOf(value) !== undefined || Object.values(value).some(holdsMarker);
}

function markerOf(value: Obj): (typeof MARKERS)[number] | undefined {
  return MARKERS.find((m) => Object.prototype.hasOwnProperty.call(value, m));
}
function isExpressionObject(value: unknown): boolean {
  return isObject(value) && markerOf(value) === '$expr';
}
const quoteList = (names: Iterable<string>): string => [...names].map((n) => `'${n}'`).join(', ');

interface StepNode {
  readonly id: string;
  readonly raw: Obj;
  readonly pointer: string;
  readonly type: string | undefined;
  readonly scope: Scope;
  /** Number of enclosing forEach steps. */
  readonly loopDepth: number;
  body?: Scope;
}

interface Scope {
  /** Pointer of the steps array. */
  readonly pointer: string;
  /** The forEach whose body this is; null for the top-level steps. */
  readonly owner: StepNode | null;
  readonly steps: StepNode[];
  /** First step with each id in this list. */
  readonly byId: Map<string, StepNode>;
  graph: StepGraph;
  /** Handler id → the edges that lead to it. */
  readonly handlers: Map<string, GraphEdge[]>;
  hasCycle: boolean;
}

/** Where an expression is evaluated: what it may read. */
interface EvalScope {
  readonly upstream: ReadonlySet<string>;
  /** The steps lists whose steps are visible (the chain of enclosing lists). */
  readonly scopes: ReadonlySet<Scope>;
  readonly loop: boolean;
  readonly handler: boolean;
  /** The step the expression belongs to; null for the top-level outputs. */
  readonly self: StepNode | null;
}

type SecretPolicy = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };
const SECRETS_ALLOWED: SecretPolicy = { allowed: true };
const noSecrets = (reason: string): SecretPolicy => ({ allowed: false, reason });

const CORE_INPUTS: Readonly<Record<CoreAction, { required: readonly string[]; optional: readonly string[] }>> = {
  noop: { required: [], optional: [] },
  set: { required: ['value'], optional: [] },
  log: { required: ['message'], optional: ['level', 'data'] },
  fail: { required: ['message'], optional: ['code', 'kind'] },
};
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
const REST_INPUTS = ['path', 'query', 'headers', 'body'];
const EDGE_WORDS: Readonly<Record<EdgeKind, string>> = {
  dependsOn: 'depends on',
  onError: 'handles the errors of',
  onTimeout: 'handles the timeout of',
  onReject: 'handles the rejection of',
};

interface KnownConnector {
  readonly actions: ReadonlySet<string>;
  /** The operations of a connector declared in the definition. */
  readonly operations?: Obj;
}

class StaticChecker {
  private readonly problems: ValidationProblem[] = [];
  /** Every step node by id (duplicates included, in document order). */
  private readonly nodesById = new Map<string, StepNode[]>();
  private readonly connectors = new Map<string, KnownConnector>();
  private readonly upstreamCache = new Map<StepNode, Set<string>>();
  private stepCount = 0;
  private inputNames: ReadonlySet<string> | undefined;

  constructor(
    private readonly definition: Obj,
    private readonly context: ValidationContext,
  ) {}

  run(): ValidationProblem[] {
    const top = Array.isArray(this.definition['steps']) ? this.collect(this.definition['steps'], '/steps', null, 0) : undefined;
    const topLevel = asArray(this.definition['steps']).length;
    if (this.stepCount > LIMITS.maxSteps) {
      // More than the limit in the top-level list alone is reported by the schema (maxItems).
      if (topLevel > LIMITS.maxSteps) return this.problems;
      this.report('/steps', 'tooManySteps', `the definition has ${this.stepCount} steps (forEach bodies included); the limit is ${LIMITS.maxSteps}`);
      return this.problems;
    }
    this.collectConnectors();
    this.collectInputNames();
    if (top) {
      this.checkScope(top);
      this.checkStepsIn(top);
    }
    this.checkOutputs(top);
    this.checkDeclaredConnectors();
    this.checkInputDefaults();
    return this.problems;
  }

  private report(at: string, kind: string, message: string): void {
    this.problems.push({ pointer: at, kind, message });
  }

  // --- collection ---------------------------------------------------------------------------------------

  private collect(raw: readonly unknown[], at: string, owner: StepNode | null, loopDepth: number): Scope {
    const scope: Scope = { pointer: at, owner, steps: [], byId: new Map(), graph: createGraph([], []), handlers: new Map(), hasCycle: false };
    raw.forEach((value, i) => {
      if (!isObject(value)) return;
      this.stepCount++;
      const id = asString(value['id']);
      if (id === undefined) return;
      const node: StepNode = { id, raw: value, pointer: pointer(at, i), type: asString(value['type']), scope, loopDepth };
      const previous = this.nodesById.get(id);
      if (previous) {
        this.report(pointer(node.pointer, 'id'), 'duplicateId', `step id '${id}' is already used by ${previous[0]!.pointer}`);
        previous.push(node);
      } else {
        this.nodesById.set(id, [node]);
      }
      scope.steps.push(node);
      if (!scope.byId.has(id)) scope.byId.set(id, node);
      if (node.type !== 'forEach') return;
      if (loopDepth + 1 > LIMITS.maxForEachDepth) {
        this.report(node.pointer, 'nestingTooDeep', `forEach steps can be nested ${LIMITS.maxForEachDepth} levels deep at most`);
      } else if (Array.isArray(value['steps'])) {
        node.body = this.collect(value['steps'], pointer(node.pointer, 'steps'), node, loopDepth + 1);
      }
    });
    return scope;
  }

  private collectConnectors(): void {
    for (const [id, connector] of this.context.connectors) this.connectors.set(id, { actions: connector.actions });
    if (!this.connectors.has(CORE_CONNECTOR_ID)) this.connectors.set(CORE_CONNECTOR_ID, { actions: new Set(CORE_ACTIONS) });
    const declared = this.definition['connectors'];
    if (!isObject(declared)) return;
    for (const [id, connector] of Object.entries(declared)) {
      if (this.connectors.has(id)) {
        this.report(pointer('/connectors', id), 'connectorConflict', `'${id}' is already a connector of the platform; choose another id`);
        continue;
      }
      const operations = isObject(connector) && isObject(connector['operations']) ? connector['operations'] : {};
      this.connectors.set(id, { actions: new Set(Object.keys(operations)), operations });
    }
  }

  private collectInputNames(): void {
    const inputs = this.definition['inputs'];
    if (isObject(inputs) && isObject(inputs['properties'])) this.inputNames = new Set(Object.keys(inputs['properties']));
    else if (isObject(inputs)) this.inputNames = new Set();
  }

  // --- graph checks -------------------------------------------------------------------------------------

  /** Resolves dependsOn/goto, builds the graph, reports cycles, handler misuse and unreachable steps; then the bodies. */
  private checkScope(scope: Scope): void {
    const edges: GraphEdge[] = [];
    for (const node of scope.steps) {
      asArray(node.raw['dependsOn']).forEach((dep, j) => {
        if (typeof dep !== 'string') return;
        if (this.resolveInScope(dep, scope, pointer(node.pointer, 'dependsOn', j), 'dependsOn')) edges.push({ from: dep, to: node.id, kind: 'dependsOn' });
      });
      for (const kind of ['onError', 'onTimeout', 'onReject'] as const) {
        const value = node.raw[kind];
        const target = isObject(value) ? asString(value['goto']) : undefined;
        if (target === undefined) continue;
        if (this.resolveInScope(target, scope, pointer(node.pointer, kind, 'goto'), `${kind} goto`)) edges.push({ from: node.id, to: target, kind });
      }
    }
    scope.graph = createGraph([...scope.byId.keys()], edges);
    for (const edge of scope.graph.edges) {
      if (edge.kind === 'dependsOn') continue;
      const list = scope.handlers.get(edge.to) ?? [];
      list.push(edge);
      scope.handlers.set(edge.to, list);
    }
    for (const [handlerId, incoming] of scope.handlers) {
      const handler = scope.byId.get(handlerId)!;
      if (asArray(handler.raw['dependsOn']).length > 0) {
        const sources = quoteList(new Set(incoming.map((e) => e.from)));
        this.report(
          pointer(handler.pointer, 'dependsOn'),
          'invalidHandler',
          `step '${handlerId}' is a handler (goto target of ${sources}), so it cannot have dependsOn: a handler starts only when a step fails into it`,
        );
      }
    }
    const cycles = findCycles(scope.graph);
    scope.hasCycle = cycles.length > 0;
    for (const cycle of cycles) this.reportCycle(scope, cycle);
    if (!scope.hasCycle) this.checkReachability(scope);
    for (const node of scope.steps) if (node.body) this.checkScope(node.body);
  }

  /** Whether `id` names a step of `scope`; reports an unknownStep problem when not. */
  private resolveInScope(id: string, scope: Scope, at: string, what: string): boolean {
    if (scope.byId.has(id)) return true;
    const elsewhere = this.nodesById.get(id)?.[0];
    if (elsewhere) {
      const where = elsewhere.scope.owner ? `it is in the body of forEach '${elsewhere.scope.owner.id}'` : 'it is a top-level step';
      const here = scope.owner ? `the body of forEach '${scope.owner.id}'` : 'the top-level steps';
      this.report(at, 'unknownStep', `step '${id}' is not in ${here} (${where}); ${what} can only name steps of the same steps list`);
    } else {
      this.report(at, 'unknownStep', `no step has id '${id}'${suggest(id, scope.byId.keys())}`);
    }
    return false;
  }

  private reportCycle(scope: Scope, cycle: readonly string[]): void {
    const edgeBetween = (from: string, to: string): GraphEdge => scope.graph.incoming.get(to)!.find((e) => e.from === from)!;
    const closing = edgeBetween(cycle[cycle.length - 2]!, cycle[0]!);
    const start = scope.byId.get(cycle[0]!)!;
    const at =
      closing.kind === 'dependsOn'
        ? pointer(start.pointer, 'dependsOn', asArray(start.raw['dependsOn']).indexOf(closing.from))
        : pointer(scope.byId.get(closing.from)!.pointer, closing.kind, 'goto');
    if (cycle.length === 2) {
      const message = closing.kind === 'dependsOn' ? `step '${cycle[0]}' depends on itself` : `step '${cycle[0]}' is its own ${closing.kind} handler`;
      this.report(at, 'cycle', message);
      return;
    }
    const reasons: string[] = [];
    for (let k = 0; k + 1 < cycle.length; k++) {
      const edge = edgeBetween(cycle[k]!, cycle[k + 1]!);
      reasons.push(`'${edge.to}' ${EDGE_WORDS[edge.kind]} '${edge.from}'`);
    }
    this.report(at, 'cycle', `steps form a cycle: ${cycle.join(' → ')} (${reasons.join(', ')})`);
  }

  private alwaysFails(node: StepNode): boolean {
    const raw = node.raw;
    return (
      node.type === 'action' &&
      raw['connector'] === CORE_CONNECTOR_ID &&
      raw['action'] === 'fail' &&
      asArray(raw['fallbacks']).length === 0 &&
      raw['onError'] !== 'continue'
    );
  }

  private checkReachability(scope: Scope): void {
    const ids = [...scope.byId.keys()];
    const canRun = new Map(ids.map((id) => [id, false]));
    const canComplete = new Map(ids.map((id) => [id, false]));
    const depsOf = (id: string): string[] => scope.graph.incoming.get(id)!.filter((e) => e.kind === 'dependsOn').map((e) => e.from);
    const joinAny = (id: string): boolean => scope.byId.get(id)!.raw['join'] === 'any';
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of ids) {
        if (canRun.get(id)) continue;
        const handlerEdges = scope.handlers.get(id);
        const deps = depsOf(id);
        let run: boolean;
        if (handlerEdges) run = handlerEdges.some((e) => canRun.get(e.from));
        else if (deps.length === 0) run = true;
        else run = joinAny(id) ? deps.some((d) => canComplete.get(d)) : deps.every((d) => canComplete.get(d));
        if (run) {
          canRun.set(id, true);
          canComplete.set(id, !this.alwaysFails(scope.byId.get(id)!));
          changed = true;
        }
      }
    }
    for (const id of ids) {
      if (canRun.get(id)) continue;
      const node = scope.byId.get(id)!;
      const handlerEdges = scope.handlers.get(id);
      let reason: string;
      if (handlerEdges) {
        reason = `it is a handler and none of the steps that go to it (${quoteList(new Set(handlerEdges.map((e) => e.from)))}) can run`;
      } else {
        const blocking = depsOf(id).filter((d) => !canComplete.get(d));
        const describe = (d: string): string =>
          canRun.get(d) ? `'${d}', which always fails (core.fail without fallbacks and without onError "continue")` : `'${d}', which can never run`;
        reason = joinAny(id) ? `none of its dependencies can complete (${blocking.map(describe).join('; ')})` : `it depends on ${describe(blocking[0]!)}`;
      }
      this.report(node.pointer, 'unreachable', `step '${id}' can never run: ${reason}`);
    }
  }

  // --- per-step checks ----------------------------------------------------------------------------------

  private isHandler(node: StepNode): boolean {
    return node.scope.handlers.has(node.id) || (node.scope.owner !== null && this.isHandler(node.scope.owner));
  }

  private upstreamOf(node: StepNode): Set<string> {
    const cached = this.upstreamCache.get(node);
    if (cached) return cached;
    const result = node.scope.byId.get(node.id) === node ? ancestors(node.scope.graph, node.id) : new Set<string>();
    if (node.scope.owner) for (const id of this.upstreamOf(node.scope.owner)) result.add(id);
    this.upstreamCache.set(node, result);
    return result;
  }

  private scopeChain(scope: Scope): Set<Scope> {
    const chain = new Set<Scope>();
    for (let s: Scope | undefined = scope; s; s = s.owner?.scope) chain.add(s);
    return chain;
  }

  private evalScopeOf(node: StepNode): EvalScope {
    return { upstream: this.upstreamOf(node), scopes: this.scopeChain(node.scope), loop: node.loopDepth > 0, handler: this.isHandler(node), self: node };
  }

  private checkStepsIn(scope: Scope): void {
    for (const node of scope.steps) {
      this.checkStep(node);
      if (node.body) this.checkStepsIn(node.body);
    }
  }

  private checkStep(node: StepNode): void {
    const raw = node.raw;
    const at = node.pointer;
    const ev = this.evalScopeOf(node);
    this.checkExpressionAt(raw['condition'], pointer(at, 'condition'), ev);
    this.checkTimeouts(node);
    switch (node.type) {
      case 'action':
        this.checkCall(raw, at, ev, undefined);
        break;
      case 'forEach': {
        const items = raw['items'];
        if (Array.isArray(items)) this.checkTemplate(items, pointer(at, 'items'), ev, noSecrets('forEach items are stored in the run history'));
        else this.checkExpressionAt(items, pointer(at, 'items'), ev);
        const iteration: EvalScope = { ...ev, loop: true };
        if (isObject(raw['action'])) this.checkCall(raw['action'], pointer(at, 'action'), iteration, undefined);
        if ('output' in raw) {
          const bodyIds = node.body ? [...node.body.byId.keys()] : [];
          const scopes = new Set(ev.scopes);
          if (node.body) scopes.add(node.body);
          this.checkTemplate(
            raw['output'],
            pointer(at, 'output'),
            { ...iteration, upstream: new Set([...ev.upstream, ...bodyIds]), scopes },
            noSecrets('outputs are stored in the run history'),
          );
        }
        break;
      }
      case 'delay':
        if (isObject(raw['durationSeconds'])) this.checkExpressionAt(raw['durationSeconds'], pointer(at, 'durationSeconds'), ev);
        if (isObject(raw['until'])) this.checkExpressionAt(raw['until'], pointer(at, 'until'), ev);
        break;
      case 'waitForEvent':
        if (isObject(raw['correlationKey'])) this.checkExpressionAt(raw['correlationKey'], pointer(at, 'correlationKey'), ev);
        break;
      case 'approval':
        if (isObject(raw['message'])) this.checkExpressionAt(raw['message'], pointer(at, 'message'), ev);
        break;
      case 'subWorkflow': {
        const workflowId = asString(raw['workflowId']);
        if (workflowId !== undefined && WORKFLOW_ID_PATTERN.test(workflowId) && this.context.workflowExists && !this.context.workflowExists(workflowId)) {
          this.report(pointer(at, 'workflowId'), 'unknownWorkflow', `no workflow has id '${workflowId}'`);
        }
        if ('inputs' in raw) {
          this.checkTemplate(raw['inputs'], pointer(at, 'inputs'), ev, noSecrets("a sub-workflow's input is stored in its run history; the child workflow can reference the secret itself"));
        }
        break;
      }
      default:
        break;
    }
  }

  private checkTimeouts(node: StepNode): void {
    const runTimeout = typeof this.definition['timeoutSeconds'] === 'number' ? this.definition['timeoutSeconds'] : DEFAULTS.runTimeoutSeconds;
    const raw = node.raw;
    const explain = `longer than the run-level timeoutSeconds (${runTimeout})`;
    if (typeof raw['timeoutSeconds'] === 'number' && raw['timeoutSeconds'] > runTimeout) {
      this.report(pointer(node.pointer, 'timeoutSeconds'), 'timeoutExceedsRun', `${raw['timeoutSeconds']} s is ${explain}`);
    } else if ((node.type === 'waitForEvent' || node.type === 'approval') && raw['timeoutSeconds'] === undefined && DEFAULTS.waitTimeoutSeconds > runTimeout) {
      this.report(node.pointer, 'timeoutExceedsRun', `the step waits up to ${DEFAULTS.waitTimeoutSeconds} s by default, ${explain}; set a shorter timeoutSeconds`);
    }
    if (node.type === 'delay' && typeof raw['durationSeconds'] === 'number' && raw['durationSeconds'] > runTimeout) {
      this.report(pointer(node.pointer, 'durationSeconds'), 'timeoutExceedsRun', `${raw['durationSeconds']} s is ${explain}`);
    }
  }

  /** An action call (an action step, a forEach action or a fallback): connector, action, inputs, fallbacks. */
  private checkCall(raw: Obj, at: string, ev: EvalScope, inherited: { connector: string | undefined; action: string | undefined } | undefined): void {
    const ownConnector = asString(raw['connector']);
    const ownAction = asString(raw['action']);
    const connectorId = ownConnector ?? inherited?.connector;
    const action = ownAction ?? inherited?.action;
    const connector = connectorId === undefined ? undefined : this.connectors.get(connectorId);
    let operation: Obj | undefined;
    if (connectorId !== undefined && connector === undefined && ownConnector !== undefined) {
      this.report(pointer(at, 'connector'), 'unknownConnector', `no connector has id '${connectorId}'${suggest(connectorId, this.connectors.keys())}`);
    } else if (connector && action !== undefined && !connector.actions.has(action)) {
      const known = [...connector.actions].sort();
      const tail = known.length > 0 ? `; its actions: ${known.join(', ')}` : '';
      if (ownAction !== undefined) {
        this.report(pointer(at, 'action'), 'unknownAction', `connector '${connectorId}' has no action '${action}'${suggest(action, known)}${tail}`);
      } else if (ownConnector !== undefined) {
        this.report(pointer(at, 'connector'), 'unknownAction', `connector '${connectorId}' has no action '${action}' (the step's action)${tail}`);
      }
    } else if (connector?.operations && action !== undefined) {
      operation = isObject(connector.operations[action]) ? connector.operations[action] : undefined;
    }
    const hasInputs = 'inputs' in raw;
    if (hasInputs) {
      const policy = connectorId === CORE_CONNECTOR_ID ? noSecrets('core actions keep their inputs in the run history; pass secrets only to connector actions') : SECRETS_ALLOWED;
      this.checkTemplate(raw['inputs'], pointer(at, 'inputs'), ev, policy);
    }
    if (hasInputs || inherited === undefined) {
      if (connectorId === CORE_CONNECTOR_ID && connector && action !== undefined && (CORE_ACTIONS as readonly string[]).includes(action)) {
        this.checkCoreInputs(action as CoreAction, raw['inputs'], at);
      }
      if (operation) {
        this.checkRestInputs(action!, operation, raw['inputs'], at);
        this.checkOperationSchema(operation, raw['inputs'], at);
      }
      const platformAction = connectorId !== CORE_CONNECTOR_ID && !connector?.operations && action !== undefined && connector?.actions.has(action);
      const inputs = raw['inputs'] ?? {};
      if (platformAction && this.context.actionInputProblems && !holdsMarker(inputs)) {
        for (const problem of this.context.actionInputProblems(connectorId!, action!, inputs)) this.report(`${at}${problem.pointer}`, problem.kind ?? 'inputInvalid', problem.message);
      }
    }
    asArray(raw['fallbacks']).forEach((fallback, k) => {
      if (isObject(fallback)) this.checkCall(fallback, pointer(at, 'fallbacks', k), ev, { connector: connectorId, action });
    });
  }

  private checkCoreInputs(action: CoreAction, inputs: unknown, at: string): void {
    if (isExpressionObject(inputs)) return;
    const given = isObject(inputs) ? inputs : {};
    const spec = CORE_INPUTS[action];
    for (const name of spec.required) {
      if (!(name in given)) this.report(pointer(at, 'inputs', name), 'invalidInput', `core.${action} needs the input '${name}'`);
    }
    for (const name of Object.keys(given)) {
      if (!spec.required.includes(name) && !spec.optional.includes(name)) {
        const known = [...spec.required, ...spec.optional];
        this.report(
          pointer(at, 'inputs', name),
          'invalidInput',
          known.length === 0 ? `core.${action} takes no inputs` : `core.${action} has no input '${name}' (its inputs: ${known.join(', ')})`,
        );
      }
    }
    if (action === 'log' && typeof given['level'] === 'string' && !LOG_LEVELS.includes(given['level'])) {
      this.report(pointer(at, 'inputs', 'level'), 'invalidInput', `the log level must be one of ${LOG_LEVELS.join(', ')}`);
    }
  }

  private checkRestInputs(action: string, operation: Obj, inputs: unknown, at: string): void {
    if (isExpressionObject(inputs)) return;
    const given = isObject(inputs) ? inputs : {};
    for (const name of Object.keys(given)) {
      if (!REST_INPUTS.includes(name)) {
        this.report(pointer(at, 'inputs', name), 'invalidInput', `a REST operation takes the inputs ${REST_INPUTS.join(', ')}, not '${name}'${suggest(name, REST_INPUTS)}`);
      }
    }
    const path = asString(operation['path']) ?? '';
    const placeholders = pathPlaceholders(path);
    const values = given['path'];
    if (values === undefined) {
      if (placeholders.length > 0) this.report(pointer(at, 'inputs', 'path'), 'invalidInput', `operation '${action}' (${path}) needs path parameters: ${placeholders.join(', ')}`);
      return;
    }
    if (!isObject(values) || markerOf(values) !== undefined) return;
    for (const name of placeholders) {
      if (!(name in values)) this.report(pointer(at, 'inputs', 'path', name), 'invalidInput', `missing path parameter '${name}' of operation '${action}' (${path})`);
    }
    for (const [name, value] of Object.entries(values)) {
      if (!placeholders.includes(name)) {
        this.report(pointer(at, 'inputs', 'path', name), 'invalidInput', `operation '${action}' (${path}) has no path parameter '${name}'${suggest(name, placeholders)}`);
        continue;
      }
      const problem = holdsMarker(value) ? undefined : pathValueProblem(value);
      if (problem !== undefined) this.report(pointer(at, 'inputs', 'path', name), 'invalidPathValue', `path parameter '${name}' ${problem}`);
    }
  }

  /** Literal inputs (no expression, secret or literal marker) against the operation's own input schema. */
  private checkOperationSchema(operation: Obj, inputs: unknown, at: string): void {
    if (!isObject(operation['input']) || holdsMarker(inputs ?? {}) || operationSchemaProblem(operation['input']) !== undefined) return;
    for (const problem of operationSchemaInputProblems({ input: operation['input'] }, inputs ?? {})) this.report(`${at}${problem.pointer}`, problem.kind ?? 'inputInvalid', problem.message);
  }

  // --- values, expressions, secrets ---------------------------------------------------------------------

  /** A value template: finds expressions, secret references and literals at any depth. */
  private checkTemplate(value: unknown, at: string, ev: EvalScope, secrets: SecretPolicy, depth = 0): void {
    if (depth > LIMITS.maxValueDepth) {
      this.report(at, 'nestingTooDeep', `values can be nested ${LIMITS.maxValueDepth} levels deep at most`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => this.checkTemplate(v, pointer(at, i), ev, secrets, depth + 1));
      return;
    }
    if (!isObject(value)) return;
    const marker = markerOf(value);
    if (marker === undefined) {
      for (const [key, v] of Object.entries(value)) this.checkTemplate(v, pointer(at, key), ev, secrets, depth + 1);
      return;
    }
    if (Object.keys(value).length !== 1) {
      this.report(at, 'malformedReference', `an object with '${marker}' must have no other keys (to pass data with such keys, wrap it: {"$literal": ...})`);
      return;
    }
    const content = value[marker];
    switch (marker) {
      case '$expr':
        if (typeof content !== 'string') this.report(pointer(at, marker), 'malformedReference', '$expr must be a string of CEL');
        else this.checkExpression(content, pointer(at, marker), ev);
        return;
      case '$secret':
        if (typeof content !== 'string' || !new RegExp(SECRET_NAME_PATTERN).test(content)) {
          this.report(pointer(at, marker), 'malformedReference', '$secret must be a secret name: letters, digits and dashes, up to 127');
        } else if (!secrets.allowed) {
          this.report(pointer(at, marker), 'secretNotAllowed', `a secret cannot be used here: ${secrets.reason}`);
        } else {
          this.checkSecretExists(content, pointer(at, marker));
        }
        return;
      case '$literal':
        return;
    }
  }

  /** An expression in a typed position (the schema checks its shape). */
  private checkExpressionAt(value: unknown, at: string, ev: EvalScope): void {
    if (isObject(value) && typeof value['$expr'] === 'string') this.checkExpression(value['$expr'], pointer(at, '$expr'), ev);
  }

  private checkExpression(source: string, at: string, ev: EvalScope): void {
    let ast;
    try {
      ast = parseExpression(source);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      this.report(at, 'expressionSyntax', `syntax error: ${error.detail} (column ${error.offset + 1})`);
      return;
    }
    const analysis = analyzeExpression(ast);
    for (const issue of analysis.issues) this.report(at, issue.kind, `${issue.message} (column ${issue.offset + 1})`);
    for (const ref of analysis.references) {
      const column = `(column ${ref.offset + 1})`;
      switch (ref.variable) {
        case 'steps':
          this.checkStepReference(ref.stepId, at, ev, column);
          break;
        case 'inputs':
          if (ref.name !== null && this.inputNames && !this.inputNames.has(ref.name)) {
            const declared = this.inputNames.size > 0 ? ` (declared: ${[...this.inputNames].join(', ')})` : '';
            this.report(at, 'unknownInput', `the workflow inputs declare no '${ref.name}'${suggest(ref.name, this.inputNames)}${declared} ${column}`);
          }
          break;
        case 'item':
        case 'index':
          if (!ev.loop) this.report(at, 'itemOutsideForEach', `'${ref.variable}' is only available inside a forEach body (its steps, its action and its output) ${column}`);
          break;
        case 'error':
          if (!ev.handler) this.report(at, 'errorOutsideHandler', `'error' is only available in a handler step (the goto target of onError, onTimeout or onReject) ${column}`);
          break;
        case 'run':
          break;
      }
    }
  }

  private checkStepReference(stepId: string, at: string, ev: EvalScope, column: string): void {
    if (ev.upstream.has(stepId)) return;
    const target = this.nodesById.get(stepId)?.[0];
    if (!target) {
      const candidates = [...ev.upstream];
      this.report(at, 'unknownStep', `no step has id '${stepId}'${suggest(stepId, candidates)} ${column}`);
      return;
    }
    if (ev.self && target === ev.self) {
      this.report(at, 'notUpstream', `step '${stepId}' cannot read its own result ${column}`);
      return;
    }
    for (let owner = ev.self?.scope.owner ?? null; owner; owner = owner.scope.owner) {
      if (owner === target) {
        this.report(at, 'notUpstream', `step '${stepId}' is the forEach around this step; its output exists only when the whole loop has finished ${column}`);
        return;
      }
    }
    if (!ev.scopes.has(target.scope)) {
      const owner = target.scope.owner!;
      this.report(at, 'notUpstream', `step '${stepId}' is inside the body of forEach '${owner.id}'; read the loop's results through steps.${owner.id}.output ${column}`);
      return;
    }
    const who = ev.self ? `'${ev.self.id}'` : 'this expression';
    this.report(
      at,
      'notUpstream',
      `step '${stepId}' is not upstream of ${who}: it may not have finished when ${who} runs; add it to dependsOn (directly or through another step) ${column}`,
    );
  }

  private checkSecretExists(name: string, at: string): void {
    if (!this.context.secretNames.has(name)) {
      this.report(at, 'unknownSecret', `the tenant has no secret named '${name}'${suggest(name, this.context.secretNames)}`);
    }
  }

  // --- top-level sections -------------------------------------------------------------------------------

  private checkOutputs(top: Scope | undefined): void {
    const outputs = this.definition['outputs'];
    if (!isObject(outputs)) return;
    const ev: EvalScope = {
      upstream: new Set(top ? top.byId.keys() : []),
      scopes: new Set(top ? [top] : []),
      loop: false,
      handler: false,
      self: null,
    };
    for (const [name, value] of Object.entries(outputs)) {
      this.checkTemplate(value, pointer('/outputs', name), ev, noSecrets('outputs are stored in the run history'));
    }
  }

  /** Declared connectors: a base URL requests cannot leave, safe path templates, compilable input schemas, existing secrets. */
  private checkDeclaredConnectors(): void {
    const declared = this.definition['connectors'];
    if (!isObject(declared)) return;
    for (const [id, connector] of Object.entries(declared)) {
      const at = pointer('/connectors', id);
      if (!isObject(connector)) continue;
      const bases: Array<[string, unknown]> = [[pointer(at, 'baseUrl'), connector['baseUrl']], ...asArray(connector['fallbackBaseUrls']).map((url, i): [string, unknown] => [pointer(at, 'fallbackBaseUrls', i), url])];
      for (const [where, url] of bases) {
        const problem = typeof url === 'string' ? baseUrlProblem(url) : undefined;
        if (problem !== undefined) this.report(where, 'invalidBaseUrl', problem);
      }
      const operations = isObject(connector['operations']) ? connector['operations'] : {};
      for (const [name, operation] of Object.entries(operations)) {
        if (!isObject(operation)) continue;
        const path = asString(operation['path']);
        // A path without the leading '/' is reported by the schema.
        const pathProblem = path === undefined || !path.startsWith('/') ? undefined : operationPathProblem(path);
        if (pathProblem !== undefined) this.report(pointer(at, 'operations', name, 'path'), 'invalidPath', `the path of operation '${name}' ${pathProblem}`);
        if ('input' in operation) {
          const schemaProblem = operationSchemaProblem(operation['input']);
          if (schemaProblem !== undefined) this.report(pointer(at, 'operations', name, 'input'), 'invalidSchema', `the input schema of operation '${name}' does not compile: ${schemaProblem}`);
        }
      }
      for (const reference of secretReferencesIn(connector as JsonValue)) this.checkSecretExists(reference.name, `${at}${reference.pointer}/$secret`);
    }
  }

  private checkInputDefaults(): void {
    const inputs = this.definition['inputs'];
    if (!isObject(inputs) || !isObject(inputs['properties'])) return;
    const visit = (schema: unknown, at: string, depth: number): void => {
      if (!isObject(schema) || depth > LIMITS.maxValueDepth) return;
      if ('default' in schema) {
        const { default: value, ...rest } = schema;
        const problem = inputValueProblem(rest, value);
        if (problem !== undefined) this.report(pointer(at, 'default'), 'invalidDefault', `the default does not match its schema: ${problem}`);
      }
      if (isObject(schema['properties'])) for (const [name, child] of Object.entries(schema['properties'])) visit(child, pointer(at, 'properties', name), depth + 1);
      if ('items' in schema) visit(schema['items'], pointer(at, 'items'), depth + 1);
    };
    for (const [name, schema] of Object.entries(inputs['properties'])) visit(schema, pointer('/inputs/properties', name), 0);
  }
}
