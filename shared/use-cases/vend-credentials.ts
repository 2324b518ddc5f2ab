import type { GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { pendingLease, type Lease } from '../domain/lease';
import { sessionForLease, type CompiledSession } from '../domain/session';
import type { PolicyDocument } from '../domain/session-policy';
import type { Clock, IdGenerator, LeaseStore, RoleAssumer } from '../ports';
import { decideCredentials, type CredentialsDecided } from './decide';
import { recordLeaseFailure } from './lease-failure';
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
  /** Reports a failure to record a lease's end state; the audit will find the lease pending. */
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
 * is rejected here, with no lease and no STS call); then the lease is written `pending`; then
 * STS is called; then the lease becomes `active`. If recording that fails, the credentials are
 * not returned and the lease stays `pending` for the audit.
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
  const lease = pendingLease({
    leaseId,
    kind: 'credentials',
    caller: identity.caller,
    // Lets the renewal and audit jobs re-check the grant without the caller present.
    identity,
    ruleId: decision.ruleId,
    requestId: request.requestId,
    now,
    expiresAt: new Date(now.getTime() + session.durationSeconds * 1000),
    retentionSeconds: deps.retentionSeconds,
    roleArn: session.roleArn,
    sourceIdentity: session.sourceIdentity,
    durationSeconds: session.durationSeconds,
  });
  await deps.leases.create(lease);

  let assumed;
  try {
    assumed = await deps.roleAssumer.assumeRole(session);
  } catch (error) {
    await recordLeaseFailure(deps, leaseId, error);
    throw error;
  }

  const active = await deps.leases.update(leaseId, 'pending', {
    status: 'active',
    accessKeyId: assumed.accessKeyId,
    assumedRoleArn: assumed.assumedRoleArn,
    expiresAt: assumed.expiration.toISOString(),
    ...(assumed.packedPolicySize === undefined ? {} : { packedPolicySize: assumed.packedPolicySize }),
    updatedAt: deps.clock.now().toISOString(),
  });

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
