import * as z from 'zod/mini';
import './schema-locale';
import { ValidationError } from './errors';
import { globContains } from './glob';
import { mostSpecificIssue } from './schema-issue';
import { assertSafeJson } from './json-input';

/**
 * Session policies: the shape STS accepts, and narrowing. A caller may send its own session
 * policy, but it can only narrow what its grant allows: every Allow statement it sends must be
 * covered by an Allow statement of the grant's policy, and the grant's Deny statements are
 * always kept.
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

function conditionsCovered(grant: PolicyStatement['Condition'], requested: PolicyStatement['Condition']): boolean {
  // Every condition the grant imposes must be imposed by the request too, identically.
  for (const [operator, entries] of Object.entries(grant ?? {})) {
    for (const [key, value] of Object.entries(entries)) {
      const theirs = requested?.[operator]?.[key];
      if (theirs === undefined || JSON.stringify(theirs) !== JSON.stringify(value)) return false;
    }
  }
  return true;
}

/**
 * IAM spells a literal `*`, `?` and `$` as `${*}`, `${?}`, `${$}` (grants render claims that way):
 * each is one literal character. Any other `${...}` is a policy variable, replaced at evaluation
 * by a value of any length. Before comparing patterns, each escape and each distinct variable
 * becomes one private-use character, so no wildcard inside an escape absorbs anything, and a
 * variable in the caller's pattern is covered only by a `*` or by the same variable in the grant.
 */
const LITERAL_ESCAPES: Readonly<Record<string, string>> = { '${*}': '\uE000', '${?}': '\uE001', '${$}': '\uE002' };
const FIRST_VARIABLE = 0xe100;
const isVariable = (ch: string) => ch.charCodeAt(0) >= FIRST_VARIABLE && ch.charCodeAt(0) <= 0xf8ff;

function encode(pattern: string, variables: Map<string, string>): string {
  return pattern.replace(/\$\{[^}]*\}/g, (token) => {
    const escape = LITERAL_ESCAPES[token];
    if (escape !== undefined) return escape;
    let code = variables.get(token);
    if (code === undefined) {
      code = String.fromCharCode(FIRST_VARIABLE + variables.size);
      variables.set(token, code);
    }
    return code;
  });
}

/** `grant` matches everything `requested` can match, whatever its policy variables turn out to be. */
function patternCovers(grant: string, requested: string, caseInsensitive = false): boolean {
  const variables = new Map<string, string>();
  return globContains(encode(grant, variables), encode(requested, variables), caseInsensitive, isVariable);
}

/** Could `value` stand for more than one string once IAM evaluates it (a wildcard or a policy variable)? */
function isOpen(value: string): boolean {
  return /[*?]|\$\{/.test(value);
}

function actionsCovered(grant: PolicyStatement, requested: string[]): boolean {
  if (grant.Action !== undefined) {
    const allowed = list(grant.Action);
    return requested.every((a) => allowed.some((g) => patternCovers(g, a, true)));
  }
  // Grant allows everything but NotAction: a requested action is covered only if it names no
  // wildcard or variable that could reach an excluded action.
  const excluded = list(grant.NotAction);
  return requested.every((a) => !isOpen(a) && !excluded.some((n) => patternCovers(n, a, true)));
}

function resourcesCovered(grant: PolicyStatement, requested: string[]): boolean {
  if (grant.Resource !== undefined) {
    const allowed = list(grant.Resource);
    return requested.every((r) => allowed.some((g) => patternCovers(g, r)));
  }
  const excluded = list(grant.NotResource);
  return requested.every((r) => !isOpen(r) && !excluded.some((n) => patternCovers(n, r)));
}

function covers(grant: PolicyStatement, requested: PolicyStatement): boolean {
  if (grant.Effect !== 'Allow' || requested.NotAction !== undefined || requested.NotResource !== undefined) return false;
  return (
    actionsCovered(grant, list(requested.Action)) &&
    resourcesCovered(grant, list(requested.Resource)) &&
    conditionsCovered(grant.Condition, requested.Condition)
  );
}

/**
 * The session policy to send: the grant's own when the caller asks for none; the caller's when
 * the grant has none (the role's policies still bound it); otherwise the caller's, checked to be
 * no wider than the grant's, plus the grant's Deny statements.
 */
export function narrowSessionPolicy(grant: PolicyDocument | undefined, requested: PolicyDocument | undefined): PolicyDocument | undefined {
  if (requested === undefined) return grant;
  if (grant === undefined) return requested;
  const grantStatements = statementsOf(grant);
  const requestedStatements = statementsOf(requested);
  requestedStatements.forEach((statement, index) => {
    if (statement.Effect === 'Deny') return;
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
      throw new ValidationError(
        'session_policy_widens_grant',
        `Statement ${index} of the session policy uses NotAction or NotResource in an Allow, which could widen the grant; list actions and resources explicitly.`,
      );
    }
    if (!grantStatements.some((g) => covers(g, statement))) {
      throw new ValidationError(
        'session_policy_widens_grant',
        `Statement ${index} of the session policy allows actions or resources that the grant's session policy does not; a session policy can only narrow the grant.`,
        { details: { statement: index } },
      );
    }
  });
  const denies = grantStatements.filter((g) => g.Effect === 'Deny');
  return { Version: '2012-10-17', Statement: [...requestedStatements, ...denies] };
}
