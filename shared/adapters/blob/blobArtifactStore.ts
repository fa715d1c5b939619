import { Readable } from 'node:stream';
import { BlobServiceClient, type BlobDownloadResponseParsed, type ContainerClient } from '@azure/storage-blob';
import { AppError } from '../../domain/errors.js';
import {
  ARTIFACT_HASH_METADATA_KEY,
  ArtifactErrorCodes,
  DEFAULT_ARTIFACT_CONTENT_TYPE,
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
  type ResolvedArtifactRef,
} from '../../ports/artifactStore.js';
import { ArtifactMeter, assertClaimedSize, meteredBlocks, verifyingStream } from '../../ports/artifactStreams.js';

export const DEFAULT_ARTIFACT_CONTAINER = 'artifacts';
/** `putStream` stages blocks of this size, at most {@link STAGE_CONCURRENCY} at a time: ≤ 16 MiB buffered per stream. */
export const STAGE_BLOCK_BYTES = 4 * 1024 * 1024;
export const STAGE_CONCURRENCY = 4;

/**
 * Artifacts in Azure Blob Storage (Azurite on the embedded host): one container (default `artifacts`, created
 * on first use), one block blob per artifact at `<tenantId>/<name>` — for step outputs `<tenantId>/<runId>/<stepId>/<file>`.
 * The blob's metadata records the content's SHA-256 (`sha256`); every read recomputes it and compares it with
 * that record and with the reference's claim, so content altered in storage is refused, never returned.
 *
 * Tenant isolation does not rely on the storage account: the reference is parsed and its tenant compared with
 * the caller's before any request is made (see `resolveArtifactRef`).
 */
export class BlobArtifactStore implements ArtifactStore {
  readonly #container: ContainerClient;
  #ready: Promise<void> | undefined;

  constructor(options: { serviceClient: BlobServiceClient; containerName?: string }) {
    this.#container = options.serviceClient.getContainerClient(options.containerName ?? DEFAULT_ARTIFACT_CONTAINER);
  }

  static fromConnectionString(connectionString: string, containerName?: string): BlobArtifactStore {
    return new BlobArtifactStore({ serviceClient: BlobServiceClient.fromConnectionString(connectionString), ...(containerName ? { containerName } : {}) });
  }

  async put(tenantId: string, name: string, content: Buffer, options?: PutArtifactOptions): Promise<ArtifactRef> {
    assertArtifactTenant(tenantId, 'write');
    assertArtifactName(name);
    const { contentType, metadata } = checkPutOptions(options);
    const ref = artifactRef(tenantId, name, content, contentType);
    try {
      await this.ensureContainer();
      await this.#container.getBlockBlobClient(`${tenantId}/${name}`).uploadData(content, {
        blobHTTPHeaders: { blobContentType: contentType },
        metadata: { ...metadata, [ARTIFACT_HASH_METADATA_KEY]: ref.sha256 },
      });
    } catch (error) {
      throw unavailable(error);
    }
    return ref;
  }

  async get(ref: ArtifactRef | string, tenantId: string): Promise<ArtifactContent> {
    const { resolved, response } = await this.download(ref, tenantId);
    let content: Buffer;
    try {
      content = await readAll(response.readableStreamBody);
    } catch (error) {
      throw unavailable(error);
    }
    verifyArtifactContent(resolved, content, response.metadata?.[ARTIFACT_HASH_METADATA_KEY]);
    return { content, contentType: response.contentType ?? DEFAULT_ARTIFACT_CONTENT_TYPE };
  }

  async putStream(tenantId: string, name: string, content: ArtifactSource, options?: PutArtifactStreamOptions): Promise<ArtifactRef> {
    assertArtifactTenant(tenantId, 'write');
    assertArtifactName(name);
    const { contentType, metadata } = checkPutOptions(options);
    const meter = new ArtifactMeter(options?.maxBytes ?? MAX_STREAMED_ARTIFACT_BYTES);
    const blob = this.#container.getBlockBlobClient(`${tenantId}/${name}`);
    const storage = <T>(work: () => Promise<T>): Promise<T> => work().catch((error: unknown) => Promise.reject(unavailable(error)));
    await storage(() => this.ensureContainer());
    // Blocks are staged as they fill; the blob appears (with its hash) only at the commit, after the last byte.
    const blockIds: string[] = [];
    const staging = new Set<Promise<void>>();
    let failure: unknown;
    for await (const block of meteredBlocks(content, STAGE_BLOCK_BYTES, meter)) {
      if (failure !== undefined) break;
      const blockId = Buffer.from(`block-${String(blockIds.length).padStart(10, '0')}`).toString('base64');
      blockIds.push(blockId);
      const staged: Promise<void> = blob.stageBlock(blockId, block, block.length).then(
        () => void staging.delete(staged),
        (error: unknown) => {
          staging.delete(staged);
          failure ??= error;
        },
      );
      staging.add(staged);
      if (staging.size >= STAGE_CONCURRENCY) await Promise.race(staging);
    }
    await Promise.all(staging);
    if (failure !== undefined) throw unavailable(failure);
    const ref = meter.ref(tenantId, name, contentType);
    await storage(() =>
      blob.commitBlockList(blockIds, { blobHTTPHeaders: { blobContentType: contentType }, metadata: { ...metadata, [ARTIFACT_HASH_METADATA_KEY]: ref.sha256 } }),
    );
    return ref;
  }

  async getStream(ref: ArtifactRef | string, tenantId: string): Promise<ArtifactReadStream> {
    const { resolved, response } = await this.download(ref, tenantId);
    const size = response.contentLength ?? 0;
    const body = response.readableStreamBody;
    try {
      assertClaimedSize(resolved, size);
    } catch (error) {
      (body as { destroy?: () => void } | undefined)?.destroy?.();
      throw error;
    }
    return { stream: verifyingStream(body ?? Readable.from([]), resolved, response.metadata?.[ARTIFACT_HASH_METADATA_KEY], unavailable), size, contentType: response.contentType ?? DEFAULT_ARTIFACT_CONTENT_TYPE };
  }

  /** Starts the download of a tenant's artifact (checked reference): missing → ARTIFACT.NOT_FOUND, storage failure → ARTIFACT.UNAVAILABLE. */
  private async download(ref: ArtifactRef | string, tenantId: string): Promise<{ resolved: ResolvedArtifactRef; response: BlobDownloadResponseParsed }> {
    const resolved = resolveArtifactRef(ref, tenantId);
    try {
      return { resolved, response: await this.#container.getBlobClient(`${resolved.tenantId}/${resolved.name}`).download(0, undefined, { maxRetryRequests: 3 }) };
    } catch (error) {
      if (statusOf(error) === 404) throw new AppError(ArtifactErrorCodes.notFound, 'Artifact not found');
      throw unavailable(error);
    }
  }

  async delete(ref: ArtifactRef | string, tenantId: string): Promise<boolean> {
    const resolved = resolveArtifactRef(ref, tenantId);
    try {
      return (await this.#container.getBlobClient(`${resolved.tenantId}/${resolved.name}`).deleteIfExists({ deleteSnapshots: 'include' })).succeeded;
    } catch (error) {
      if (statusOf(error) === 404) return false; // no container yet
      throw unavailable(error);
    }
  }

  async deletePrefix(tenantId: string, prefix?: string): Promise<number> {
    assertArtifactTenant(tenantId, 'write');
    const start = `${tenantId}/${prefix === undefined ? '' : assertArtifactPrefix(prefix)}`;
    let deleted = 0;
    try {
      let batch: string[] = [];
      const flush = async () => {
        const results = await Promise.all(batch.map((path) => this.#container.getBlobClient(path).deleteIfExists({ deleteSnapshots: 'include' })));
        deleted += results.filter((result) => result.succeeded).length;
        batch = [];
      };
      for await (const blob of this.#container.listBlobsFlat({ prefix: start })) {
        batch.push(blob.name);
        if (batch.length === 16) await flush();
      }
      await flush();
    } catch (error) {
      if (statusOf(error) !== 404) throw unavailable(error); // 404: no container yet, nothing to delete
    }
    return deleted;
  }

  private ensureContainer(): Promise<void> {
    this.#ready ??= this.#container.createIfNotExists().then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Storage failures as a retryable AppError; the storage error (which names URLs) stays only in `cause`. */
function unavailable(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const status = statusOf(error);
  return new AppError(ArtifactErrorCodes.unavailable, `Artifact storage failed${status ? ` (HTTP ${status})` : ''}`, { retryable: true, cause: error });
}
