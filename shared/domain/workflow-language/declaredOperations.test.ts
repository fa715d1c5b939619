import { describe, expect, it } from 'vitest';
import { operationInputProblems, operationPathProblem, operationSchemaProblem, pathPlaceholders, pathValueProblem, secretReferencesIn } from './declaredOperations.js';

describe('declared REST operations', () => {
  it('find the placeholders of a path', () => {
    expect(pathPlaceholders('/customers/{id}/notes/{noteId}.json')).toEqual(['id', 'noteId']);
    expect(pathPlaceholders('/health')).toEqual([]);
  });

  it('accept safe path templates and refuse the ones that could leave the base URL', () => {
    expect(operationPathProblem('/customers/{id}/notes')).toBeUndefined();
    expect(operationPathProblem('/')).toBeUndefined();
    expect(operationPathProblem('/files/{name}.json')).toBeUndefined();
    for (const path of ['/a/../b', '/a/%2E%2E/b', '/./a', '/a/.', '//host/x', '/a?b=1', '/a#x', '/a\\b', '/a b', '/{x', '/{bad-name}', 'relative']) {
      expect(operationPathProblem(path), path).toBeDefined();
    }
  });

  it('refuse dot values and non-scalars for path parameters', () => {
    expect(pathValueProblem('a/b')).toBeUndefined();
    expect(pathValueProblem(42)).toBeUndefined();
    for (const value of ['.', '..', '%2e%2E', '', null, {}, ['x']]) expect(pathValueProblem(value), JSON.stringify(value)).toBeDefined();
  });

  it('check inputs: shape, every placeholder, header values, path values, then the operation schema — all problems at once', () => {
    const operation = { path: '/c/{id}', input: { type: 'object', properties: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } } };
    expect(operationInputProblems(operation, { path: { id: 'x' }, body: { n: 1 }, headers: { 'X-A': 'b' }, query: { q: ['1', 2] } })).toEqual([]);
    const problems = operationInputProblems(operation, { path: { id: '..', other: 1 }, body: { n: 'one' }, headers: { 'X-A': 'evil\r\nInjected: 1' }, verb: 'GET' });
    expect(problems.map((p) => [p.pointer, p.kind])).toEqual([
      ['/inputs/verb', 'additionalProperties'],
      ['/inputs/path/other', 'additionalProperties'],
      ['/inputs/headers/X-A', 'pattern'],
      ['/inputs/path/id', 'invalidPathValue'],
      ['/inputs/body/n', 'type'],
    ]);
    expect(operationInputProblems(operation, {}).map((p) => p.pointer)).toEqual(['/inputs/path']);
  });

  it('compile tenant schemas strictly (typos are problems) and run their patterns in linear time', () => {
    expect(operationSchemaProblem({ type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{3}$' } } })).toBeUndefined();
    expect(operationSchemaProblem({ type: 'object', requried: ['x'] })).toMatch(/requried/);
    expect(operationSchemaProblem({ pattern: '(a)\\1' })).toMatch(/pattern is not supported/);
    expect(operationSchemaProblem([])).toBeDefined();
    // A pattern that takes exponential time on a backtracking engine answers at once here.
    const operation = { path: '/x', input: { properties: { body: { type: 'string', pattern: '^(a+)+$' } } } };
    const started = process.hrtime.bigint();
    expect(operationInputProblems(operation, { body: `${'a'.repeat(5000)}!` }).map((p) => p.kind)).toEqual(['pattern']);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5000);
  });

  it('two schemas with the same $id do not collide', () => {
    expect(operationSchemaProblem({ $id: 'https://tenant.example/note', type: 'object' })).toBeUndefined();
    expect(operationSchemaProblem({ $id: 'https://tenant.example/note', type: 'object', required: ['body'] })).toBeUndefined();
    expect(operationInputProblems({ path: '/x', input: { $id: 'https://tenant.example/note', type: 'object', required: ['body'] } }, {}).map((p) => p.pointer)).toEqual(['/inputs/body']);
  });

  it('find every secret reference of a declaration with its pointer', () => {
    expect(
      secretReferencesIn({ auth: { type: 'basic', username: 'u', password: { $secret: 'pw' } }, headers: { 'X-Key/1': { $secret: 'key' } }, list: [{ $secret: 'a' }] }),
    ).toEqual([
      { pointer: '/auth/password', name: 'pw' },
      { pointer: '/headers/X-Key~11', name: 'key' },
      { pointer: '/list/0', name: 'a' },
    ]);
  });
});
