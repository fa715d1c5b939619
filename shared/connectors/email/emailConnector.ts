/**
 * The built-in `email` connector: `send` (SMTP, through nodemailer) and `sendGrid` (SendGrid v3 HTTP API).
 *
 * Egress: every connection goes through the SSRF address policy. For SMTP the port must be 25/465/587 or in
 * `allowPorts`, the host is resolved and checked once (`resolveAndCheck`) and nodemailer gets the checked IP as
 * `host` with the hostname kept for TLS SNI / certificate checks (no second DNS resolution). SendGrid goes through
 * `guardedFetch` with the same policy.
 *
 * Templates: `subject`, `text` and `html` are plain strings; the engine renders expressions before the connector
 * runs. Attachments are inline strings (UTF-8 or base64) or artifact references: `send` streams them into the
 * message (at most 100 MiB in all), `sendGrid` base64-encodes them into its JSON body (at most 20 MiB in all;
 * EMAIL.ATTACHMENT_TOO_LARGE beyond).
 *
 * Errors: temporary SMTP replies (4xx), connection failures, timeouts, HTTP 429/5xx are retryable; permanent SMTP
 * replies (5xx), authentication failures and other HTTP statuses are not. Messages never hold the password, the API
 * key, the server's reply text or the message content.
 */
import type { ConnectorDefinition } from '../sdk.js';
import { defineAction, defineConnector } from '../sdk.js';
import { operatorEgressPolicy, withTenantEgress, type EgressPolicy, type Resolver } from '../rest/addressPolicy.js';
import {
  sendGridSendInputSchema,
  sendGridSendOutputSchema,
  smtpSendInputSchema,
  smtpSendOutputSchema,
  type SendGridSendInput,
  type SmtpSendInput,
} from './emailInput.js';
import { openStreamedAttachments, readAttachments } from './attachmentArtifacts.js';
import { prepareMessage } from './prepareMessage.js';
import { redactSecrets } from '../../domain/redaction.js';
import { sendSmtp, type SmtpSendResult, type SmtpTimeouts } from './sendSmtp.js';
import { sendViaSendGrid, type SendGridResult } from './sendViaSendGrid.js';
import { smtpEndpoint } from './smtpEndpoint.js';
import { smtpError } from './smtpError.js';

export type { EmailAttachmentInput, EmailMessageInput, SendGridSendInput, SmtpSendInput, SmtpServerInput } from './emailInput.js';
export { EmailErrorCodes } from './emailInput.js';
export type { SmtpSendResult } from './sendSmtp.js';
export type { SendGridResult } from './sendViaSendGrid.js';
export { DEFAULT_SMTP_PORTS } from './smtpEndpoint.js';

export interface EmailConnectorOptions {
  /** The operator egress policy; absent or empty → public internet only (SMTP ports 25/465/587, HTTPS 443/80). */
  egress?: { readonly allowHosts?: readonly string[]; readonly allowPorts?: readonly number[] } | undefined;
  /** Injectable resolver (tests); defaults to `dns.lookup`. */
  resolver?: Resolver;
  /** SendGrid API base URL (tests, EU data residency); default `https://api.sendgrid.com`. */
  sendGridBaseUrl?: string;
  /** SMTP timeouts (tests); defaults 10 s connect, 10 s greeting, 30 s idle. */
  smtpTimeouts?: SmtpTimeouts;
}

/** Re-throws an error with the given secrets removed from its message. */
function scrub(error: unknown, secrets: ReadonlyArray<string | undefined>): unknown {
  if (error instanceof Error) {
    const clean = redactSecrets(error.message, secrets.filter((secret): secret is string => secret !== undefined));
    if (clean !== error.message) error.message = clean;
  }
  return error;
}

/** Builds the `email` connector for an egress policy. */
export function createEmailConnector(options: EmailConnectorOptions = {}): ConnectorDefinition {
  const policy: EgressPolicy = operatorEgressPolicy(options.egress);
  return defineConnector({
    name: 'email',
    description: 'Sends e-mail through an SMTP server or SendGrid (SSRF-guarded), with cc/bcc, reply-to, HTML, attachments and custom headers.',
    actions: [
      defineAction<SmtpSendInput, SmtpSendResult>({
        name: 'send',
        description: 'Sends one message through an SMTP server and returns { messageId, accepted, rejected }; 4xx replies and connection failures are retryable.',
        input: smtpSendInputSchema,
        output: smtpSendOutputSchema,
        run: async (input, context) => {
          const secrets = [input.smtp.password];
          const port = input.smtp.port ?? 587;
          const host = input.smtp.host.toLowerCase();
          try {
            const prepared = prepareMessage(input);
            const endpoint = await smtpEndpoint(input.smtp.host, port, withTenantEgress(policy, context.egress), options.resolver);
            const { message, close, failure } = await openStreamedAttachments(prepared, context.artifacts);
            try {
              const result = await sendSmtp(endpoint, input.smtp, message, context.signal, options.smtpTimeouts);
              context.log(`SMTP ${endpoint.hostname}:${port} → ${result.accepted.length} accepted, ${result.rejected.length} rejected`);
              return result;
            } catch (error) {
              // An attachment that failed (altered artifact, storage down) is the cause, not the transport.
              throw failure() ?? error;
            } finally {
              close();
            }
          } catch (error) {
            throw scrub(smtpError(error, host, context.signal), secrets);
          }
        },
      }),
      defineAction<SendGridSendInput, SendGridResult>({
        name: 'sendGrid',
        description: 'Sends one message through the SendGrid v3 API and returns { accepted, messageId }; 429 and 5xx are retryable.',
        input: sendGridSendInputSchema,
        output: sendGridSendOutputSchema,
        run: async (input, context) => {
          try {
            const message = await readAttachments(prepareMessage(input), context.artifacts);
            const result = await sendViaSendGrid(message, input.apiKey, { baseUrl: options.sendGridBaseUrl, policy: withTenantEgress(policy, context.egress), resolver: options.resolver, signal: context.signal });
            context.log(`SendGrid → accepted${result.messageId ? ` (${result.messageId})` : ''}`);
            return result;
          } catch (error) {
            throw scrub(error, [input.apiKey]);
          }
        },
      }),
    ],
  });
}
