import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../domain/errors.js';
import { TENANT_ID_PATTERN } from '../domain/tenant.js';

/**
 * A reference to a stored artifact: what enters run history and step outputs instead of the content (claim
 * check). `$artifact` is an opaque, tenant-scoped URI, `artifact://<tenantId>/<name>`; `sha256` (hex) is the
 * content's hash, checked on every read. A type alias (not an interface) so a ref is also a JSON value.
 */
export type ArtifactRef = {
  $artifact: string;
  size: number;
  contentType: string;
  sha256: string;
};

export interface PutArtifactOptions {
  /** Defaults to `application/octet-stream`. */
  contentType?: string;
  /** Small, non-sensitive labels. Keys: letters, digits, `_` (not starting with a digit), not `sha256`; values: printable ASCII. */
  metadata?: Record<string, string>;
}

export interface ArtifactContent {
  content: Buffer;
  contentType: string;
}

/** Content to stream into an artifact: a Readable, an async generator, or chunks already at hand. */
export type ArtifactSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface PutArtifactStreamOptions extends PutArtifactOptions {
  /**
   * Refuses content longer than this while it is read (`ARTIFACT.TOO_LARGE`; nothing is committed). Defaults to
   * {@link MAX_STREAMED_ARTIFACT_BYTES}.
   */
  maxBytes?: number;
}

/** An artifact opened for reading: its content as a stream that fails with `ARTIFACT.INTEGRITY_FAILED` at its end when altered. */
export interface ArtifactReadStream {
  stream: Readable;
  size: number;
  contentType: string;
}

/**
 * Large contents (step outputs over the claim-check threshold, exports, files) kept outside run history.
 *
 * Tenant scoping: every artifact lives under its tenant (`<tenantId>/<name>`). A read or delete names the tenant
 * it acts for; a reference of another tenant is refused with `ARTIFACT.NOT_FOUND` before anything is read, so
 * a reference copied from elsewhere can never reach another tenant's data.
 *
 * Names are relative paths of safe segments (`<runId>/<stepId>/output.json`): no empty, `.` or `..` segments,
 * no leading `/`, no `\`, at most {@link ARTIFACT_NAME_MAX_LENGTH} characters. Putting the same name again
 * replaces the content (a retried step writes the same artifact).
 *
 * Integrity: `get` verifies the content against the hash in the reference (when given a reference) and the
 * hash recorded at `put`; a mismatch fails with `ARTIFACT.INTEGRITY_FAILED`.
 */
export interface ArtifactStore {
  put(tenantId: string, name: string, content: Buffer, options?: PutArtifactOptions): Promise<ArtifactRef>;
  /** The content; `ARTIFACT.NOT_FOUND` when missing or of another tenant, `ARTIFACT.INTEGRITY_FAILED` when altered. */
  get(ref: ArtifactRef | string, tenantId: string): Promise<ArtifactContent>;
  /**
   * Stores content read from a stream with bounded memory (the Blob adapter stages fixed-size blocks and commits
   * them with the hash, so a half-written artifact never becomes visible). Same names, rules and reference as
   * `put`; longer than `maxBytes` → `ARTIFACT.TOO_LARGE`. An error of `content` itself is passed on unchanged.
   */
  putStream(tenantId: string, name: string, content: ArtifactSource, options?: PutArtifactStreamOptions): Promise<ArtifactRef>;
  /**
   * Opens the content as a stream, after the same tenant and reference checks as `get`. A size that differs from
   * the reference fails at once; a hash mismatch fails the stream at its end (`ARTIFACT.INTEGRITY_FAILED`), so a
   * consumer must treat the content as valid only once the stream has ended without error.
   */
  getStream(ref: ArtifactRef | string, tenantId: string): Promise<ArtifactReadStream>;
  /** Deletes one artifact of the tenant; false when there was none. Another tenant's reference → `ARTIFACT.NOT_FOUND`. */
  delete(ref: ArtifactRef | string, tenantId: string): Promise<boolean>;
  /**
   * Deletes every artifact of the tenant whose name starts with `prefix` (whole segments, e.g. a run id), or
   * every artifact of the tenant when `prefix` is omitted (offboarding); returns how many.
   */
  deletePrefix(tenantId: string, prefix?: string): Promise<number>;
}

/**
 * What a connector action gets to read and write artifacts as streams (`ActionContext.artifacts`), scoped to the
 * tenant, run and step it runs for: it can open only its tenant's artifacts and creates them under
 * `<runId>/<stepId>/files/`, under the run's prefix like its claim-checked outputs.
 */
export interface StepArtifacts {
  /** Opens an artifact of the step's tenant (see `ArtifactStore.getStream`). */
  open(ref: ArtifactRef): Promise<ArtifactReadStream>;
  /**
   * Streams `content` into a new artifact and returns its reference (the claim check's shape). `name` is a label
   * kept in the artifact's name (sanitized); an invalid or absent content type becomes `application/octet-stream`.
   */
  create(content: ArtifactSource, options?: { contentType?: string | undefined; name?: string | undefined; maxBytes?: number | undefined }): Promise<ArtifactRef>;
}

export const ArtifactErrorCodes = {
  notFound: 'ARTIFACT.NOT_FOUND',
  invalidName: 'ARTIFACT.INVALID_NAME',
  invalidRef: 'ARTIFACT.INVALID_REF',
  integrityFailed: 'ARTIFACT.INTEGRITY_FAILED',
  /** The content is not what its content type says (e.g. invalid JSON). */
  invalidContent: 'ARTIFACT.INVALID_CONTENT',
  /** The storage backend failed or could not be reached: retryable. */
  unavailable: 'ARTIFACT.UNAVAILABLE',
  /** Streamed content exceeded the size the writer allowed. */
  tooLarge: 'ARTIFACT.TOO_LARGE',
} as const;

/** The largest content `putStream` accepts unless told otherwise (2 GiB). */
export const MAX_STREAMED_ARTIFACT_BYTES = 2 * 1024 * 1024 * 1024;
/** The default operator maximum of one body a connector streams through artifacts (AIQ_MAX_STREAMED_BYTES): 1 GiB. */
export const DEFAULT_MAX_STREAMED_BYTES = 1024 * 1024 * 1024;

export const ARTIFACT_URI_SCHEME = 'artifact://';
export const ARTIFACT_NAME_MAX_LENGTH = 900;
export const DEFAULT_ARTIFACT_CONTENT_TYPE = 'application/octet-stream';
/** The metadata key under which adapters record the content hash. */
export const ARTIFACT_HASH_METADATA_KEY = 'sha256';

const NAME_SEGMENT = /^[A-Za-z0-9_~@+=,-][A-Za-z0-9._~@+=,-]*$/;
const METADATA_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const METADATA_VALUE = /^[\x20-\x7e]{0,1024}$/;
const CONTENT_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Throws `ARTIFACT.INVALID_NAME` unless `name` is a safe relative path (see {@link ArtifactStore}). */
export function assertArtifactName(name: string, what = 'name'): void {
  const problem = artifactNameProblem(name);
  if (problem) throw new AppError(ArtifactErrorCodes.invalidName, `Invalid artifact ${what}: ${problem}`, { details: { name: name.slice(0, 200) } });
}

function artifactNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'it is empty';
  if (name.length > ARTIFACT_NAME_MAX_LENGTH) return `it is longer than ${ARTIFACT_NAME_MAX_LENGTH} characters`;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'it must be relative, not absolute';
  if (name.includes('\\')) return 'it must use / as separator';
  for (const segment of name.split('/')) {
    if (segment === '') return 'it has an empty segment';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
    if (!NAME_SEGMENT.test(segment)) return 'segments may hold only letters, digits and . _ ~ @ + = , - (not starting with .)';
  }
  return undefined;
}

/**
 * Refuses an id that is not a tenant id, so nothing is ever stored or looked up under it: for a write,
 * `REQUEST.INVALID`; for a read or delete, `ARTIFACT.NOT_FOUND`.
 */
export function assertArtifactTenant(tenantId: string, access: 'read' | 'write' = 'read'): void {
  if (typeof tenantId === 'string' && TENANT_ID_PATTERN.test(tenantId)) return;
  if (access === 'write') throw new AppError('REQUEST.INVALID', 'Invalid tenant id for an artifact');
  throw new AppError(ArtifactErrorCodes.notFound, 'Artifact not found');
}

/** Whether `contentType` is one an artifact can be stored with. */
export function isValidArtifactContentType(contentType: string): boolean {
  return contentType.length <= 256 && CONTENT_TYPE.test(contentType);
}

/** Checks and normalizes put options: content type and metadata (which must not claim the hash key). */
export function checkPutOptions(options: PutArtifactOptions = {}): { contentType: string; metadata: Record<string, string> } {
  const contentType = options.contentType ?? DEFAULT_ARTIFACT_CONTENT_TYPE;
  if (!isValidArtifactContentType(contentType)) throw new AppError('REQUEST.INVALID', 'Invalid artifact content type', { details: { contentType: contentType.slice(0, 100) } });
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    if (!METADATA_KEY.test(key) || key.toLowerCase() === ARTIFACT_HASH_METADATA_KEY || typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      throw new AppError('REQUEST.INVALID', `Invalid artifact metadata entry ${JSON.stringify(key.slice(0, 64))}`, { details: { key: key.slice(0, 64) } });
    }
    metadata[key.toLowerCase()] = value;
  }
  return { contentType, metadata };
}

export function artifactUri(tenantId: string, name: string): string {
  return `${ARTIFACT_URI_SCHEME}${tenantId}/${name}`;
}

export function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Builds the reference of stored content. */
export function artifactRef(tenantId: string, name: string, content: Buffer, contentType: string): ArtifactRef {
  return { $artifact: artifactUri(tenantId, name), size: content.length, contentType, sha256: sha256Hex(content) };
}

export interface ResolvedArtifactRef {
  tenantId: string;
  name: string;
  /** What the reference claims, when one was given (not for a bare URI). */
  expected?: { size: number; sha256: string };
}

/**
 * Parses a reference (or bare URI) for a read or delete on behalf of `tenantId`: malformed → `ARTIFACT.INVALID_REF`;
 * another tenant's → `ARTIFACT.NOT_FOUND` (it does not exist for this tenant). Adapters call this before any I/O.
 */
export function resolveArtifactRef(ref: ArtifactRef | string, tenantId: string): ResolvedArtifactRef {
  assertArtifactTenant(tenantId);
  const uri = typeof ref === 'string' ? ref : ref?.$artifact;
  if (typeof uri !== 'string' || !uri.startsWith(ARTIFACT_URI_SCHEME)) throw new AppError(ArtifactErrorCodes.invalidRef, 'Invalid artifact reference');
  const path = uri.slice(ARTIFACT_URI_SCHEME.length);
  const slash = path.indexOf('/');
  const refTenant = slash > 0 ? path.slice(0, slash) : '';
  const name = slash > 0 ? path.slice(slash + 1) : '';
  if (!TENANT_ID_PATTERN.test(refTenant) || artifactNameProblem(name)) throw new AppError(ArtifactErrorCodes.invalidRef, 'Invalid artifact reference');
  if (refTenant !== tenantId) throw new AppError(ArtifactErrorCodes.notFound, 'Artifact not found');
  if (typeof ref === 'string') return { tenantId, name };
  if (!Number.isSafeInteger(ref.size) || ref.size < 0 || typeof ref.sha256 !== 'string' || !SHA256_HEX.test(ref.sha256)) throw new AppError(ArtifactErrorCodes.invalidRef, 'Invalid artifact reference');
  return { tenantId, name, expected: { size: ref.size, sha256: ref.sha256 } };
}

/**
 * Verifies read content against the reference's claim and the hash recorded at put (either may be absent,
 * not both): `ARTIFACT.INTEGRITY_FAILED` on any mismatch.
 */
export function verifyArtifactContent(resolved: ResolvedArtifactRef, content: Buffer, recordedSha256: string | undefined): void {
  verifyArtifactDigest(resolved, { sha256: sha256Hex(content), size: content.length }, recordedSha256);
}

/** {@link verifyArtifactContent} for content whose hash and size were computed while it streamed by. */
export function verifyArtifactDigest(resolved: ResolvedArtifactRef, actual: { sha256: string; size: number }, recordedSha256: string | undefined): void {
  const expectations = [resolved.expected?.sha256, recordedSha256].filter((hash): hash is string => hash !== undefined);
  const sizeOk = resolved.expected === undefined || resolved.expected.size === actual.size;
  if (expectations.length === 0 || !sizeOk || expectations.some((hash) => hash !== actual.sha256)) {
    throw new AppError(ArtifactErrorCodes.integrityFailed, 'Artifact content does not match its recorded hash: it was altered or corrupted', {
      details: { artifact: artifactUri(resolved.tenantId, resolved.name) },
    });
  }
}

const REF_KEYS = ['$artifact', 'contentType', 'sha256', 'size'];

/**
 * Whether `value` is an artifact reference: exactly the keys `$artifact` (an `artifact://` URI), `size`,
 * `contentType` and `sha256` (64 hex digits). Anything else, including objects with extra keys, is data.
 */
export function isArtifactRef(value: unknown): value is ArtifactRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const ref = value as Record<string, unknown>;
  const keys = Object.keys(ref).sort();
  return (
    keys.length === REF_KEYS.length &&
    keys.every((key, i) => key === REF_KEYS[i]) &&
    typeof ref['$artifact'] === 'string' &&
    ref['$artifact'].startsWith(ARTIFACT_URI_SCHEME) &&
    typeof ref['size'] === 'number' &&
    Number.isSafeInteger(ref['size']) &&
    ref['size'] >= 0 &&
    typeof ref['contentType'] === 'string' &&
    typeof ref['sha256'] === 'string' &&
    SHA256_HEX.test(ref['sha256'])
  );
}

/**
 * The folder segment under a step (`<runId>/<stepId>/files/…`) where connectors put the artifacts they stream
 * (file contents, binary responses). Such artifacts are content passed by reference: the engine never inlines
 * them into step inputs, whatever their content type (see `resolveArtifacts`).
 */
export const STREAMED_ARTIFACT_FOLDER = 'files';

/** Whether a reference names an artifact a connector streamed (see {@link STREAMED_ARTIFACT_FOLDER}). */
export function isStreamedArtifactRef(ref: ArtifactRef): boolean {
  const segments = ref.$artifact.slice(ARTIFACT_URI_SCHEME.length).split('/');
  // artifact://<tenant>/<runId>/<stepId>/files/<name>
  return segments.length >= 5 && segments[3] === STREAMED_ARTIFACT_FOLDER;
}

/** A name prefix for deletePrefix: a valid name, optionally ending with `/`. */
export function assertArtifactPrefix(prefix: string): string {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  assertArtifactName(trimmed, 'prefix');
  return `${trimmed}/`;
}
