import { AppError } from '../../domain/errors.js';
import { ConnectorError } from '../sdk.js';

export const REST_TIMEOUT = 'REST.TIMEOUT';

const UNDICI_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Maps a failure of `guardedFetch` to a ConnectorError: SSRF.* and REST.* keep their code and retryable flag;
 * the request timeout (ours, or undici's idle timeouts) is a retryable REST.TIMEOUT. An abort of the step's own
 * signal is rethrown as it is (the engine owns that timeout / cancellation).
 */
export function toConnectorError(error: unknown, host: string, stepSignal: AbortSignal, timeoutSignal: AbortSignal): unknown {
  if (stepSignal.aborted) return stepSignal.reason ?? error;
  const cause = error instanceof AppError ? error.options.cause : undefined;
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  if (timeoutSignal.aborted || (typeof causeCode === 'string' && UNDICI_TIMEOUTS.has(causeCode))) {
    return new ConnectorError(REST_TIMEOUT, `The request to host "${host}" timed out.`, { retryable: true, details: { host }, cause: error });
  }
  if (error instanceof ConnectorError) return error;
  if (error instanceof AppError) {
    return new ConnectorError(error.code, error.message, { ...error.options, retryable: error.retryable, cause: error });
  }
  return new ConnectorError('REST.REQUEST_FAILED', `The request to host "${host}" failed.`, { retryable: true, details: { host }, cause: error });
}
