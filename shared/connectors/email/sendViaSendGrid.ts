import { AppError } from '../../domain/errors.js';
import type { EgressPolicy, Resolver } from '../rest/addressPolicy.js';
import { guardedFetch, type GuardedResponse } from '../rest/guardedFetch.js';
import { retryAfterSeconds } from '../rest/retryAfterSeconds.js';
import { ConnectorError } from '../sdk.js';
import { EmailErrorCodes } from './emailInput.js';
import type { SendableMessage } from './attachmentArtifacts.js';
import { redactSecrets } from '../../domain/redaction.js';
import { sendGridBody } from './sendGridBody.js';

export const DEFAULT_SENDGRID_BASE_URL = 'https://api.sendgrid.com';
const TIMEOUT_MS = 30_000;

export interface SendGridResult {
  [key: string]: boolean | string | null;
  accepted: boolean;
  messageId: string | null;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'unknown';
  }
}

/**
 * POSTs the message to SendGrid's v3 API through the SSRF guard. 202 → accepted with `X-Message-Id`; 429 and 5xx
 * are retryable, other statuses permanent. Messages carry the host and status only (never the key or the body).
 */
export async function sendViaSendGrid(
  message: SendableMessage<Buffer>,
  apiKey: string,
  options: { baseUrl?: string | undefined; policy: EgressPolicy; resolver?: Resolver | undefined; signal: AbortSignal },
): Promise<SendGridResult> {
  const url = `${(options.baseUrl ?? DEFAULT_SENDGRID_BASE_URL).replace(/\/+$/, '')}/v3/mail/send`;
  const host = hostOf(url);
  const timeoutSignal = AbortSignal.timeout(TIMEOUT_MS);
  let response: GuardedResponse;
  try {
    response = await guardedFetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(sendGridBody(message)),
      signal: AbortSignal.any([options.signal, timeoutSignal]),
      policy: options.policy,
      maxRedirects: 0,
      timeoutMs: TIMEOUT_MS,
      maxResponseBytes: 1024 * 1024,
      ...(options.resolver ? { resolver: options.resolver } : {}),
    });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason ?? error;
    if (timeoutSignal.aborted) throw new ConnectorError(EmailErrorCodes.timeout, `The request to host "${host}" timed out.`, { retryable: true, details: { host } });
    if (error instanceof AppError) {
      throw new ConnectorError(error.code, redactSecrets(error.message, [apiKey]), { retryable: error.retryable, details: error.details });
    }
    throw new ConnectorError(EmailErrorCodes.sendGridFailed, `The request to host "${host}" failed.`, { retryable: true, details: { host } });
  }
  if (response.status === 202 || response.status === 200) {
    const id = response.headers['x-message-id'];
    return { accepted: true, messageId: (Array.isArray(id) ? id[0] : id) ?? null };
  }
  const retryable = response.status === 429 || response.status >= 500;
  const retryAfter = retryable ? retryAfterSeconds(response.headers['retry-after']) : undefined;
  throw new ConnectorError(EmailErrorCodes.sendGridStatus, `SendGrid host "${host}" answered HTTP ${response.status}.`, {
    retryable,
    details: { status: response.status, host },
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}
