import type { ArtifactRef } from '../../ports/artifactStore.js';
import { artifactRefSchema, type JsonSchema } from '../sdk.js';
import { fileError, FileErrorCodes } from './fileErrors.js';

/** Largest content one read or write moves inline (10 MB); larger files stream through artifacts. */
export const MAX_CONTENT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LIST_RESULTS = 1000;
export const MAX_LIST_RESULTS = 5000;
export const MAX_PATH_LENGTH = 1024;

export type FileEncoding = 'utf8' | 'base64';
/** How a read returns the file: inline `content` (≤ 10 MB) or an artifact reference (default: inline up to 10 MB, artifact above). */
export type FileReadAs = 'content' | 'artifact';
/** What a write takes: inline text/base64, or an artifact reference streamed to the target. */
export type FileWriteContent = string | ArtifactRef;
export type BlobTier = 'Hot' | 'Cool' | 'Cold' | 'Archive';

export interface BlobTarget {
  /** A storage connection string, or an account URL with a SAS token (a tenant secret resolved to a string). */
  connection: string;
  container: string;
}
export interface BlobReadInput extends BlobTarget { path: string; encoding?: FileEncoding; as?: FileReadAs }
export interface BlobWriteInput extends BlobTarget { path: string; content: FileWriteContent; encoding?: FileEncoding; contentType?: string; overwrite?: boolean }
export interface BlobListInput extends BlobTarget { prefix?: string; maxResults?: number }
export interface BlobDeleteInput extends BlobTarget { path: string }
export interface BlobCopyInput extends BlobTarget { path: string; toContainer?: string; toPath: string }
export interface BlobSetTierInput extends BlobTarget { path: string; tier: BlobTier }

export interface SftpServer {
  host: string;
  port?: number;
  username: string;
  password?: string;
  privateKey?: string;
  /** Expected host key fingerprint: base64 SHA-256 as OpenSSH prints it, with or without `SHA256:`. */
  hostKeySha256?: string;
}
export interface SftpReadInput { sftp: SftpServer; path: string; encoding?: FileEncoding; as?: FileReadAs }
export interface SftpWriteInput { sftp: SftpServer; path: string; content: FileWriteContent; encoding?: FileEncoding }
export interface SftpListInput { sftp: SftpServer; path?: string }
export interface SftpDeleteInput { sftp: SftpServer; path: string }
export interface SftpMoveInput { sftp: SftpServer; path: string; toPath: string }

const DOT_DOT = '(^|/)\\.\\.(/|$)';

const pathSchema = (blob: boolean): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength: MAX_PATH_LENGTH,
  ...(blob ? { pattern: '^[^/]' } : {}),
  not: { pattern: DOT_DOT },
});
const connection: JsonSchema = { type: 'string', minLength: 1, maxLength: 8192 };
const container: JsonSchema = { type: 'string', minLength: 3, maxLength: 63, pattern: '^[a-z0-9]([a-z0-9]|-(?=[a-z0-9]))*$' };
const encoding: JsonSchema = { type: 'string', enum: ['utf8', 'base64'] };
const content: JsonSchema = { anyOf: [{ type: 'string', maxLength: Math.ceil((MAX_CONTENT_BYTES * 4) / 3) + 4 }, artifactRefSchema] };
const as: JsonSchema = { enum: ['content', 'artifact'] };

function object(required: string[], properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', additionalProperties: false, required, properties };
}

export const blobReadInputSchema = object(['connection', 'container', 'path'], { connection, container, path: pathSchema(true), encoding, as });
export const blobWriteInputSchema = object(['connection', 'container', 'path', 'content'], {
  connection, container, path: pathSchema(true), content, encoding,
  contentType: { type: 'string', minLength: 1, maxLength: 255 },
  overwrite: { type: 'boolean' },
});
export const blobListInputSchema = object(['connection', 'container'], {
  connection, container,
  prefix: { type: 'string', maxLength: MAX_PATH_LENGTH, not: { pattern: DOT_DOT } },
  maxResults: { type: 'integer', minimum: 1, maximum: MAX_LIST_RESULTS },
});
export const blobDeleteInputSchema = object(['connection', 'container', 'path'], { connection, container, path: pathSchema(true) });
export const blobCopyInputSchema = object(['connection', 'container', 'path', 'toPath'], { connection, container, path: pathSchema(true), toContainer: container, toPath: pathSchema(true) });
export const blobSetTierInputSchema = object(['connection', 'container', 'path', 'tier'], { connection, container, path: pathSchema(true), tier: { type: 'string', enum: ['Hot', 'Cool', 'Cold', 'Archive'] } });

const sftp: JsonSchema = object(['host', 'username'], {
  host: { type: 'string', minLength: 1, maxLength: 253 },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  username: { type: 'string', minLength: 1, maxLength: 256 },
  password: { type: 'string', maxLength: 1024 },
  privateKey: { type: 'string', maxLength: 32768 },
  hostKeySha256: { type: 'string', pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$' },
});
export const sftpReadInputSchema = object(['sftp', 'path'], { sftp, path: pathSchema(false), encoding, as });
export const sftpWriteInputSchema = object(['sftp', 'path', 'content'], { sftp, path: pathSchema(false), content, encoding });
export const sftpListInputSchema = object(['sftp'], { sftp, path: pathSchema(false) });
export const sftpDeleteInputSchema = object(['sftp', 'path'], { sftp, path: pathSchema(false) });
export const sftpMoveInputSchema = object(['sftp', 'path', 'toPath'], { sftp, path: pathSchema(false), toPath: pathSchema(false) });

/** Re-checks a path at run time (the schema is the first line; actions may be called directly). */
export function checkPath(path: string, blob: boolean): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_LENGTH) throw fileError(FileErrorCodes.invalidInput, `The path must be 1..${MAX_PATH_LENGTH} characters.`, []);
  if (new RegExp(DOT_DOT).test(path)) throw fileError(FileErrorCodes.invalidInput, "The path must not contain '..' segments.", []);
  if (blob && path.startsWith('/')) throw fileError(FileErrorCodes.invalidInput, "A blob path must not start with '/'.", []);
  return path;
}

/** Turns action content into bytes, enforcing the size limit. */
export function encodeContent(content: string, encoding: FileEncoding = 'utf8'): Buffer {
  if (encoding === 'base64' && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) throw fileError(FileErrorCodes.invalidInput, 'The content is not valid base64.', []);
  const bytes = Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8');
  assertSize(bytes.length);
  return bytes;
}

export function decodeContent(bytes: Buffer, encoding: FileEncoding = 'utf8'): string {
  return encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
}

export function assertSize(size: number): void {
  if (size > MAX_CONTENT_BYTES) {
    throw fileError(FileErrorCodes.tooLarge, `The file is ${size} bytes; at most ${MAX_CONTENT_BYTES} bytes are read or written inline; larger files go through artifacts (as: "artifact" on reads, an artifact reference as content on writes).`, []);
  }
}

export interface ShareTarget {
  /** A storage connection string (with FileEndpoint or AccountName) or a file account URL with a SAS token. */
  connection: string;
  share: string;
}
export interface ShareReadInput extends ShareTarget { path: string; encoding?: FileEncoding; as?: FileReadAs }
export interface ShareWriteInput extends ShareTarget { path: string; content: FileWriteContent; encoding?: FileEncoding; contentType?: string }
export interface ShareListInput extends ShareTarget { directory?: string; maxResults?: number }
export interface ShareDeleteInput extends ShareTarget { path: string }
export interface ShareMoveInput extends ShareTarget { path: string; toPath: string }

/** Azure Files uploads at most 4 MiB per Put Range. */
export const SHARE_RANGE_BYTES = 4 * 1024 * 1024;

export const shareReadInputSchema = object(['connection', 'share', 'path'], { connection, share: container, path: pathSchema(true), encoding, as });
export const shareWriteInputSchema = object(['connection', 'share', 'path', 'content'], {
  connection, share: container, path: pathSchema(true), content, encoding,
  contentType: { type: 'string', minLength: 1, maxLength: 255 },
});
export const shareListInputSchema = object(['connection', 'share'], {
  connection, share: container,
  directory: { type: 'string', maxLength: MAX_PATH_LENGTH, pattern: '^[^/]', not: { pattern: DOT_DOT } },
  maxResults: { type: 'integer', minimum: 1, maximum: MAX_LIST_RESULTS },
});
export const shareDeleteInputSchema = object(['connection', 'share', 'path'], { connection, share: container, path: pathSchema(true) });
export const shareMoveInputSchema = object(['connection', 'share', 'path', 'toPath'], { connection, share: container, path: pathSchema(true), toPath: pathSchema(true) });
