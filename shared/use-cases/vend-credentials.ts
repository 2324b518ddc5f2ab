import { DependencyUnavailableError, RetryLaterError } from '../domain/errors';
import type { GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { newLease, type Lease, type NewLease } from '../domain/lease';
import { recordedIdentity } from '../domain/lease-access';
import { sessionForLease, type CompiledSession } from '../domain/session';
import type { PolicyDocument } from '../domain/session-policy';
import type { Clock, IdGenerator, LeaseStore, RoleAssumer } from '../ports';
import { decideCredentials, type CredentialsDecided } from './decide';
import type { SessionReuse } from './session-reuse';

export interface VendCredentialsDeps {
  readonly grants: GrantPolicy;
  readonly roleAssumer: RoleAssumer;
  readonly leases: LeaseStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly retentionSeconds?: number;
  /** Shares STS calls between identical requests (see session-reuse.ts); off when absent. */
  readonly reuse?: SessionReuse<VendedCredentials>;
  /**
   * Reports a lease that could not be written: the active lease of a session STS issued (the
   * credentials were withheld; the CloudTrail reconciler records and blocks the session), or the
   * `failed` lease of a refusal.
   */
  readonly onLeaseWriteFailure?: (leaseId: string, error: unknown) => void;
}

export interface VendCredentialsRequest {
  readonly identity: Identity;
  readonly requestId: string;
  readonly roleArn: string;
  readonly durationSeconds?: number;
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
  /** Skip reuse: always a new STS session and lease. */
  readonly fresh?: boolean;
  /** The lease this one renews (POST /v1/leases/{id}/renew): recorded in the same single write. */
  readonly renewedFrom?: string;
}

export interface VendedCredentials {
  readonly leaseId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly assumedRoleArn: string;
  readonly accountId: string;
  readonly ruleId: string;
  readonly lease: Lease;
}

/**
 * Vends STS credentials for a role the caller's grant allows.
 *
 * Order matters: the grant is evaluated and the session compiled (anything that cannot be sent
 * is rejected here, with no lease and no STS call); then STS is called, the session named by the
 * new lease id; then the lease is written `active` in one conditional put (`attribute_not_exists`);
 * only then are the credentials returned. Invariant: no credential leaves the broker without its
 * lease. If the put fails, the caller gets a 503 and never the credentials; the session STS issued
 * is not recorded by this request, and the CloudTrail reconciler finds it (its AssumeRole event
 * names the lease id), records it `unrecorded` and blocks it. If STS refuses, a `failed` lease
 * records the refusal (best effort); if STS's answer is lost (outcome unknown), there is nothing to
 * record but the attempt, which the reconciler sees too if STS did issue a session.
 */
export async function vendCredentials(deps: VendCredentialsDeps, request: VendCredentialsRequest): Promise<VendedCredentials> {
  const { identity } = request;
  // Decided once, before any reuse: the reuse key is what STS would receive, and anything that
  // cannot be sent is rejected here, with no lease and no STS call (decide.ts, shared with dry runs).
  const decided = decideCredentials(deps.grants, identity, request);
  const { session } = decided;
  const reuse = deps.reuse;
  if (!reuse) return vendNew(deps, request, decided, session);
  const key = reuse.key(identity.caller, decided.ruleId, session);
  if (!request.fresh) {
    const reused = reuse.reusable(key);
    // No credential without an active lease: a revoked or expired lease is never handed out again.
    if (reused && (await deps.leases.get(reused.leaseId))?.status === 'active') return reused;
    if (reused) reuse.forget(key);
    return reuse.share(key, () => vendNew(deps, request, decided, session));
  }
  const result = await vendNew(deps, request, decided, session);
  reuse.remember(key, result);
  return result;
}

async function vendNew(
  deps: VendCredentialsDeps,
  request: VendCredentialsRequest,
  decision: CredentialsDecided,
  compiled: CompiledSession,
): Promise<VendedCredentials> {
  const { identity } = request;
  const leaseId = deps.ids.next();
  const session = sessionForLease(compiled, leaseId);
  const now = deps.clock.now();
  const record: NewLease = {
    leaseId,
    kind: 'credentials',
    caller: identity.caller,
    // Lets the renewal and audit jobs re-check the grant without the caller present.
    ...recordedIdentity(deps.grants, identity),
    ruleId: decision.ruleId,
    requestId: request.requestId,
    now,
    expiresAt: new Date(now.getTime() + session.durationSeconds * 1000),
    retentionSeconds: deps.retentionSeconds,
    roleArn: session.roleArn,
    durationSeconds: session.durationSeconds,
    renewedFrom: request.renewedFrom,
  };

  let assumed;
  try {
    assumed = await deps.roleAssumer.assumeRole(session);
  } catch (error) {
    // A refusal issued nothing: record it. An unknown outcome (timeout, 5xx) may have issued a
    // session: there is nothing true to write yet; the reconciler records it from CloudTrail.
    if (!(error instanceof DependencyUnavailableError && error.outcomeUnknown)) {
      const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1024);
      await deps.leases.create(newLease({ ...record, now: deps.clock.now(), failureReason: reason }, 'failed')).catch((writeError: unknown) => deps.onLeaseWriteFailure?.(leaseId, writeError));
    }
    throw error;
  }

  const active = newLease(
    {
      ...record,
      expiresAt: assumed.expiration,
      accessKeyId: assumed.accessKeyId,
      assumedRoleArn: assumed.assumedRoleArn,
      packedPolicySize: assumed.packedPolicySize,
    },
    'active',
  );
  try {
    await deps.leases.create(active);
  } catch (error) {
    deps.onLeaseWriteFailure?.(leaseId, error);
    // The credentials are withheld: they never leave without their lease.
    if (error instanceof RetryLaterError) throw error;
    throw new DependencyUnavailableError('lease_not_recorded', 'The credentials were issued but their lease could not be recorded, so they were withheld; retry.', 1, { cause: error });
  }

  return {
    leaseId,
    accessKeyId: assumed.accessKeyId,
    secretAccessKey: assumed.secretAccessKey,
    sessionToken: assumed.sessionToken,
    expiration: assumed.expiration,
    assumedRoleArn: assumed.assumedRoleArn,
    accountId: assumed.assumedRoleArn.split(':')[4] ?? '',
    ruleId: decision.ruleId,
    lease: active,
  };
}
