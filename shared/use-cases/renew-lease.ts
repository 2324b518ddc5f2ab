import { AccessDeniedError, ConfigurationError, ConflictError, NotFoundError } from '../domain/errors';
import { evaluateCertificate, evaluateCredentials } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import type { Lease } from '../domain/lease';
import { isOwnLease, recordedIdentity } from '../domain/lease-access';
import type { PolicyDocument } from '../domain/session-policy';
import type { Clock, IdGenerator, LeaseStore } from '../ports';
import { decideCredentials } from './decide';
import { findVisibleLease, type LeaseAccessDeps } from './get-lease';
import { issueCertificate, type IssueCertificateDeps, type IssueCertificateResult } from './issue-certificate';
import { vendCredentials, type VendCredentialsDeps, type VendedCredentials } from './vend-credentials';

/** A successor that has not appeared this long after its claim was abandoned (the renewer died). */
const ABANDONED_CLAIM_MS = 60_000;

export interface RenewLeaseDeps extends LeaseAccessDeps {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** What vending credentials needs beyond the shared deps; without it, credentials leases cannot be renewed. */
  readonly credentials?: Omit<VendCredentialsDeps, 'grants' | 'leases' | 'clock' | 'ids'>;
  /** What issuing certificates needs beyond the shared deps; without it, certificate leases cannot be renewed. */
  readonly certificates?: Omit<IssueCertificateDeps, 'grants' | 'leases' | 'clock' | 'ids'>;
}

/** What a caller may ask of a credentials renewal: it can narrow the new session again. */
export interface CredentialsRenewalOptions {
  readonly durationSeconds?: number;
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
}

export interface RenewLeaseRequest extends CredentialsRenewalOptions {
  readonly identity: Identity;
  readonly leaseId: string;
  readonly requestId: string;
}

export type Renewal =
  | { readonly kind: 'credentials'; readonly previous: Lease; readonly lease: Lease; readonly credentials: VendedCredentials }
  | { readonly kind: 'certificate'; readonly previous: Lease; readonly lease: Lease; readonly certificate: IssueCertificateResult };

/**
 * POST /v1/leases/{id}/renew: a new lease linked to the old one (`renewedFrom` / `renewedBy`),
 * for the lease's own holder. Credentials are vended afresh for the same role; a certificate is
 * re-issued for the same public key (the CSR on the lease). The current grant policy decides.
 */
export async function renewLease(deps: RenewLeaseDeps, request: RenewLeaseRequest): Promise<Renewal> {
  const lease = await findVisibleLease(deps, request.identity, request.leaseId);
  if (!isOwnLease(lease, request.identity)) {
    throw new AccessDeniedError('not_lease_holder', `Lease ${lease.leaseId} belongs to ${lease.caller}; only its holder can renew it (a renewal is issued to the holder).`);
  }
  return renewLeaseFor(deps, lease, request.identity, request.requestId, request);
}

/**
 * Renews `lease` for `identity` (its holder, as authenticated now or as recorded on the lease).
 * Shared by the API and the renewal job. The old lease is claimed with a conditional write before
 * anything is issued, so two renewals of one lease (two requests, two job runs) issue once.
 */
export async function renewLeaseFor(deps: RenewLeaseDeps, lease: Lease, identity: Identity, requestId: string, options: CredentialsRenewalOptions = {}): Promise<Renewal> {
  const now = deps.clock.now();
  if (lease.status === 'revoked') throw new ConflictError('lease_revoked', `Lease ${lease.leaseId} was revoked at ${lease.revokedAt ?? 'an earlier time'}; a revoked lease cannot be renewed. Request a new one.`, { details: { status: lease.status } });
  if (lease.status === 'expired' || (lease.status === 'active' && Date.parse(lease.expiresAt) <= now.getTime())) {
    throw new ConflictError('lease_expired', `Lease ${lease.leaseId} expired at ${lease.expiresAt}; an expired lease cannot be renewed. Request a new one.`, { details: { status: 'expired' } });
  }
  if (lease.status !== 'active') {
    throw new ConflictError('lease_not_active', `Lease ${lease.leaseId} is ${lease.status}; only an active lease can be renewed.`, { details: { status: lease.status } });
  }
  checkGrantStillAllows(deps, lease, identity);
  // Everything the grant would refuse (duration, session policy) is refused before the claim below,
  // so a rejected renewal leaves no trace on the lease.
  const credentialsInput = lease.kind === 'credentials' ? renewalInput(deps, lease, identity, options) : undefined;
  if (credentialsInput) decideCredentials(deps.grants, identity, credentialsInput);
  const expectedSuccessor = await abandonedSuccessor(deps, lease, now);

  const renewalId = deps.ids.next();
  let previous: Lease;
  try {
    previous = await deps.leases.update(lease.leaseId, 'active', { renewedBy: renewalId, updatedAt: now.toISOString() }, { renewedBy: expectedSuccessor ?? null });
  } catch (error) {
    if (error instanceof ConflictError) {
      const current = (error.details?.lease as Lease | undefined) ?? (await deps.leases.get(lease.leaseId));
      if (current?.renewedBy) throw alreadyRenewed(current);
      throw new ConflictError('lease_state_changed', `Lease ${lease.leaseId} changed while it was being renewed (now ${current?.status ?? 'gone'}); nothing was issued.`, { cause: error, details: { status: current?.status } });
    }
    throw error;
  }
  // The successor uses the id the claim names.
  const ids: IdGenerator = { next: () => renewalId };

  if (credentialsInput) {
    if (!deps.credentials || !lease.roleArn) throw new ConfigurationError('credentials_not_configured', 'This broker cannot vend credentials here.');
    let credentials: VendedCredentials;
    try {
      credentials = await vendCredentials(
        { ...deps.credentials, grants: deps.grants, leases: deps.leases, clock: deps.clock, ids },
        // renewedFrom is recorded in the vend's one write: a credentials renewal writes no link afterwards.
        { identity, requestId, ...credentialsInput, fresh: true, renewedFrom: lease.leaseId },
      );
    } catch (error) {
      // Nothing was delivered: release the claim so the holder can retry at once (a session STS may
      // have issued is the reconciler's, named by the successor id). Best effort: a claim left behind
      // goes stale after ABANDONED_CLAIM_MS.
      await deps.leases.update(lease.leaseId, 'active', { renewedBy: null, updatedAt: deps.clock.now().toISOString() }, { renewedBy: renewalId }).catch(() => undefined);
      throw error;
    }
    return { kind: 'credentials', previous, lease: credentials.lease, credentials };
  }

  if (!deps.certificates || !lease.csr) throw new ConfigurationError('certificates_not_configured', `Lease ${lease.leaseId} cannot be re-issued here (no certificate authority or no CSR recorded).`);
  const decision = evaluateCertificate(deps.grants, identity, lease.profile);
  const lifetimeSeconds = Math.floor((Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)) / 1000);
  const certificate = await issueCertificate(
    { ...deps.certificates, grants: deps.grants, leases: deps.leases, clock: deps.clock, ids },
    {
      identity,
      requestId,
      csr: lease.csr,
      profile: lease.profile,
      validitySeconds: decision.allowed ? Math.min(lifetimeSeconds, decision.profile.maxValiditySeconds) : undefined,
    },
  );
  const linked = await link(deps, certificate.lease, lease.leaseId, identity);
  return { kind: 'certificate', previous, lease: linked, certificate: { ...certificate, lease: linked } };
}

function checkGrantStillAllows(deps: RenewLeaseDeps, lease: Lease, identity: Identity): void {
  if (lease.kind === 'credentials') {
    const decision = evaluateCredentials(deps.grants, identity, lease.roleArn ?? '');
    if (!decision.allowed) {
      throw new AccessDeniedError('grant_denied', `The grant policy no longer allows credentials for ${lease.roleArn}: ${decision.reason}. Lease ${lease.leaseId} was not renewed.`, {
        details: decision.ruleId ? { rule: decision.ruleId } : {},
      });
    }
    return;
  }
  const decision = evaluateCertificate(deps.grants, identity, lease.profile);
  if (!decision.allowed) {
    throw new AccessDeniedError('grant_denied', `The grant policy no longer allows certificates from profile "${lease.profile}": ${decision.reason}. Lease ${lease.leaseId} was not renewed.`, {
      details: decision.ruleId ? { rule: decision.ruleId } : {},
    });
  }
}

function renewalInput(deps: RenewLeaseDeps, lease: Lease, identity: Identity, options: CredentialsRenewalOptions) {
  const grantMax = maxDurationFor(deps, lease, identity);
  return {
    roleArn: lease.roleArn ?? '',
    durationSeconds: options.durationSeconds ?? Math.min(lease.durationSeconds ?? grantMax, grantMax),
    policy: options.policy,
    policyArns: options.policyArns,
  };
}

function maxDurationFor(deps: RenewLeaseDeps, lease: Lease, identity: Identity): number {
  const decision = evaluateCredentials(deps.grants, identity, lease.roleArn ?? '');
  return decision.allowed ? decision.grant.maxDurationSeconds : (lease.durationSeconds ?? 900);
}

/**
 * A lease already claimed by a renewal may be claimed again only when that renewal came to
 * nothing: its successor failed, or never appeared although the claim is old. Returns the stale
 * successor id to claim over, or undefined when there is no claim.
 */
async function abandonedSuccessor(deps: { leases: LeaseStore }, lease: Lease, now: Date): Promise<string | undefined> {
  if (!lease.renewedBy) return undefined;
  const successor = await deps.leases.get(lease.renewedBy);
  // Its request is over and delivered nothing: refused, settled by the renewal job, or ended with an
  // unknown outcome (the job will settle it). A credentials successor whose STS call failed with an
  // unknown outcome, or whose lease write failed, has no record: its claim is stale after a minute.
  if (successor?.status === 'failed' || successor?.status === 'abandoned' || (successor?.status === 'pending' && successor.failureReason !== undefined)) return lease.renewedBy;
  if (!successor && now.getTime() - Date.parse(lease.updatedAt) > ABANDONED_CLAIM_MS) return lease.renewedBy;
  throw alreadyRenewed(lease);
}

function alreadyRenewed(lease: Lease): ConflictError {
  return new ConflictError('lease_already_renewed', `Lease ${lease.leaseId} has already been renewed by lease ${lease.renewedBy}; renew that one instead.`, {
    details: { renewedBy: lease.renewedBy },
  });
}

/** Records the link on the new certificate lease (and who it was granted to, for the jobs' re-checks). */
async function link(deps: RenewLeaseDeps, lease: Lease, renewedFrom: string, identity: Identity): Promise<Lease> {
  const changes = { renewedFrom, ...recordedIdentity(deps.grants, identity), updatedAt: deps.clock.now().toISOString() };
  try {
    return await deps.leases.update(lease.leaseId, lease.status, changes);
  } catch (error) {
    // A pending certificate may have been activated meanwhile (GET /v1/leases/{id}, the renewal job).
    if (!(error instanceof ConflictError)) throw error;
    const current = await deps.leases.get(lease.leaseId);
    if (!current) throw new NotFoundError('lease_not_found', `Lease ${lease.leaseId} disappeared while it was being linked.`, { cause: error });
    return deps.leases.update(lease.leaseId, current.status, changes);
  }
}
