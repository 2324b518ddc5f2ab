import { ValidationError } from './errors';
import { fitSourceIdentity, type Identity } from './identity';
import { narrowSessionPolicies, type PolicyDocument } from './session-policy';
import type { CredentialsGrant } from './grant-policy';

/** STS's documented limits for AssumeRole (the STS API Reference, AssumeRole; README "How it works" step 4). */
export const STS_LIMITS = {
  minDurationSeconds: 900,
  /** Every AssumeRole the broker makes is role chaining, which STS caps at one hour. */
  maxChainedDurationSeconds: 3600,
  /** AssumeRoleWithWebIdentity (issuer mode) is not chained: up to the role's maximum, at most 12 hours. */
  maxWebIdentityDurationSeconds: 43_200,
  maxInlinePolicyChars: 2048,
  maxPolicyArns: 10,
  maxTags: 50,
  maxTagKeyLength: 128,
  maxTagValueLength: 256,
} as const;

export const CALLER_TAG = 'nocreds:caller';
export const LEASE_TAG = 'nocreds:lease';
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_UNSAFE = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;

export interface SessionTag {
  readonly key: string;
  readonly value: string;
}

/**
 * Everything AssumeRole will be asked for, except what belongs to one lease (the session name
 * and the lease tag, both the lease id). Session reuse is keyed by this (session-reuse.ts).
 */
export interface CompiledSession {
  readonly roleArn: string;
  readonly sourceIdentity: string;
  readonly durationSeconds: number;
  /** Minified JSON, or undefined for no inline session policy. */
  readonly policy?: string;
  readonly policyArns: readonly string[];
  /** Every tag but the lease tag, in the order sent. */
  readonly tags: readonly SessionTag[];
  /** Issuer mode (`via: web-identity`): what the broker's token says besides the session. Absent: AssumeRole. */
  readonly webIdentity?: WebIdentityClaims;
}

/** What a broker-signed web identity token carries beyond the session's tags and source identity. */
export interface WebIdentityClaims {
  /** `sub`: the caller id (as recorded on leases), which role trust policies match. */
  readonly subject: string;
  /** `nocreds:rule`: the grant rule that allowed the session. */
  readonly ruleId: string;
}

/** Everything AssumeRole will be asked for, checked against STS's limits. */
export interface SessionRequest {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly sourceIdentity: string;
  readonly durationSeconds: number;
  /** Minified JSON, or undefined for no inline session policy. */
  readonly policy?: string;
  readonly policyArns: readonly string[];
  readonly tags: readonly SessionTag[];
  /** Issuer mode: AssumeRoleWithWebIdentity with a token the broker signs, instead of AssumeRole. */
  readonly webIdentity?: WebIdentityClaims;
}

export interface RequestedSession {
  readonly durationSeconds?: number;
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
}

/**
 * Compiles a grant and what the caller asked for into what AssumeRole will receive, or rejects
 * what cannot be sent. The caller can only narrow: its duration is capped by the grant, and its
 * session policies are narrowed as docs/narrowing.md states (session-policy.ts). The lease id is
 * added by `sessionForLease`, once a lease exists.
 */
export function compileSession(grant: CredentialsGrant, requested: RequestedSession, identity: Identity): CompiledSession {
  const webIdentity = grant.via === 'web-identity';
  // Not chained in issuer mode: up to the grant's maximum (the role's own maximum applies too: STS refuses more).
  const cap = webIdentity ? STS_LIMITS.maxWebIdentityDurationSeconds : STS_LIMITS.maxChainedDurationSeconds;
  const durationSeconds = Math.min(requested.durationSeconds ?? grant.maxDurationSeconds, grant.maxDurationSeconds, cap);

  const narrowed = narrowSessionPolicies(grant, requested);
  const policy = narrowed.policy === undefined ? undefined : JSON.stringify(narrowed.policy);
  if (policy !== undefined && policy.length > STS_LIMITS.maxInlinePolicyChars) {
    throw new ValidationError(
      'session_policy_too_large',
      `The session policy is ${policy.length} characters once minified; STS accepts at most ${STS_LIMITS.maxInlinePolicyChars}.`,
      { details: { characters: policy.length, limit: STS_LIMITS.maxInlinePolicyChars } },
    );
  }
  if (narrowed.policyArns.length > STS_LIMITS.maxPolicyArns) {
    throw new ValidationError('too_many_policy_arns', `At most ${STS_LIMITS.maxPolicyArns} managed policy ARNs can be passed to a session.`);
  }

  const tags: SessionTag[] = [
    { key: CALLER_TAG, value: identity.caller.replace(TAG_UNSAFE, '_').slice(0, STS_LIMITS.maxTagValueLength) },
    ...Object.entries(grant.sessionTags).map(([key, value]) => ({ key, value })),
  ];
  // The lease tag is added per lease: count it here.
  if (tags.length + 1 > STS_LIMITS.maxTags) {
    throw new ValidationError('too_many_session_tags', `A session can carry at most ${STS_LIMITS.maxTags} tags; this one would carry ${tags.length + 1}.`);
  }
  for (const tag of tags) {
    if (tag.value.length > STS_LIMITS.maxTagValueLength) {
      throw new ValidationError(
        'session_tag_too_long',
        `Session tag "${tag.key}" would be ${tag.value.length} characters; STS allows at most ${STS_LIMITS.maxTagValueLength}. Check the identity attribute it is built from.`,
      );
    }
    if (!TAG_TEXT.test(tag.value)) {
      throw new ValidationError('invalid_session_tag', `Session tag "${tag.key}" would contain characters STS does not accept in tag values (allowed: letters, digits, spaces and _.:/=+-@).`);
    }
  }

  return {
    roleArn: grant.roleArn,
    sourceIdentity: fitSourceIdentity(identity.caller),
    durationSeconds,
    policy,
    policyArns: narrowed.policyArns,
    tags,
    ...(webIdentity ? { webIdentity: { subject: identity.caller, ruleId: grant.ruleId } } : {}),
  };
}

/** The AssumeRole request for one lease: the lease id is the session name and the lease tag (after the caller tag). */
export function sessionForLease(session: CompiledSession, leaseId: string): SessionRequest {
  return {
    roleArn: session.roleArn,
    roleSessionName: leaseId,
    sourceIdentity: session.sourceIdentity,
    durationSeconds: session.durationSeconds,
    policy: session.policy,
    policyArns: session.policyArns,
    tags: [...session.tags.slice(0, 1), { key: LEASE_TAG, value: leaseId }, ...session.tags.slice(1)],
    ...(session.webIdentity ? { webIdentity: session.webIdentity } : {}),
  };
}
