/**
 * What a validated bearer token says about its caller, before it is mapped to an onboarded tenant and a
 * `Principal` (shared/domain/roles.ts). Users are keyed on (`entraTenantId`, `subject`), never on an
 * email or a name: those are mutable and, in a multi-tenant app, attacker-controllable (nOAuth).
 */
export interface ValidatedToken {
  /** The user's or app's object id (`oid`), else `sub`: stable within the token's directory. */
  subject: string;
  /** The directory the token was issued by (`tid`), a lowercase GUID. */
  entraTenantId: string;
  /** Display name (`name`), for audit trails only; never used for authorization. */
  name: string | null;
  /** The app roles granted (`roles`), as issued; unknown values are kept for the caller to ignore. */
  roles: string[];
  /** Which issuer signed it: Entra ID, or the development issuer of the embedded host. */
  issuer: 'entra' | 'development';
  /** Every claim of the verified token. */
  claims: Readonly<Record<string, unknown>>;
}

/**
 * Validates a bearer token: signature (algorithm allow-list), issuer, audience, lifetime and tenant id.
 *
 * `validate` throws an `AppError` with code `AUTH.UNAUTHENTICATED` and a safe, specific message (e.g. "The
 * token has expired.") when the token is not acceptable; the message never echoes the token or its claims.
 * When the token could not be checked at all (the signing keys are unreachable) it throws a retryable
 * `INTERNAL` error instead, so that callers answer 503 rather than blame the token.
 */
export interface TokenValidator {
  validate(bearerToken: string): Promise<ValidatedToken>;
}

/**
 * A token validator that also names the `iss` prefixes it is responsible for, so that a composite can route a
 * token to exactly one validator by its (unverified) issuer. Prefixes end with `/` so that
 * `https://login.microsoftonline.com/` cannot match `https://login.microsoftonline.com.evil.example/`.
 */
export interface IssuerScopedTokenValidator extends TokenValidator {
  readonly issuerPrefixes: readonly string[];
}
