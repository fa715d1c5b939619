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
    expect(await registry.action('core', 'noop').run({} as never, context())).toBeNull();
    expect(await registry.action('core', 'set').run({ value: { a: 1, b: [true] } } as never, context())).toEqual({ a: 1, b: [true] });
    const ctx = context();
    expect(await registry.action('core', 'log').run({ message: 'hi', data: { n: 1 } } as never, ctx)).toBeNull();
    expect(ctx.lines).toEqual(['hi {"n":1}']);
  });

  it('fail raises transient (retryable) and permanent failures with their code', async () => {
    await expect(registry.action('core', 'fail').run({ kind: 'transient', code: 'UPSTREAM.BUSY', message: 'busy' } as never, context())).rejects.toMatchObject({ code: 'UPSTREAM.BUSY', retryable: true });
    const permanent = await registry.action('core', 'fail').run({ message: 'no' } as never, context()).catch((error: unknown) => error);
    expect(permanent).toBeInstanceOf(ConnectorError);
    expect(permanent).toMatchObject({ code: 'CORE.FAIL', retryable: false, message: 'no' });
  });

  it('validates rendered inputs against the action schema, listing every problem', () => {
    const error = (() => {
      try {
        registry.validateInput('core', 'log', { level: 'loud', extra: 1 });
        return undefined;
      } catch (thrown) {
        return thrown as { message: string; problems: Array<{ pointer: string }> };
      }
    })();
    expect(error?.message).toMatch(/inputs of 'core.log' are invalid/);
    expect(error?.problems.map((p) => p.pointer).sort()).toEqual(['/inputs', '/inputs', '/inputs/level']);
    expect(() => registry.action('core', 'explode')).toThrow(/does not exist/);
  });
});
