import fs from 'node:fs';
import path from 'node:path';
import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>AutomateIQ API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="docs/assets/init.js"></script>
</body>
</html>`;

/** Kept out of the page itself so a strict Content-Security-Policy (no inline scripts) can apply. */
const INIT = `window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#api', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout', deepLinking: true });`;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** `GET /api/docs`: the API reference, rendered by Swagger UI from /api/openapi.json (anonymous). */
export async function apiDocs(request: HttpRequest): Promise<HttpResponseInit> {
  const rest = request.params['asset'];
  if (rest && !rest.startsWith('assets/')) return { status: 404 };
  const asset = rest?.slice('assets/'.length);
  if (!asset) return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS }, body: PAGE };
  if (asset === 'init.js') return { status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS }, body: INIT };
  const type = ASSETS[asset];
  if (!type) return { status: 404 };
  const file = path.join(path.dirname(require.resolve('swagger-ui-dist/package.json')), asset);
  return { status: 200, headers: { 'content-type': type, 'cache-control': 'public, max-age=86400', ...SECURITY_HEADERS }, body: await fs.promises.readFile(file) };
}

app.http('apiDocs', { route: 'docs/{*asset}', methods: ['GET'], authLevel: 'anonymous', handler: apiDocs });
