import http from 'node:http';
import { AnonymousCredential, newPipeline, ShareServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-share';
import type { EgressPolicy, Resolver } from '../rest/addressPolicy.js';
import { agentPolicy, pinnedStorageEndpoint, type BlobConnection } from './blobClient.js';

export interface CheckedShareService {
  service: ShareServiceClient;
  agent: http.Agent;
}

/**
 * Azure Files: checks the file endpoint exactly like the blob endpoint (checkUrl + resolveAndCheck), pins the
 * sockets to the checked addresses and turns SDK retries off (the durable retry policy retries).
 */
export async function openShareService(parsed: BlobConnection, policy: EgressPolicy, resolver: Resolver | undefined, secrets: readonly string[]): Promise<CheckedShareService> {
  const { serviceUrl, agent } = await pinnedStorageEndpoint(parsed, policy, resolver, secrets);
  const credential = parsed.accountKey && parsed.accountName ? new StorageSharedKeyCredential(parsed.accountName, parsed.accountKey) : new AnonymousCredential();
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 1, tryTimeoutInMs: 60_000 }, keepAliveOptions: { enable: true } });
  pipeline.factories.push(agentPolicy(agent));
  return { service: new ShareServiceClient(serviceUrl, pipeline), agent };
}
