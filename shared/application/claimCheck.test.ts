import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryArtifactStore } from '../adapters/memory/memoryArtifactStore.js';
import { BlobArtifactStore } from '../adapters/blob/blobArtifactStore.js';
import { AppError } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';
import { ArtifactErrorCodes, sha256Hex, type ArtifactRef } from '../ports/artifactStore.js';
import { startAzuriteBlob } from '../../test/support/azurite.js';
import { CLAIM_CHECK_THRESHOLD_BYTES, isArtifactRef, resolveArtifacts, storeIfLarge } from './claimCheck.js';
import { stepArtifacts } from './stepArtifacts.js';

const where = { tenantId: 'acme', runId: 'run-1', stepId: 'fetch' };

/** A JSON string value whose serialized form (with its quotes) is exactly `bytes` UTF-8 bytes. */
const jsonOfSize = (bytes: number): JsonValue => 'x'.repeat(bytes - 2);

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}

describe('claim check', () => {
  it('keeps an output of exactly 64 KB inline and stores one a byte over as an artifact', async () => {
    const store = new MemoryArtifactStore();
    expect(CLAIM_CHECK_THRESHOLD_BYTES).toBe(65_536);
    const atThreshold = jsonOfSize(65_536);
    expect(Buffer.byteLength(JSON.stringify(atThreshold))).toBe(65_536);
    expect(await storeIfLarge(atThreshold, where, store)).toBe(atThreshold);
    expect(await store.deletePrefix('acme', 'run-1')).toBe(0);

    const over = jsonOfSize(65_537);
    const ref = await storeIfLarge(over, where, store);
    expect(isArtifactRef(ref)).toBe(true);
    const content = Buffer.from(JSON.stringify(over));
    expect(ref).toEqual({ $artifact: `artifact://acme/run-1/fetch/output-${sha256Hex(content).slice(0, 32)}.json`, size: 65_537, contentType: 'application/json', sha256: sha256Hex(content) });
    expect(store.metadataOf('acme', `run-1/fetch/output-${sha256Hex(content).slice(0, 32)}.json`)).toMatchObject({ runid: 'run-1', stepid: 'fetch' });
    expect(await resolveArtifacts(ref, 'acme', store)).toEqual(over);
  });

  it('measures UTF-8 bytes, not characters, and honours a custom threshold', async () => {
    const store = new MemoryArtifactStore();
    const accented = 'é'.repeat(40_000); // 40 000 characters, 80 002 bytes as JSON
    expect(isArtifactRef(await storeIfLarge(accented, where, store))).toBe(true);
    expect(await storeIfLarge({ small: true }, where, store, 100)).toEqual({ small: true });
    expect(isArtifactRef(await storeIfLarge({ small: 'x'.repeat(100) }, where, store, 100))).toBe(true);
  });

  it('writes the same artifact when a step is retried, and a different one for a different output', async () => {
    const store = new MemoryArtifactStore();
    const output = { rows: Array.from({ length: 5_000 }, (_, i) => ({ id: i, name: `row ${i}` })) };
    const first = (await storeIfLarge(output, where, store)) as ArtifactRef;
    const retried = (await storeIfLarge(structuredClone(output), where, store)) as ArtifactRef;
    const other = (await storeIfLarge({ ...output, page: 2 }, where, store)) as ArtifactRef;
    expect(retried).toEqual(first);
    expect(other.$artifact).not.toBe(first.$artifact);
    expect(await resolveArtifacts(first, 'acme', store)).toEqual(output);
    expect(await storeIfLarge(first, where, store)).toBe(first);
  });

  it('resolves references nested in objects and arrays, leaving the input untouched', async () => {
    const store = new MemoryArtifactStore();
    const big = (tag: string) => ({ tag, payload: 'p'.repeat(70_000) });
    const a = (await storeIfLarge(big('a'), { ...where, stepId: 'a' }, store)) as ArtifactRef;
    const b = (await storeIfLarge(big('b'), { ...where, stepId: 'b' }, store)) as ArtifactRef;
    const input: JsonValue = { steps: { a: { status: 'succeeded', output: a } }, list: [1, b, { deep: [a] }], plain: 'text', n: null };
    const snapshot = structuredClone(input);
    expect(await resolveArtifacts(input, 'acme', store)).toEqual({ steps: { a: { status: 'succeeded', output: big('a') } }, list: [1, big('b'), { deep: [big('a')] }], plain: 'text', n: null });
    expect(input).toEqual(snapshot);
    expect(await resolveArtifacts({ nothing: ['to', { resolve: 1 }] }, 'acme', store)).toEqual({ nothing: ['to', { resolve: 1 }] });
  });

  it('resolves references inside resolved artifacts, keeps binary artifacts as references, reads text as strings', async () => {
    const store = new MemoryArtifactStore();
    const inner = (await storeIfLarge({ inner: 'i'.repeat(70_000) }, { ...where, stepId: 'inner' }, store)) as ArtifactRef;
    const outer = (await storeIfLarge({ wraps: inner, pad: 'o'.repeat(70_000) }, { ...where, stepId: 'outer' }, store)) as ArtifactRef;
    expect(await resolveArtifacts(outer, 'acme', store)).toEqual({ wraps: { inner: 'i'.repeat(70_000) }, pad: 'o'.repeat(70_000) });
    const binary = await store.put('acme', 'run-1/file/report.pdf', Buffer.from([0x25, 0x50, 0x44, 0x46]), { contentType: 'application/pdf' });
    const text = await store.put('acme', 'run-1/file/notes.txt', Buffer.from('héllo'), { contentType: 'text/plain; charset=utf-8' });
    expect(await resolveArtifacts({ binary, text }, 'acme', store)).toEqual({ binary, text: 'héllo' });
  });

  it('keeps artifacts a connector streamed as references, whatever their content type, without reading them', async () => {
    const store = new MemoryArtifactStore();
    const csv = await stepArtifacts(store, where).create(Readable.from([Buffer.from('a,b\n1,2\n')]), { contentType: 'text/csv', name: 'report.csv' });
    const json = await stepArtifacts(store, where).create(Readable.from([Buffer.from('{"a":1}')]), { contentType: 'application/json' });
    expect(await resolveArtifacts({ file: csv, list: [json] }, 'acme', store)).toEqual({ file: csv, list: [json] });
    // Not read: even a deleted one resolves to its reference (the connector that opens it reports it missing).
    await store.delete(csv, 'acme');
    expect(await resolveArtifacts(csv, 'acme', store)).toEqual(csv);
  });

  it('refuses to resolve another tenant’s reference, even when it sits in this tenant’s data', async () => {
    const store = new MemoryArtifactStore();
    const globexRef = (await storeIfLarge(jsonOfSize(70_000), { ...where, tenantId: 'globex' }, store)) as ArtifactRef;
    await expectCode(resolveArtifacts(globexRef, 'acme', store), ArtifactErrorCodes.notFound);
    await expectCode(resolveArtifacts({ smuggled: [globexRef] }, 'acme', store), ArtifactErrorCodes.notFound);
    // The same path under acme's own tenant is a different artifact (absent here), never globex's.
    await expectCode(resolveArtifacts({ ...globexRef, $artifact: globexRef.$artifact.replace('//globex/', '//acme/') }, 'acme', store), ArtifactErrorCodes.notFound);
    expect(await resolveArtifacts(globexRef, 'globex', store)).toEqual(jsonOfSize(70_000));
  });

  it('detects tampered content and tampered references', async () => {
    const store = new MemoryArtifactStore();
    const value = { amount: 100, pad: 'x'.repeat(70_000) };
    const ref = (await storeIfLarge(value, where, store)) as ArtifactRef;
    const name = ref.$artifact.slice('artifact://acme/'.length);
    await expectCode(resolveArtifacts({ ...ref, sha256: sha256Hex(Buffer.from('other')) }, 'acme', store), ArtifactErrorCodes.integrityFailed);
    store.tamper('acme', name, Buffer.from(JSON.stringify({ ...value, amount: 999 })));
    await expectCode(resolveArtifacts({ output: ref }, 'acme', store), ArtifactErrorCodes.integrityFailed);
  });

  it('tells references from data: exact keys and shapes only', () => {
    const ref = { $artifact: 'artifact://acme/r/s/o.json', size: 1, contentType: 'application/json', sha256: 'a'.repeat(64) };
    expect(isArtifactRef(ref)).toBe(true);
    expect(isArtifactRef({ ...ref, extra: 1 })).toBe(false);
    expect(isArtifactRef({ ...ref, sha256: 'A'.repeat(64) })).toBe(false);
    expect(isArtifactRef({ ...ref, $artifact: 'https://x/y' })).toBe(false);
    expect(isArtifactRef({ ...ref, size: -1 })).toBe(false);
    expect(isArtifactRef([ref])).toBe(false);
    expect(isArtifactRef(null)).toBe(false);
    expect(isArtifactRef('artifact://acme/r')).toBe(false);
  });

  it('round-trips through Blob storage (Azurite)', async () => {
    const azurite = await startAzuriteBlob({ inMemory: true });
    try {
      const store = BlobArtifactStore.fromConnectionString(azurite.connectionString);
      const output = { items: Array.from({ length: 3_000 }, (_, i) => ({ i, label: `item-${i}` })) };
      const ref = await storeIfLarge(output, where, store);
      expect(isArtifactRef(ref)).toBe(true);
      expect(JSON.stringify(ref).length).toBeLessThan(300);
      expect(await resolveArtifacts({ previous: ref }, 'acme', store)).toEqual({ previous: output });
      await expectCode(resolveArtifacts(ref, 'globex', store), ArtifactErrorCodes.notFound);
    } finally {
      await azurite.stop();
    }
  });
});
