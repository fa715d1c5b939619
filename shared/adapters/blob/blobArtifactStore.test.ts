import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { runArtifactStoreContract } from '../../ports/artifactStore.contract.js';
import { ArtifactErrorCodes } from '../../ports/artifactStore.js';
import { startAzuriteBlob, type AzuriteBlob } from '../../../test/support/azurite.js';
import { BlobArtifactStore } from './blobArtifactStore.js';

// Azurite's Blob service in this process (the real Blob REST API), one per test file.
let azurite: AzuriteBlob;
beforeAll(async () => {
  azurite = await startAzuriteBlob();
});
afterAll(async () => {
  await azurite?.stop();
});

runArtifactStoreContract({
  name: 'blob (Azurite)',
  newStore: async () => {
    const serviceClient = BlobServiceClient.fromConnectionString(azurite.connectionString);
    return {
      store: new BlobArtifactStore({ serviceClient }),
      // Overwrites the bytes and keeps the metadata, as tampering in storage would.
      tamper: async (tenantId, name, content) => {
        const blob = serviceClient.getContainerClient('artifacts').getBlockBlobClient(`${tenantId}/${name}`);
        const { metadata } = await blob.getProperties();
        await blob.uploadData(content, { ...(metadata ? { metadata } : {}) });
      },
      close: async () => undefined,
    };
  },
});

describe('BlobArtifactStore on Azurite', () => {
  it('creates its container on first use and lays blobs out as <tenantId>/<runId>/<stepId>/<name> with the hash in metadata', async () => {
    const serviceClient = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const store = new BlobArtifactStore({ serviceClient, containerName: 'artifacts-layout' });
    expect(await serviceClient.getContainerClient('artifacts-layout').exists()).toBe(false);
    const ref = await store.put('acme', 'run-1/fetch/output.json', Buffer.from('{"a":1}'), { contentType: 'application/json', metadata: { runId: 'run-1' } });
    const props = await serviceClient.getContainerClient('artifacts-layout').getBlobClient('acme/run-1/fetch/output.json').getProperties();
    expect(props.contentType).toBe('application/json');
    expect(props.metadata).toEqual({ runid: 'run-1', sha256: ref.sha256 });
    expect(BlobArtifactStore.fromConnectionString(azurite.connectionString, 'artifacts-layout')).toBeInstanceOf(BlobArtifactStore);
  });

  it('reports a missing container as not found, and deletes nothing from it', async () => {
    const store = BlobArtifactStore.fromConnectionString(azurite.connectionString, 'never-created');
    const error = await store.get('artifact://acme/r/s/x', 'acme').catch((e: unknown) => e);
    expect((error as AppError).code).toBe(ArtifactErrorCodes.notFound);
    expect(await store.delete('artifact://acme/r/s/x', 'acme')).toBe(false);
    expect(await store.deletePrefix('acme', 'r')).toBe(0);
  });

  it('turns storage failures into a retryable ARTIFACT.UNAVAILABLE without URLs in the message', async () => {
    const unreachable = BlobServiceClient.fromConnectionString(azurite.connectionString.replace(/:\d+\//, ':1/'), { retryOptions: { maxTries: 1 } });
    const store = new BlobArtifactStore({ serviceClient: unreachable });
    const error = await store.put('acme', 'r/s/x', Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ArtifactErrorCodes.unavailable);
    expect((error as AppError).retryable).toBe(true);
    expect((error as AppError).message).not.toContain('127.0.0.1');
  });
});
