import * as z from 'zod/mini';
import './schema-locale';
import { ValidationError } from './errors';
import { globContains } from './glob';
import { mostSpecificIssue } from './schema-issue';
import { assertSafeJson } from './json-input';

/**
 * Session policies: the shape STS accepts, and narrowing (`narrowSessionPolicies`, below): what a
 * caller sends can only narrow what its grant allows (docs/narrowing.md).
 */
const stringOrList = z.union([z.string().check(z.minLength(1)), z.array(z.string().check(z.minLength(1))).check(z.minLength(1))]);

export const policyStatementSchema = z
  .strictObject({
    Sid: z.optional(z.string().check(z.regex(/^[A-Za-z0-9]*$/, 'Sid must be alphanumeric'))),
    Effect: z.enum(['Allow', 'Deny']),
    Action: z.optional(stringOrList),
    NotAction: z.optional(stringOrList),
    Resource: z.optional(stringOrList),
    NotResource: z.optional(stringOrList),
    Condition: z.optional(z.record(z.string(), z.record(z.string(), z.union([z.string(), z.boolean(), z.number(), z.array(z.union([z.string(), z.boolean(), z.number()]))])))),
  })
  .check(
    z.refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), { message: 'a statement needs exactly one of Action or NotAction' }),
    z.refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), { message: 'a statement needs exactly one of Resource or NotResource' }),
  );

export const policyDocumentSchema = z.strictObject({
  Version: z.optional(z.enum(['2012-10-17', '2008-10-17'])),
  Id: z.optional(z.string()),
  Statement: z.union([policyStatementSchema, z.array(policyStatementSchema).check(z.minLength(1))]),
});

export type PolicyStatement = z.infer<typeof policyStatementSchema>;
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

export function statementsOf(doc: PolicyDocument): PolicyStatement[] {
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Parses a caller-supplied session policy (an object or a JSON string) into a typed document. */
export function parseSessionPolicy(input: unknown): PolicyDocument {
  assertSafeJson(input, 'The session policy');
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new ValidationError('invalid_session_policy', 'The session policy is not valid JSON.');
    }
  }
  const parsed = policyDocumentSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] && mostSpecificIssue(parsed.error.issues[0]);
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ValidationError('invalid_session_policy', `The session policy is not a valid IAM policy document${where}: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

/**
 * Narrowing: the caller can only narrow (docs/narrowing.md states the rule and its proof).
 *
 * STS gives a session role ∩ (inline session policy ∪ managed session policies), less every Deny
 * in any of them. A grant therefore allows G = role ∩ (Allows of its inline policy ∪ its managed
 * policies) − Denies of its inline policy. What the broker sends is built so that it is provably
 * inside G:
 *   - the caller picks its Allow sources: its own inline Allow statements (each covered by one
 *     Allow statement of the grant's inline policy) and/or a subset of the grant's managed ARNs;
 *     what it does not pick is left out, never added back next to a narrowed part (a union only
 *     widens);
 *   - a caller that sends only Deny statements keeps the grant's Allow sources;
 *   - Deny statements (the grant's and the caller's) are always sent;
 *   - an inline Allow against a grant with no inline Allow to cover it cannot be proven narrower
 *     (the broker does not read managed policy documents): `policy_not_narrowable`.
 * Every session policy is interpreted, and sent, as Version 2012-10-17: the grant's templates
 * escape claims for that grammar, and the coverage checks below assume it.
 */
export const POLICY_VERSION = '2012-10-17';

/** What a grant allows in a session: its inline session policy and its managed policy ARNs. */
export interface GrantedSessionPolicies {
  readonly sessionPolicy?: PolicyDocument;
  readonly policyArns: readonly string[];
}

/** What the caller asked for; `policyArns: []` is an explicit choice (no managed policies). */
export interface RequestedSessionPolicies {
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
}

/** What STS will receive. */
export interface SessionPolicies {
  readonly policy?: PolicyDocument;
  readonly policyArns: readonly string[];
}

/** The Allow that stands for "whatever the role allows" when a caller only subtracts from a grant that sends no policy. */
const ROLE_BOUNDS: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };

export function narrowSessionPolicies(grant: GrantedSessionPolicies, requested: RequestedSessionPolicies): SessionPolicies {
  if (requested.policy === undefined && requested.policyArns === undefined) {
    return { policy: grant.sessionPolicy === undefined ? undefined : document(statementsOf(grant.sessionPolicy)), policyArns: grant.policyArns };
  }
  const grantArns = new Set(grant.policyArns);
  for (const arn of requested.policyArns ?? []) {
    if (!grantArns.has(arn)) {
      throw new ValidationError('policy_arn_not_granted', `The managed policy ${arn} is not among those your grant allows; a session can only be narrowed.`);
    }
  }
  const requestedStatements = requested.policy === undefined ? [] : statementsOf(requested.policy);
  const callerAllows = requestedStatements.filter((s) => s.Effect === 'Allow');
  const callerDenies = requestedStatements.filter((s) => s.Effect !== 'Allow');
  if (callerAllows.length === 0 && requested.policyArns?.length === 0) {
    throw new ValidationError('empty_session', 'An empty list of policy ARNs with no Allow statement of your own would leave the session with no permissions.');
  }
  const policyArns = requested.policyArns === undefined ? (callerAllows.length > 0 ? [] : grant.policyArns) : [...new Set(requested.policyArns)];

  if (grant.sessionPolicy === undefined && grant.policyArns.length === 0) {
    // No session policy in the grant: the role alone bounds the session, and any session policy is narrower.
    const allows = callerAllows.length > 0 ? callerAllows : [ROLE_BOUNDS];
    return { policy: document([...allows, ...callerDenies]), policyArns };
  }

  const grantStatements = grant.sessionPolicy === undefined ? [] : statementsOf(grant.sessionPolicy);
  const grantAllows = grantStatements.filter((s) => s.Effect === 'Allow');
  const grantDenies = grantStatements.filter((s) => s.Effect !== 'Allow');
  requestedStatements.forEach((statement, index) => {
    if (statement.Effect !== 'Allow') return;
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
      throw new ValidationError(
        'session_policy_widens_grant',
        `Statement ${index} of the session policy uses NotAction or NotResource in an Allow, which could widen the grant; list actions and resources explicitly.`,
        { details: { statement: index } },
      );
    }
    if (grantAllows.length === 0) {
      throw new ValidationError(
        'policy_not_narrowable',
        `Statement ${index} of the session policy is an Allow, but your grant's session policy has no Allow statement to compare it with (the grant allows through managed policies, which an inline Allow cannot be proven to narrow); narrow with policyArns or Deny statements instead.`,
        { details: { statement: index } },
      );
    }
    if (!grantAllows.some((g) => covers(g, statement))) {
      throw new ValidationError(
        'session_policy_widens_grant',
        `Statement ${index} of the session policy allows actions or resources that the grant's session policy does not; a session policy can only narrow the grant.`,
        { details: { statement: index } },
      );
    }
  });
  const inlineAllows = callerAllows.length > 0 ? callerAllows : requested.policyArns === undefined ? grantAllows : [];
  const statements = [...inlineAllows, ...callerDenies, ...grantDenies];
  return { policy: statements.length === 0 ? undefined : document(statements), policyArns };
}

function document(statements: PolicyStatement[]): PolicyDocument {
  return { Version: POLICY_VERSION, Statement: statements };
}

/** Could IAM read two of these names as one? (Condition operators and keys are case-insensitive.) */
function hasCaseVariants(names: string[]): boolean {
  return new Set(names.map((n) => n.toLowerCase())).size !== names.length;
}

function conditionsCovered(grant: PolicyStatement['Condition'], requested: PolicyStatement['Condition']): boolean {
  const theirs = requested ?? {};
  if (hasCaseVariants(Object.keys(theirs)) || Object.values(theirs).some((entries) => hasCaseVariants(Object.keys(entries)))) return false;
  // Every condition the grant imposes must be imposed by the request too, identically; the
  // request may add more (conditions are AND-ed).
  for (const [operator, entries] of Object.entries(grant ?? {})) {
    const requestedEntries = Object.hasOwn(theirs, operator) ? theirs[operator] : undefined;
    for (const [key, value] of Object.entries(entries)) {
      const requestedValue = requestedEntries !== undefined && Object.hasOwn(requestedEntries, key) ? requestedEntries[key] : undefined;
      if (requestedValue === undefined || JSON.stringify(requestedValue) !== JSON.stringify(value)) return false;
    }
  }
  return true;
}

/**
 * IAM spells a literal `*`, `?` and `$` as `${*}`, `${?}`, `${$}` (grants render claims that way):
 * each is one literal character. Any other `${...}` is a policy variable, replaced at evaluation
 * by a value of any length. Before comparing resource patterns, each escape and each distinct
 * variable becomes one private-use character, so no wildcard inside an escape absorbs anything,
 * and a variable in the caller's pattern is covered only by a `*` or by the same variable in the
 * grant. A pattern that itself holds a character of that private-use range is never covered (it
 * could pose as an escape or a variable).
 */
const LITERAL_ESCAPES = new Map([
  ['${*}', '\uE000'],
  ['${?}', '\uE001'],
  ['${$}', '\uE002'],
]);
const RESERVED = /[\uE000-\uF8FF]/;
const FIRST_VARIABLE = 0xe100;
const LAST_VARIABLE = 0xf8ff;
const isVariable = (ch: string) => ch.charCodeAt(0) >= FIRST_VARIABLE && ch.charCodeAt(0) <= LAST_VARIABLE;
const HAS_VARIABLE = /[\uE100-\uF8FF]/;
const POLICY_TOKEN = /\$\{[^}]*\}/g;

function encode(pattern: string, variables: Map<string, string>): string | undefined {
  if (RESERVED.test(pattern)) return undefined;
  let overflow = false;
  const encoded = pattern.replace(POLICY_TOKEN, (token) => {
    const escape = LITERAL_ESCAPES.get(token);
    if (escape !== undefined) return escape;
    let code = variables.get(token);
    if (code === undefined) {
      if (FIRST_VARIABLE + variables.size > LAST_VARIABLE) overflow = true;
      code = String.fromCharCode(FIRST_VARIABLE + variables.size);
      variables.set(token, code);
    }
    return code;
  });
  return overflow ? undefined : encoded;
}

/** An ARN pattern's first five segments (arn, partition, service, region, account) and its resource part. */
function splitArn(pattern: string): { head: string[]; resource: string } | undefined {
  const parts = pattern.split(':');
  if (parts.length < 6) return undefined;
  return { head: parts.slice(0, 5), resource: parts.slice(5).join(':') };
}

/** The resource type at the start of an ARN's resource part (`user/`, `table/`); S3 ARNs have none. */
function resourceTypeOf(arn: { head: string[]; resource: string }): string {
  const [, , service, region, account] = arn.head;
  if (service === 's3' && region === '' && account === '') return '';
  const end = arn.resource.search(/[/:]/);
  return end === -1 ? '' : arn.resource.slice(0, end + 1);
}

/**
 * `grant` matches every resource `requested` can match, whatever its policy variables turn out
 * to be. ARN wildcards work within a segment, IAM takes no wildcard in the service segment or in
 * a resource type, and a variable's value may hold a colon: so segments are compared one by one,
 * and where IAM's reading is unclear only the identical text counts as covered.
 */
function resourceCovers(grant: string, requested: string): boolean {
  if (grant === '*') return true;
  const variables = new Map<string, string>();
  const g = encode(grant, variables);
  const r = encode(requested, variables);
  if (g === undefined || r === undefined) return false;
  if (g === r) return true;
  const grantArn = splitArn(g);
  const requestedArn = splitArn(r);
  if (grantArn === undefined || requestedArn === undefined) return false;
  for (let i = 0; i < grantArn.head.length; i++) {
    const grantSegment = grantArn.head[i] as string;
    const requestedSegment = requestedArn.head[i] as string;
    if (i === 2 || HAS_VARIABLE.test(requestedSegment)) {
      if (grantSegment !== requestedSegment) return false;
    } else if (!globContains(grantSegment, requestedSegment, false, isVariable)) {
      return false;
    }
  }
  const resourceType = resourceTypeOf(grantArn);
  if (/[*?\uE100-\uF8FF]/.test(resourceType) && !requestedArn.resource.startsWith(resourceType)) return false;
  return globContains(grantArn.resource, requestedArn.resource, false, isVariable);
}

/** `grant` matches every action `requested` can match. Actions take no policy variables; IAM compares them case-insensitively. */
function actionCovers(grant: string, requested: string): boolean {
  if (grant === '*') return true;
  const g = grant.toLowerCase();
  const r = requested.toLowerCase();
  if (g === r) return true;
  const grantColon = g.indexOf(':');
  const requestedColon = r.indexOf(':');
  // No wildcard in a service prefix: the prefixes must be the same text.
  if (grantColon < 0 || requestedColon < 0 || g.slice(0, grantColon) !== r.slice(0, requestedColon)) return false;
  return globContains(g.slice(grantColon + 1), r.slice(requestedColon + 1));
}

/**
 * Could the excluded NotResource `pattern` (a whole ARN: escapes, no policy variables) match the
 * single resource `value`? Over-approximated: case is ignored.
 */
function resourceMayMatch(pattern: string, value: string): boolean {
  if (RESERVED.test(value)) return true;
  // `${$}` is a literal `$`; `${*}` and `${?}` are a literal `*` or `?`, which a single value (not open) cannot hold.
  const widened = pattern.replace(POLICY_TOKEN, (token) => (token === '${$}' ? '$' : '\uE000'));
  return globContains(widened, value, true);
}

/** Fewer than six colon-separated segments: not a whole ARN (`*`, `arn:aws:sqs:*`). */
function isShortArn(pattern: string): boolean {
  return pattern.split(':').length < 6;
}

function hasPolicyVariable(pattern: string): boolean {
  return [...pattern.matchAll(POLICY_TOKEN)].some(([token]) => !LITERAL_ESCAPES.has(token));
}

/** Could `value` stand for more than one string once IAM evaluates it (a wildcard or a policy variable)? */
function isOpen(value: string): boolean {
  return /[*?]|\$\{/.test(value);
}

function actionsCovered(grant: PolicyStatement, requested: string[]): boolean {
  if (grant.Action !== undefined) {
    const allowed = list(grant.Action);
    return requested.every((a) => allowed.some((g) => actionCovers(g, a)));
  }
  // Grant allows everything but NotAction: a requested action is covered only if it names no
  // wildcard that could reach an excluded action.
  const excluded = list(grant.NotAction);
  return requested.every((a) => !isOpen(a) && !excluded.some((n) => globContains(n, a, true)));
}

function resourcesCovered(grant: PolicyStatement, requested: string[]): boolean {
  if (grant.Resource !== undefined) {
    const allowed = list(grant.Resource);
    return requested.every((r) => allowed.some((g) => resourceCovers(g, r)));
  }
  const excluded = list(grant.NotResource);
  // A variable missing from the request leaves a NotResource unevaluable, and the statement then
  // allows nothing: such a statement covers nothing.
  if (excluded.some(hasPolicyVariable)) return false;
  // How IAM reads an exclusion that is not a whole ARN is not documented: the IAM simulator the
  // narrowing property uses reads `arn:aws:sqs:*` as excluding every resource (found by
  // `npm run fuzz:policy`), so such a statement may allow nothing, and covers nothing here.
  if (excluded.some(isShortArn)) return false;
  return requested.every((r) => !isOpen(r) && !excluded.some((n) => resourceMayMatch(n, r)));
}

/**
 * Does the grant's Allow statement `grant` allow everything the caller's Allow statement
 * `requested` (Action and Resource, never NotAction or NotResource) allows?
 */
function covers(grant: PolicyStatement, requested: PolicyStatement): boolean {
  return (
    actionsCovered(grant, list(requested.Action)) &&
    resourcesCovered(grant, list(requested.Resource)) &&
    conditionsCovered(grant.Condition, requested.Condition)
  );
}
