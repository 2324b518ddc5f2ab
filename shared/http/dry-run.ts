import * as z from 'zod/mini';
import type { CertificateDryRun, CredentialsDryRun } from '../use-cases/dry-run';
import { described } from './answer-schema';
import { errorResponse, type ErrorBody } from './errors';
import { json, NO_STORE, type HttpResult } from './event';

/** `"as"` in a dry run's body: an identity an admin describes (an IAM principal ARN, or an issuer id and token claims). */
export const describedIdentitySchema = z.union([
  z.strictObject({ iam: z.string().check(z.minLength(1), z.maxLength(2048)) }),
  z.strictObject({ issuer: z.string().check(z.minLength(1), z.maxLength(32)), claims: z.record(z.string(), z.unknown()) }),
]);

/**
 * The answer to a dry run: 200 whatever the decision, with `wouldAnswer` the status the real
 * request would get and, when refused, the exact error body it would carry (same code, message
 * and details).
 */
export function dryRunResponse(result: CredentialsDryRun | CertificateDryRun, requestId: string, allowedStatus: number): HttpResult {
  const { error, ...rest } = result;
  const refusal = error === undefined ? undefined : errorResponse(error, requestId);
  return json(
    200,
    {
      dryRun: true,
      allowed: refusal === undefined,
      wouldAnswer: refusal?.statusCode ?? allowedStatus,
      ...rest,
      ...(refusal ? { error: (JSON.parse(refusal.body) as ErrorBody).error } : {}),
    },
    NO_STORE,
  );
}

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
