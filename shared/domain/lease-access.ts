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
 * item larger, and so every write dearer, for nothing the jobs read. The price: a later policy that
 * reads a claim not recorded here sees it absent when it re-checks an older lease (the audit then
 * reports the lease as no longer allowed; an auto-renewal is skipped until the holder renews once).
 */
export function recordedClaims(policy: GrantPolicy, identity: Identity): Record<string, string> | undefined {
  const read = attributesReadBy(policy);
  const derived = FROM_CALLER[identity.kind];
  const claims = Object.fromEntries(Object.entries(identity.attributes).filter(([name]) => read.has(name) && !derived.has(name)));
  // An OIDC lease always records its claims (even none), so it can be told from a record without them.
  return Object.keys(claims).length > 0 || identity.kind === 'oidc' ? claims : undefined;
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
 * The identity a lease was granted to, for re-checking the grant without the caller present (the
 * renewal and audit jobs): rebuilt from the caller id and the recorded claims. An IAM identity is
 * its ARN (plus the session name, when the policy reads it); an OIDC identity is its issuer id and
 * subject (`ISSUER:SUBJECT`) plus the claims, list claims and unreadable claim names. Undefined for a caller id that is neither.
 */
export function identityOfLease(lease: Lease): Identity | undefined {
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
  // The issuer's URL is not recorded: grant evaluation reads the issuer id.
  return {
    kind: 'oidc',
    issuerId,
    issuer: '',
    subject,
    caller: lease.caller,
    attributes: { ...claims, sub: subject, issuer: issuerId },
    ...(lease.claimLists ? { claimLists: lease.claimLists } : {}),
    ...(lease.unreadableClaims ? { unreadableClaims: lease.unreadableClaims } : {}),
  };
}

/** Where in its life a lease is, for renewal: the last third of its life is the renewal window. */
export function renewalWindowStart(lease: Lease, fraction = 1 / 3): Date {
  const issued = Date.parse(lease.issuedAt);
  const expires = Date.parse(lease.expiresAt);
  return new Date(expires - Math.floor((expires - issued) * fraction));
}
