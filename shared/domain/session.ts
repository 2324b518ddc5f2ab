import { ValidationError } from './errors';
import { fitSourceIdentity, type Identity } from './identity';
import { narrowSessionPolicy, type PolicyDocument } from './session-policy';
import type { CredentialsGrant } from './grant-policy';

/** STS's documented limits for AssumeRole (see REFERENCE.md). */
export const STS_LIMITS = {
  minDurationSeconds: 900,
  /** Every AssumeRole the broker makes is role chaining, which STS caps at one hour. */
  maxChainedDurationSeconds: 3600,
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
}

export interface RequestedSession {
  readonly durationSeconds?: number;
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
}

/**
 * Compiles a grant and what the caller asked for into one AssumeRole request, or rejects what
 * cannot be sent. The caller can only narrow: its duration is capped by the grant, its session
 * policy must fit inside the grant's, and its managed policy ARNs must be among the grant's.
 */
export function compileSession(grant: CredentialsGrant, requested: RequestedSession, identity: Identity, leaseId: string): SessionRequest {
  const durationSeconds = Math.min(requested.durationSeconds ?? grant.maxDurationSeconds, grant.maxDurationSeconds, STS_LIMITS.maxChainedDurationSeconds);

  const grantArns = new Set(grant.policyArns);
  for (const arn of requested.policyArns ?? []) {
    if (!grantArns.has(arn)) {
      throw new ValidationError('policy_arn_not_granted', `The managed policy ${arn} is not among those your grant allows; a session can only be narrowed.`);
    }
  }
  // Session policies are a union: sending managed ARNs alongside the grant's inline policy would
  // widen it. So when the caller narrows one part, the other part is left out, not added.
  let policyDoc: PolicyDocument | undefined;
  let policyArns: readonly string[];
  if (requested.policy === undefined && requested.policyArns === undefined) {
    policyDoc = grant.sessionPolicy;
    policyArns = grant.policyArns;
  } else {
    policyDoc = requested.policy === undefined ? undefined : narrowSessionPolicy(grant.sessionPolicy, requested.policy);
    policyArns = requested.policyArns ?? [];
    if (policyDoc === undefined && policyArns.length === 0) {
      throw new ValidationError('empty_session', 'An empty list of policy ARNs with no session policy would leave the session with no permissions.');
    }
  }
  const policy = policyDoc === undefined ? undefined : JSON.stringify(policyDoc);
  if (policy !== undefined && policy.length > STS_LIMITS.maxInlinePolicyChars) {
    throw new ValidationError(
      'session_policy_too_large',
      `The session policy is ${policy.length} characters once minified; STS accepts at most ${STS_LIMITS.maxInlinePolicyChars}.`,
      { details: { characters: policy.length, limit: STS_LIMITS.maxInlinePolicyChars } },
    );
  }
  if (policyArns.length > STS_LIMITS.maxPolicyArns) {
    throw new ValidationError('too_many_policy_arns', `At most ${STS_LIMITS.maxPolicyArns} managed policy ARNs can be passed to a session.`);
  }

  const tags: SessionTag[] = [
    { key: CALLER_TAG, value: identity.caller.replace(TAG_UNSAFE, '_').slice(0, STS_LIMITS.maxTagValueLength) },
    { key: LEASE_TAG, value: leaseId },
    ...Object.entries(grant.sessionTags).map(([key, value]) => ({ key, value })),
  ];
  if (tags.length > STS_LIMITS.maxTags) {
    throw new ValidationError('too_many_session_tags', `A session can carry at most ${STS_LIMITS.maxTags} tags; this one would carry ${tags.length}.`);
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
    roleSessionName: leaseId,
    sourceIdentity: fitSourceIdentity(identity.caller),
    durationSeconds,
    policy,
    policyArns,
    tags,
  };
}
