import { AppError } from '../../domain/errors.js';
import { ConnectorError } from '../sdk.js';
import { EmailErrorCodes } from './emailInput.js';

interface NodemailerFailure {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  command?: unknown;
}

const CONNECTION_CODES = new Set(['ECONNECTION', 'ESOCKET', 'EDNS', 'EPROXY']);

/**
 * Maps a nodemailer failure to a ConnectorError. Temporary SMTP replies (4xx: 421, 450, 451, 452, 454…),
 * connection failures (refused, reset) and timeouts are retryable; permanent replies (5xx: 550, 553, 554…) and
 * authentication failures (535) are not. The message names the host, the SMTP command and the reply code only —
 * never the server's reply text, the password or the message.
 */
export function smtpError(error: unknown, host: string, stepSignal: AbortSignal): unknown {
  if (stepSignal.aborted) return stepSignal.reason ?? error;
  if (error instanceof ConnectorError) return error;
  if (error instanceof AppError) return new ConnectorError(error.code, error.message, { ...error.options, retryable: error.retryable, cause: error });
  const failure = (typeof error === 'object' && error !== null ? error : {}) as NodemailerFailure;
  const code = typeof failure.code === 'string' ? failure.code : 'UNKNOWN';
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const command = typeof failure.command === 'string' && /^[A-Z ]{1,20}$/.test(failure.command) ? failure.command : undefined;
  const details = { host, smtpCode: code, ...(responseCode === undefined ? {} : { responseCode }), ...(command ? { command } : {}) };
  const at = command ? ` at ${command}` : '';

  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) {
    return new ConnectorError(EmailErrorCodes.smtpDeferred, `SMTP server "${host}" answered ${responseCode} (temporary)${at}.`, { retryable: true, details });
  }
  if (code === 'EAUTH' || code === 'ENOAUTH') {
    return new ConnectorError(EmailErrorCodes.smtpAuthFailed, `SMTP authentication at "${host}" failed${responseCode ? ` (${responseCode})` : ''}.`, { retryable: false, details });
  }
  if (responseCode !== undefined && responseCode >= 500) {
    // 503 (bad sequence) is a protocol hiccup rather than a verdict on the message, but it does not heal by retrying either.
    return new ConnectorError(EmailErrorCodes.smtpRejected, `SMTP server "${host}" answered ${responseCode} (permanent)${at}.`, { retryable: false, details });
  }
  if (code === 'ETIMEDOUT') return new ConnectorError(EmailErrorCodes.timeout, `The SMTP connection to "${host}" timed out.`, { retryable: true, details });
  if (CONNECTION_CODES.has(code)) {
    const reason = typeof failure.originalCode === 'string' && /^E[A-Z_]{2,30}$/.test(failure.originalCode) ? ` (${failure.originalCode})` : '';
    return new ConnectorError(EmailErrorCodes.smtpConnectionFailed, `The SMTP connection to "${host}" failed${reason}.`, { retryable: true, details });
  }
  if (code === 'ETLS' || code === 'EREQUIRETLS') {
    return new ConnectorError(EmailErrorCodes.smtpTls, `TLS with SMTP server "${host}" failed (STARTTLS missing or certificate not trusted).`, { retryable: false, details });
  }
  if (code === 'EPROTOCOL') return new ConnectorError(EmailErrorCodes.smtpFailed, `SMTP server "${host}" sent an invalid response.`, { retryable: true, details });
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return new ConnectorError(EmailErrorCodes.inputInvalid, `The message could not be sent to "${host}": invalid sender, recipients or content.`, { retryable: false, details });
  return new ConnectorError(EmailErrorCodes.smtpFailed, `Sending through SMTP server "${host}" failed (${code.replace(/[^A-Z_]/g, '').slice(0, 30)}).`, { retryable: false, details });
}
