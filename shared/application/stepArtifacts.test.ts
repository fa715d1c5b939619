import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { MemoryArtifactStore } from '../adapters/memory/memoryArtifactStore.js';
import { AppError } from '../domain/errors.js';
import { ArtifactErrorCodes, sha256Hex } from '../ports/artifactStore.js';
import { stepArtifacts } from './stepArtifacts.js';

const acmeStep = { tenantId: 'acme', runId: 'run-1', stepId: 'download' };

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

it('creates a fresh artifact per call under <runId>/<stepId>/files/, labelled, typed, deleted with the run', async () => {
  const store = new MemoryArtifactStore();
  const artifacts = stepArtifacts(store, acmeStep);
  const first = await artifacts.create(Readable.from([Buffer.from('one')]), { contentType: 'text/csv', name: '../../etc/Report 2026.csv' });
  const second = await artifacts.create(Readable.from([Buffer.from('one')]), { contentType: 'not a type', name: '...' });
  expect(first.$artifact).toMatch(/^artifact:\/\/acme\/run-1\/download\/files\/[0-9a-f-]{36}-Report_2026\.csv$/);
  expect(second.$artifact).toMatch(/^artifact:\/\/acme\/run-1\/download\/files\/[0-9a-f-]{36}$/);
  expect(first).toMatchObject({ size: 3, contentType: 'text/csv', sha256: sha256Hex(Buffer.from('one')) });
  expect(second.contentType).toBe('application/octet-stream');
  expect(store.metadataOf('acme', first.$artifact.slice('artifact://acme/'.length))).toMatchObject({ runid: 'run-1', stepid: 'download' });
  expect(await text((await artifacts.open(first)).stream)).toBe('one');
  expect(await store.deletePrefix('acme', 'run-1')).toBe(2);
});

it('opens only the step tenant’s artifacts and enforces maxBytes', async () => {
  const store = new MemoryArtifactStore();
  const globexRef = await stepArtifacts(store, { ...acmeStep, tenantId: 'globex' }).create(Readable.from([Buffer.from('globex secret')]));
  const acme = stepArtifacts(store, acmeStep);
  const error = await acme.open(globexRef).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(ArtifactErrorCodes.notFound);
  const tooLarge = await acme.create(Readable.from([Buffer.alloc(11)]), { maxBytes: 10 }).catch((e: unknown) => e);
  expect((tooLarge as AppError).code).toBe(ArtifactErrorCodes.tooLarge);
});
