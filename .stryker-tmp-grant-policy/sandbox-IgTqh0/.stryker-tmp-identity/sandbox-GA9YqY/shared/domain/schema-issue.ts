// @ts-nocheck
// 
import type * as z from 'zod/mini';

export interface SchemaIssue {
  readonly path: PropertyKey[];
  readonly message: string;
}

/**
 * zod reports a value that fits no branch of a union (a statement or a list of statements, an
 * allow or a deny rule) as "Invalid input" at the union. A person fixing the input needs the
 * branch that got furthest, e.g. `rules[0].credentials.sessionPolicy.Statement[0].Effect`; this
 * returns that issue with its full path. Other issues are returned as they are.
 */
export function mostSpecificIssue(issue: z.core.$ZodIssue): SchemaIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  let best: SchemaIssue | undefined;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = mostSpecificIssue(inner);
      const full = { path: [...issue.path, ...candidate.path], message: candidate.message };
      if (best === undefined || full.path.length > best.path.length) best = full;
    }
  }
  return best ?? issue;
}
