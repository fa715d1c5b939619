import { coreConnector } from './core/coreConnector.js';
import { createDatabaseConnector } from './database/databaseConnector.js';
import { createEmailConnector } from './email/emailConnector.js';
import { createFileConnector } from './file/fileConnector.js';
import { createRestConnector, type RestConnectorOptions } from './rest/restConnector.js';
import { ConnectorRegistry } from './sdk.js';

export interface ConnectorRegistryOptions {
  /** The operator egress policy of every connector that connects out (AIQ_EGRESS_ALLOW_HOSTS / AIQ_EGRESS_ALLOW_PORTS); absent → public internet only. */
  egress?: RestConnectorOptions['egress'];
  /** The operator maximum of one body streamed through artifacts (AIQ_MAX_STREAMED_BYTES): binary REST responses, files read into artifacts. */
  maxStreamedBytes?: number;
}

/** Every connector the platform offers. A new connector is one folder and one line here. */
export function createConnectorRegistry(options: ConnectorRegistryOptions = {}): ConnectorRegistry {
  return new ConnectorRegistry([
    coreConnector,
    createRestConnector({ egress: options.egress, ...(options.maxStreamedBytes === undefined ? {} : { maxBinaryResponseBytes: options.maxStreamedBytes }) }),
    createDatabaseConnector({ egress: options.egress }),
    createEmailConnector({ egress: options.egress }),
    createFileConnector({ egress: options.egress, ...(options.maxStreamedBytes === undefined ? {} : { maxArtifactBytes: options.maxStreamedBytes }) }),
  ]);
}
