// @ts-nocheck
// 
import { UnauthenticatedError } from '../../shared/domain/errors';
import type { Identity } from '../../shared/domain/identity';
import type { TokenVerifier } from '../../shared/ports';

/**
 * A TokenVerifier that knows a fixed set of tokens: `accept(token, identity)` registers one;
 * any other token fails with UnauthenticatedError `invalid_token`, as a bad signature would.
 * For tests of routes and use cases; JWT verification itself is tested against the real
 * JoseTokenVerifier and a dev issuer (test/integration/oidc-authentication.test.ts).
 *
 * @example
 *   const tokens = new StaticTokenVerifier().accept('t-team-a', oidcIdentity({ namespace: 'team-a' }));
 *   new Authenticator({ tokenVerifier: tokens });
 */
export class StaticTokenVerifier implements TokenVerifier {
  private readonly identities = new Map<string, Identity>();
  /** Every token presented, in order. */
  readonly presented: string[] = [];

  accept(token: string, identity: Identity): this {
    this.identities.set(token, identity);
    return this;
  }

  async verify(token: string): Promise<Identity> {
    this.presented.push(token);
    const identity = this.identities.get(token);
    if (!identity) throw new UnauthenticatedError('invalid_token', 'The token could not be verified.');
    return identity;
  }
}
