import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { AnonymousCredential, BlobServiceClient, newPipeline, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { RequestPolicy, RequestPolicyFactory, WebResource } from '@azure/storage-blob';
import { checkUrl, resolveAndCheck, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';
import { fileError, FileErrorCodes } from './fileErrors.js';

export interface BlobConnection {
  /** The account endpoint, without SAS. */
  endpoint: URL;
  accountName: string | undefined;
  accountKey: string | undefined;
  /** The SAS query (without '?'), when the connection uses one. */
  sas: string | undefined;
}

/** Parses a storage connection string or an account URL with a SAS; errors never echo the value. */
export function parseBlobConnection(connection: string, service: 'blob' | 'file' = 'blob'): BlobConnection {
  const endpointName = service === 'blob' ? 'BlobEndpoint' : 'FileEndpoint';
  const invalid = (why: string) => fileError(FileErrorCodes.invalidConnection, `The storage connection is invalid: ${why}.`, [connection]);
  const text = connection.trim();
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw invalid('not a valid URL');
    }
    const sas = url.search.length > 1 ? url.search.slice(1) : undefined;
    url.search = '';
    url.hash = '';
    return { endpoint: url, accountName: undefined, accountKey: undefined, sas };
  }
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    if (!part.trim()) continue;
    const at = part.indexOf('=');
    if (at <= 0) throw invalid('expected Key=Value pairs separated by ";"');
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  if (fields.has('usedevelopmentstorage')) throw invalid(`UseDevelopmentStorage is not supported; give the ${endpointName} and account key`);
  const accountName = fields.get('accountname');
  const accountKey = fields.get('accountkey');
  const sasField = fields.get('sharedaccesssignature');
  const sas = sasField ? sasField.replace(/^\?/, '') : undefined;
  let endpointText = fields.get(endpointName.toLowerCase());
  if (!endpointText) {
    if (!accountName) throw invalid(`it names neither ${endpointName} nor AccountName`);
    const protocol = fields.get('defaultendpointsprotocol') ?? 'https';
    endpointText = `${protocol}://${accountName}.${service}.${fields.get('endpointsuffix') ?? 'core.windows.net'}`;
  }
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw invalid(`${endpointName} is not a valid URL`);
  }
  if (!accountKey && !sas) throw invalid('it has neither AccountKey nor SharedAccessSignature');
  if (accountKey && !accountName) throw invalid('AccountKey needs AccountName');
  return { endpoint, accountName, accountKey, sas };
}

/** Secrets of a connection, to be scrubbed from every message. */
export function connectionSecrets(connection: string, parsed?: BlobConnection): string[] {
  return [connection, parsed?.accountKey, parsed?.sas, ...(parsed?.sas ? [new URLSearchParams(parsed.sas).get('sig') ?? ''] : [])].filter((s): s is string => !!s);
}

/** A lookup that only ever answers the checked addresses (no second DNS resolution: no rebinding). */
export function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  }) as unknown as LookupFunction;
}

/** Sets the pinned agent on every request a storage pipeline (Blob or Azure Files: both use core-http-compat policies) sends. */
export function agentPolicy(agent: http.Agent): RequestPolicyFactory {
  return {
    create: (nextPolicy: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource) => {
        (request as { agent?: http.Agent }).agent = agent;
        return nextPolicy.sendRequest(request);
      },
    }),
  };
}

export interface CheckedBlobService {
  service: BlobServiceClient;
  agent: http.Agent;
}

/**
 * Checks the account endpoint against the egress policy (scheme, port, every resolved address) and builds a
 * client whose sockets connect only to the checked addresses. No SDK retries: the durable retry policy retries.
 */
export async function openBlobService(parsed: BlobConnection, policy: EgressPolicy, resolver: Resolver | undefined, secrets: readonly string[]): Promise<CheckedBlobService> {
  const { serviceUrl, agent } = await pinnedStorageEndpoint(parsed, policy, resolver, secrets);
  const credential = parsed.accountKey && parsed.accountName ? new StorageSharedKeyCredential(parsed.accountName, parsed.accountKey) : new AnonymousCredential();
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 1, tryTimeoutInMs: 60_000 }, keepAliveOptions: { enable: true } });
  pipeline.factories.push(agentPolicy(agent));
  return { service: new BlobServiceClient(serviceUrl, pipeline), agent };
}

/**
 * A storage account endpoint checked against the egress policy (scheme, port, every resolved address): the
 * service URL (with the SAS, if any) and an agent whose sockets connect only to the checked addresses. Blob and
 * Azure Files clients are built on it.
 */
export async function pinnedStorageEndpoint(parsed: BlobConnection, policy: EgressPolicy, resolver: Resolver | undefined, secrets: readonly string[]): Promise<{ serviceUrl: string; agent: http.Agent }> {
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
  const base = url.toString().replace(/\/$/, '');
  return { serviceUrl: parsed.sas ? `${base}?${parsed.sas}` : base, agent };
}
