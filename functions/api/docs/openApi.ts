import { app } from '@azure/functions';
import { getContainer } from '../../../shared/composition/container.js';
import { buildOpenApiDocument } from './openApiDocument.js';

let document: string | undefined;

/** `GET /api/openapi.json`: the OpenAPI 3.1 description of the management API (anonymous). */
export async function openApi(): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  document ??= JSON.stringify(buildOpenApiDocument(getContainer().config.version));
  return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }, body: document };
}

app.http('openApi', { route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: openApi });
