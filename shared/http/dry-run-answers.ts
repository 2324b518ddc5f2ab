import * as z from 'zod/mini';
import { described } from './answer-schema';

// What a dry run answers (./dry-run.ts), as schemas for docs/openapi.json (functions/api-contract.ts).
// Apart from ./dry-run.ts, which every vending function imports, so that no handler builds them.

const ruleTraceSchema = z.strictObject({
  rule: z.string(),
  effect: z.enum(['allow', 'deny']),
  outcome: z.enum(['caller_not_matched', 'denies', 'grants', 'not_applicable', 'target_not_matched', 'needs_attribute', 'invalid_claim']),
  detail: described(z.string(), 'Why, in words a person can act on.'),
  decisive: z.optional(described(z.literal(true), 'The rule that made the decision.')),
});

const dryRunBase = {
  dryRun: z.literal(true),
  allowed: described(z.boolean(), 'Whether the real request would be granted.'),
  wouldAnswer: described(z.number(), 'The status the real request would get.'),
  identity: z.strictObject({
    caller: z.string(),
    kind: z.enum(['iam', 'oidc']),
    attributes: z.record(z.string(), z.string()),
    claimLists: z.optional(described(z.record(z.string(), z.array(z.string())), 'OIDC: list claims (e.g. `groups`), read by `claims:` conditions only.')),
    unreadableClaims: z.optional(described(z.array(z.string()), 'OIDC: claims the broker cannot read as values: a deny rule\'s condition on one holds, an allow rule\'s does not.')),
    described: described(z.boolean(), 'An admin described this identity ("as") instead of proving it.'),
  }),
  rule: z.optional(described(z.string(), 'The rule that decided, when one did.')),
  rules: described(z.array(ruleTraceSchema), 'Every rule of the grant policy, in file order, with why it did or did not take part.'),
  error: z.optional(
    described(
      z.strictObject({ code: z.string(), message: z.string(), requestId: z.string(), details: z.optional(z.record(z.string(), z.unknown())) }),
      'The error the real request would be refused with.',
    ),
  ),
};

/** POST /v1/credentials with dryRun: the decision and the session STS would receive. */
export const credentialsDryRunAnswerSchema = z.strictObject({
  ...dryRunBase,
  kind: z.literal('credentials'),
  session: z.optional(
    z.strictObject({
      mode: z.enum(['assume-role', 'web-identity']),
      webIdentity: z.optional(z.strictObject({ subject: z.string(), ruleId: z.string() })),
      roleArn: z.string(),
      roleSessionName: described(z.string(), 'The lease id a real request gets; shown as {leaseId}.'),
      sourceIdentity: z.string(),
      durationSeconds: z.number(),
      policy: z.optional(described(z.string(), 'The inline session policy exactly as sent (minified JSON).')),
      policyArns: z.array(z.string()),
      tags: z.array(z.strictObject({ key: z.string(), value: z.string() })),
    }),
  ),
});

/** POST /v1/certificates with dryRun: the decision and the certificate the CA would be asked for. */
export const certificateDryRunAnswerSchema = z.strictObject({
  ...dryRunBase,
  kind: z.literal('certificate'),
  certificate: z.optional(
    z.strictObject({
      profile: z.string(),
      caArn: z.string(),
      templateArn: z.string(),
      commonName: z.string(),
      dnsNames: z.array(z.string()),
      uris: z.array(z.string()),
      ipAddresses: z.array(z.string()),
      validitySeconds: described(z.number(), "The validity asked of the CA, at most; the CA's own expiry may shorten it."),
    }),
  ),
});
