import { matchesGlob } from './glob';
import { claimConditionHolds, claimValues, denyTemplateMatch, roleTemplateMatches, rulesFor, type CallerMatcher, type GrantPolicy, type GrantRule } from './grant-policy';
import type { Identity } from './identity';
import { InvalidClaimError, MissingAttributeError, renderRoleText } from './template';

/**
 * Why each rule of a grant policy did or did not take part in a decision, for dry runs and
 * `nocreds grants explain`. Explanatory only: the decision itself always comes from
 * evaluateCredentials / evaluateCertificate (grant-policy.ts), and which rules apply to a caller
 * from `rulesFor`, so a trace can word things differently but never decide differently.
 * Tests check that the trace's deciding rule is the decision's rule.
 */

export type RuleOutcome =
  /** The rule's callers do not include this identity. */
  | 'caller_not_matched'
  /** A deny rule that stops this request. */
  | 'denies'
  /** An allow rule that grants this request (only the first in file order decides). */
  | 'grants'
  /** The rule applies to the caller but says nothing about what was asked. */
  | 'not_applicable'
  /** The rule applies to the caller but none of its role patterns or profiles names the target. */
  | 'target_not_matched'
  /** A template of the rule reads an attribute the identity does not have. */
  | 'needs_attribute'
  /** A template of the rule reads a claim that cannot be used (the real request answers 403 invalid_claim). */
  | 'invalid_claim';

export interface RuleTrace {
  readonly rule: string;
  readonly effect: 'allow' | 'deny';
  readonly outcome: RuleOutcome;
  /** A sentence a person can act on. */
  readonly detail: string;
  /** The rule that made the decision. */
  readonly decisive?: true;
}

export type TraceTarget = { readonly kind: 'credentials'; readonly roleArn: string } | { readonly kind: 'certificate'; readonly profile: string };

/** The real evaluation's result, as evaluateCredentials / evaluateCertificate gave it. */
export interface DecisionSummary {
  readonly allowed: boolean;
  readonly ruleId?: string;
}

/** One entry per rule of the policy, in file order. */
export function traceRules(policy: GrantPolicy, identity: Identity, target: TraceTarget, decision: DecisionSummary): RuleTrace[] {
  const applying = new Set(rulesFor(policy, identity));
  const decisiveIndex = policy.rules.findIndex((rule) => rule.id === decision.ruleId);
  return policy.rules.map((rule, index) => {
    let entry = applying.has(rule) ? traceApplyingRule(rule, identity, target) : { outcome: 'caller_not_matched' as RuleOutcome, detail: whyCallerDiffers(rule, identity) };
    const unreadable = applying.has(rule) && rule.effect === 'deny' ? unreadableConditions(rule, identity) : [];
    if (unreadable.length > 0) {
      const named = unreadable.map((c) => `"${c}"`).join(', ');
      entry = { ...entry, detail: `${entry.detail} (applies to this caller because claim ${named} cannot be read as values, and a deny rule's condition on such a claim holds)` };
    }
    // An allow rule that names the target but was passed over before the deciding rule (or with no
    // rule granting) could not be rendered for this caller: its session policy, tags or profile
    // read an attribute the identity lacks (the evaluation moves on to the next rule).
    const passedOver = decision.allowed ? index < decisiveIndex : decision.ruleId === undefined;
    if (entry.outcome === 'grants' && rule.effect === 'allow' && passedOver) {
      entry = { outcome: 'needs_attribute', detail: `${entry.detail}, but its ${target.kind === 'credentials' ? 'session policy or tags need' : 'profile needs'} an attribute this caller does not have` };
    }
    if (entry.outcome === 'grants' && !decision.allowed && decision.ruleId !== undefined) {
      entry = { ...entry, detail: `${entry.detail}, but deny rule "${decision.ruleId}" wins` };
    } else if (entry.outcome === 'grants' && decision.allowed && index > decisiveIndex) {
      entry = { ...entry, detail: `${entry.detail}, but an earlier rule decides (first match in file order)` };
    }
    return { rule: rule.id, effect: rule.effect, ...entry, ...(rule.id === decision.ruleId ? { decisive: true as const } : {}) };
  });
}

function traceApplyingRule(rule: GrantRule, identity: Identity, target: TraceTarget): { outcome: RuleOutcome; detail: string } {
  const denyAll = rule.effect === 'deny' && rule.credentials === undefined && rule.certificates === undefined;
  if (denyAll) return { outcome: 'denies', detail: 'denies this caller everything (a deny rule without credentials or certificates)' };
  if (target.kind === 'certificate') {
    if (!rule.certificates) return { outcome: 'not_applicable', detail: 'says nothing about certificates' };
    if (rule.effect === 'deny') {
      const hit = rule.certificates.profiles.find((p) => matchesGlob(p, target.profile));
      return hit ? { outcome: 'denies', detail: `withholds profile "${target.profile}" (pattern "${hit}")` } : { outcome: 'target_not_matched', detail: `withholds other profiles (${rule.certificates.profiles.join(', ')})` };
    }
    const names = rule.certificates.profiles.map((p) => p.name);
    return names.includes(target.profile)
      ? { outcome: 'grants', detail: `defines profile "${target.profile}"` }
      : { outcome: 'target_not_matched', detail: `defines other profiles (${names.join(', ')})` };
  }
  if (!rule.credentials) return { outcome: 'not_applicable', detail: 'says nothing about credentials' };
  if (rule.effect === 'deny') {
    // As evaluateCredentials: an attribute the caller lacks stands for any value in a deny pattern.
    try {
      const hit = denyTemplateMatch(rule.credentials.roles, identity.attributes, target.roleArn);
      if (hit) {
        const shown = renderRoleText(hit.template, identity.attributes, true);
        const lacking = hit.missing.length > 0 ? ` (this caller lacks attribute ${hit.missing.map((a) => `"${a}"`).join(', ')}, which a deny pattern reads as any value)` : '';
        return { outcome: 'denies', detail: `denies the role by pattern "${shown}"${lacking}` };
      }
    } catch (error) {
      // The loop below names the template the claim cannot stand in.
      if (!(error instanceof InvalidClaimError)) throw error;
    }
  }
  const rendered: string[] = [];
  const missing: string[] = [];
  for (const template of rule.credentials.roles) {
    try {
      if (roleTemplateMatches(template, identity.attributes, target.roleArn)) {
        return rule.effect === 'deny'
          ? { outcome: 'denies', detail: `denies the role by pattern "${renderRoleText(template, identity.attributes)}"` }
          : { outcome: 'grants', detail: `grants the role by pattern "${renderRoleText(template, identity.attributes)}"` };
      }
      rendered.push(renderRoleText(template, identity.attributes));
    } catch (error) {
      if (error instanceof MissingAttributeError) {
        missing.push(error.attribute);
        rendered.push(`${template} (needs attribute "${error.attribute}")`);
      } else if (error instanceof InvalidClaimError) {
        return { outcome: 'invalid_claim', detail: `attribute "${error.claim}" cannot be used in "${template}": ${error.reason}` };
      } else {
        throw error;
      }
    }
  }
  if (missing.length === rule.credentials.roles.length) {
    return { outcome: 'needs_attribute', detail: `its role patterns need ${[...new Set(missing)].map((a) => `attribute "${a}"`).join(' and ')}, which this caller does not have` };
  }
  return { outcome: 'target_not_matched', detail: `its role patterns do not name ${target.roleArn}: ${rendered.join(', ')}` };
}

/** The claims a deny rule's conditions compare that this caller has in a shape the broker cannot read. */
function unreadableConditions(rule: GrantRule, identity: Identity): string[] {
  if (identity.kind !== 'oidc' || !identity.unreadableClaims) return [];
  const names = rule.callers.flatMap((m) => ('oidc' in m && m.oidc === identity.issuerId ? Object.keys(m.claims) : []));
  return [...new Set(names)].filter((name) => claimValues(identity, name) === 'unreadable');
}

function whyCallerDiffers(rule: GrantRule, identity: Identity): string {
  const reasons = rule.callers.map((matcher) => callerMismatch(matcher, identity, rule.effect));
  return reasons.length === 1 ? (reasons[0] as string) : `no caller entry matches: ${reasons.join('; ')}`;
}

function callerMismatch(matcher: CallerMatcher, identity: Identity, effect: GrantRule['effect']): string {
  const list = (p: string | readonly string[]) => (typeof p === 'string' ? [p] : [...p]);
  if ('iam' in matcher) {
    if (identity.kind !== 'iam') return 'for IAM callers';
    return `principal ${identity.principalArn} is not ${list(matcher.iam).join(' or ')}`;
  }
  if (identity.kind !== 'oidc') return `for tokens from issuer "${matcher.oidc}"`;
  if (identity.issuerId !== matcher.oidc) return `for tokens from issuer "${matcher.oidc}", not "${identity.issuerId}"`;
  // As claimConditionHolds (grant-policy.ts), which decides: this only words the first condition that fails.
  for (const [claim, wanted] of Object.entries(matcher.claims)) {
    if (claimConditionHolds(identity, claim, wanted, effect)) continue;
    const values = claimValues(identity, claim);
    const patterns = list(wanted).join(' or ');
    if (values === 'unreadable') return `claim "${claim}" is not a value or a list of values the broker can read (an object, null, or a nested or oversized list), so an allow rule's condition on it does not hold (wanted ${patterns})`;
    if (Object.hasOwn(identity.attributes, claim)) return `claim "${claim}" is "${values[0] ?? ''}", not ${patterns}`;
    if (identity.claimLists && Object.hasOwn(identity.claimLists, claim)) {
      if (values.length === 0) return `claim "${claim}" is an empty list (wanted ${patterns})`;
      const shown = values.slice(0, MAX_SHOWN).map((v) => `"${v}"`).join(', ');
      const more = values.length > MAX_SHOWN ? ` and ${values.length - MAX_SHOWN} more` : '';
      return `claim "${claim}" is the list [${shown}${more}], none of which is ${patterns}`;
    }
    return `claim "${claim}" is missing (wanted ${patterns})`;
  }
  return 'caller entry does not match';
}

/** List values a mismatch message shows before "and N more". */
const MAX_SHOWN = 10;
