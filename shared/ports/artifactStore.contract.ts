import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import { ArtifactErrorCodes, sha256Hex, type ArtifactStore } from './artifactStore.js';

export interface ArtifactStoreHarness {
  store: ArtifactStore;
  /** Replaces an artifact's stored bytes behind the store's back (corruption or tampering in storage). */
  tamper(tenantId: string, name: string, content: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Expects `promise` to reject with an AppError of `code`. */
async function expectCode(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}

/** `content` as a stream of uneven chunks (so block boundaries never line up with what the source yields). */
async function* unevenChunks(content: Buffer): AsyncGenerator<Buffer> {
  const sizes = [1, 1000, 3 * 1024 * 1024 + 5, 70_000];
  for (let offset = 0, i = 0; offset < content.length; i += 1) {
    const end = Math.min(content.length, offset + sizes[i % sizes.length]!);
    yield content.subarray(offset, end);
    offset = end;
  }
}

/** Reads a stream to its end (its error rejects). */
async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The behaviour every ArtifactStore adapter must have. Each test uses fresh, random tenant ids, so runs
 * against a shared server (Azurite, a real account) never interfere.
 */
export function runArtifactStoreContract(options: { name: string; newStore: () => Promise<ArtifactStoreHarness>; skip?: string }): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`ArtifactStore contract: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    const withStore = async (test: (harness: ArtifactStoreHarness, tenant: () => string) => Promise<void>): Promise<void> => {
      const harness = await options.newStore();
      try {
        await test(harness, () => `t-${randomBytes(6).toString('hex')}`);
      } finally {
        await harness.close();
      }
    };

    it('stores content and returns a tenant-scoped reference with size, type and hash', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const content = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
        const ref = await store.put(acme, 'run-1/step_a/output.bin', content, { contentType: 'application/x-test', metadata: { runId: 'run-1' } });
        expect(ref).toEqual({ $artifact: `artifact://${acme}/run-1/step_a/output.bin`, size: 512, contentType: 'application/x-test', sha256: sha256Hex(content) });
        const read = await store.get(ref, acme);
        expect(read.contentType).toBe('application/x-test');
        expect(read.content.equals(content)).toBe(true);
      }));

    it('reads by bare URI too, defaults the content type, and round-trips large and empty contents', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const big = randomBytes(3 * 1024 * 1024 + 17);
        const ref = await store.put(acme, 'r/s/big', big);
        expect(ref.contentType).toBe('application/octet-stream');
        const read = await store.get(ref.$artifact, acme);
        expect(read.content.equals(big)).toBe(true);
        const empty = await store.put(acme, 'r/s/empty.json', Buffer.alloc(0), { contentType: 'application/json' });
        expect((await store.get(empty, acme)).content.length).toBe(0);
      }));

    it('never reads across tenants: another tenant’s reference is not found, even where that name exists', () =>
      withStore(async ({ store }, tenant) => {
        const [acme, globex] = [tenant(), tenant()];
        const ref = await store.put(acme, 'run/step/out.json', Buffer.from('{"secret":"acme"}'), { contentType: 'application/json' });
        await store.put(globex, 'run/step/out.json', Buffer.from('{"secret":"globex"}'), { contentType: 'application/json' });
        await expectCode(store.get(ref, globex), ArtifactErrorCodes.notFound);
        await expectCode(store.get(ref.$artifact, globex), ArtifactErrorCodes.notFound);
        await expectCode(store.get({ ...ref, $artifact: ref.$artifact.replace(acme, globex) }, acme), ArtifactErrorCodes.notFound);
        await expectCode(store.delete(ref, globex), ArtifactErrorCodes.notFound);
        expect((await store.get(ref, acme)).content.toString()).toBe('{"secret":"acme"}');
      }));

    it('refuses malformed and escaping references', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        await store.put(acme, 'a/b', Buffer.from('x'));
        for (const bad of ['', 'https://acct.blob.core.windows.net/artifacts/x', `artifact://${acme}`, `artifact://${acme}/`, `artifact://${acme}/../other/a/b`, `artifact://${acme}/a/../../x`, `artifact://${acme}//etc/passwd`, `artifact://${acme}/a\\b`]) {
          await expectCode(store.get(bad, acme), ArtifactErrorCodes.invalidRef);
        }
        await expectCode(store.get({ $artifact: `artifact://${acme}/a/b`, size: 1, contentType: 'x/y', sha256: 'nothex' }, acme), ArtifactErrorCodes.invalidRef);
        await expectCode(store.get(`artifact://${acme}/a/b`, 'NOT A TENANT'), ArtifactErrorCodes.notFound);
      }));

    it('validates names: no .., no absolute paths, no empty segments, no backslashes', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        for (const bad of ['', '..', '../x', 'a/../../b', 'a/./b', '/abs/path', 'C:/x', 'a//b', 'a/', 'a\\b', '.hidden', 'sp ace', 'a?b', 'x'.repeat(901)]) {
          await expectCode(store.put(acme, bad, Buffer.from('x')), ArtifactErrorCodes.invalidName);
        }
        await expectCode(store.put('../etc', 'a', Buffer.from('x')), 'REQUEST.INVALID');
        await expectCode(store.put(acme, 'a', Buffer.from('x'), { metadata: { sha256: 'forged' } }), 'REQUEST.INVALID');
      }));

    it('reports missing artifacts as not found', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        await expectCode(store.get(`artifact://${acme}/nothing/here`, acme), ArtifactErrorCodes.notFound);
      }));

    it('detects content altered in storage, and references that claim other content', () =>
      withStore(async ({ store, tamper }, tenant) => {
        const acme = tenant();
        const ref = await store.put(acme, 'r/s/out.json', Buffer.from('{"amount":100}'), { contentType: 'application/json' });
        await expectCode(store.get({ ...ref, sha256: sha256Hex(Buffer.from('{"amount":999}')) }, acme), ArtifactErrorCodes.integrityFailed);
        await expectCode(store.get({ ...ref, size: ref.size + 1 }, acme), ArtifactErrorCodes.integrityFailed);
        await tamper(acme, 'r/s/out.json', Buffer.from('{"amount":999}'));
        await expectCode(store.get(ref, acme), ArtifactErrorCodes.integrityFailed);
        await expectCode(store.get(ref.$artifact, acme), ArtifactErrorCodes.integrityFailed);
      }));

    it('replaces content put again under the same name (old references then fail their hash check)', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const first = await store.put(acme, 'r/s/out', Buffer.from('one'));
        const second = await store.put(acme, 'r/s/out', Buffer.from('two'));
        expect(second.$artifact).toBe(first.$artifact);
        expect((await store.get(second, acme)).content.toString()).toBe('two');
        await expectCode(store.get(first, acme), ArtifactErrorCodes.integrityFailed);
      }));

    it('stores a stream under the same reference put would give, and reads it back as a stream', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const content = randomBytes(9 * 1024 * 1024 + 333);
        const ref = await store.putStream(acme, 'run-1/step_a/files/big.bin', unevenChunks(content), { contentType: 'application/x-test', metadata: { runId: 'run-1' } });
        expect(ref).toEqual({ $artifact: `artifact://${acme}/run-1/step_a/files/big.bin`, size: content.length, contentType: 'application/x-test', sha256: sha256Hex(content) });
        const opened = await store.getStream(ref, acme);
        expect(opened).toMatchObject({ size: content.length, contentType: 'application/x-test' });
        expect((await drain(opened.stream)).equals(content)).toBe(true);
        expect((await store.get(ref, acme)).content.equals(content)).toBe(true);
        const viaPut = await store.put(acme, 'r/s/small', Buffer.from('small'));
        expect((await drain((await store.getStream(viaPut.$artifact, acme)).stream)).toString()).toBe('small');
        const empty = await store.putStream(acme, 'r/s/files/empty', Readable.from([]));
        expect(empty).toMatchObject({ size: 0, contentType: 'application/octet-stream', sha256: sha256Hex(Buffer.alloc(0)) });
        expect((await drain((await store.getStream(empty, acme)).stream)).length).toBe(0);
      }));

    it('refuses a stream longer than maxBytes while reading it, and commits nothing', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const error = await expectCode(store.putStream(acme, 'r/s/files/too-big', unevenChunks(randomBytes(5 * 1024 * 1024)), { maxBytes: 4 * 1024 * 1024 + 1 }), ArtifactErrorCodes.tooLarge);
        expect(error.details).toEqual({ limit: 4 * 1024 * 1024 + 1 });
        await expectCode(store.get(`artifact://${acme}/r/s/files/too-big`, acme), ArtifactErrorCodes.notFound);
        const exact = await store.putStream(acme, 'r/s/files/exact', unevenChunks(randomBytes(1000)), { maxBytes: 1000 });
        expect(exact.size).toBe(1000);
      }));

    it('passes a failing source’s error on unchanged and commits nothing', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const boom = new Error('source broke');
        async function* failing(): AsyncGenerator<Buffer> {
          yield randomBytes(5 * 1024 * 1024);
          throw boom;
        }
        expect(await store.putStream(acme, 'r/s/files/broken', failing()).catch((e: unknown) => e)).toBe(boom);
        await expectCode(store.get(`artifact://${acme}/r/s/files/broken`, acme), ArtifactErrorCodes.notFound);
        await expectCode(store.putStream('../etc', 'a', Readable.from([])), 'REQUEST.INVALID');
        await expectCode(store.putStream(acme, '../a', Readable.from([])), ArtifactErrorCodes.invalidName);
      }));

    it('never opens another tenant’s artifact as a stream, nor a malformed or missing one', () =>
      withStore(async ({ store }, tenant) => {
        const [acme, globex] = [tenant(), tenant()];
        const ref = await store.putStream(acme, 'run/step/files/out.bin', Readable.from([Buffer.from('acme data')]));
        await store.putStream(globex, 'run/step/files/out.bin', Readable.from([Buffer.from('globex data')]));
        await expectCode(store.getStream(ref, globex), ArtifactErrorCodes.notFound);
        await expectCode(store.getStream(ref.$artifact, globex), ArtifactErrorCodes.notFound);
        await expectCode(store.getStream({ ...ref, $artifact: ref.$artifact.replace(acme, globex) }, acme), ArtifactErrorCodes.notFound);
        await expectCode(store.getStream(`artifact://${acme}/../${globex}/run/step/files/out.bin`, acme), ArtifactErrorCodes.invalidRef);
        await expectCode(store.getStream(`artifact://${acme}/nothing/here`, acme), ArtifactErrorCodes.notFound);
        expect((await drain((await store.getStream(ref, acme)).stream)).toString()).toBe('acme data');
      }));

    it('fails a stream of altered content at its end, and a reference claiming another size at once', () =>
      withStore(async ({ store, tamper }, tenant) => {
        const acme = tenant();
        const ref = await store.putStream(acme, 'r/s/files/out.bin', Readable.from([Buffer.from('amount=100')]));
        await expectCode(store.getStream({ ...ref, size: ref.size + 1 }, acme), ArtifactErrorCodes.integrityFailed);
        await expectCode(drain((await store.getStream({ ...ref, sha256: sha256Hex(Buffer.from('amount=999')) }, acme)).stream), ArtifactErrorCodes.integrityFailed);
        await tamper(acme, 'r/s/files/out.bin', Buffer.from('amount=999'));
        await expectCode(drain((await store.getStream(ref, acme)).stream), ArtifactErrorCodes.integrityFailed);
        await expectCode(drain((await store.getStream(ref.$artifact, acme)).stream), ArtifactErrorCodes.integrityFailed);
      }));

    it('deletes one artifact, then reports it missing', () =>
      withStore(async ({ store }, tenant) => {
        const acme = tenant();
        const ref = await store.put(acme, 'r/s/out', Buffer.from('x'));
        expect(await store.delete(ref, acme)).toBe(true);
        expect(await store.delete(ref.$artifact, acme)).toBe(false);
        await expectCode(store.get(ref, acme), ArtifactErrorCodes.notFound);
      }));

    it('deletes by whole-segment prefix, within the tenant only', () =>
      withStore(async ({ store }, tenant) => {
        const [acme, globex] = [tenant(), tenant()];
        const keep = await store.put(acme, 'run-10/s/out', Buffer.from('keep'));
        await store.put(acme, 'run-1/a/out', Buffer.from('x'));
        await store.put(acme, 'run-1/b/out', Buffer.from('y'));
        const other = await store.put(globex, 'run-1/a/out', Buffer.from('z'));
        expect(await store.deletePrefix(acme, 'run-1')).toBe(2);
        expect(await store.deletePrefix(acme, 'run-1/')).toBe(0);
        expect((await store.get(keep, acme)).content.toString()).toBe('keep');
        expect((await store.get(other, globex)).content.toString()).toBe('z');
        await expectCode(store.deletePrefix(acme, '../'), ArtifactErrorCodes.invalidName);
        await store.put(acme, 'run-2/a/out', Buffer.from('w'));
        expect(await store.deletePrefix(acme)).toBe(2);
        await expectCode(store.get(keep, acme), ArtifactErrorCodes.notFound);
        expect((await store.get(other, globex)).content.toString()).toBe('z');
      }));
  });
}
