import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { SmtpEndpoint } from './smtpEndpoint.js';
import type { SendableMessage } from './attachmentArtifacts.js';
import type { SmtpServerInput } from './emailInput.js';

export interface SmtpSendResult {
  [key: string]: string | string[];
  messageId: string;
  accepted: string[];
  rejected: string[];
}

export interface SmtpTimeouts {
  connectionMs: number;
  greetingMs: number;
  socketMs: number;
}

const DEFAULT_TIMEOUTS: SmtpTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 };

function addressText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { address?: unknown }).address === 'string') return (value as { address: string }).address;
  return String(value);
}

/**
 * Sends one message through nodemailer to the already checked endpoint: `host` is the checked IP address (so
 * nodemailer never resolves the name again), `servername` / `tls.servername` keep the hostname for SNI and the
 * certificate check. No file or URL access for message parts (content is given inline, or as an artifact's stream).
 */
export async function sendSmtp(endpoint: SmtpEndpoint, server: SmtpServerInput, message: SendableMessage, signal: AbortSignal, timeouts: SmtpTimeouts = DEFAULT_TIMEOUTS): Promise<SmtpSendResult> {
  const credentials = server.username !== undefined || server.password !== undefined;
  const startTls = server.startTls ?? (credentials ? 'required' : 'opportunistic');
  const secure = server.secure ?? false;
  // SNI must not be an IP address; for an IP literal host, the certificate is checked against the IP itself.
  const servername = isIP(endpoint.hostname) ? undefined : endpoint.hostname;
  const transport = nodemailer.createTransport({
    host: endpoint.address,
    port: endpoint.port,
    secure,
    ...(servername ? { servername } : {}),
    tls: { ...(servername ? { servername } : {}), rejectUnauthorized: true },
    requireTLS: !secure && startTls === 'required',
    ...(credentials ? { auth: { user: server.username ?? '', pass: server.password ?? '' } } : {}),
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    const info = await transport.sendMail({
      from: message.from,
      to: message.to,
      ...(message.cc.length ? { cc: message.cc } : {}),
      ...(message.bcc.length ? { bcc: message.bcc } : {}),
      ...(message.replyTo.length ? { replyTo: message.replyTo } : {}),
      subject: message.subject,
      ...(message.text === undefined ? {} : { text: message.text }),
      ...(message.html === undefined ? {} : { html: message.html }),
      attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
      headers: message.headers,
      disableFileAccess: true,
      disableUrlAccess: true,
      signal,
    });
    return {
      messageId: info.messageId,
      accepted: (info.accepted ?? []).map(addressText),
      rejected: (info.rejected ?? []).map(addressText),
    };
  } finally {
    transport.close();
  }
}
