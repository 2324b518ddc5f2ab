import { NotFoundError, ValidationError } from '../domain/errors';
import { isAdmin, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { leaseAsOf, type Lease } from '../domain/lease';
import { isOwnLease } from '../domain/lease-access';
import type { Clock, LeaseStore } from '../ports';
import { collectCertificate, type CertificateLeaseDeps, type DeliveredCertificate } from './issue-certificate';

const LEASE_ID = /^[0-9A-Z]{26}$/;

export interface LeaseAccessDeps {
  readonly grants: GrantPolicy;
  readonly leases: LeaseStore;
}

/**
 * The lease `leaseId` if the caller may see it: its own, or any for an admin. Anything else is
 * the same 404 as a lease that does not exist, so lease ids cannot be probed.
 */
export async function findVisibleLease(deps: LeaseAccessDeps, identity: Identity, leaseId: string): Promise<Lease> {
  if (!LEASE_ID.test(leaseId)) {
    throw new ValidationError('invalid_lease_id', 'A lease id is 26 characters of 0-9 and A-Z, as returned when the lease was granted.', { details: { field: 'id' } });
  }
  const lease = await deps.leases.get(leaseId);
  if (!lease || !(isOwnLease(lease, identity) || isAdmin(deps.grants, identity))) {
    throw new NotFoundError('lease_not_found', `You hold no lease ${leaseId}.`);
  }
  return lease;
}

/** The CA side of certificate leases; the lease store and clock are the use case's own. */
export type CertificateAccess = Omit<CertificateLeaseDeps, 'leases' | 'clock'>;

export interface GetLeaseDeps extends LeaseAccessDeps {
  readonly clock: Clock;
  /** Delivers certificates of certificate leases; without it, only the record is returned. */
  readonly certificates?: CertificateAccess;
}

export interface LeaseWithCertificate {
  readonly lease: Lease;
  /** For a certificate lease once issued (also finishing one that answered 202). */
  readonly certificate?: DeliveredCertificate;
}

/** One lease; a certificate lease that is pending or active also brings its certificate when the CA has it. */
export async function getLease(deps: GetLeaseDeps, request: { readonly identity: Identity; readonly leaseId: string }): Promise<LeaseWithCertificate> {
  const lease = await findVisibleLease(deps, request.identity, request.leaseId);
  // Shown as of now: an active lease past its expiry reads `expired` (nothing writes at expiry).
  if (!deps.certificates || lease.kind !== 'certificate' || (lease.status !== 'pending' && lease.status !== 'active')) return { lease: leaseAsOf(lease, deps.clock.now()) };
  const collected = await collectCertificate({ ...deps.certificates, leases: deps.leases, clock: deps.clock }, lease);
  return { lease: leaseAsOf(collected.lease, deps.clock.now()), ...(collected.delivered ? { certificate: collected.delivered } : {}) };
}
