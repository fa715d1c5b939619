import { AppError } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';
import { ArtifactErrorCodes, isArtifactRef, isStreamedArtifactRef, sha256Hex, type ArtifactRef, type ArtifactStore } from '../ports/artifactStore.js';

/**
 * Claim check: a step output whose JSON form is larger than this (in UTF-8 bytes) is stored as an artifact, and
 * only its reference enters run history; readers resolve references back transparently.
 */
export const CLAIM_CHECK_THRESHOLD_BYTES = 64 * 1024;

/** How deep references inside resolved artifacts are followed (artifacts holding references). */
const MAX_RESOLVE_DEPTH = 8;

export { isArtifactRef } from '../ports/artifactStore.js';

/** Where a step output belongs. */
export interface ClaimCheckLocation {
  tenantId: string;
  runId: string;
  stepId: string;
}

/**
 * Returns `value` unchanged when its JSON form is at most `threshold` bytes; otherwise stores that JSON as an
 * artifact (`application/json`) at `<runId>/<stepId>/output-<hash>.json` and returns the reference. The name is
 * content-addressed, so a retried step writes the same artifact and different outputs of the same step (loop
 * iterations) never overwrite each other. A value that already is a reference is returned as it is.
 */
export async function storeIfLarge(value: JsonValue, where: ClaimCheckLocation, store: ArtifactStore, threshold: number = CLAIM_CHECK_THRESHOLD_BYTES): Promise<JsonValue | ArtifactRef> {
  if (isArtifactRef(value)) return value;
  const json = JSON.stringify(value);
  if (json === undefined) throw new AppError('INTERNAL', 'A step output must be a JSON value');
  const size = Buffer.byteLength(json, 'utf8');
  if (size <= threshold) return value;
  const content = Buffer.from(json, 'utf8');
  const name = `${where.runId}/${where.stepId}/output-${sha256Hex(content).slice(0, 32)}.json`;
  return store.put(where.tenantId, name, content, { contentType: 'application/json', metadata: { runId: where.runId, stepId: where.stepId } });
}

/**
 * Replaces every artifact reference in `value` — at the top or nested in objects and arrays — with its content,
 * read as `tenantId` (another tenant's reference fails with `ARTIFACT.NOT_FOUND`; altered content with
 * `ARTIFACT.INTEGRITY_FAILED`). JSON artifacts become their parsed value, `text/*` ones a string; other
 * (binary) artifacts, and every artifact a connector streamed (`<runId>/<stepId>/files/…`, whatever its type), stay
 * references, for connectors that stream them. References inside resolved content are
 * resolved too. Each distinct artifact is read once per call. `value` itself is not modified.
 */
export async function resolveArtifacts(value: JsonValue | ArtifactRef, tenantId: string, store: ArtifactStore): Promise<JsonValue> {
  const reads = new Map<string, Promise<JsonValue>>();

  const load = (ref: ArtifactRef, depth: number): Promise<JsonValue> => {
    const key = `${ref.$artifact}#${ref.sha256}`;
    let read = reads.get(key);
    if (!read) {
      read = (async () => {
        const { content, contentType } = await store.get(ref, tenantId);
        const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
        if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
          let parsed: JsonValue;
          try {
            parsed = JSON.parse(content.toString('utf8')) as JsonValue;
          } catch (error) {
            throw new AppError(ArtifactErrorCodes.invalidContent, 'Artifact content is not valid JSON', { cause: error });
          }
          return walk(parsed, depth + 1);
        }
        if (mediaType.startsWith('text/')) return content.toString('utf8');
        return ref;
      })();
      reads.set(key, read);
    }
    return read;
  };

  const walk = async (node: JsonValue, depth: number): Promise<JsonValue> => {
    if (isArtifactRef(node)) {
      // Content a connector streamed stays a reference: the next connector streams it too (never into memory).
      if (isStreamedArtifactRef(node)) return node;
      if (depth >= MAX_RESOLVE_DEPTH) throw new AppError(ArtifactErrorCodes.invalidContent, `Artifact references nest deeper than ${MAX_RESOLVE_DEPTH} levels`);
      return load(node, depth);
    }
    if (Array.isArray(node)) return Promise.all(node.map((item) => walk(item, depth)));
    if (node !== null && typeof node === 'object') {
      const entries = await Promise.all(Object.entries(node).map(async ([key, item]) => [key, await walk(item, depth)] as const));
      return Object.fromEntries(entries);
    }
    return node;
  };

  return walk(value, 0);
}
