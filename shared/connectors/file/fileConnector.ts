/**
 * The built-in `file` connector: Azure Blob Storage (blobRead/Write/List/Delete/Copy/SetTier), Azure Files
 * (shareRead/Write/List/Delete/Move; the file endpoint is checked and pinned like the blob endpoint) and SFTP
 * (sftpRead/Write/List/Delete/Move). Content moves inline up to 10 MB per read/write; larger files stream through
 * artifacts (`ActionContext.artifacts`): a read returns an artifact reference as `content` (asked for with
 * `as: "artifact"`, or by default above 10 MB) and a write takes one as `content`, with bounded memory either way.
 *
 * Every connection goes through the SSRF guard (addressPolicy): the blob account endpoint must pass checkUrl
 * (http/https, 80/443 or an allowed port) and resolveAndCheck, and the SDK's sockets connect only to the checked
 * addresses; SFTP uses port 22 (others only when allowed), resolves and checks the host once and connects to the
 * checked IP, verifying the host key fingerprint when one is given. Errors: network, timeouts, 408/429/5xx are
 * retryable; not found is FILE.NOT_FOUND, auth failures FILE.AUTH_FAILED (permanent). Messages never carry the
 * connection string, account key, SAS, password or private key.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { ShareClient } from '@azure/storage-file-share';
import type { ActionContext, ConnectorDefinition } from '../sdk.js';
import { defineAction, defineConnector } from '../sdk.js';
import { operatorEgressPolicy, withTenantEgress, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';
import { connectionSecrets, openBlobService, parseBlobConnection } from './blobClient.js';
import { fileError, FileErrorCodes, toBlobError } from './fileErrors.js';
import type {
  BlobCopyInput, BlobDeleteInput, BlobListInput, BlobReadInput, BlobSetTierInput, BlobTarget, BlobWriteInput,
  SftpDeleteInput, SftpListInput, SftpMoveInput, SftpReadInput, SftpWriteInput,
} from './fileInput.js';
import {
  assertSize, blobCopyInputSchema, blobDeleteInputSchema, blobListInputSchema, blobReadInputSchema, blobSetTierInputSchema, blobWriteInputSchema,
  checkPath, decodeContent, DEFAULT_LIST_RESULTS, MAX_CONTENT_BYTES, MAX_LIST_RESULTS,
  sftpDeleteInputSchema, sftpListInputSchema, sftpMoveInputSchema, sftpReadInputSchema, sftpWriteInputSchema,
} from './fileInput.js';
import { closeSource, DEFAULT_MAX_ARTIFACT_BYTES, fileToArtifact, readsIntoArtifact, sourceStream, writeSource, type WriteSource } from './fileArtifacts.js';
import { ArtifactMeter, meteredBlocks } from '../../ports/artifactStreams.js';
import type { ArtifactRef, ArtifactSource } from '../../ports/artifactStore.js';
import { withSftp } from './sftpSession.js';
import { openShareService } from './shareClient.js';
import type { ShareDeleteInput, ShareListInput, ShareMoveInput, ShareReadInput, ShareTarget, ShareWriteInput } from './fileInput.js';
import { SHARE_RANGE_BYTES, shareDeleteInputSchema, shareListInputSchema, shareMoveInputSchema, shareReadInputSchema, shareWriteInputSchema } from './fileInput.js';

export { FileErrorCodes } from './fileErrors.js';
export { MAX_CONTENT_BYTES } from './fileInput.js';
export { hostKeyFingerprint } from './sftpSession.js';
export type * from './fileInput.js';

export interface FileConnectorOptions {
  /** The operator egress policy: private hosts and ports other than 80/443 (blob) or 22 (SFTP) need allowing. */
  egress?: { readonly allowHosts?: readonly string[]; readonly allowPorts?: readonly number[] } | undefined;
  /** Injectable resolver (tests); defaults to `dns.lookup`. */
  resolver?: Resolver;
  /** The operator's cap on one file streamed into an artifact (default 1 GiB); larger → FILE.TOO_LARGE. */
  maxArtifactBytes?: number;
}

/** Block size and parallelism of streamed Blob uploads: at most 16 MiB buffered per upload. */
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

export type FileConnector = ConnectorDefinition & { close(): Promise<void> };

async function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    assertSize(size > limit ? size : 0);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

const outputObject = (required: string[]) => ({ type: 'object', required });

/** Builds the `file` connector for an egress policy. */
export function createFileConnector(options: FileConnectorOptions = {}): FileConnector {
  const policy: EgressPolicy = operatorEgressPolicy(options.egress);
  const resolver = options.resolver;
  const maxArtifactBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  /** Streams a file into a new artifact of the step (the file's base name is kept as a label). */
  const toArtifact = (stream: ArtifactSource, context: ActionContext, path: string, contentType: string | undefined): Promise<ArtifactRef> =>
    fileToArtifact(stream, context, { path, contentType, maxBytes: maxArtifactBytes });
  /** Opens a write's content and always releases it (an unconsumed artifact stream is destroyed). */
  async function withSource<T>(content: BlobWriteInput['content'], encoding: BlobWriteInput['encoding'], context: ActionContext, what: string, work: (source: WriteSource) => Promise<T>): Promise<T> {
    let source: WriteSource | undefined;
    try {
      source = await writeSource(content, encoding, context, what);
      return await work(source);
    } finally {
      closeSource(source);
    }
  }
  const agents = new Set<{ destroy(): void }>();

  async function withBlob<T>(input: BlobTarget, what: string, context: ActionContext, work: (service: BlobServiceClient, signal: AbortSignal) => Promise<T>): Promise<T> {
    let secrets = connectionSecrets(input.connection);
    let agent: { destroy(): void } | undefined;
    try {
      const parsed = parseBlobConnection(input.connection);
      secrets = connectionSecrets(input.connection, parsed);
      const opened = await openBlobService(parsed, withTenantEgress(policy, context.egress), resolver, secrets);
      agent = opened.agent;
      agents.add(agent);
      return await work(opened.service, context.signal);
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason ?? error;
      throw toBlobError(error, what, secrets);
    } finally {
      if (agent) {
        agents.delete(agent);
        agent.destroy();
      }
    }
  }

  async function withShare<T>(input: ShareTarget, what: string, context: ActionContext, work: (share: ShareClient, signal: AbortSignal) => Promise<T>): Promise<T> {
    let secrets = connectionSecrets(input.connection);
    let agent: { destroy(): void } | undefined;
    try {
      const parsed = parseBlobConnection(input.connection, 'file');
      secrets = connectionSecrets(input.connection, parsed);
      const opened = await openShareService(parsed, withTenantEgress(policy, context.egress), resolver, secrets);
      agent = opened.agent;
      agents.add(agent);
      return await work(opened.service.getShareClient(input.share), context.signal);
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason ?? error;
      throw toBlobError(error, what, secrets);
    } finally {
      if (agent) {
        agents.delete(agent);
        agent.destroy();
      }
    }
  }

  /** Creates every parent directory of a file path (Azure Files has real directories). */
  async function ensureParents(share: ShareClient, path: string, abortSignal: AbortSignal): Promise<void> {
    const segments = path.split('/').filter(Boolean).slice(0, -1);
    for (let i = 1; i <= segments.length; i += 1) {
      await share.getDirectoryClient(segments.slice(0, i).join('/')).createIfNotExists({ abortSignal });
    }
  }

  const sftp = <T>(input: { sftp: SftpReadInput['sftp'] }, context: ActionContext, what: string, work: Parameters<typeof withSftp<T>>[4]) =>
    withSftp<T>(input.sftp, withTenantEgress(policy, context.egress), resolver, what, work);

  const definition = defineConnector({
    name: 'file',
    description: 'Reads, writes, lists, copies, moves and deletes files in Azure Blob Storage, Azure Files shares and on SFTP servers (SSRF-guarded; content inline up to 10 MB, larger files streamed through artifacts).',
    actions: [
      defineAction<BlobReadInput, { content: string | ArtifactRef; contentType: string; size: number; etag: string }>({
        name: 'blobRead',
        description: 'Reads a blob as utf8 or base64 (≤ 10 MB), or into an artifact (as: "artifact", or by default above 10 MB): { content, contentType, size, etag }.',
        input: blobReadInputSchema,
        output: outputObject(['content', 'contentType', 'size', 'etag']),
        run: (input, context) =>
          withBlob(input, `blobRead ${input.container}/${input.path}`, context, async (service, abortSignal) => {
            checkPath(input.path, true);
            const blob = service.getContainerClient(input.container).getBlobClient(input.path);
            const response = await blob.download(0, undefined, { abortSignal });
            const size = response.contentLength ?? 0;
            const contentType = response.contentType ?? 'application/octet-stream';
            let intoArtifact: boolean;
            try {
              intoArtifact = readsIntoArtifact(input.as, size, context, `blobRead ${input.container}/${input.path}`);
            } catch (error) {
              (response.readableStreamBody as { destroy?: () => void } | undefined)?.destroy?.();
              throw error;
            }
            if (intoArtifact) {
              const ref = await toArtifact(response.readableStreamBody ?? Readable.from([]), context, input.path, contentType);
              context.log(`blob read ${input.container}/${input.path} → artifact (${ref.size} bytes)`);
              return { content: ref, contentType, size: ref.size, etag: response.etag ?? '' };
            }
            const bytes = response.readableStreamBody ? await readStream(response.readableStreamBody, MAX_CONTENT_BYTES) : Buffer.alloc(0);
            context.log(`blob read ${input.container}/${input.path} (${bytes.length} bytes)`);
            return { content: decodeContent(bytes, input.encoding), contentType, size: bytes.length, etag: response.etag ?? '' };
          }),
      }),
      defineAction<BlobWriteInput, { etag: string; size: number }>({
        name: 'blobWrite',
        description: 'Writes a blob from utf8 or base64 content (≤ 10 MB) or from an artifact reference (streamed); overwrite defaults to true: { etag, size }.',
        input: blobWriteInputSchema,
        output: outputObject(['etag', 'size']),
        run: (input, context) =>
          withBlob(input, `blobWrite ${input.container}/${input.path}`, context, async (service, abortSignal) => {
            checkPath(input.path, true);
            return withSource(input.content, input.encoding, context, `blobWrite ${input.container}/${input.path}`, async (source) => {
              const blob = service.getContainerClient(input.container).getBlockBlobClient(input.path);
              const contentType = input.contentType ?? (source.kind === 'artifact' ? source.contentType : input.encoding === 'base64' ? 'application/octet-stream' : 'text/plain; charset=utf-8');
              const options = { abortSignal, blobHTTPHeaders: { blobContentType: contentType }, ...(input.overwrite === false ? { conditions: { ifNoneMatch: '*' } } : {}) };
              // An artifact is staged block by block and committed only after its last byte passed the hash check.
              const response = source.kind === 'bytes' ? await blob.upload(source.bytes, source.bytes.length, options) : await blob.uploadStream(source.stream, UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY, options);
              const size = source.kind === 'bytes' ? source.bytes.length : source.size;
              context.log(`blob write ${input.container}/${input.path} (${size} bytes)`);
              return { etag: response.etag ?? '', size };
            });
          }),
      }),
      defineAction<BlobListInput, { items: { path: string; size: number; lastModified: string; contentType: string }[]; truncated: boolean }>({
        name: 'blobList',
        description: 'Lists blobs (optionally under a prefix), at most maxResults (default 1000, ≤ 5000): { items, truncated }.',
        input: blobListInputSchema,
        output: outputObject(['items', 'truncated']),
        run: (input, context) =>
          withBlob(input, `blobList ${input.container}`, context, async (service, abortSignal) => {
            if (input.prefix) checkPath(input.prefix, true);
            const maxPageSize = Math.min(Math.max(1, input.maxResults ?? DEFAULT_LIST_RESULTS), MAX_LIST_RESULTS);
            const pages = service
              .getContainerClient(input.container)
              .listBlobsFlat({ abortSignal, ...(input.prefix ? { prefix: input.prefix } : {}) })
              .byPage({ maxPageSize });
            const first = await pages.next();
            const page = first.done ? undefined : first.value;
            const items = (page?.segment.blobItems ?? []).slice(0, maxPageSize).map((item) => ({
              path: item.name,
              size: item.properties.contentLength ?? 0,
              lastModified: item.properties.lastModified.toISOString(),
              contentType: item.properties.contentType ?? '',
            }));
            const truncated = Boolean(page?.continuationToken);
            context.log(`blob list ${input.container} → ${items.length} item(s)${truncated ? ' (truncated)' : ''}`);
            return { items, truncated };
          }),
      }),
      defineAction<BlobDeleteInput, { deleted: boolean }>({
        name: 'blobDelete',
        description: 'Deletes a blob (and its snapshots): { deleted } (false when it did not exist).',
        input: blobDeleteInputSchema,
        output: outputObject(['deleted']),
        run: (input, context) =>
          withBlob(input, `blobDelete ${input.container}/${input.path}`, context, async (service, abortSignal) => {
            checkPath(input.path, true);
            const result = await service.getContainerClient(input.container).getBlobClient(input.path).deleteIfExists({ abortSignal, deleteSnapshots: 'include' });
            return { deleted: result.succeeded };
          }),
      }),
      defineAction<BlobCopyInput, { etag: string }>({
        name: 'blobCopy',
        description: 'Copies a blob server-side within the same account (to toContainer, default the same container): { etag }.',
        input: blobCopyInputSchema,
        output: outputObject(['etag']),
        run: (input, context) =>
          withBlob(input, `blobCopy ${input.container}/${input.path}`, context, async (service, abortSignal) => {
            checkPath(input.path, true);
            checkPath(input.toPath, true);
            const source = service.getContainerClient(input.container).getBlobClient(input.path);
            const target = service.getContainerClient(input.toContainer ?? input.container).getBlobClient(input.toPath);
            const poller = await target.beginCopyFromURL(source.url, { abortSignal, intervalInMs: 500 });
            const result = await poller.pollUntilDone();
            if (result.copyStatus && result.copyStatus !== 'success') throw fileError(FileErrorCodes.requestFailed, `blobCopy ${input.container}/${input.path}: the copy ended ${result.copyStatus}`, []);
            const etag = result.etag ?? '';
            return { etag };
          }),
      }),
      defineAction<BlobSetTierInput, { tier: string }>({
        name: 'blobSetTier',
        description: "Sets a block blob's access tier (Hot, Cool, Cold, Archive): { tier }.",
        input: blobSetTierInputSchema,
        output: outputObject(['tier']),
        run: (input, context) =>
          withBlob(input, `blobSetTier ${input.container}/${input.path}`, context, async (service, abortSignal) => {
            checkPath(input.path, true);
            await service.getContainerClient(input.container).getBlobClient(input.path).setAccessTier(input.tier, { abortSignal });
            return { tier: input.tier };
          }),
      }),
      defineAction<ShareReadInput, { content: string | ArtifactRef; size: number; contentType: string }>({
        name: 'shareRead',
        description: 'Reads a file from an Azure Files share as utf8 or base64 (≤ 10 MB), or into an artifact (as: "artifact", or by default above 10 MB): { content, size, contentType }.',
        input: shareReadInputSchema,
        output: outputObject(['content', 'size', 'contentType']),
        run: (input, context) =>
          withShare(input, `shareRead ${input.share}/${input.path}`, context, async (share, abortSignal) => {
            checkPath(input.path, true);
            const file = share.rootDirectoryClient.getFileClient(input.path);
            const properties = await file.getProperties({ abortSignal });
            const intoArtifact = readsIntoArtifact(input.as, properties.contentLength ?? 0, context, `shareRead ${input.share}/${input.path}`);
            const response = await file.download(0, undefined, { abortSignal });
            if (intoArtifact) {
              const contentType = response.contentType ?? properties.contentType ?? 'application/octet-stream';
              const ref = await toArtifact(response.readableStreamBody ?? Readable.from([]), context, input.path, contentType);
              context.log(`share read ${input.share}/${input.path} → artifact (${ref.size} bytes)`);
              return { content: ref, size: ref.size, contentType };
            }
            const bytes = response.readableStreamBody ? await readStream(response.readableStreamBody, MAX_CONTENT_BYTES) : Buffer.alloc(0);
            context.log(`share read ${input.share}/${input.path} (${bytes.length} bytes)`);
            return { content: decodeContent(bytes, input.encoding), size: bytes.length, contentType: response.contentType ?? properties.contentType ?? 'application/octet-stream' };
          }),
      }),
      defineAction<ShareWriteInput, { size: number }>({
        name: 'shareWrite',
        description: 'Writes (replaces) a file in an Azure Files share from utf8 or base64 content (≤ 10 MB) or an artifact reference (streamed), creating parent directories: { size }.',
        input: shareWriteInputSchema,
        output: outputObject(['size']),
        run: (input, context) =>
          withShare(input, `shareWrite ${input.share}/${input.path}`, context, async (share, abortSignal) => {
            checkPath(input.path, true);
            return withSource(input.content, input.encoding, context, `shareWrite ${input.share}/${input.path}`, async (source) => {
              await ensureParents(share, input.path, abortSignal);
              const file = share.rootDirectoryClient.getFileClient(input.path);
              const contentType = input.contentType ?? (source.kind === 'artifact' ? source.contentType : input.encoding === 'base64' ? 'application/octet-stream' : 'text/plain; charset=utf-8');
              const { stream, size } = sourceStream(source);
              await file.create(size, { abortSignal, fileHttpHeaders: { fileContentType: contentType } });
              try {
                let offset = 0;
                for await (const range of meteredBlocks(stream, SHARE_RANGE_BYTES, new ArtifactMeter(size))) {
                  await file.uploadRange(range, offset, range.length, { abortSignal });
                  offset += range.length;
                }
              } catch (error) {
                // Azure Files has no commit: a file whose artifact failed its hash check is not left behind.
                await file.delete().catch(() => undefined);
                throw error;
              }
              context.log(`share write ${input.share}/${input.path} (${size} bytes)`);
              return { size };
            });
          }),
      }),
      defineAction<ShareListInput, { items: { name: string; type: 'file' | 'directory'; size: number }[]; truncated: boolean }>({
        name: 'shareList',
        description: 'Lists one directory of an Azure Files share (default the root), at most maxResults (default 1000, ≤ 5000): { items, truncated }.',
        input: shareListInputSchema,
        output: outputObject(['items', 'truncated']),
        run: (input, context) =>
          withShare(input, `shareList ${input.share}/${input.directory ?? ''}`, context, async (share, abortSignal) => {
            if (input.directory) checkPath(input.directory, true);
            const maxPageSize = Math.min(Math.max(1, input.maxResults ?? DEFAULT_LIST_RESULTS), MAX_LIST_RESULTS);
            const directory = input.directory ? share.getDirectoryClient(input.directory.replace(/\/+$/, '')) : share.rootDirectoryClient;
            const pages = directory.listFilesAndDirectories({ abortSignal }).byPage({ maxPageSize });
            const first = await pages.next();
            const page = first.done ? undefined : first.value;
            const items = [
              ...(page?.segment.directoryItems ?? []).map((item) => ({ name: item.name, type: 'directory' as const, size: 0 })),
              ...(page?.segment.fileItems ?? []).map((item) => ({ name: item.name, type: 'file' as const, size: item.properties.contentLength ?? 0 })),
            ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, maxPageSize);
            const truncated = Boolean(page?.continuationToken);
            context.log(`share list ${input.share}/${input.directory ?? ''} → ${items.length} item(s)${truncated ? ' (truncated)' : ''}`);
            return { items, truncated };
          }),
      }),
      defineAction<ShareDeleteInput, { deleted: boolean }>({
        name: 'shareDelete',
        description: 'Deletes a file from an Azure Files share: { deleted } (false when it did not exist).',
        input: shareDeleteInputSchema,
        output: outputObject(['deleted']),
        run: (input, context) =>
          withShare(input, `shareDelete ${input.share}/${input.path}`, context, async (share, abortSignal) => {
            checkPath(input.path, true);
            try {
              await share.rootDirectoryClient.getFileClient(input.path).delete({ abortSignal });
              return { deleted: true };
            } catch (error) {
              const e = error as { statusCode?: number; code?: string };
              // A missing file (ResourceNotFound) or a missing parent directory (ParentNotFound); not a missing share.
              if (e.statusCode === 404 && e.code !== 'ShareNotFound') return { deleted: false };
              throw error;
            }
          }),
      }),
      defineAction<ShareMoveInput, { path: string }>({
        name: 'shareMove',
        description: 'Renames/moves a file within an Azure Files share with the Rename File API (replacing the target; parent directories are created): { path }.',
        input: shareMoveInputSchema,
        output: outputObject(['path']),
        run: (input, context) =>
          withShare(input, `shareMove ${input.share}/${input.path}`, context, async (share, abortSignal) => {
            checkPath(input.path, true);
            checkPath(input.toPath, true);
            await ensureParents(share, input.toPath, abortSignal);
            await share.rootDirectoryClient.getFileClient(input.path).rename(input.toPath, { abortSignal, replaceIfExists: true });
            return { path: input.toPath };
          }),
      }),
      defineAction<SftpReadInput, { content: string | ArtifactRef; size: number }>({
        name: 'sftpRead',
        description: 'Reads a file over SFTP as utf8 or base64 (≤ 10 MB), or into an artifact (as: "artifact", or by default above 10 MB): { content, size }.',
        input: sftpReadInputSchema,
        output: outputObject(['content', 'size']),
        run: (input, context) =>
          sftp(input, context, `sftpRead ${input.path}`, async (client) => {
            checkPath(input.path, false);
            const stat = await client.stat(input.path);
            if (stat.isDirectory) throw fileError(FileErrorCodes.invalidInput, `sftpRead ${input.path}: is a directory`, []);
            if (readsIntoArtifact(input.as, stat.size, context, `sftpRead ${input.path}`)) {
              const ref = await toArtifact(client.createReadStream(input.path), context, input.path, undefined);
              context.log(`sftp read ${input.path} → artifact (${ref.size} bytes)`);
              return { content: ref, size: ref.size };
            }
            const data = await client.get(input.path);
            const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data));
            assertSize(bytes.length);
            return { content: decodeContent(bytes, input.encoding), size: bytes.length };
          }),
      }),
      defineAction<SftpWriteInput, { size: number }>({
        name: 'sftpWrite',
        description: 'Writes (replaces) a file over SFTP from utf8 or base64 content (≤ 10 MB) or an artifact reference (streamed): { size }.',
        input: sftpWriteInputSchema,
        output: outputObject(['size']),
        run: (input, context) =>
          sftp(input, context, `sftpWrite ${input.path}`, async (client) => {
            checkPath(input.path, false);
            return withSource(input.content, input.encoding, context, `sftpWrite ${input.path}`, async (source) => {
              if (source.kind === 'bytes') {
                await client.put(source.bytes, input.path);
                return { size: source.bytes.length };
              }
              try {
                const remote = client.createWriteStream(input.path);
                const closed = new Promise<void>((resolve) => remote.once('close', () => resolve()));
                await pipeline(source.stream, remote);
                await closed;
              } catch (error) {
                // The remote file is written as the artifact streams; one that failed its hash check is removed.
                await client.delete(input.path, true).catch(() => undefined);
                throw error;
              }
              context.log(`sftp write ${input.path} (${source.size} bytes)`);
              return { size: source.size };
            });
          }),
      }),
      defineAction<SftpListInput, { items: { name: string; type: 'file' | 'directory'; size: number; modifiedAt: string }[] }>({
        name: 'sftpList',
        description: 'Lists a directory over SFTP (default the login directory): { items: [{ name, type, size, modifiedAt }] }.',
        input: sftpListInputSchema,
        output: outputObject(['items']),
        run: (input, context) =>
          sftp(input, context, `sftpList ${input.path ?? '.'}`, async (client) => {
            const path = input.path === undefined ? '.' : checkPath(input.path, false);
            const entries = await client.list(path);
            const items = entries.map((entry) => ({
              name: entry.name,
              type: entry.type === 'd' ? ('directory' as const) : ('file' as const),
              size: entry.size,
              modifiedAt: new Date(entry.modifyTime).toISOString(),
            }));
            items.sort((a, b) => a.name.localeCompare(b.name));
            return { items };
          }),
      }),
      defineAction<SftpDeleteInput, { deleted: boolean }>({
        name: 'sftpDelete',
        description: 'Deletes a file over SFTP: { deleted } (false when it did not exist).',
        input: sftpDeleteInputSchema,
        output: outputObject(['deleted']),
        run: (input, context) =>
          sftp(input, context, `sftpDelete ${input.path}`, async (client) => {
            checkPath(input.path, false);
            if (!(await client.exists(input.path))) return { deleted: false };
            await client.delete(input.path);
            return { deleted: true };
          }),
      }),
      defineAction<SftpMoveInput, { path: string }>({
        name: 'sftpMove',
        description: 'Renames/moves a file over SFTP: { path } (the new path).',
        input: sftpMoveInputSchema,
        output: outputObject(['path']),
        run: (input, context) =>
          sftp(input, context, `sftpMove ${input.path}`, async (client) => {
            checkPath(input.path, false);
            checkPath(input.toPath, false);
            await client.rename(input.path, input.toPath);
            return { path: input.toPath };
          }),
      }),
    ],
  });
  return Object.assign(definition, {
    close: async () => {
      for (const agent of agents) agent.destroy();
      agents.clear();
    },
  });
}
