import { readIssuedCertificate, type IssuedCertificateFacts } from '../domain/certificate';
import { certificateValidity, flattenNames } from '../domain/certificate-profile';
import { ConflictError, DependencyUnavailableError } from '../domain/errors';
import type { GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { recordedIdentity } from '../domain/lease-access';
import { assertTransition, pendingLease, type Lease } from '../domain/lease';
import type { CertificateAuthority, Clock, IdGenerator, LeaseStore } from '../ports';
import { decideCertificate } from './decide-certificate';
import { recordLeaseFailure, settleUnrecordedCertificate } from './lease-failure';

/** API Gateway gives up after 30 s; answer 202 well before, leaving time for the lease writes. */
export const DEFAULT_READY_WITHIN_MS = 15_000;
/** Bounded backoff between GetCertificate polls. */
const POLL_DELAYS_MS = [200, 400, 800, 1600, 2000] as const;

export interface CertificateLeaseDeps {
  readonly ca: CertificateAuthority;
  readonly leases: LeaseStore;
  readonly clock: Clock;
  /** Reports a failure to record a lease's state; the lease stays pending for the renewal job and the audit. */
  readonly onLeaseWriteFailure?: (leaseId: string, error: unknown) => void;
}

export interface IssueCertificateDeps extends CertificateLeaseDeps {
  readonly grants: GrantPolicy;
  readonly ids: IdGenerator;
  readonly retentionSeconds?: number;
  /** How long to wait for PCA before answering with the pending lease (default 15 s). */
  readonly readyWithinMs?: number;
  /** Waits between polls; tests pass one that moves their clock. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface IssueCertificateRequest {
  readonly identity: Identity;
  readonly requestId: string;
  readonly csr: string;
  readonly profile?: string;
  readonly validitySeconds?: number;
}

export interface DeliveredCertificate {
  readonly certificate: string;
  readonly certificateChain: string;
  readonly serialNumber: string;
  readonly notAfter: Date;
}

export type IssueCertificateResult =
  | ({ readonly status: 'issued'; readonly leaseId: string; readonly lease: Lease } & DeliveredCertificate)
  /** Not ready in time: the lease is pending with the certificate ARN; GET /v1/leases/{id} delivers it. */
  | { readonly status: 'pending'; readonly leaseId: string; readonly lease: Lease };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Issues a certificate from the caller's CSR through the profile its grant allows.
 *
 * Everything a caller can get wrong (CSR, profile, names, validity) is rejected before anything is
 * written or PCA is asked. Then the CA is described (its remaining life caps the validity), the
 * lease is written `pending`, PCA's IssueCertificate is called with the lease id as idempotency
 * token, the certificate ARN is recorded on the lease, and GetCertificate is polled with bounded
 * backoff. Ready in time: the lease becomes `active` and the certificate is returned. Not ready:
 * the pending lease is marked acknowledged and returned (HTTP 202); the holder collects it later. A
 * failure after IssueCertificate leaves the lease pending and unacknowledged: the caller never got
 * the certificate, so the renewal job revokes it at the CA and records the lease `abandoned`.
 */
export async function issueCertificate(deps: IssueCertificateDeps, request: IssueCertificateRequest): Promise<IssueCertificateResult> {
  const started = deps.clock.now().getTime();
  const { identity } = request;
  const decision = await decideCertificate(deps.grants, identity, request);
  const { profile, csr, names } = decision;

  const ca = await deps.ca.describeCa(profile.caArn);
  if (ca.status !== 'ACTIVE') {
    throw new DependencyUnavailableError('ca_not_active', `The certificate authority of profile "${profile.name}" is ${ca.status}, not ACTIVE.`, 60);
  }
  const now = deps.clock.now();
  const validity = certificateValidity({ requestedSeconds: request.validitySeconds, maxSeconds: profile.maxValiditySeconds, now, caNotAfter: ca.notAfter });
  if (!validity) {
    throw new DependencyUnavailableError('ca_expiring', `The certificate authority of profile "${profile.name}" expires too soon to issue certificates; an operator must renew it.`, 3600);
  }

  const leaseId = deps.ids.next();
  const pending = pendingLease({
    leaseId,
    kind: 'certificate',
    caller: identity.caller,
    // Lets the renewal and audit jobs re-check the grant without the caller present.
    ...recordedIdentity(deps.grants, identity),
    ruleId: decision.ruleId,
    requestId: request.requestId,
    now,
    expiresAt: validity.notAfter,
    retentionSeconds: deps.retentionSeconds,
    caArn: profile.caArn,
    profile: profile.name,
    names: flattenNames(names),
    csr: csr.pem,
  });
  await deps.leases.create(pending);

  let certificateArn: string;
  try {
    ({ certificateArn } = await deps.ca.issue({
      caArn: profile.caArn,
      csrPem: csr.pem,
      templateArn: profile.templateArn,
      signingAlgorithm: ca.signingAlgorithm,
      notAfter: validity.notAfter,
      // A subject is always sent, so nothing from the CSR's subject reaches the certificate unchecked.
      commonName: names.commonName ?? leaseId,
      dns: names.dns,
      uris: names.uris,
      ips: names.ips,
      idempotencyToken: leaseId,
    }));
  } catch (error) {
    await recordLeaseFailure(deps, leaseId, error);
    throw error;
  }

  let lease: Lease;
  try {
    lease = await deps.leases.update(leaseId, 'pending', { certificateArn, updatedAt: deps.clock.now().toISOString() });
  } catch (error) {
    // The certificate exists but its lease does not say where: never hand it out unrecorded, and
    // revoke it while its ARN is still known (the renewal job could not find it).
    deps.onLeaseWriteFailure?.(leaseId, error);
    await settleUnrecordedCertificate(deps, pending, certificateArn);
    throw error;
  }

  const deadline = started + (deps.readyWithinMs ?? DEFAULT_READY_WITHIN_MS);
  const sleep = deps.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    const collected = await collectCertificate(deps, lease);
    if (collected.delivered) return { status: 'issued', leaseId, lease: collected.lease, ...collected.delivered };
    const delay = POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)] as number;
    if (deps.clock.now().getTime() + delay > deadline) return { status: 'pending', leaseId, lease: await acknowledge(deps, collected.lease) };
    await sleep(delay);
  }
}

/**
 * Records that the caller is about to be given the pending lease's id (202): from then on the
 * certificate is the holder's to collect, and the renewal job finishes the lease instead of revoking
 * the certificate as undelivered. If this write fails the caller gets the error, not the id.
 */
async function acknowledge(deps: CertificateLeaseDeps, lease: Lease): Promise<Lease> {
  try {
    return await deps.leases.update(lease.leaseId, 'pending', { acknowledgedAt: deps.clock.now().toISOString(), updatedAt: deps.clock.now().toISOString() });
  } catch (error) {
    deps.onLeaseWriteFailure?.(lease.leaseId, error);
    throw error;
  }
}

export interface CollectedCertificate {
  readonly lease: Lease;
  /** Present once the CA has issued the certificate. */
  readonly delivered?: DeliveredCertificate;
}

/**
 * Fetches a certificate lease's certificate from the CA; a `pending` lease whose certificate is
 * ready becomes `active` with the serial, expiry and names read from the certificate itself.
 * For `GET /v1/leases/{id}` (the 202 path) and the renewal job. Leases without a certificate ARN
 * come back as they are.
 */
export async function collectCertificate(deps: CertificateLeaseDeps, lease: Lease): Promise<CollectedCertificate> {
  if (lease.kind !== 'certificate' || !lease.certificateArn || !lease.caArn) return { lease };
  if (lease.status !== 'pending' && lease.status !== 'active') return { lease };
  const retrieval = await deps.ca.get(lease.caArn, lease.certificateArn);
  if (retrieval.status === 'in-progress') return { lease };
  const facts = readIssuedCertificate(retrieval.certificate);
  const delivered = { certificate: retrieval.certificate, certificateChain: retrieval.certificateChain, serialNumber: facts.serialNumber, notAfter: facts.notAfter };
  if (lease.status === 'active') return { lease, delivered };
  return { lease: await activate(deps, lease, facts), delivered };
}

async function activate(deps: CertificateLeaseDeps, lease: Lease, facts: IssuedCertificateFacts): Promise<Lease> {
  assertTransition(lease, 'active');
  try {
    return await deps.leases.update(lease.leaseId, 'pending', {
      status: 'active',
      serialNumber: facts.serialNumber,
      expiresAt: facts.notAfter.toISOString(),
      // What the certificate actually says, not what was asked: the record an auditor reads.
      names: flattenNames(facts.names),
      updatedAt: deps.clock.now().toISOString(),
    });
  } catch (error) {
    // Another poller (GET /v1/leases/{id}, the renewal job) may have activated it first.
    if (error instanceof ConflictError) {
      const current = await deps.leases.get(lease.leaseId);
      if (current?.status === 'active' && current.serialNumber === facts.serialNumber) return current;
    }
    deps.onLeaseWriteFailure?.(lease.leaseId, error);
    throw error;
  }
}
