import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * Azurite's Blob service in-process, for tests: the real Blob REST API on 127.0.0.1 and a free port, with its
 * data in a temporary directory removed on stop.
 *
 * Recipe (azurite 3.35, no type declarations): `require('azurite')` fails (its main module imports vscode), so
 * deep-import `azurite/dist/src/blob/BlobServer` and `.../BlobConfiguration` and build the configuration with
 * positional arguments:
 * `new BlobConfiguration(host, port, keepAliveTimeout, metadataDBPath, extentDBPath, persistencePathArray,
 * enableAccessLog, accessLogWriteStream, enableDebugLog, debugLogFilePath, loose, skipApiVersionCheck, cert, key,
 * pwd, oauth, disableProductStyleUrl, isMemoryPersistence, memoryStore)`. Port 0 lets the OS pick a free port;
 * `getHttpServerAddress()` tells which. `skipApiVersionCheck` is required (current SDKs send a newer API
 * version than Azurite knows); access and debug logs off keep it silent (its debug logger is a no-op unless
 * configured). `close()` then `clean()` stops it and drops its data.
 */

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The connection string of the development account for a Blob endpoint such as `http://127.0.0.1:10000/devstoreaccount1`. */
export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`;
}

export interface AzuriteBlob {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string;
  port: number;
  /** For `BlobServiceClient.fromConnectionString`. */
  connectionString: string;
  /** Where Azurite keeps its data (removed by `stop`); undefined for in-memory persistence. */
  location: string | undefined;
  stop(): Promise<void>;
}

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerClass = new (configuration: unknown) => BlobServerLike;
type BlobConfigurationClass = new (...args: unknown[]) => unknown;

const requireFromHere = createRequire(__filename);

/** Starts Azurite Blob on 127.0.0.1 and a free port (≈ 0.5 s). `inMemory` skips the temporary directory. */
export async function startAzuriteBlob(options: { inMemory?: boolean } = {}): Promise<AzuriteBlob> {
  const BlobServer = (requireFromHere('azurite/dist/src/blob/BlobServer') as { default: BlobServerClass }).default;
  const BlobConfiguration = (requireFromHere('azurite/dist/src/blob/BlobConfiguration') as { default: BlobConfigurationClass }).default;
  const location = options.inMemory ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-azurite-'));
  const configuration = new BlobConfiguration(
    '127.0.0.1', // host
    0, // port: any free one
    undefined, // keepAliveTimeout: default
    location ? path.join(location, '__azurite_db_blob__.json') : undefined, // metadataDBPath
    location ? path.join(location, '__azurite_db_blob_extent__.json') : undefined, // extentDBPath
    location ? [{ locationId: 'Default', locationPath: path.join(location, '__blobstorage__'), maxConcurrency: 10 }] : undefined, // persistencePathArray
    false, // enableAccessLog: silent
    undefined, // accessLogWriteStream
    false, // enableDebugLog: silent
    undefined, // debugLogFilePath
    false, // loose
    true, // skipApiVersionCheck: required with current SDKs
    '', // cert
    '', // key
    '', // pwd
    undefined, // oauth
    false, // disableProductStyleUrl
    options.inMemory === true, // isMemoryPersistence
  );
  const server = new BlobServer(configuration);
  try {
    await server.start();
  } catch (error) {
    if (location) fs.rmSync(location, { recursive: true, force: true });
    throw error;
  }
  const port = Number(new URL(server.getHttpServerAddress()).port);
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
  let stopped: Promise<void> | undefined;
  return {
    blobEndpoint,
    port,
    connectionString: azuriteConnectionString(blobEndpoint),
    location,
    stop: () =>
      (stopped ??= (async () => {
        await server.close();
        await server.clean().catch(() => undefined);
        if (location) fs.rmSync(location, { recursive: true, force: true });
      })()),
  };
}
