import { describe, expect, it } from 'vitest';
import { ConnectorError, type ActionContext } from '../sdk.js';
import { createConnectorRegistry } from '../registry.js';

const context = (): ActionContext & { lines: string[] } => {
  const lines: string[] = [];
  return { tenantId: 't', runId: 'r', stepId: 's', signal: new AbortController().signal, log: (message) => lines.push(message), lines };
};

describe('core connector', () => {
  const registry = createConnectorRegistry();

  it('lists its actions in the catalog', () => {
    expect([...registry.catalog().get('core')!].sort()).toEqual(['fail', 'log', 'noop', 'set']);
  });

  it('noop, set and log do what they say', async () => {
    expect(await registry.action('core', 'noop').run({} as never, context())).toEqual({});
    expect(await registry.action('core', 'set').run({ a: 1, b: [true] } as never, context())).toEqual({ a: 1, b: [true] });
    const ctx = context();
    expect(await registry.action('core', 'log').run({ message: 'hi' } as never, ctx)).toEqual({ message: 'hi', level: 'information' });
    expect(ctx.lines).toEqual(['hi']);
  });

  it('fail raises transient (retryable) and permanent failures with their code', async () => {
    await expect(registry.action('core', 'fail').run({ kind: 'transient', code: 'UPSTREAM.BUSY' } as never, context())).rejects.toMatchObject({ code: 'UPSTREAM.BUSY', retryable: true });
    const permanent = await registry.action('core', 'fail').run({} as never, context()).catch((error: unknown) => error);
    expect(permanent).toBeInstanceOf(ConnectorError);
    expect(permanent).toMatchObject({ code: 'CORE.PERMANENT_FAILURE', retryable: false });
  });

  it('validates rendered inputs against the action schema, listing every problem', () => {
    expect(() => registry.validateInput('core', 'log', { level: 'loud', extra: 1 })).toThrow(/inputs of 'core.log' are invalid/);
    try {
      registry.validateInput('core', 'log', { level: 'loud', extra: 1 });
    } catch (error) {
      expect((error as { problems: Array<{ pointer: string }> }).problems.map((p) => p.pointer).sort()).toEqual(['/inputs', '/inputs', '/inputs/level']);
    }
    expect(() => registry.action('core', 'explode')).toThrow(/does not exist/);
  });
});
