import { coreConnector } from './core/coreConnector.js';
import { ConnectorRegistry } from './sdk.js';

/** Every connector the platform offers. A new connector is one folder and one line here. */
export function createConnectorRegistry(): ConnectorRegistry {
  return new ConnectorRegistry([coreConnector]);
}
