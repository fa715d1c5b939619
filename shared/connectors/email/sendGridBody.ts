import type { SendableMessage } from './attachmentArtifacts.js';

export interface SendGridAddress {
  email: string;
  name?: string;
}

/** Parses `a@example.com` or `Name <a@example.com>` / `"Name" <a@example.com>` into SendGrid's address object. */
export function sendGridAddress(text: string): SendGridAddress {
  const match = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/.exec(text);
  if (!match) return { email: text.trim() };
  const name = match[1]!.replace(/^"(.*)"$/, '$1').trim();
  return name ? { email: match[2]!, name } : { email: match[2]! };
}

/** The SendGrid v3 `/v3/mail/send` JSON body for a prepared message. */
export function sendGridBody(message: SendableMessage<Buffer>): Record<string, unknown> {
  const personalization: Record<string, unknown> = { to: message.to.map(sendGridAddress) };
  if (message.cc.length) personalization['cc'] = message.cc.map(sendGridAddress);
  if (message.bcc.length) personalization['bcc'] = message.bcc.map(sendGridAddress);
  const content: Array<{ type: string; value: string }> = [];
  // SendGrid requires text/plain first, then text/html.
  if (message.text !== undefined) content.push({ type: 'text/plain', value: message.text });
  if (message.html !== undefined) content.push({ type: 'text/html', value: message.html });
  const body: Record<string, unknown> = {
    personalizations: [personalization],
    from: sendGridAddress(message.from),
    subject: message.subject,
    content,
  };
  if (message.replyTo.length === 1) body['reply_to'] = sendGridAddress(message.replyTo[0]!);
  else if (message.replyTo.length > 1) body['reply_to_list'] = message.replyTo.map(sendGridAddress);
  if (message.attachments.length) {
    body['attachments'] = message.attachments.map((a) => ({ content: a.content.toString('base64'), filename: a.filename, type: a.contentType, disposition: 'attachment' }));
  }
  if (Object.keys(message.headers).length) body['headers'] = message.headers;
  return body;
}
