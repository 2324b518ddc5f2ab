import { traceRules, type RuleTrace } from '../domain/decision-trace';
import { AccessDeniedError, NocredsError, ValidationError } from '../domain/errors';
import { evaluateCredentials, isAdmin, type GrantPolicy } from '../domain/grant-policy';
import { iamIdentityFromArn, type Identity } from '../domain/identity';
import { oidcIdentityFromClaims } from '../domain/oidc';
import { sessionForLease, type SessionRequest } from '../domain/session';
import { decideCredentials, type CredentialsInput } from './decide';

/**
 * Dry runs: authenticate and decide exactly as the real request, then report the decision instead
 * of acting on it. No lease, no STS, PCA or KMS call. The decision comes from the same functions a
 * real request runs (decide.ts), so a dry run and the real request cannot disagree up to the first
 * call to AWS; the per-rule trace explains it (decision-trace.ts).
 */

/** Shown where the lease id goes (session name, lease tag, a certificate's default common name): a real request gets a new one. */
export const LEASE_ID_PLACEHOLDER = '{leaseId}';

/** Who a dry run decides for: the caller itself, or (admins only) an identity it describes. */
export type DescribedIdentity = { readonly iam: string } | { readonly issuer: string; readonly claims: Readonly<Record<string, unknown>> };

export interface DryRunIdentity {
  readonly caller: string;
  readonly kind: Identity['kind'];
  readonly attributes: Readonly<Record<string, string>>;
  /** OIDC: list claims and unreadable claim names (identity.ts), when there are any. */
  readonly claimLists?: Readonly<Record<string, readonly string[]>>;
  readonly unreadableClaims?: readonly string[];
  /** True when an admin described this identity instead of proving it. */
  readonly described: boolean;
}

interface DryRunBase {
  readonly identity: DryRunIdentity;
  /** The rule that decided, when one did. */
  readonly rule?: string;
  /** Every rule of the grant policy, in file order, with why it did or did not take part. */
  readonly rules: readonly RuleTrace[];
  /** What the real request would be refused with; absent when it would be allowed. */
  readonly error?: NocredsError;
}

export interface CredentialsDryRun extends DryRunBase {
  readonly kind: 'credentials';
  /**
   * The AssumeRole (or, in issuer mode, AssumeRoleWithWebIdentity) request the real request would
   * send (absent when refused), policy as sent (minified JSON); in issuer mode `webIdentity` is the
   * token's `sub` and `nocreds:rule` (no token is signed in a dry run).
   */
  readonly session?: SessionRequest & { readonly mode: 'assume-role' | 'web-identity' };
}

export interface CertificateDryRun extends DryRunBase {
  readonly kind: 'certificate';
  readonly certificate?: {
    readonly profile: string;
    readonly caArn: string;
    readonly templateArn: string;
    readonly commonName: string;
    readonly dnsNames: readonly string[];
    readonly uris: readonly string[];
    readonly ipAddresses: readonly string[];
    /** The validity the real request asks the CA for, at most; the CA's own expiry can shorten it (not checked: no PCA call). */
    readonly validitySeconds: number;
  };
}

/**
 * The identity a dry run decides for. Describing another identity is an admin's tool for testing a
 * grant policy; the described identity goes through the same construction as a proven one (claims
 * through the issuer's preset and required claims, ARNs through the IAM normalisation).
 */
export function dryRunIdentity(grants: GrantPolicy, caller: Identity, described: DescribedIdentity | undefined): { identity: Identity; described: boolean } {
  if (described === undefined) return { identity: caller, described: false };
  if (!isAdmin(grants, caller)) {
    throw new AccessDeniedError('admin_required', 'Only an admin grant can dry-run on behalf of another identity; leave out "as" to dry-run as yourself.');
  }
  return { identity: describeIdentity(grants, described), described: true };
}

/** Builds an identity from a description (no proof): for admins' dry runs and offline `nocreds grants explain`. */
export function describeIdentity(grants: GrantPolicy, described: DescribedIdentity): Identity {
  try {
    if ('iam' in described) return iamIdentityFromArn(described.iam);
    const issuer = grants.issuers.find((i) => i.id === described.issuer);
    if (!issuer) {
      throw new ValidationError('unknown_issuer', `No issuer "${described.issuer}" in the grant policy (issuers: ${grants.issuers.map((i) => i.id).join(', ') || 'none'}).`);
    }
    return oidcIdentityFromClaims(issuer, { ...described.claims });
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.code === 'unknown_issuer' ? error.code : 'invalid_identity', error.message, { details: { field: 'as' } });
    if (error instanceof NocredsError) throw new ValidationError('invalid_identity', `The described identity is not one the broker would accept: ${error.message}`, { details: { field: 'as', reason: error.code } });
    throw error;
  }
}

export function identityView(identity: Identity, described: boolean): DryRunIdentity {
  return {
    caller: identity.caller,
    kind: identity.kind,
    attributes: identity.attributes,
    ...(identity.kind === 'oidc' && identity.claimLists ? { claimLists: identity.claimLists } : {}),
    ...(identity.kind === 'oidc' && identity.unreadableClaims ? { unreadableClaims: identity.unreadableClaims } : {}),
    described,
  };
}

/** Runs `decide`, keeping a refusal the real request would answer with as part of the result. */
export function attempt<T>(decide: () => T): { value?: T; error?: NocredsError } {
  try {
    return { value: decide() };
  } catch (error) {
    if (error instanceof NocredsError) return { error };
    throw error;
  }
}

export function evaluation<T extends { allowed: boolean; ruleId?: string }>(evaluate: () => T): { allowed: boolean; ruleId?: string } {
  const result = attempt(evaluate);
  return result.value ? { allowed: result.value.allowed, ...(result.value.ruleId ? { ruleId: result.value.ruleId } : {}) } : { allowed: false };
}

export function dryRunCredentials(grants: GrantPolicy, identity: Identity, input: CredentialsInput, described = false): CredentialsDryRun {
  const decision = evaluation(() => evaluateCredentials(grants, identity, input.roleArn));
  const rules = traceRules(grants, identity, { kind: 'credentials', roleArn: input.roleArn }, decision);
  const { value: decided, error } = attempt(() => decideCredentials(grants, identity, input));
  const base = { kind: 'credentials' as const, identity: identityView(identity, described), ...(decision.ruleId ? { rule: decision.ruleId } : {}), rules };
  if (!decided) return { ...base, error };
  const request = sessionForLease(decided.session, LEASE_ID_PLACEHOLDER);
  return {
    ...base,
    session: {
      mode: request.webIdentity ? 'web-identity' : 'assume-role',
      ...(request.webIdentity ? { webIdentity: request.webIdentity } : {}),
      roleArn: request.roleArn,
      roleSessionName: request.roleSessionName,
      sourceIdentity: request.sourceIdentity,
      durationSeconds: request.durationSeconds,
      ...(request.policy === undefined ? {} : { policy: request.policy }),
      policyArns: request.policyArns,
      tags: request.tags,
    },
  };
}


/**
 * Reads an identity description as people write it (for `nocreds grants explain --as`): an IAM
 * principal ARN; `{"iam": ARN}`; `{"issuer": ID, "claims": {...}}`; or a token's claims with
 * `iss` (the issuer whose URL or id it names), e.g. `{"iss": "https://...", "namespace": "team-a"}`.
 */
export function parseDescribedIdentity(grants: GrantPolicy, text: string): DescribedIdentity {
  const trimmed = text.trim();
  if (trimmed.startsWith('arn:')) return { iam: trimmed };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    throw new ValidationError('invalid_identity', 'Describe the identity as an IAM principal ARN or a JSON object: {"iam": ARN}, {"issuer": ID, "claims": {...}} or token claims with "iss".');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('invalid_identity', 'The identity description must be a JSON object or an ARN.');
  const object = value as Record<string, unknown>;
  if (typeof object.iam === 'string') return { iam: object.iam };
  if (typeof object.issuer === 'string' && typeof object.claims === 'object' && object.claims !== null) return { issuer: object.issuer, claims: object.claims as Record<string, unknown> };
  if (typeof object.iss === 'string') {
    const issuer = grants.issuers.find((i) => i.url === object.iss || i.id === object.iss);
    if (!issuer) {
      throw new ValidationError('unknown_issuer', `No issuer in the grant policy has URL or id "${object.iss}" (issuers: ${grants.issuers.map((i) => `${i.id} ${i.url}`).join(', ') || 'none'}).`);
    }
    return { issuer: issuer.id, claims: object };
  }
  throw new ValidationError('invalid_identity', 'The identity description needs "iam", "issuer" and "claims", or an "iss" claim naming a configured issuer.');
}
