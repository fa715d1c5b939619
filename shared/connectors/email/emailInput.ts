import type { ArtifactRef } from '../../ports/artifactStore.js';
import { artifactRefSchema, type JsonSchema } from '../sdk.js';

/**
 * The inputs of the `email` connector's actions (secret references already resolved to plain strings by the engine).
 *
 * Templates: `subject`, `text` and `html` are plain strings. The workflow engine renders `{{ … }}` expressions in
 * step inputs before the connector runs, so there is deliberately no template engine here.
 *
 * Attachments: `content` is a string, UTF-8 text (`encoding: 'utf8'`, the default) or base64 (`'base64'`), or an
 * artifact reference (`{ "$artifact": "artifact://…", … }`). The engine resolves claim-checked text/JSON artifacts
 * in step inputs before the connector runs (they arrive as strings); binary artifacts and those a connector
 * streamed stay references, which `send` streams into the message (at most {@link MAX_STREAMED_ATTACHMENT_BYTES}
 * in all) and `sendGrid` reads and base64-encodes (at most {@link MAX_SENDGRID_ATTACHMENT_BYTES} in all).
 */
export interface EmailAttachmentInput {
  filename: string;
  /** Defaults to the artifact's content type for a reference. */
  contentType?: string;
  content: string | ArtifactRef;
  encoding?: 'utf8' | 'base64';
}

export interface EmailMessageInput {
  from: string;
  to: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  replyTo?: string | string[];
  subject: string;
  text?: string;
  html?: string;
  attachments?: EmailAttachmentInput[];
  headers?: Record<string, string>;
}

export interface SmtpServerInput {
  host: string;
  port?: number;
  /** TLS from the first byte (implicit TLS, usually port 465). */
  secure?: boolean;
  username?: string;
  /** From a tenant secret, already resolved to a string. */
  password?: string;
  /**
   * STARTTLS on a non-`secure` connection: `required` fails when the server does not offer it; `opportunistic`
   * upgrades when offered. Default: `required` when credentials are given (never send a password in clear text
   * unless asked to), `opportunistic` otherwise.
   */
  startTls?: 'required' | 'opportunistic';
}

export interface SmtpSendInput extends EmailMessageInput {
  smtp: SmtpServerInput;
}

export interface SendGridSendInput extends EmailMessageInput {
  /** From a tenant secret, already resolved to a string. */
  apiKey: string;
}

export const EmailErrorCodes = {
  inputInvalid: 'EMAIL.INPUT_INVALID',
  portNotAllowed: 'SSRF.BLOCKED',
  smtpRejected: 'EMAIL.SMTP_REJECTED',
  smtpDeferred: 'EMAIL.SMTP_DEFERRED',
  smtpAuthFailed: 'EMAIL.SMTP_AUTH_FAILED',
  smtpConnectionFailed: 'EMAIL.SMTP_CONNECTION_FAILED',
  smtpTls: 'EMAIL.SMTP_TLS_FAILED',
  smtpFailed: 'EMAIL.SMTP_FAILED',
  timeout: 'EMAIL.TIMEOUT',
  sendGridStatus: 'EMAIL.SENDGRID_STATUS',
  sendGridFailed: 'EMAIL.SENDGRID_FAILED',
  /** Attachments from artifacts exceed what the action can send (SMTP streamed, or SendGrid base64 in the JSON body). */
  attachmentTooLarge: 'EMAIL.ATTACHMENT_TOO_LARGE',
} as const;

export const MAX_ATTACHMENTS = 10;
export const MAX_ATTACHMENT_TOTAL_BYTES = 10 * 1024 * 1024;
/** SMTP: artifact attachments are streamed into the message; their sizes may add up to this (100 MiB). */
export const MAX_STREAMED_ATTACHMENT_BYTES = 100 * 1024 * 1024;
/** SendGrid: every attachment is base64 inside one JSON body (the API takes 30 MB per message): at most 20 MiB in all. */
export const MAX_SENDGRID_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/** No CR, LF or NUL (header injection). */
export const NO_CRLF = '^[^\\r\\n\\u0000]*$';
/** RFC 5322 field name: printable ASCII except colon. */
const HEADER_NAME = '^[!-9;-~]+$';

const address: JsonSchema = { type: 'string', minLength: 3, maxLength: 998, pattern: NO_CRLF, description: '"a@example.com" or "Name <a@example.com>".' };
const addresses: JsonSchema = { anyOf: [address, { type: 'array', minItems: 1, maxItems: 100, items: address }] };

const attachment: JsonSchema = {
  type: 'object',
  required: ['filename', 'content'],
  additionalProperties: false,
  properties: {
    filename: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\r\\n\\u0000/\\\\]*$' },
    contentType: { type: 'string', maxLength: 255, pattern: "^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(;[^\\r\\n\\u0000]*)?$" },
    content: {
      anyOf: [{ type: 'string', maxLength: Math.ceil((MAX_ATTACHMENT_TOTAL_BYTES * 4) / 3) + 4096 }, artifactRefSchema],
      description: 'UTF-8 text or base64 (see encoding), or an artifact reference (streamed).',
    },
    encoding: { enum: ['utf8', 'base64'], default: 'utf8' },
  },
};

const messageProperties: Record<string, JsonSchema> = {
  from: address,
  to: addresses,
  cc: addresses,
  bcc: addresses,
  replyTo: addresses,
  subject: { type: 'string', maxLength: 998, pattern: NO_CRLF, description: 'Plain text; expressions are rendered by the engine.' },
  text: { type: 'string', maxLength: 5 * 1024 * 1024 },
  html: { type: 'string', maxLength: 5 * 1024 * 1024 },
  attachments: { type: 'array', maxItems: MAX_ATTACHMENTS, items: attachment, description: `At most ${MAX_ATTACHMENTS}, ${MAX_ATTACHMENT_TOTAL_BYTES} bytes in all (decoded).` },
  headers: {
    type: 'object',
    maxProperties: 50,
    propertyNames: { maxLength: 100, pattern: HEADER_NAME },
    additionalProperties: { type: 'string', maxLength: 998, pattern: NO_CRLF },
  },
};

/** At least one of text / html. */
const textOrHtml: JsonSchema[] = [
  { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
  { type: 'object', required: ['html'], properties: { html: { type: 'string' } } },
];

export const smtpSendInputSchema: JsonSchema = {
  type: 'object',
  required: ['smtp', 'from', 'to', 'subject'],
  additionalProperties: false,
  anyOf: textOrHtml,
  properties: {
    smtp: {
      type: 'object',
      required: ['host'],
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[^\\s/@?#\\u0000]+$' },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 587 },
        secure: { type: 'boolean', default: false },
        username: { type: 'string', maxLength: 1024, pattern: NO_CRLF },
        password: { type: 'string', maxLength: 8192, pattern: NO_CRLF },
        startTls: { enum: ['required', 'opportunistic'] },
      },
    },
    ...messageProperties,
  },
};

export const sendGridSendInputSchema: JsonSchema = {
  type: 'object',
  required: ['apiKey', 'from', 'to', 'subject'],
  additionalProperties: false,
  anyOf: textOrHtml,
  properties: {
    apiKey: { type: 'string', minLength: 1, maxLength: 8192, pattern: NO_CRLF },
    ...messageProperties,
  },
};

export const smtpSendOutputSchema: JsonSchema = {
  type: 'object',
  required: ['messageId', 'accepted', 'rejected'],
  properties: { messageId: { type: 'string' }, accepted: { type: 'array', items: { type: 'string' } }, rejected: { type: 'array', items: { type: 'string' } } },
};

export const sendGridSendOutputSchema: JsonSchema = {
  type: 'object',
  required: ['accepted', 'messageId'],
  properties: { accepted: { type: 'boolean' }, messageId: { type: ['string', 'null'] } },
};
