import type { Principal } from '../domain/roles.js';

/** Who is asking, on behalf of which tenant, under which correlation id: passed to every use case. */
export interface RequestContext {
  principal: Principal;
  correlationId: string;
  /** Epoch ms of the request, for timestamps written by the use case. */
  now: Date;
}
