// @ts-nocheck
import { iamIdentityFromArn, type Identity } from './identity';
import type { Lease } from './lease';

/** A lease is the caller's own when it was granted to the same caller id. */
export function isOwnLease(lease: Lease, identity: Identity): boolean {
  return lease.caller === identity.caller;
}

/**
 * The identity a lease was granted to, for re-checking the grant without the caller present (the
 * renewal and audit jobs). Leases record it; for older records of IAM callers it is rebuilt from
 * the caller ARN (an IAM identity is its ARN). An OIDC identity's claims cannot be rebuilt: then
 * there is none, and the grant cannot be re-checked.
 */
export function identityOfLease(lease: Lease): Identity | undefined {
  if (lease.identity) return lease.identity;
  if (lease.caller.startsWith('arn:')) {
    try {
      return iamIdentityFromArn(lease.caller);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Where in its life a lease is, for renewal: the last third of its life is the renewal window. */
export function renewalWindowStart(lease: Lease, fraction = 1 / 3): Date {
  const issued = Date.parse(lease.issuedAt);
  const expires = Date.parse(lease.expiresAt);
  return new Date(expires - Math.floor((expires - issued) * fraction));
}
