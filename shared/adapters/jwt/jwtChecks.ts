import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { ValidatedToken } from '../../ports/tokenValidator.js';

// JWT claim checks shared by the Entra and development-issuer validators.

/** Longer than any real access token (Entra caps group overage well below this); bounds the parsing work. */
export const MAX_BEARER_TOKEN_LENGTH = 16 * 1024;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a GUID string (any case), as Entra tenant and object ids are. */
export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID.test(value);
}

/** An `AUTH.UNAUTHENTICATED` error with a safe message and a stable, non-sensitive reason. */
export function unauthenticated(message: string, reason: string): AppError {
  return new AppError(ErrorCodes.unauthenticated, message, { details: { reason } });
}

/** The signing keys could not be obtained: not the caller's fault, and worth retrying. */
export function keysUnavailable(cause: unknown): AppError {
  return new AppError(ErrorCodes.internal, 'The token signing keys could not be retrieved; try again shortly.', {
    retryable: true,
    cause,
  });
}

/** Whether a key-resolver error is about the keys themselves (no match) rather than fetching them. */
export function isKeySelectionError(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported
  );
}

/**
 * Maps a jose verification error to an `AUTH.UNAUTHENTICATED` error with a specific, safe message. jose's own
 * messages and its `payload` (the claims) are deliberately not passed on. An `AppError` (e.g. keys unavailable)
 * passes through; anything unexpected becomes an internal error, never a success.
 */
export function toAuthError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof errors.JWTExpired) return unauthenticated('The token has expired.', 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return unauthenticated(`The token lacks the '${error.claim}' claim.`, 'claimMissing');
    switch (error.claim) {
      case 'aud':
        return unauthenticated("The token's audience is not this API.", 'audience');
      case 'iss':
        return unauthenticated("The token's issuer is not trusted.", 'issuer');
      case 'nbf':
        return unauthenticated('The token is not valid yet.', 'notYetValid');
      default:
        return unauthenticated(`The token's '${error.claim}' claim is invalid.`, 'claimInvalid');
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return unauthenticated("The token's signing algorithm is not allowed.", 'algorithm');
  }
  if (error instanceof errors.JWKSNoMatchingKey) return unauthenticated("The token's signing key is not known.", 'unknownKey');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return unauthenticated("The token's signing key is ambiguous.", 'unknownKey');
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthenticated("The token's signature is invalid.", 'signature');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return unauthenticated('The bearer token is malformed.', 'malformed');
  return new AppError(ErrorCodes.internal, 'The token could not be validated.', { cause: error });
}

/**
 * The verification both validators end with: the signature (keys from `key`), algorithm, audience, issuer, expiry
 * with the clock tolerance and the `exp`/`tid` claims; then the verified `tid` must be the one the issuer was
 * derived from, and its directory onboarded when `allowedTenantIds` is given. Returns the port's view.
 */
export async function verifyTenantToken(
  bearerToken: string,
  key: JWTVerifyGetKey,
  expected: { algorithms: string[]; audience: string | string[]; issuer: string; clockTolerance: number | string; tid: string; source: ValidatedToken['issuer'] },
  allowedTenantIds: ((tid: string) => Promise<boolean> | boolean) | undefined,
): Promise<ValidatedToken> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(bearerToken, key, {
      algorithms: expected.algorithms,
      audience: expected.audience,
      issuer: expected.issuer,
      clockTolerance: expected.clockTolerance,
      requiredClaims: ['exp', 'tid'],
    }));
  } catch (error) {
    throw toAuthError(error);
  }
  // The verified payload is the one decoded before; re-read tid from it all the same.
  if (payload['tid'] !== expected.tid) throw unauthenticated('The token has no valid tenant id (tid).', 'tenant');
  if (allowedTenantIds && !(await allowedTenantIds(expected.tid.toLowerCase()))) {
    throw unauthenticated("The token's directory is not onboarded to AutomateIQ.", 'tenantNotOnboarded');
  }
  return toValidatedToken(payload, expected.tid, expected.source);
}

/** Builds the port's view of verified claims. `subject` is `oid` (stable per directory), else `sub`. */
export function toValidatedToken(claims: Record<string, unknown>, entraTenantId: string, issuer: ValidatedToken['issuer']): ValidatedToken {
  const subject = nonEmptyString(claims['oid']) ?? nonEmptyString(claims['sub']);
  if (subject === undefined) throw unauthenticated('The token names no subject (oid or sub).', 'claimMissing');
  const roles = Array.isArray(claims['roles']) ? claims['roles'].filter((role): role is string => typeof role === 'string') : [];
  return {
    subject,
    entraTenantId: entraTenantId.toLowerCase(),
    name: nonEmptyString(claims['name']) ?? null,
    roles,
    issuer,
    claims: Object.freeze({ ...claims }),
  };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
