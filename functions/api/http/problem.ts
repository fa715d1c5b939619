import type { HttpResponseInit } from '@azure/functions';
import { AppError, ErrorCodes, ValidationError } from '../../../shared/domain/errors.js';
import { ScheduleErrorCodes } from '../../../shared/domain/schedule.js';
import { ArtifactErrorCodes } from '../../../shared/ports/artifactStore.js';
import { SecretErrorCodes } from '../../../shared/ports/secretStore.js';
import { RunControlErrorCodes } from '../../../shared/application/runControl.js';
import { WebhookErrorCodes } from '../../../shared/domain/webhook.js';
import { EventErrorCodes } from '../../../shared/domain/events.js';

/** The one mapping from error codes to HTTP statuses. */
const STATUS_BY_CODE: Record<string, number> = {
  [ErrorCodes.requestInvalid]: 400,
  [ErrorCodes.workflowInvalid]: 400,
  [ErrorCodes.runInputInvalid]: 400,
  [ErrorCodes.tenantEgressInvalid]: 400,
  [ErrorCodes.runRetryFromStepUnsupported]: 400,
  [ErrorCodes.eventNotExpected]: 404,
  [ErrorCodes.runNotRunning]: 409,
  [RunControlErrorCodes.eventAmbiguous]: 409,
  [RunControlErrorCodes.approvalAlreadyDecided]: 409,
  [ErrorCodes.unauthenticated]: 401,
  [ErrorCodes.forbidden]: 403,
  [ErrorCodes.tenantNotOnboarded]: 403,
  [ErrorCodes.tenantSuspended]: 403,
  [ErrorCodes.notFound]: 404,
  [ErrorCodes.tenantNotFound]: 404,
  [ErrorCodes.workflowNotFound]: 404,
  [ErrorCodes.versionNotFound]: 404,
  [ErrorCodes.runNotFound]: 404,
  [ErrorCodes.tenantExists]: 409,
  [ErrorCodes.workflowExists]: 409,
  [ErrorCodes.workflowNotPublished]: 409,
  [ErrorCodes.conflict]: 409,
  [ErrorCodes.preconditionFailed]: 412,
  [ErrorCodes.requestBodyTooLarge]: 413,
  [ErrorCodes.preconditionRequired]: 428,
  [SecretErrorCodes.invalidName]: 400,
  [SecretErrorCodes.reservedName]: 400,
  [SecretErrorCodes.invalidValue]: 400,
  [ArtifactErrorCodes.invalidName]: 400,
  [WebhookErrorCodes.notFound]: 404,
  [WebhookErrorCodes.deliveryNotFound]: 404,
  [WebhookErrorCodes.signatureMissing]: 401,
  [WebhookErrorCodes.signatureInvalid]: 401,
  [WebhookErrorCodes.timestampOutOfRange]: 401,
  [WebhookErrorCodes.deliveryIdMissing]: 400,
  [WebhookErrorCodes.bodyInvalid]: 400,
  [WebhookErrorCodes.bodyTooLarge]: 413,
  [WebhookErrorCodes.unsupportedMediaType]: 415,
  [WebhookErrorCodes.noPreviousSecret]: 409,
  [ScheduleErrorCodes.cronInvalid]: 400,
  [ScheduleErrorCodes.timeZoneInvalid]: 400,
  [ScheduleErrorCodes.notFound]: 404,
  [ScheduleErrorCodes.exists]: 409,
  [EventErrorCodes.subscriptionNotFound]: 404,
  [EventErrorCodes.subscriptionInvalid]: 400,
  [EventErrorCodes.eventSourcesInvalid]: 400,
  [EventErrorCodes.eventSourceTaken]: 409,
  [ErrorCodes.rateLimited]: 429,
  [ErrorCodes.quotaExceeded]: 429,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

export function statusOf(error: unknown): number {
  return error instanceof AppError ? (STATUS_BY_CODE[error.code] ?? (error.code.endsWith('.NOT_FOUND') ? 404 : 500)) : 500;
}

/**
 * An error as `application/problem+json` (RFC 9457) with the stable `code`, the correlation id and, for
 * validation errors, every problem found. Unexpected errors say nothing about their cause: it is logged.
 */
export function problemResponse(error: unknown, correlationId: string): HttpResponseInit {
  const status = statusOf(error);
  const known = error instanceof AppError && status !== 500;
  const body: Record<string, unknown> = {
    type: `https://automateiq.dev/problems/${known ? (error as AppError).code.toLowerCase().replace(/\./g, '-') : 'internal'}`,
    title: TITLES[status] ?? 'Error',
    status,
    code: known ? (error as AppError).code : ErrorCodes.internal,
    detail: known ? (error as AppError).message : 'An unexpected error occurred. Quote the correlation id when you report it.',
    correlationId,
  };
  if (error instanceof ValidationError) body['errors'] = error.problems;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'x-correlation-id': correlationId };
  if (error instanceof AppError && error.options.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.options.retryAfterSeconds);
  // Webhooks authenticate by signature, not by a bearer token.
  if (status === 401 && !(error as AppError).code.startsWith('WEBHOOK.')) headers['www-authenticate'] = 'Bearer';
  return { status, headers, body: JSON.stringify(body) };
}
