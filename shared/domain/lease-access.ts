import type { GrantPolicy } from './grant-policy';
import { iamIdentityFromArn, type Identity } from './identity';
import type { Lease } from './lease';
import { placeholdersIn } from './template';

/** A lease is the caller's own when it was granted to the same caller id. */
export function isOwnLease(lease: Lease, identity: Identity): boolean {
  return lease.caller === identity.caller;
}

/** Attributes every identity of its kind has, rebuilt from the caller id: never recorded. */
const FROM_CALLER: Record<Identity['kind'], ReadonlySet<string>> = {
  iam: new Set(['arn', 'accountId', 'roleName', 'userName', 'principalType']),
  oidc: new Set(['sub', 'issuer']),
};

const readByPolicy = new WeakMap<GrantPolicy, ReadonlySet<string>>();

/**
 * The attribute names a grant policy can read: the claims its caller matchers compare and every
 * `${name}` placeholder in its rules (role patterns, session policies, tags, certificate names).
 */
export function attributesReadBy(policy: GrantPolicy): ReadonlySet<string> {
  const cached = readByPolicy.get(policy);
  if (cached) return cached;
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const name of placeholdersIn(value)) names.add(name);
    } else if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        walk(key);
        walk(inner);
      }
    }
  };
  for (const rule of policy.rules) {
    for (const matcher of rule.callers) if ('oidc' in matcher) for (const claim of Object.keys(matcher.claims)) names.add(claim);
    walk(rule);
  }
  readByPolicy.set(policy, names);
  return names;
}

/**
 * What a lease records of the identity it was granted to: the attributes the grant policy reads,
 * less those the caller id already says (an OIDC subject and issuer, an IAM principal's ARN parts).
 * A token's other claims (iat, exp, jti, a GitHub run's twenty-odd claims) would make every lease
 * item larger, and so every write dearer, for nothing the jobs read. An OIDC lease also records
 * the names the policy read (`claimsRead`, see `recordedClaimsRead`), so that a later policy that
 * reads a claim not recorded here does not see it absent when it re-checks the lease: the re-check
 * (`identityOfLease`) counts it unreadable, so a deny rule conditioned on it holds and an allow
 * rule's does not (fail closed: the audit reports the lease as no longer allowed and an
 * auto-renewal is skipped, until the holder renews once with a fresh token). A name the policy read
 * that the token did not have is recorded as read and stays absent. Leases written before
 * `claimsRead` have none: their unrecorded claims count as absent, as they always did.
 */
export function recordedClaims(policy: GrantPolicy, identity: Identity): Record<string, string> | undefined {
  const read = attributesReadBy(policy);
  const derived = FROM_CALLER[identity.kind];
  const claims = Object.fromEntries(Object.entries(identity.attributes).filter(([name]) => read.has(name) && !derived.has(name)));
  // An OIDC lease always records its claims (even none), so it can be told from a record without them.
  return Object.keys(claims).length > 0 || identity.kind === 'oidc' ? claims : undefined;
}

/**
 * The read set a lease records (`Lease.claimsRead`): the attribute and claim names the grant policy
 * reads (`attributesReadBy`), less those the caller id derives, and less those whose value the
 * lease does not record faithfully: a claim the identity could not read or does not know
 * (`unreadableClaims`: a lease rebuilt by `identityOfLease` lists there the names its lease never
 * recorded, so a renewal by the job does not turn them into known absences), and a list claim only
 * a template reads (templates never read lists, and `recordedClaimLists` keeps only those the
 * conditions read). So a name here is either recorded with its value or was truly absent. Sorted.
 *
 * Only for an OIDC identity: an IAM identity's attributes all come from its caller id except
 * `sessionName`, and no `claims:` condition applies to it, so an unrecorded attribute already
 * counts as an unknown one would (absent: a deny template needing it matches any value, an allow
 * template does not apply), and an IAM lease item stays as small as before.
 */
export function recordedClaimsRead(policy: GrantPolicy, identity: Identity): string[] | undefined {
  if (identity.kind !== 'oidc') return undefined;
  const derived = FROM_CALLER.oidc;
  const unknown = new Set(identity.unreadableClaims ?? []);
  const conditions = conditionClaimsReadBy(policy);
  const lists = identity.claimLists ?? {};
  const faithful = (name: string) => !unknown.has(name) && (!Object.hasOwn(lists, name) || conditions.has(name));
  return [...attributesReadBy(policy)].filter((name) => !derived.has(name) && faithful(name)).sort();
}

/** Everything a new lease records of the identity it is granted to (see recordedClaims, recordedClaimLists, recordedClaimsRead). */
export function recordedIdentity(policy: GrantPolicy, identity: Identity): Pick<Lease, 'claims' | 'claimLists' | 'unreadableClaims' | 'claimsRead'> {
  const claimsRead = recordedClaimsRead(policy, identity);
  return { claims: recordedClaims(policy, identity), ...recordedClaimLists(policy, identity), ...(claimsRead ? { claimsRead } : {}) };
}

const conditionsReadByPolicy = new WeakMap<GrantPolicy, ReadonlySet<string>>();

/** The claim names the grant policy's `claims:` conditions compare (list claims are read by nothing else). */
export function conditionClaimsReadBy(policy: GrantPolicy): ReadonlySet<string> {
  const cached = conditionsReadByPolicy.get(policy);
  if (cached) return cached;
  const names = new Set<string>();
  for (const rule of policy.rules) for (const matcher of rule.callers) if ('oidc' in matcher) for (const claim of Object.keys(matcher.claims)) names.add(claim);
  conditionsReadByPolicy.set(policy, names);
  return names;
}

/**
 * What a lease records of an OIDC identity's list claims: those the grant policy's `claims:`
 * conditions read, whole (a later policy may read another element), and the names of the read
 * claims the broker could not read as values (a deny rule's condition on one holds). Only the
 * fields that have something, so a lease of a caller without list claims is as before.
 */
export function recordedClaimLists(policy: GrantPolicy, identity: Identity): Pick<Lease, 'claimLists' | 'unreadableClaims'> {
  if (identity.kind !== 'oidc') return {};
  const read = conditionClaimsReadBy(policy);
  const lists = Object.entries(identity.claimLists ?? {}).filter(([name]) => read.has(name));
  const unreadable = (identity.unreadableClaims ?? []).filter((name) => read.has(name));
  return {
    ...(lists.length > 0 ? { claimLists: Object.fromEntries(lists.map(([name, values]) => [name, [...values]])) } : {}),
    ...(unreadable.length > 0 ? { unreadableClaims: unreadable } : {}),
  };
}

/**
 * The identity a lease was granted to, for re-checking the grant under `policy` (the current grant
 * policy) without the caller present (the renewal and audit jobs): rebuilt from the caller id and
 * the recorded claims. An IAM identity is its ARN (plus the session name, when the policy read it);
 * an OIDC identity is its issuer id and subject (`ISSUER:SUBJECT`) plus the claims, list claims and
 * unreadable claim names. Undefined for a caller id that is neither.
 *
 * Fail closed: every name `policy` reads that the lease did not record as read (`claimsRead`) and
 * the caller id does not derive is unknown, and is listed in the identity's `unreadableClaims`: a
 * deny rule's `claims:` condition on it holds, an allow rule's does not, and (not being an
 * attribute) a deny rule's template needing it matches whatever its value. A name in `claimsRead`
 * with no recorded value was absent at grant time and stays absent. A lease written before
 * `claimsRead` was recorded has no read set: its unrecorded claims are absent, as before.
 */
export function identityOfLease(lease: Lease, policy: GrantPolicy): Identity | undefined {
  const claims = lease.claims ?? {};
  if (lease.caller.startsWith('arn:')) {
    let identity;
    try {
      identity = iamIdentityFromArn(lease.caller);
    } catch {
      return undefined;
    }
    const sessionName = claims.sessionName;
    return sessionName === undefined ? identity : { ...identity, sessionName, attributes: { ...identity.attributes, sessionName } };
  }
  const colon = lease.caller.indexOf(':');
  if (colon <= 0 || lease.claims === undefined) return undefined;
  const issuerId = lease.caller.slice(0, colon);
  const subject = lease.caller.slice(colon + 1);
  const unreadable = [...(lease.unreadableClaims ?? []), ...unrecordedClaims(lease, policy)];
  // The issuer's URL is not recorded: grant evaluation reads the issuer id.
  return {
    kind: 'oidc',
    issuerId,
    issuer: '',
    subject,
    caller: lease.caller,
    attributes: { ...claims, sub: subject, issuer: issuerId },
    ...(lease.claimLists ? { claimLists: lease.claimLists } : {}),
    ...(unreadable.length > 0 ? { unreadableClaims: [...new Set(unreadable)].sort() } : {}),
  };
}

/** The names `policy` reads that an OIDC lease never recorded as read: unknown to a re-check. None for a lease without a read set. */
function unrecordedClaims(lease: Lease, policy: GrantPolicy): string[] {
  if (lease.claimsRead === undefined) return [];
  const read = new Set(lease.claimsRead);
  const known = (name: string) => read.has(name) || FROM_CALLER.oidc.has(name) || Object.hasOwn(lease.claims ?? {}, name) || Object.hasOwn(lease.claimLists ?? {}, name);
  return [...attributesReadBy(policy)].filter((name) => !known(name));
}

/** Where in its life a lease is, for renewal: the last third of its life is the renewal window. */
export function renewalWindowStart(lease: Lease, fraction = 1 / 3): Date {
  const issued = Date.parse(lease.issuedAt);
  const expires = Date.parse(lease.expiresAt);
  return new Date(expires - Math.floor((expires - issued) * fraction));
}
