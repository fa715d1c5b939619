import type { RestAuth } from './restRequestInput.js';

/** The headers and query parameters `auth` adds. The values are credentials: never log or echo them. */
export function authParameters(auth: RestAuth | undefined): { headers: Record<string, string>; query: Array<[string, string]> } {
  if (!auth) return { headers: {}, query: [] };
  switch (auth.type) {
    case 'bearer':
      return { headers: { authorization: `Bearer ${auth.token}` }, query: [] };
    case 'basic':
      return { headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` }, query: [] };
    case 'apiKey':
      return auth.in === 'query' ? { headers: {}, query: [[auth.name, auth.value]] } : { headers: { [auth.name.toLowerCase()]: auth.value }, query: [] };
  }
}
