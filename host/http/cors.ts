import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CorsOptions {
  /** Allowed origins; `*` allows any. Empty: CORS is off and no header is added. */
  allowedOrigins: readonly string[];
  supportCredentials: boolean;
}

/**
 * CORS as Core Tools configures it from local.settings.json `Host.CORS`/`Host.CORSCredentials` (ASP.NET Core's
 * middleware with any header and any method): an allowed Origin is echoed (or `*` without credentials), and a
 * preflight is answered directly.
 */
export class CorsPolicy {
  readonly #origins: Set<string>;
  readonly #any: boolean;

  constructor(private readonly options: CorsOptions) {
    this.#origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')));
    this.#any = this.#origins.has('*');
  }

  get enabled(): boolean {
    return this.#origins.size > 0;
  }

  private allowed(origin: string): boolean {
    return this.#any || this.#origins.has(origin.toLowerCase());
  }

  /** Adds the response headers for an allowed cross-origin request. */
  apply(request: IncomingMessage, response: ServerResponse): void {
    const origin = request.headers.origin;
    if (!this.enabled || !origin || !this.allowed(origin)) return;
    const echo = this.options.supportCredentials || !this.#any;
    response.setHeader('Access-Control-Allow-Origin', echo ? origin : '*');
    if (echo) response.setHeader('Vary', 'Origin');
    if (this.options.supportCredentials) response.setHeader('Access-Control-Allow-Credentials', 'true');
  }

  /** Answers a CORS preflight; returns false when the request is not one. */
  handlePreflight(request: IncomingMessage, response: ServerResponse): boolean {
    const origin = request.headers.origin;
    const requestedMethod = request.headers['access-control-request-method'];
    if (!this.enabled || request.method !== 'OPTIONS' || !origin || !requestedMethod) return false;
    if (this.allowed(origin)) {
      this.apply(request, response);
      response.setHeader('Access-Control-Allow-Methods', requestedMethod);
      const requestedHeaders = request.headers['access-control-request-headers'];
      if (requestedHeaders) response.setHeader('Access-Control-Allow-Headers', requestedHeaders);
    }
    response.statusCode = 204;
    response.end();
    return true;
  }
}
