import { isArtifactRef, type ArtifactRef } from '../../ports/artifactStore.js';
import { ConnectorError } from '../sdk.js';
import { EmailErrorCodes, MAX_ATTACHMENT_TOTAL_BYTES, MAX_ATTACHMENTS, type EmailMessageInput } from './emailInput.js';

/** One attachment: decoded inline content, or the artifact it is read from when sent. */
export type PreparedAttachment = { filename: string; contentType: string } & ({ content: Buffer } | { artifact: ArtifactRef });

/** A message checked at run time (the schema already ran; this is defence in depth before any connection). */
export interface PreparedMessage {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  attachments: PreparedAttachment[];
  headers: Record<string, string>;
}

/** Headers the connector sets itself: a custom header may not replace them. */
const RESERVED_HEADERS = new Set([
  'from', 'to', 'cc', 'bcc', 'reply-to', 'sender', 'subject', 'date', 'message-id', 'return-path',
  'content-type', 'content-transfer-encoding', 'content-disposition', 'mime-version',
]);
const CONTROL = /[\r\n\u0000]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(message: string): ConnectorError {
  return new ConnectorError(EmailErrorCodes.inputInvalid, message);
}

function list(value: string | string[] | undefined, field: string): string[] {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  for (const item of items) if (typeof item !== 'string' || CONTROL.test(item)) throw invalid(`'${field}' holds an invalid address (line breaks are not allowed).`);
  return items;
}

/** Checks and normalizes the message inputs shared by `send` and `sendGrid`; decodes attachments. */
export function prepareMessage(input: EmailMessageInput): PreparedMessage {
  const to = list(input.to, 'to');
  if (to.length === 0) throw invalid("'to' needs at least one address.");
  const [from] = list(input.from, 'from');
  if (!from) throw invalid("'from' is required.");
  if (typeof input.subject !== 'string' || CONTROL.test(input.subject)) throw invalid("'subject' must not contain line breaks.");
  if (input.text === undefined && input.html === undefined) throw invalid("The message needs 'text' or 'html'.");

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!/^[!-9;-~]+$/.test(name) || typeof value !== 'string' || CONTROL.test(value)) throw invalid(`The header '${name.replace(/[^!-~]/g, '?').slice(0, 100)}' is invalid (line breaks are not allowed).`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalid(`The header '${name}' is set by the connector; use the message inputs instead.`);
    headers[name] = value;
  }

  const attachments: PreparedAttachment[] = [];
  const raw = input.attachments ?? [];
  if (raw.length > MAX_ATTACHMENTS) throw invalid(`At most ${MAX_ATTACHMENTS} attachments are allowed.`);
  let total = 0;
  for (const [index, item] of raw.entries()) {
    if (CONTROL.test(item.filename) || /[/\\]/.test(item.filename)) throw invalid(`Attachment ${index} has an invalid file name.`);
    if (isArtifactRef(item.content)) {
      const contentType = item.contentType ?? item.content.contentType;
      if (CONTROL.test(contentType)) throw invalid(`Attachment ${index} has an invalid content type.`);
      attachments.push({ filename: item.filename, contentType, artifact: item.content });
      continue;
    }
    if (typeof item.content !== 'string') throw invalid(`Attachment ${index} has neither string content nor an artifact reference.`);
    let content: Buffer;
    if (item.encoding === 'base64') {
      const compact = item.content.replace(/\s+/g, '');
      if (compact.length % 4 === 1 || !BASE64.test(compact)) throw invalid(`Attachment ${index} is not valid base64.`);
      content = Buffer.from(compact, 'base64');
    } else {
      content = Buffer.from(item.content, 'utf8');
    }
    total += content.length;
    if (total > MAX_ATTACHMENT_TOTAL_BYTES) throw invalid(`Attachments exceed ${MAX_ATTACHMENT_TOTAL_BYTES} bytes in all.`);
    const contentType = item.contentType ?? (item.encoding === 'base64' ? 'application/octet-stream' : 'text/plain; charset=utf-8');
    if (CONTROL.test(contentType)) throw invalid(`Attachment ${index} has an invalid content type.`);
    attachments.push({ filename: item.filename, contentType, content });
  }

  return {
    from,
    to,
    cc: list(input.cc, 'cc'),
    bcc: list(input.bcc, 'bcc'),
    replyTo: list(input.replyTo, 'replyTo'),
    subject: input.subject,
    text: input.text,
    html: input.html,
    attachments,
    headers,
  };
}
