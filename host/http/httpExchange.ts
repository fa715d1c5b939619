import type { IncomingMessage, ServerResponse } from 'node:http';

/** Thrown by {@link readBody} when the body exceeds the host's limit (the host answers 413). */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/** Reads the whole request body, refusing more than `limit` bytes (checked against Content-Length first). */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw new PayloadTooLargeError(`The request body (${declared} bytes) exceeds the limit of ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError(`The request body exceeds the limit of ${limit} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/** Ends a response with a status and no body (the host's own 401/404/413/429/500 answers are empty). */
export function endEmpty(response: ServerResponse, status: number): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.statusCode = status;
  response.setHeader('Content-Length', '0');
  response.end();
}

/** Ends a response with a JSON body (admin and runtime endpoints). */
export function endJson(response: ServerResponse, status: number, body: unknown, contentType = 'application/json; charset=utf-8'): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.statusCode = status;
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', String(payload.length));
  response.end(payload);
}

/** A problem details response (RFC 9457) for the host's own endpoints. */
export function endProblem(response: ServerResponse, status: number, code: string, detail: string): void {
  endJson(response, status, { type: `about:blank`, title: code, status, code, detail }, 'application/problem+json');
}

/** The key a caller presented: the `x-functions-key` header first, then the `code` query parameter. */
export function presentedKey(request: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = request.headers['x-functions-key'];
  if (typeof header === 'string' && header !== '') return header;
  return query.get('code') ?? undefined;
}
