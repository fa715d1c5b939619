/**
 * Errors with stable, dotted codes (`WORKFLOW.INVALID`, `TENANT.NOT_FOUND`). The HTTP edge maps each code to a
 * status once (functions/api/http/problem.ts); everything else only throws. `details` must never hold secrets.
 */
export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    /** Stable code clients may switch on. */
    readonly code: string,
    message: string,
    readonly options: {
      /** Whether trying again (later) can succeed. */
      retryable?: boolean;
      /** Non-sensitive, structured details (e.g. validation problems). */
      details?: unknown;
      /** Seconds a client should wait before retrying (rate limits, quotas). */
      retryAfterSeconds?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  get retryable(): boolean {
    return this.options.retryable ?? false;
  }

  get details(): unknown {
    return this.options.details;
  }
}

/** One problem found in a request body or definition: where (JSON Pointer) and what. */
export interface ValidationProblem {
  pointer: string;
  message: string;
  /** Machine-readable kind, e.g. `required`, `cycle`, `unknownStep`. */
  kind?: string;
}

/** The input is invalid; `problems` lists every problem found, not just the first. */
export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  constructor(
    code: string,
    message: string,
    readonly problems: readonly ValidationProblem[],
  ) {
    super(code, message, { details: { problems } });
  }
}

/** The stable error codes of the platform, by area. */
export const ErrorCodes = {
  requestInvalid: 'REQUEST.INVALID',
  requestBodyTooLarge: 'REQUEST.BODY_TOO_LARGE',
  unauthenticated: 'AUTH.UNAUTHENTICATED',
  forbidden: 'AUTH.FORBIDDEN',
  tenantNotFound: 'TENANT.NOT_FOUND',
  tenantExists: 'TENANT.ALREADY_EXISTS',
  tenantSuspended: 'TENANT.SUSPENDED',
  tenantNotOnboarded: 'TENANT.NOT_ONBOARDED',
  /** A tenant's egress allow-list names something that is not a host, CIDR or port, or a metadata endpoint. */
  tenantEgressInvalid: 'TENANT.EGRESS_INVALID',
  workflowNotFound: 'WORKFLOW.NOT_FOUND',
  workflowExists: 'WORKFLOW.ALREADY_EXISTS',
  workflowInvalid: 'WORKFLOW.INVALID',
  workflowNotPublished: 'WORKFLOW.NOT_PUBLISHED',
  versionNotFound: 'WORKFLOW.VERSION_NOT_FOUND',
  runNotFound: 'RUN.NOT_FOUND',
  runInputInvalid: 'RUN.INPUT_INVALID',
  runNotRunning: 'RUN.NOT_RUNNING',
  runRetryFromStepUnsupported: 'RUN.RETRY_FROM_STEP_UNSUPPORTED',
  eventNotExpected: 'EVENT.NOT_EXPECTED',
  preconditionFailed: 'REQUEST.PRECONDITION_FAILED',
  preconditionRequired: 'REQUEST.PRECONDITION_REQUIRED',
  conflict: 'REQUEST.CONFLICT',
  rateLimited: 'QUOTA.RATE_LIMITED',
  quotaExceeded: 'QUOTA.EXCEEDED',
  notFound: 'REQUEST.NOT_FOUND',
  internal: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
