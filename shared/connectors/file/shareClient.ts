import http from 'node:http';
import https from 'node:https';
import { AnonymousCredential, newPipeline, ShareServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-share';
import type { RequestPolicy, RequestPolicyFactory, WebResource } from '@azure/storage-file-share';
import { checkUrl, resolveAndCheck, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';
import { pinnedLookup, type BlobConnection } from './blobClient.js';
import { fileError, FileErrorCodes } from './fileErrors.js';

/** Sets the pinned agent on every request the file-share pipeline sends. */
function agentPolicy(agent: http.Agent): RequestPolicyFactory {
  return {
    create: (nextPolicy: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource) => {
        (request as { agent?: http.Agent }).agent = agent;
        return nextPolicy.sendRequest(request);
      },
    }),
  };
}

export interface CheckedShareService {
  service: ShareServiceClient;
  agent: http.Agent;
}

/**
 * Azure Files: checks the file endpoint exactly like the blob endpoint (checkUrl + resolveAndCheck), pins the
 * sockets to the checked addresses and turns SDK retries off (the durable retry policy retries).
 */
export async function openShareService(parsed: BlobConnection, policy: EgressPolicy, resolver: Resolver | undefined, secrets: readonly string[]): Promise<CheckedShareService> {
  let url: URL;
  try {
    url = checkUrl(parsed.endpoint.toString(), policy);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    throw fileError(e.code ?? FileErrorCodes.invalidConnection, e.message ?? 'The storage endpoint is blocked.', secrets);
  }
  const addresses = await resolveAndCheck(url.hostname, policy, resolver);
  const options = { keepAlive: true, maxSockets: 16, lookup: pinnedLookup(addresses) };
  const agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  const credential = parsed.accountKey && parsed.accountName ? new StorageSharedKeyCredential(parsed.accountName, parsed.accountKey) : new AnonymousCredential();
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 1, tryTimeoutInMs: 60_000 }, keepAliveOptions: { enable: true } });
  pipeline.factories.push(agentPolicy(agent));
  const base = url.toString().replace(/\/$/, '');
  const service = new ShareServiceClient(parsed.sas ? `${base}?${parsed.sas}` : base, pipeline);
  return { service, agent };
}
