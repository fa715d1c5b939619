import { Readable } from 'node:stream';
import { AppError } from '../../domain/errors.js';
import {
  ARTIFACT_HASH_METADATA_KEY,
  ArtifactErrorCodes,
  artifactRef,
  assertArtifactName,
  assertArtifactPrefix,
  assertArtifactTenant,
  checkPutOptions,
  MAX_STREAMED_ARTIFACT_BYTES,
  resolveArtifactRef,
  verifyArtifactContent,
  type ArtifactContent,
  type ArtifactReadStream,
  type ArtifactSource,
  type ArtifactRef,
  type ArtifactStore,
  type PutArtifactOptions,
  type PutArtifactStreamOptions,
} from '../../ports/artifactStore.js';
import { ArtifactMeter, assertClaimedSize, meteredBlocks, verifyingStream } from '../../ports/artifactStreams.js';

/** Chunk size of the streams `getStream` returns. */
const READ_CHUNK_BYTES = 64 * 1024;

interface StoredArtifact {
  content: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

/**
 * Artifacts in process memory, for unit tests of callers (and tiny single-process setups). Same rules as the
 * Blob adapter: tenant-scoped paths `<tenantId>/<name>`, validated names, hash recorded at put and verified on
 * read. Contents are copied in and out, so callers cannot alter what is stored by mutating a Buffer.
 */
export class MemoryArtifactStore implements ArtifactStore {
  readonly #artifacts = new Map<string, StoredArtifact>();

  async put(tenantId: string, name: string, content: Buffer, options?: PutArtifactOptions): Promise<ArtifactRef> {
    assertArtifactTenant(tenantId, 'write');
    assertArtifactName(name);
    const { contentType, metadata } = checkPutOptions(options);
    const ref = artifactRef(tenantId, name, content, contentType);
    this.#artifacts.set(`${tenantId}/${name}`, { content: Buffer.from(content), contentType, metadata: { ...metadata, [ARTIFACT_HASH_METADATA_KEY]: ref.sha256 } });
    return ref;
  }

  async get(ref: ArtifactRef | string, tenantId: string): Promise<ArtifactContent> {
    const resolved = resolveArtifactRef(ref, tenantId);
    const stored = this.#artifacts.get(`${resolved.tenantId}/${resolved.name}`);
    if (!stored) throw new AppError(ArtifactErrorCodes.notFound, 'Artifact not found');
    verifyArtifactContent(resolved, stored.content, stored.metadata[ARTIFACT_HASH_METADATA_KEY]);
    return { content: Buffer.from(stored.content), contentType: stored.contentType };
  }

  /** Memory is where the content ends up here, so it is collected, but checked and hashed exactly as the Blob adapter does. */
  async putStream(tenantId: string, name: string, content: ArtifactSource, options?: PutArtifactStreamOptions): Promise<ArtifactRef> {
    assertArtifactTenant(tenantId, 'write');
    assertArtifactName(name);
    const { contentType, metadata } = checkPutOptions(options);
    const meter = new ArtifactMeter(options?.maxBytes ?? MAX_STREAMED_ARTIFACT_BYTES);
    const blocks: Buffer[] = [];
    for await (const block of meteredBlocks(content, READ_CHUNK_BYTES, meter)) blocks.push(block);
    const ref = meter.ref(tenantId, name, contentType);
    this.#artifacts.set(`${tenantId}/${name}`, { content: Buffer.concat(blocks, meter.size), contentType, metadata: { ...metadata, [ARTIFACT_HASH_METADATA_KEY]: ref.sha256 } });
    return ref;
  }

  async getStream(ref: ArtifactRef | string, tenantId: string): Promise<ArtifactReadStream> {
    const resolved = resolveArtifactRef(ref, tenantId);
    const stored = this.#artifacts.get(`${resolved.tenantId}/${resolved.name}`);
    if (!stored) throw new AppError(ArtifactErrorCodes.notFound, 'Artifact not found');
    assertClaimedSize(resolved, stored.content.length);
    const { content } = stored;
    const chunks = function* (): Generator<Buffer> {
      for (let offset = 0; offset < content.length; offset += READ_CHUNK_BYTES) yield Buffer.from(content.subarray(offset, offset + READ_CHUNK_BYTES));
    };
    const stream = verifyingStream(Readable.from(chunks()), resolved, stored.metadata[ARTIFACT_HASH_METADATA_KEY], (error) => error as Error);
    return { stream, size: content.length, contentType: stored.contentType };
  }

  async delete(ref: ArtifactRef | string, tenantId: string): Promise<boolean> {
    const resolved = resolveArtifactRef(ref, tenantId);
    return this.#artifacts.delete(`${resolved.tenantId}/${resolved.name}`);
  }

  async deletePrefix(tenantId: string, prefix?: string): Promise<number> {
    assertArtifactTenant(tenantId, 'write');
    const start = `${tenantId}/${prefix === undefined ? '' : assertArtifactPrefix(prefix)}`;
    let deleted = 0;
    for (const path of [...this.#artifacts.keys()]) if (path.startsWith(start) && this.#artifacts.delete(path)) deleted++;
    return deleted;
  }

  /** Test support: the metadata recorded for an artifact (including the hash), or undefined. */
  metadataOf(tenantId: string, name: string): Record<string, string> | undefined {
    const stored = this.#artifacts.get(`${tenantId}/${name}`);
    return stored ? { ...stored.metadata } : undefined;
  }

  /** Test support: replaces stored bytes behind the store's back, as corruption or tampering in storage would. */
  tamper(tenantId: string, name: string, content: Buffer): void {
    const stored = this.#artifacts.get(`${tenantId}/${name}`);
    if (!stored) throw new Error(`no artifact ${tenantId}/${name}`);
    stored.content = Buffer.from(content);
  }
}
