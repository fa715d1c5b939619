import { coreConnector } from './core/coreConnector.js';
import { createRestConnector, type RestConnectorOptions } from './rest/restConnector.js';
import { ConnectorRegistry } from './sdk.js';

export interface ConnectorRegistryOptions {
  /** The operator egress policy of the built-in REST connector (AIQ_REST_ALLOW_HOSTS / AIQ_REST_ALLOW_PORTS); absent → public internet only. */
  restEgress?: RestConnectorOptions['egress'];
}

/** Every connector the platform offers. A new connector is one folder and one line here. */
export function createConnectorRegistry(options: ConnectorRegistryOptions = {}): ConnectorRegistry {
  return new ConnectorRegistry([coreConnector, createRestConnector({ egress: options.restEgress })]);
}
