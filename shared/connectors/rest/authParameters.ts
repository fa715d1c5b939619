import type { RestAuth } from './restRequestInput.js';

/**
 * The headers and query parameters `auth` adds, and the credentials derived from secrets that must be redacted
 * besides the secrets themselves (the base64 `user:password` of basic auth). Never log or echo any of them.
 */
export function authParameters(auth: RestAuth | undefined): { headers: Record<string, string>; query: Array<[string, string]>; derived: string[] } {
  if (!auth) return { headers: {}, query: [], derived: [] };
  switch (auth.type) {
    case 'bearer':
      return { headers: { authorization: `Bearer ${auth.token}` }, query: [], derived: [] };
    case 'basic': {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
      return { headers: { authorization: `Basic ${encoded}` }, query: [], derived: [encoded] };
    }
    case 'apiKey':
      return auth.in === 'query' ? { headers: {}, query: [[auth.name, auth.value]], derived: [] } : { headers: { [auth.name.toLowerCase()]: auth.value }, query: [], derived: [] };
    case 'oauth2ClientCredentials':
      // The bearer token is fetched (and cached) by the connector; see oauthClientCredentials.ts.
      return { headers: {}, query: [], derived: [] };
  }
}
