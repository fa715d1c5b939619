/**
 * The step graph of one steps list (the top-level `steps`, or the `steps` of one forEach body), and the pure
 * graph algorithms that the validator and the orchestrator's planner share. Every result is deterministic:
 * ties are broken by declaration order.
 */
import type { OnError, StepDefinition } from './types.js';

/**
 * Why `to` waits for `from`: `dependsOn` (to lists from in its dependsOn) or a `goto` of from's onError,
 * onTimeout or onReject (to is a handler that runs when from fails, times out or is rejected).
 */
export type EdgeKind = 'dependsOn' | 'onError' | 'onTimeout' | 'onReject';

/** `from` must finish (or, for handler edges, fail) before `to` can start. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
}

export interface StepGraph {
  /** Node ids in declaration order. */
  readonly nodes: readonly string[];
  readonly edges: readonly GraphEdge[];
  /** Edges into each node (its predecessors), in declaration order. */
  readonly incoming: ReadonlyMap<string, readonly GraphEdge[]>;
  /** Edges out of each node (its successors), in declaration order of the successors. */
  readonly outgoing: ReadonlyMap<string, readonly GraphEdge[]>;
}

/** Builds a graph; edges that name unknown nodes, and repeated edges, are dropped. Node ids must be unique. */
export function createGraph(nodes: readonly string[], edges: readonly GraphEdge[]): StepGraph {
  const order = new Map(nodes.map((n, i) => [n, i]));
  const incoming = new Map<string, GraphEdge[]>(nodes.map((n) => [n, []]));
  const outgoing = new Map<string, GraphEdge[]>(nodes.map((n) => [n, []]));
  const seen = new Set<string>();
  const kept: GraphEdge[] = [];
  for (const edge of edges) {
    if (!order.has(edge.from) || !order.has(edge.to)) continue;
    const key = `${edge.from}\u0000${edge.to}\u0000${edge.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(edge);
    incoming.get(edge.to)!.push(edge);
    outgoing.get(edge.from)!.push(edge);
  }
  for (const list of outgoing.values()) list.sort((a, b) => order.get(a.to)! - order.get(b.to)!);
  return { nodes: [...nodes], edges: kept, incoming, outgoing };
}

/** The `goto` target of an onError/onTimeout/onReject value, if it has one. */
export function gotoTarget(value: OnError | undefined): string | undefined {
  return typeof value === 'object' && value !== null ? value.goto : undefined;
}

/** The graph of one steps list: dependsOn edges and handler (`goto`) edges between its steps. */
export function stepGraph(steps: readonly StepDefinition[]): StepGraph {
  const edges: GraphEdge[] = [];
  for (const step of steps) {
    for (const dep of step.dependsOn ?? []) edges.push({ from: dep, to: step.id, kind: 'dependsOn' });
    const handlers: [EdgeKind, OnError | undefined][] = [['onError', step.onError]];
    if (step.type === 'waitForEvent' || step.type === 'approval') handlers.push(['onTimeout', step.onTimeout]);
    if (step.type === 'approval') handlers.push(['onReject', step.onReject]);
    for (const [kind, value] of handlers) {
      const target = gotoTarget(value);
      if (target !== undefined) edges.push({ from: step.id, to: target, kind });
    }
  }
  return createGraph(
    steps.map((s) => s.id),
    edges,
  );
}

/** Every node from which `id` can be reached (its transitive predecessors), optionally along some edge kinds only. */
export function ancestors(graph: StepGraph, id: string, kinds?: readonly EdgeKind[]): Set<string> {
  return walk(graph.incoming, id, (e) => e.from, kinds);
}

/** Every node reachable from `id` (its transitive successors), optionally along some edge kinds only. */
export function descendants(graph: StepGraph, id: string, kinds?: readonly EdgeKind[]): Set<string> {
  return walk(graph.outgoing, id, (e) => e.to, kinds);
}

function walk(adjacency: ReadonlyMap<string, readonly GraphEdge[]>, start: string, other: (e: GraphEdge) => string, kinds?: readonly EdgeKind[]): Set<string> {
  const found = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const edge of adjacency.get(node) ?? []) {
      if (kinds && !kinds.includes(edge.kind)) continue;
      const next = other(edge);
      if (!found.has(next)) {
        found.add(next);
        stack.push(next);
      }
    }
  }
  found.delete(start);
  return found;
}

/** Strongly connected components (Tarjan), each sorted by declaration order, listed by their first node. */
function stronglyConnectedComponents(graph: StepGraph): string[][] {
  const order = new Map(graph.nodes.map((n, i) => [n, i]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of graph.nodes) {
    if (index.has(root)) continue;
    // Iterative Tarjan: frames of (node, next outgoing edge position).
    const frames: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const edges = graph.outgoing.get(frame.node)!;
      if (frame.edge < edges.length) {
        const next = edges[frame.edge++]!.to;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          frames.push({ node: next, edge: 0 });
        } else if (onStack.has(next)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort((a, b) => order.get(a)! - order.get(b)!));
      }
    }
  }
  return components.sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/**
 * Every cycle, one per strongly connected component (or self-loop): the shortest cycle through the
 * component's first-declared node, as a closed path in execution order, e.g. `['a', 'b', 'c', 'a']` for
 * "b depends on a, c depends on b, a depends on c".
 */
export function findCycles(graph: StepGraph): string[][] {
  const cycles: string[][] = [];
  for (const component of stronglyConnectedComponents(graph)) {
    const start = component[0]!;
    const members = new Set(component);
    const selfLoop = graph.outgoing.get(start)!.some((e) => e.to === start);
    if (component.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push([start, start]);
      continue;
    }
    // Breadth-first from start inside the component until an edge leads back to start.
    const parent = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    for (let q = 0; q < queue.length && last === undefined; q++) {
      const node = queue[q]!;
      for (const edge of graph.outgoing.get(node)!) {
        if (edge.to === start) {
          last = node;
          break;
        }
        if (members.has(edge.to) && !parent.has(edge.to) && edge.to !== start) {
          parent.set(edge.to, node);
          queue.push(edge.to);
        }
      }
    }
    const path = [start];
    for (let node = last!; node !== start; node = parent.get(node)!) path.splice(1, 0, node);
    path.push(start);
    cycles.push(path);
  }
  return cycles;
}

/** The first cycle (see {@link findCycles}), or undefined when the graph is acyclic. */
export function findCycle(graph: StepGraph): string[] | undefined {
  return findCycles(graph)[0];
}

/**
 * The nodes in an order where every edge's `from` comes before its `to`; among nodes that are ready at the
 * same time, declaration order wins. Throws when the graph has a cycle.
 */
export function topologicalOrder(graph: StepGraph): string[] {
  const order = new Map(graph.nodes.map((n, i) => [n, i]));
  const remaining = new Map(graph.nodes.map((n) => [n, graph.incoming.get(n)!.length]));
  const ready = graph.nodes.filter((n) => remaining.get(n) === 0);
  const result: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => order.get(a)! - order.get(b)!);
    const node = ready.shift()!;
    result.push(node);
    for (const edge of graph.outgoing.get(node)!) {
      const left = remaining.get(edge.to)! - 1;
      remaining.set(edge.to, left);
      if (left === 0) ready.push(edge.to);
    }
  }
  if (result.length < graph.nodes.length) {
    throw new Error(`The steps have a cycle: ${(findCycle(graph) ?? []).join(' → ')}`);
  }
  return result;
}

/**
 * Parallel layers: layer 0 holds the nodes without predecessors, layer k the nodes whose predecessors are all
 * in earlier layers. Steps in one layer can run at the same time. Throws when the graph has a cycle.
 */
export function layers(graph: StepGraph): string[][] {
  const level = new Map<string, number>();
  for (const node of topologicalOrder(graph)) {
    const preds = graph.incoming.get(node)!;
    level.set(node, preds.length === 0 ? 0 : Math.max(...preds.map((e) => level.get(e.from)! + 1)));
  }
  const result: string[][] = [];
  for (const node of graph.nodes) (result[level.get(node)!] ??= []).push(node);
  return result;
}
