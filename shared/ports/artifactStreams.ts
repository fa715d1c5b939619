import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { AppError } from '../domain/errors.js';
import { artifactUri, ArtifactErrorCodes, verifyArtifactDigest, type ArtifactRef, type ArtifactSource, type ResolvedArtifactRef } from './artifactStore.js';

/**
 * Counts and hashes content as it streams into an artifact, refusing it once it passes `maxBytes`. Shared by the
 * adapters' `putStream`, so every adapter computes the reference the same way.
 */
export class ArtifactMeter {
  readonly #hash = createHash('sha256');
  #size = 0;

  constructor(readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) {
      throw new AppError(ArtifactErrorCodes.tooLarge, `The content exceeds ${this.maxBytes} bytes`, { details: { limit: this.maxBytes } });
    }
    this.#hash.update(chunk);
  }

  get size(): number {
    return this.#size;
  }

  /** The reference of what went through (call once, after the last chunk). */
  ref(tenantId: string, name: string, contentType: string): ArtifactRef {
    return { $artifact: artifactUri(tenantId, name), size: this.#size, contentType, sha256: this.#hash.digest('hex') };
  }
}

/**
 * Re-chunks `source` into blocks of exactly `blockBytes` (the last one shorter; none for empty content), passing
 * every byte through `meter`. At most one block plus one source chunk is held at a time.
 */
export async function* meteredBlocks(source: ArtifactSource, blockBytes: number, meter: ArtifactMeter): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const item of source) {
    let chunk = typeof item === 'string' ? Buffer.from(item) : Buffer.isBuffer(item) ? item : Buffer.from(item.buffer, item.byteOffset, item.byteLength);
    meter.add(chunk);
    while (pendingBytes + chunk.length >= blockBytes) {
      const take = blockBytes - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending, blockBytes);
      chunk = chunk.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      pendingBytes += chunk.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** Refuses at once a stored artifact whose size differs from what the reference claims (no byte is streamed). */
export function assertClaimedSize(resolved: ResolvedArtifactRef, size: number): void {
  if (resolved.expected !== undefined && resolved.expected.size !== size) {
    throw new AppError(ArtifactErrorCodes.integrityFailed, 'Artifact content does not match its recorded hash: it was altered or corrupted', {
      details: { artifact: artifactUri(resolved.tenantId, resolved.name) },
    });
  }
}

/**
 * Passes `source` through, hashing it; at its end checks size and hash against the reference and the hash
 * recorded at put (`ARTIFACT.INTEGRITY_FAILED` as the stream's error otherwise). Errors of `source` become
 * `mapError(error)` (e.g. a retryable ARTIFACT.UNAVAILABLE); destroying the result destroys `source`.
 */
export function verifyingStream(source: NodeJS.ReadableStream, resolved: ResolvedArtifactRef, recordedSha256: string | undefined, mapError: (error: unknown) => Error): Readable {
  const hash = createHash('sha256');
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      try {
        verifyArtifactDigest(resolved, { sha256: hash.digest('hex'), size }, recordedSha256);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  // Not stream.pipeline: it would fail `check` with the source's raw error before it could be mapped.
  source.on('error', (error) => check.destroy(error instanceof AppError ? error : mapError(error)));
  // A consumer that stops early (or fails) releases the source (an open download).
  check.on('close', () => (source as Partial<Readable>).destroy?.());
  source.pipe(check);
  return check;
}
