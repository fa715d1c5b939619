import { Readable } from 'node:stream';
import { AppError } from '../../domain/errors.js';
import { ArtifactErrorCodes, DEFAULT_MAX_STREAMED_BYTES, isArtifactRef, type ArtifactReadStream, type ArtifactRef, type ArtifactSource } from '../../ports/artifactStore.js';
import type { ActionContext } from '../sdk.js';
import { fileError, FileErrorCodes } from './fileErrors.js';
import { assertSize, encodeContent, MAX_CONTENT_BYTES, type FileEncoding, type FileReadAs } from './fileInput.js';

/**
 * Whether a read of a `size`-byte file streams into an artifact: when asked (`as: "artifact"`), or by default when
 * the file is over the inline limit and the step has artifacts. `as: "content"` keeps the 10 MB limit.
 */
export function readsIntoArtifact(as: FileReadAs | undefined, size: number, context: ActionContext, what: string): boolean {
  if (as === 'artifact') {
    if (!context.artifacts) throw fileError(FileErrorCodes.unsupported, `${what}: artifacts are not available to this call`, []);
    return true;
  }
  if (as === 'content' || !context.artifacts) {
    assertSize(size);
    return false;
  }
  return size > MAX_CONTENT_BYTES;
}

/** Streams a file's content into a new artifact of the step; longer than `maxBytes` → FILE.TOO_LARGE. */
export async function fileToArtifact(stream: ArtifactSource, context: ActionContext, options: { path: string; contentType: string | undefined; maxBytes: number }): Promise<ArtifactRef> {
  if (!context.artifacts) throw fileError(FileErrorCodes.unsupported, 'Artifacts are not available to this call', []);
  try {
    return await context.artifacts.create(stream, { contentType: options.contentType, name: options.path, maxBytes: options.maxBytes });
  } catch (error) {
    if (error instanceof AppError && error.code === ArtifactErrorCodes.tooLarge) {
      throw fileError(FileErrorCodes.tooLarge, `The file is larger than ${options.maxBytes} bytes, the most one call streams into an artifact.`, []);
    }
    throw error;
  }
}

/** What a write sends: inline bytes (≤ 10 MB), or an artifact opened as a stream. */
export type WriteSource = { kind: 'bytes'; bytes: Buffer } | ({ kind: 'artifact' } & ArtifactReadStream);

/** Opens the content of a write: a string (utf8/base64, ≤ 10 MB) or an artifact reference of the step's tenant. */
export async function writeSource(content: string | ArtifactRef, encoding: FileEncoding | undefined, context: ActionContext, what: string): Promise<WriteSource> {
  if (typeof content === 'string') return { kind: 'bytes', bytes: encodeContent(content, encoding) };
  if (!isArtifactRef(content)) throw fileError(FileErrorCodes.invalidInput, `${what}: content must be a string or an artifact reference`, []);
  if (!context.artifacts) throw fileError(FileErrorCodes.unsupported, `${what}: artifacts are not available to this call`, []);
  return { kind: 'artifact', ...(await context.artifacts.open(content)) };
}

/** The source as a stream and its size (inline bytes as a one-chunk stream). */
export function sourceStream(source: WriteSource): { stream: Readable; size: number } {
  return source.kind === 'bytes' ? { stream: Readable.from([source.bytes]), size: source.bytes.length } : { stream: source.stream, size: source.size };
}

/** Releases an opened artifact stream that was not (fully) consumed. */
export function closeSource(source: WriteSource | undefined): void {
  if (source?.kind === 'artifact' && !source.stream.destroyed) source.stream.destroy();
}

/** The default operator cap of one file read into an artifact (1 GiB, as AIQ_MAX_STREAMED_BYTES defaults). */
export const DEFAULT_MAX_ARTIFACT_BYTES = DEFAULT_MAX_STREAMED_BYTES;
