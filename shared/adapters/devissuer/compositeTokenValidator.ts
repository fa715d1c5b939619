import { decodeJwt } from 'jose';
import type { IssuerScopedTokenValidator, TokenValidator, ValidatedToken } from '../../ports/tokenValidator.js';
import { MAX_BEARER_TOKEN_LENGTH, unauthenticated } from '../jwt/jwtChecks.js';

/**
 * Routes each token to the one validator whose issuer prefix its (unverified) `iss` starts with; that
 * validator then verifies everything, the issuer included. The unverified `iss` only chooses where to look, it
 * grants nothing. Fails closed: a token whose `iss` matches no validator is rejected ("issuer not trusted"),
 * and so is every token when `validators` is empty. Prefixes must be `https://` URLs ending with `/`, and no
 * prefix may start another (so the route is never ambiguous).
 * @throws TypeError on a bad or overlapping prefix.
 */
export function createCompositeTokenValidator(validators: readonly IssuerScopedTokenValidator[]): TokenValidator {
  const routes = validators.flatMap((validator) => validator.issuerPrefixes.map((prefix) => ({ prefix, validator })));
  for (const { prefix } of routes) {
    if (typeof prefix !== 'string' || !/^https:\/\/[^/]+\/(?:[^?#]*\/)?$/.test(prefix)) {
      throw new TypeError(`createCompositeTokenValidator: issuer prefix '${String(prefix)}' must be an https URL ending with '/'.`);
    }
  }
  for (const a of routes) {
    for (const b of routes) {
      if (a !== b && b.prefix.startsWith(a.prefix)) {
        throw new TypeError(`createCompositeTokenValidator: issuer prefixes '${a.prefix}' and '${b.prefix}' overlap.`);
      }
    }
  }

  return {
    async validate(bearerToken: string): Promise<ValidatedToken> {
      if (typeof bearerToken !== 'string' || bearerToken.length === 0) throw unauthenticated('No bearer token was given.', 'malformed');
      if (bearerToken.length > MAX_BEARER_TOKEN_LENGTH) throw unauthenticated('The bearer token is too large.', 'malformed');
      let issuer: unknown;
      try {
        issuer = decodeJwt(bearerToken).iss;
      } catch {
        throw unauthenticated('The bearer token is malformed.', 'malformed');
      }
      const route = typeof issuer === 'string' ? routes.find(({ prefix }) => issuer.startsWith(prefix)) : undefined;
      if (!route) throw unauthenticated("The token's issuer is not trusted.", 'issuer');
      return route.validator.validate(bearerToken);
    },
  };
}
