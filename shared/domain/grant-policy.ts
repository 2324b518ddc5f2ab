import * as z from 'zod/mini';
import './schema-locale';
import { certificateProfileSchema, compileProfile, type CompiledProfile } from './certificate-profile';
import { ConfigurationError } from './errors';
import { matchesGlob, matchGlob } from './glob';
import { mostSpecificIssue } from './schema-issue';
import { parseRoleArn, type Identity, type OidcIdentity } from './identity';
import { policyDocumentSchema, type PolicyDocument } from './session-policy';
import { InvalidClaimError, MissingAttributeError, placeholdersIn, renderPolicyJson, renderRolePattern, renderRoleText, renderTagValue, type Attributes } from './template';
import { STS_LIMITS } from './session';

/**
 * The grant policy: who may get what. A versioned YAML or JSON file, validated when it is loaded
 * (and at synth time), with errors that name the line and path. Default deny; an explicit deny
 * wins; every decision names the rule that made it.
 */

const ROLE_ARN_PATTERN = /^arn:[\w*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.+$/;
const DURATION = z.number().check(z.int(), z.minimum(STS_LIMITS.minDurationSeconds), z.maximum(STS_LIMITS.maxWebIdentityDurationSeconds));

/** How the broker obtains a session: AssumeRole with its own role (chained), or AssumeRoleWithWebIdentity with a token it signs (issuer mode). */
export const CREDENTIAL_MODES = ['assume-role', 'web-identity'] as const;
export type CredentialMode = (typeof CREDENTIAL_MODES)[number];
const nonEmptyString = () => z.string().check(z.minLength(1));
const patternOrList = z.union([nonEmptyString(), z.array(nonEmptyString()).check(z.minLength(1))]);

export const issuerSchema = z
  .strictObject({
    id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'an issuer id is 1-32 lowercase letters, digits or dashes')),
    url: z.string().check(z.url()),
    audiences: z.array(nonEmptyString()).check(z.minLength(1)),
    preset: z._default(z.enum(['kubernetes', 'github', 'generic']), 'generic'),
    algorithms: z.optional(
      z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).check(z.minLength(1)),
    ),
    maxTokenAgeSeconds: z.optional(z.number().check(z.int(), z.positive(), z.maximum(7 * 24 * 3600))),
    requiredClaims: z.optional(z.array(nonEmptyString())),
    /** Only for the local development issuer: plain HTTP on a loopback address. */
    allowInsecureLoopback: z._default(z.boolean(), false),
  })
  .check(
    z.superRefine((issuer, ctx) => {
      // Refinements run even when the url check above failed; that failure is already reported.
      if (!URL.canParse(issuer.url)) return;
      const url = new URL(issuer.url);
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(issuer.allowInsecureLoopback && loopback && url.protocol === 'http:')) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'an issuer URL must use https (plain http only for a loopback development issuer with allowInsecureLoopback)' });
      }
    }),
  );

const callerSchema = z.union([
  z.strictObject({ iam: patternOrList }),
  z.strictObject({
    oidc: nonEmptyString(),
    claims: z._default(z.record(nonEmptyString(), patternOrList), {}),
  }),
]);

const credentialsGrantSchema = z.strictObject({
  roles: z.array(z.string().check(z.regex(ROLE_ARN_PATTERN, 'a role pattern must look like arn:aws:iam::ACCOUNT:role/NAME'))).check(z.minLength(1)),
  maxDurationSeconds: z._default(DURATION, STS_LIMITS.maxChainedDurationSeconds),
  via: z._default(z.enum(CREDENTIAL_MODES), 'assume-role'),
  sessionPolicy: z.optional(policyDocumentSchema),
  policyArns: z._default(z.array(z.string().check(z.regex(/^arn:[\w-]+:iam::(\d{12}|aws):policy\/.+$/, 'a managed policy ARN'))).check(z.maxLength(STS_LIMITS.maxPolicyArns)), []),
  sessionTags: z._default(
    z.record(
      z.string().check(z.minLength(1), z.maxLength(STS_LIMITS.maxTagKeyLength), z.regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, 'a tag key uses letters, digits, spaces and _.:/=+-@')),
      z.string().check(z.maxLength(STS_LIMITS.maxTagValueLength)),
    ),
    {},
  ),
});

const denyCredentialsSchema = z.strictObject({ roles: z.array(nonEmptyString()).check(z.minLength(1)) });

const certificatesGrantSchema = z.strictObject({ profiles: z.array(certificateProfileSchema).check(z.minLength(1)) });

/** Profile names (`*` and `?` allowed) a deny rule withholds. */
const denyCertificatesSchema = z.strictObject({ profiles: z.array(nonEmptyString()).check(z.minLength(1)) });

const ruleBase = {
  id: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a rule id is 1-64 letters, digits, _ . or -')),
  description: z.optional(z.string()),
  callers: z.array(callerSchema).check(z.minLength(1)),
};

const allowRuleSchema = z.strictObject({
  ...ruleBase,
  effect: z._default(z.literal('allow'), 'allow'),
  credentials: z.optional(credentialsGrantSchema),
  certificates: z.optional(certificatesGrantSchema),
  /** May see and manage every caller's leases. */
  admin: z._default(z.boolean(), false),
});

const denyRuleSchema = z.strictObject({
  ...ruleBase,
  effect: z.literal('deny'),
  /** Without `credentials` or `certificates`, the rule denies the matching callers everything. */
  credentials: z.optional(denyCredentialsSchema),
  certificates: z.optional(denyCertificatesSchema),
});

const ruleSchema = z.union([allowRuleSchema, denyRuleSchema]);

export const grantPolicySchema = z
  .strictObject({
    version: z.literal(1),
    issuers: z._default(z.array(issuerSchema), []),
    rules: z.array(ruleSchema),
  })
  .check(
    z.superRefine((policy, ctx) => {
      const issuerIds = new Set<string>();
      policy.issuers.forEach((issuer, i) => {
        if (issuerIds.has(issuer.id)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'id'], message: `duplicate issuer id "${issuer.id}"` });
        // An OIDC caller is ISSUER_ID:SUBJECT and an IAM caller its ARN: issuer "arn" with subject
        // "aws:iam::ACCOUNT:role/NAME" would be the IAM role's caller id (its leases, its sessions).
        if (issuer.id === 'arn') ctx.addIssue({ code: 'custom', path: ['issuers', i, 'id'], message: 'the issuer id "arn" is reserved: its callers would look like IAM ARNs; choose another id' });
        issuerIds.add(issuer.id);
      });
      const ruleIds = new Set<string>();
      policy.rules.forEach((rule, i) => {
        if (ruleIds.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
        ruleIds.add(rule.id);
        rule.callers.forEach((caller, j) => {
          if ('oidc' in caller && !issuerIds.has(caller.oidc)) {
            ctx.addIssue({ code: 'custom', path: ['rules', i, 'callers', j, 'oidc'], message: `unknown issuer "${caller.oidc}"; declare it under issuers` });
          }
          if ('iam' in caller) {
            const list = Array.isArray(caller.iam) ? caller.iam : [caller.iam];
            // A pattern no caller can match would make a deny rule silently never apply.
            list.forEach((pattern, k) => {
              const where = ['rules', i, 'callers', j, 'iam', ...(Array.isArray(caller.iam) ? [k] : [])];
              if (ASSUMED_ROLE_PATTERN.test(pattern)) {
                ctx.addIssue({
                  code: 'custom',
                  path: where,
                  message: `"${pattern}" can never match: callers are matched by their role ARN (an assumed-role session becomes arn:aws:iam::ACCOUNT:role/NAME, without path); write the role form, e.g. arn:aws:iam::ACCOUNT:role/NAME`,
                });
              } else if (ROLE_WITH_PATH_PATTERN.test(pattern)) {
                ctx.addIssue({
                  code: 'custom',
                  path: where,
                  message: `"${pattern}" can never match: a caller's role ARN has no path (STS session ARNs do not carry it), and role names have no "/"; write arn:aws:iam::ACCOUNT:role/NAME`,
                });
              }
            });
          }
        });
        if (isAllow(rule) && rule.certificates) {
          const profileNames = new Set<string>();
          rule.certificates.profiles.forEach((profile, j) => {
            if (profileNames.has(profile.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'certificates', 'profiles', j, 'name'], message: `duplicate profile name "${profile.name}" in this rule` });
            profileNames.add(profile.name);
          });
        }
        if (isAllow(rule) && rule.credentials) {
          if (rule.credentials.via === 'assume-role' && rule.credentials.maxDurationSeconds > STS_LIMITS.maxChainedDurationSeconds) {
            ctx.addIssue({
              code: 'custom',
              path: ['rules', i, 'credentials', 'maxDurationSeconds'],
              message: `at most ${STS_LIMITS.maxChainedDurationSeconds} seconds with via: assume-role (the broker's AssumeRole is role chaining, which STS caps at one hour); longer sessions need via: web-identity`,
            });
          }
          const lower = new Set<string>();
          for (const key of Object.keys(rule.credentials.sessionTags)) {
            if (key.toLowerCase().startsWith('nocreds:') || key.toLowerCase().startsWith('aws:')) {
              ctx.addIssue({ code: 'custom', path: ['rules', i, 'credentials', 'sessionTags', key], message: 'tag keys starting with nocreds: or aws: are reserved' });
            }
            if (lower.has(key.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['rules', i, 'credentials', 'sessionTags', key], message: 'tag keys must differ by more than case' });
            lower.add(key.toLowerCase());
          }
          if (Object.keys(rule.credentials.sessionTags).length > STS_LIMITS.maxTags - RESERVED_TAG_COUNT) {
            ctx.addIssue({ code: 'custom', path: ['rules', i, 'credentials', 'sessionTags'], message: `at most ${STS_LIMITS.maxTags - RESERVED_TAG_COUNT} session tags (STS allows ${STS_LIMITS.maxTags}, the broker adds ${RESERVED_TAG_COUNT})` });
          }
        }
      });
    }),
  );

/** An `iam:` caller pattern written as an STS session ARN: callers are normalised to role ARNs, so it never matches. */
const ASSUMED_ROLE_PATTERN = /^arn:[^:]*:sts:|:assumed-role\//;
/** A role caller pattern with a `/` after `role/`: a path, or a `*` meant to span one. */
const ROLE_WITH_PATH_PATTERN = /:role\/.*\//;

/** Tags the broker adds to every session (caller and lease id). */
export const RESERVED_TAG_COUNT = 2;

export type GrantPolicy = z.infer<typeof grantPolicySchema>;
export type IssuerConfig = GrantPolicy['issuers'][number];
export type GrantRule = GrantPolicy['rules'][number];
export type AllowRule = Extract<GrantRule, { effect: 'allow' }>;
export type CallerMatcher = z.infer<typeof callerSchema>;

/** The allow rules whose credentials are vended in issuer mode (`via: web-identity`): they need the broker's issuer. */
export function webIdentityRuleIds(policy: GrantPolicy): string[] {
  return policy.rules.filter((rule) => isAllow(rule) && rule.credentials?.via === 'web-identity').map((rule) => rule.id);
}

/**
 * The longest session any rule can vend (3600 s when every rule uses AssumeRole): how long a
 * revocation cut-off (a deny on aws:TokenIssueTime) must stay on a role to outlive every session.
 */
export function longestSessionSeconds(policy: GrantPolicy): number {
  return Math.max(STS_LIMITS.maxChainedDurationSeconds, ...policy.rules.map((rule) => (isAllow(rule) && rule.credentials ? rule.credentials.maxDurationSeconds : 0)));
}

/**
 * An allow rule. Every reader of `credentials.sessionTags`, `certificates.profiles[].name` or
 * `admin` asks this one guard, so a deny rule's different fields are never read as an allow
 * rule's.
 */
export function isAllow(rule: GrantRule): rule is AllowRule {
  return rule.effect === 'allow';
}

export function formatZodPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

/**
 * Validates an already-parsed grant policy (e.g. the JSON the CDK construct bundles with each
 * function). Errors name the path of every problem; `parseGrantPolicy` adds line numbers.
 * The functions use this one so that their bundles do not carry a YAML parser.
 */
export function validateGrantPolicy(value: unknown, source = 'grant policy'): GrantPolicy {
  const parsed = grantPolicySchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(mostSpecificIssue).map((issue) => `${source} ${formatZodPath(issue.path) || '(root)'}: ${issue.message}`);
    throw new ConfigurationError('invalid_grant_policy', `The grant policy is invalid:\n${problems.join('\n')}`);
  }
  return parsed.data;
}


// ---------------------------------------------------------------------------------------------
// Evaluation

const patterns = (p: string | string[]): string[] => (Array.isArray(p) ? p : [p]);

/**
 * A role pattern with `${name}` substitution: the template's own `*` and `?` are wildcards,
 * substituted values are literal (a claim cannot widen a pattern) and cannot change the ARN's
 * structure (template.ts). Role ARNs compare case-insensitively, as IAM role names do.
 */
export function roleTemplateMatches(template: string, attributes: Attributes, roleArn: string): boolean {
  return matchGlob(renderRolePattern(template, attributes), roleArn);
}

/**
 * The deny rule's role templates that name this role for this caller. An attribute the caller
 * lacks stands for any value (a deny is never dodged by leaving a claim out): `missing` lists, once
 * each, the attributes the matching template needed and the caller does not have.
 */
export function denyTemplateMatch(templates: readonly string[], attributes: Attributes, roleArn: string): { template: string; missing: string[] } | undefined {
  for (const template of templates) {
    if (matchGlob(renderRolePattern(template, attributes, true), roleArn)) {
      return { template, missing: [...new Set(placeholdersIn(template).filter((name) => attributes[name] === undefined))] };
    }
  }
  return undefined;
}

/**
 * The values a `claims:` condition compares for one claim of an OIDC identity: a scalar claim's one
 * value (an attribute), a list claim's elements, none for an absent claim, or `unreadable` for a
 * claim the broker could not read as values (oidc.ts `oidcIdentityFromClaims`).
 */
export function claimValues(identity: OidcIdentity, claim: string): readonly string[] | 'unreadable' {
  if (Object.hasOwn(identity.attributes, claim)) return [identity.attributes[claim] as string];
  if (identity.claimLists && Object.hasOwn(identity.claimLists, claim)) return identity.claimLists[claim] as readonly string[];
  if (identity.unreadableClaims?.includes(claim)) return 'unreadable';
  return [];
}

/**
 * Invariant: a claim condition holds exactly when some value of the claim (a scalar's one value,
 * a list's elements) matches one of its patterns, as text: exactly for an allow rule, ignoring case
 * for a deny rule. A claim the
 * broker cannot read as values (an object, null, a nested or oversized list) holds for a deny
 * rule (fail closed: a deny is never dodged by the shape of a claim) and not for an allow rule.
 * An absent claim never holds. `effect` is that of the rule the condition belongs to.
 */
export function claimConditionHolds(identity: OidcIdentity, claim: string, wanted: string | readonly string[], effect: GrantRule['effect']): boolean {
  const values = claimValues(identity, claim);
  if (values === 'unreadable') return effect === 'deny';
  const list = typeof wanted === 'string' ? [wanted] : wanted;
  // A deny compares ignoring case, so it holds wherever the claim might mean the same thing
  // (`*@contractor.com` also stops `bob@Contractor.COM`); an allow compares exactly.
  // The exact comparison too: case folding can change a string's length (`İ`), and a deny must
  // never hold less than an exact match would.
  const deny = effect === 'deny';
  return values.some((value) => list.some((p) => matchesGlob(p, value) || (deny && matchesGlob(p, value, true))));
}

function callerMatches(matcher: CallerMatcher, identity: Identity, effect: GrantRule['effect']): boolean {
  if ('iam' in matcher) {
    // Principal ARNs name roles and users, whose names IAM compares case-insensitively.
    return identity.kind === 'iam' && patterns(matcher.iam).some((p) => matchesGlob(p, identity.principalArn, true));
  }
  if (identity.kind !== 'oidc' || identity.issuerId !== matcher.oidc) return false;
  // Every claim condition must hold.
  return Object.entries(matcher.claims).every(([claim, wanted]) => claimConditionHolds(identity, claim, wanted, effect));
}

/**
 * The rules whose callers match this identity, in file order. Allow and deny rules alike: each
 * rule's effect decides how a claim the broker cannot read counts (see claimConditionHolds).
 */
export function rulesFor(policy: GrantPolicy, identity: Identity): GrantRule[] {
  return policy.rules.filter((rule) => rule.callers.some((m) => callerMatches(m, identity, rule.effect)));
}

/** What an allow rule grants for one role, with every template rendered for this caller. */
export interface CredentialsGrant {
  readonly ruleId: string;
  readonly roleArn: string;
  readonly maxDurationSeconds: number;
  /** Absent: `assume-role`. */
  readonly via?: CredentialMode;
  readonly sessionPolicy?: PolicyDocument;
  readonly policyArns: readonly string[];
  readonly sessionTags: Readonly<Record<string, string>>;
}

export type CredentialsDecision =
  | { readonly allowed: true; readonly ruleId: string; readonly reason: string; readonly grant: CredentialsGrant }
  | { readonly allowed: false; readonly ruleId?: string; readonly reason: string };

function anyRoleMatches(templates: readonly string[], identity: Identity, roleArn: string): { matched: boolean; missing?: string } {
  let missing: string | undefined;
  for (const template of templates) {
    try {
      if (roleTemplateMatches(template, identity.attributes, roleArn)) return { matched: true };
    } catch (error) {
      if (error instanceof MissingAttributeError) missing = error.attribute;
      else throw error;
    }
  }
  return { matched: false, missing };
}

/**
 * May this identity have credentials for this role? An explicit deny among the caller's rules
 * wins; otherwise the first allow rule (in file order) that grants the role decides; otherwise
 * deny. Reasons name only rules that apply to this caller.
 *
 * Throws ValidationError for a role ARN IAM would not accept (`invalid_role_arn`,
 * `role_name_too_long`, `role_path_too_long`), before any matching, and InvalidClaimError when a
 * template of one of the caller's rules cannot be rendered for its attributes: a deny rule must
 * never be skipped because of what a caller put in a claim, so the request is refused. Nor
 * because of what a caller left out: in a deny rule's role template an attribute the caller lacks
 * stands for any value (`role/${team}-admin` denies a caller without `team` every `role/*-admin`),
 * where an allow rule needing it simply does not apply.
 */
export function evaluateCredentials(policy: GrantPolicy, identity: Identity, roleArn: string): CredentialsDecision {
  parseRoleArn(roleArn);
  const rules = rulesFor(policy, identity);
  for (const rule of rules) {
    if (rule.effect !== 'deny') continue;
    if (deniesEverything(rule)) return { allowed: false, ruleId: rule.id, reason: `denied by rule "${rule.id}"` };
    const hit = rule.credentials === undefined ? undefined : denyTemplateMatch(rule.credentials.roles, identity.attributes, roleArn);
    if (hit) {
      const lacking = hit.missing;
      const named = `attribute${lacking.length > 1 ? 's' : ''} ${lacking.map((a) => `"${a}"`).join(' and ')}`;
      const why = lacking.length > 0 ? ` (its pattern needs ${named}, which your identity lacks, so it applies whatever the value)` : '';
      return { allowed: false, ruleId: rule.id, reason: `denied by rule "${rule.id}"${why}` };
    }
  }
  const missing: string[] = [];
  for (const rule of rules) {
    if (!isAllow(rule) || !rule.credentials) continue;
    const match = anyRoleMatches(rule.credentials.roles, identity, roleArn);
    if (!match.matched) {
      if (match.missing) missing.push(`rule "${rule.id}" needs attribute "${match.missing}"`);
      continue;
    }
    const c = rule.credentials;
    try {
      const grant: CredentialsGrant = {
        ruleId: rule.id,
        roleArn,
        maxDurationSeconds: c.maxDurationSeconds,
        ...(c.via === 'web-identity' ? { via: c.via } : {}),
        // renderPolicyJson returns undefined for undefined: a rule without a session policy has none.
        sessionPolicy: renderPolicyJson(c.sessionPolicy, identity.attributes) as PolicyDocument | undefined,
        policyArns: c.policyArns,
        sessionTags: Object.fromEntries(Object.entries(c.sessionTags).map(([k, v]) => [k, renderTagValue(v, identity.attributes)])),
      };
      return { allowed: true, ruleId: rule.id, reason: `allowed by rule "${rule.id}"`, grant };
    } catch (error) {
      if (!(error instanceof MissingAttributeError)) throw error;
      missing.push(`rule "${rule.id}" needs attribute "${error.attribute}"`);
    }
  }
  if (rules.length === 0) return { allowed: false, reason: `no grant rule applies to caller ${identity.caller}` };
  const why = missing.length > 0 ? `; ${missing.join('; ')}` : '';
  return {
    allowed: false,
    reason: `no rule that applies to caller ${identity.caller} grants role ${roleArn} (applicable rules: ${rules.map((r) => r.id).join(', ')})${why}`,
  };
}

/** A deny rule that names neither credentials nor certificates denies its callers everything. */
function deniesEverything(rule: GrantRule): boolean {
  return rule.effect === 'deny' && rule.credentials === undefined && rule.certificates === undefined;
}

export type CertificateDecision =
  | { readonly allowed: true; readonly ruleId: string; readonly reason: string; readonly profile: CompiledProfile }
  | {
      readonly allowed: false;
      /** `grant_denied`: not granted or denied; `unknown_profile`: no rule defines it; `profile_required`: several granted, none named. */
      readonly code: 'grant_denied' | 'unknown_profile' | 'profile_required';
      readonly ruleId?: string;
      readonly reason: string;
      /** The profile names this caller may use, to help it ask again. */
      readonly granted: readonly string[];
    };

function certificateDenyRule(rules: readonly GrantRule[], profileName: string): GrantRule | undefined {
  return rules.find(
    (rule) => !isAllow(rule) && (deniesEverything(rule) || (rule.certificates?.profiles.some((p) => matchesGlob(p, profileName)) ?? false)),
  );
}

/** Profile names granted to this caller by allow rules and not withheld by a deny rule, in file order. */
export function grantedProfileNames(policy: GrantPolicy, identity: Identity): string[] {
  const rules = rulesFor(policy, identity);
  const names = rules.flatMap((rule) => (isAllow(rule) && rule.certificates ? rule.certificates.profiles.map((p) => p.name) : []));
  return [...new Set(names)].filter((name) => certificateDenyRule(rules, name) === undefined);
}

/**
 * May this identity have a certificate from this profile? Same rules as credentials: an explicit
 * deny among the caller's rules wins; otherwise the first allow rule (file order) that defines the
 * profile, rendered for this caller, decides; otherwise deny. Without a profile name, the caller's
 * only granted profile is used (several: `profile_required`).
 */
export function evaluateCertificate(policy: GrantPolicy, identity: Identity, profileName: string | undefined): CertificateDecision {
  const rules = rulesFor(policy, identity);
  const granted = grantedProfileNames(policy, identity);
  if (profileName === undefined) {
    if (granted.length === 1) return evaluateCertificate(policy, identity, granted[0]);
    if (granted.length === 0) return { allowed: false, code: 'grant_denied', reason: `no rule grants caller ${identity.caller} any certificate profile`, granted };
    return { allowed: false, code: 'profile_required', reason: `several profiles are granted to you (${granted.join(', ')}); name one in "profile"`, granted };
  }
  const defined = policy.rules.some((rule) => isAllow(rule) && rule.certificates?.profiles.some((p) => p.name === profileName));
  if (!defined) return { allowed: false, code: 'unknown_profile', reason: `no certificate profile is named "${profileName}"`, granted };
  const deny = certificateDenyRule(rules, profileName);
  if (deny) return { allowed: false, code: 'grant_denied', ruleId: deny.id, reason: `denied by rule "${deny.id}"`, granted };
  const missing: string[] = [];
  for (const rule of rules) {
    if (!isAllow(rule) || !rule.certificates) continue;
    const profile = rule.certificates.profiles.find((p) => p.name === profileName);
    if (!profile) continue;
    try {
      return { allowed: true, ruleId: rule.id, reason: `allowed by rule "${rule.id}"`, profile: compileProfile(profile, identity.attributes) };
    } catch (error) {
      if (!(error instanceof MissingAttributeError)) throw error;
      missing.push(`rule "${rule.id}" needs attribute "${error.attribute}"`);
    }
  }
  const why = missing.length > 0 ? `; ${missing.join('; ')}` : '';
  if (rules.length === 0) return { allowed: false, code: 'grant_denied', reason: `no grant rule applies to caller ${identity.caller}`, granted };
  return {
    allowed: false,
    code: 'grant_denied',
    reason: `no rule that applies to caller ${identity.caller} grants profile "${profileName}" (applicable rules: ${rules.map((r) => r.id).join(', ')})${why}`,
    granted,
  };
}

/** What `GET /v1/whoami` shows: the rules that apply to this caller, rendered for it. */
export interface RuleSummary {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly description?: string;
  readonly roles?: readonly string[];
  readonly maxDurationSeconds?: number;
  /** Certificate profiles the rule grants (allow) or withholds (deny). */
  readonly profiles?: readonly string[];
  readonly admin?: boolean;
}

export function explainRules(policy: GrantPolicy, identity: Identity): RuleSummary[] {
  return rulesFor(policy, identity).map((rule) => {
    const roles = rule.credentials?.roles.map((t) => {
      try {
        return renderRoleText(t, identity.attributes);
      } catch (error) {
        if (error instanceof MissingAttributeError) return `${t} (needs attribute "${error.attribute}")`;
        if (error instanceof InvalidClaimError) return `${t} (attribute "${error.claim}" cannot be used: ${error.reason})`;
        throw error;
      }
    });
    return {
      id: rule.id,
      effect: rule.effect,
      ...(rule.description ? { description: rule.description } : {}),
      ...(roles ? { roles } : {}),
      ...(isAllow(rule) && rule.credentials ? { maxDurationSeconds: rule.credentials.maxDurationSeconds } : {}),
      // An allow rule's profiles by name; a deny rule's name patterns as written.
      ...(rule.certificates ? { profiles: rule.certificates.profiles.map((p) => (typeof p === 'string' ? p : p.name)) } : {}),
      ...(isAllow(rule) && rule.admin ? { admin: true } : {}),
    };
  });
}

export function isAdmin(policy: GrantPolicy, identity: Identity): boolean {
  const rules = rulesFor(policy, identity);
  if (rules.some(deniesEverything)) return false;
  return rules.some((r) => isAllow(r) && r.admin);
}

