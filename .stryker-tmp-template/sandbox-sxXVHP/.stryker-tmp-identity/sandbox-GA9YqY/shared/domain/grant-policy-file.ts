// @ts-nocheck
// 
import { LineCounter, parseDocument, isNode } from 'yaml';
import { ConfigurationError } from './errors';
import { formatZodPath, grantPolicySchema, type GrantPolicy } from './grant-policy';
import { mostSpecificIssue } from './schema-issue';

/*
 * Reading a grant policy FILE (YAML or JSON) with line numbers in every error. Kept apart from
 * grant-policy.ts so that the Lambda bundles, which read the JSON that infra/ produces, carry no
 * YAML parser.
 */

/**
 * Parses and validates a grant policy file. Errors name the source, line and path of every
 * problem, e.g. `grants.yaml:14 rules[2].credentials.roles[0]: a role pattern must look like ...`.
 */
export function parseGrantPolicy(text: string, source = 'grant policy'): GrantPolicy {
  // JSON is YAML too, but the Lambda functions only ever read JSON (infra converts at synth).
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    // linePos is only filled in with prettyErrors; pos (offsets) always is.
    const problems = doc.errors.map((e) => `${source}:${e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line} ${e.message.split('\n')[0]}`);
    throw new ConfigurationError('invalid_grant_policy', `The grant policy is not valid YAML or JSON:\n${problems.join('\n')}`);
  }
  const parsed = grantPolicySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map(mostSpecificIssue).map((issue) => {
      let node: unknown = undefined;
      for (let n = issue.path.length; n >= 0 && !isNode(node); n--) node = doc.getIn(issue.path.slice(0, n), true);
      const offset = isNode(node) && node.range ? node.range[0] : undefined;
      const line = offset === undefined ? '?' : lineCounter.linePos(offset).line;
      return `${source}:${line} ${formatZodPath(issue.path) || '(root)'}: ${issue.message}`;
    });
    throw new ConfigurationError('invalid_grant_policy', `The grant policy is invalid:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
