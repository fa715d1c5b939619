import { describe, expect, it } from 'vitest';
import { ancestors, createGraph, descendants, findCycle, findCycles, layers, stepGraph, topologicalOrder, type GraphEdge } from './graph.js';
import type { StepDefinition } from './types.js';

const dep = (from: string, to: string): GraphEdge => ({ from, to, kind: 'dependsOn' });
const action = (id: string, extra: Partial<StepDefinition> = {}): StepDefinition =>
  ({ id, type: 'action', connector: 'core', action: 'noop', ...extra }) as StepDefinition;

describe('graph', () => {
  const diamond = createGraph(['d', 'b', 'c', 'a'], [dep('a', 'b'), dep('a', 'c'), dep('b', 'd'), dep('c', 'd')]);

  it('orders topologically, breaking ties by declaration order', () => {
    expect(topologicalOrder(diamond)).toEqual(['a', 'b', 'c', 'd']);
    const independent = createGraph(['z', 'y', 'x'], []);
    expect(topologicalOrder(independent)).toEqual(['z', 'y', 'x']);
  });

  it('groups steps into parallel layers', () => {
    expect(layers(diamond)).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('finds ancestors and descendants', () => {
    expect([...ancestors(diamond, 'd')].sort()).toEqual(['a', 'b', 'c']);
    expect([...ancestors(diamond, 'a')]).toEqual([]);
    expect([...descendants(diamond, 'a')].sort()).toEqual(['b', 'c', 'd']);
  });

  it('drops edges to unknown nodes and repeated edges', () => {
    const g = createGraph(['a', 'b'], [dep('a', 'b'), dep('a', 'b'), dep('x', 'b')]);
    expect(g.edges).toEqual([dep('a', 'b')]);
  });

  it('reports a 3-step cycle as a closed path from its first-declared step', () => {
    // b depends on a, c on b, a on c.
    const g = createGraph(['a', 'b', 'c', 'd'], [dep('c', 'a'), dep('a', 'b'), dep('b', 'c'), dep('c', 'd')]);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expect(() => topologicalOrder(g)).toThrow('a → b → c → a');
  });

  it('reports one cycle per strongly connected component, self-loops included', () => {
    const g = createGraph(['p', 'q', 'r', 's', 't'], [dep('p', 'q'), dep('q', 'p'), dep('r', 'r'), dep('s', 't')]);
    expect(findCycles(g)).toEqual([
      ['p', 'q', 'p'],
      ['r', 'r'],
    ]);
    expect(findCycle(createGraph(['a', 'b'], [dep('a', 'b')]))).toBeUndefined();
  });

  it('finds the shortest cycle through the first node', () => {
    // a → b → c → d → a and a → d → a: the short one is reported.
    const g = createGraph(['a', 'b', 'c', 'd'], [dep('a', 'b'), dep('b', 'c'), dep('c', 'd'), dep('d', 'a'), dep('a', 'd')]);
    expect(findCycle(g)).toEqual(['a', 'd', 'a']);
  });

  it('builds a steps list graph from dependsOn and handler gotos', () => {
    const g = stepGraph([
      action('fetch', { onError: { goto: 'recover' } }),
      action('store', { dependsOn: ['fetch'] }),
      action('recover'),
      { id: 'ask', type: 'approval', approvers: { roles: ['Tenant.Admin'] }, onTimeout: { goto: 'recover' }, onReject: 'continue' },
    ]);
    expect(g.edges).toEqual([
      { from: 'fetch', to: 'recover', kind: 'onError' },
      { from: 'fetch', to: 'store', kind: 'dependsOn' },
      { from: 'ask', to: 'recover', kind: 'onTimeout' },
    ]);
    expect(topologicalOrder(g)).toEqual(['fetch', 'store', 'ask', 'recover']);
    expect([...ancestors(g, 'recover', ['onError'])]).toEqual(['fetch']);
    expect([...ancestors(g, 'recover')].sort()).toEqual(['ask', 'fetch']);
  });

  it('handles long chains without recursion limits', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `s${i}`);
    const g = createGraph(
      ids,
      ids.slice(1).map((id, i) => dep(ids[i]!, id)),
    );
    expect(topologicalOrder(g)).toEqual(ids);
    expect(findCycles(g)).toEqual([]);
    expect(ancestors(g, 's4999').size).toBe(4999);
  });
});
