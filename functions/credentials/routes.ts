import * as z from 'zod/mini';
import '../../shared/domain/schema-locale';
import { ValidationError } from '../../shared/domain/errors';
import { parseSessionPolicy } from '../../shared/domain/session-policy';
import { STS_LIMITS } from '../../shared/domain/session';
import type { Authenticator } from '../../shared/http/authenticator';
import type { containerCredentialsAnswerSchema, credentialsAnswerSchema } from './answers';
import { json, NO_STORE, queryParam } from '../../shared/http/event';
import { describedIdentitySchema, dryRunResponse } from '../../shared/http/dry-run';
import { httpRoute } from '../../shared/http/route';
import { dryRunCredentials, dryRunIdentity } from '../../shared/use-cases/dry-run';
import { vendCredentials, type VendCredentialsDeps, type VendedCredentials } from '../../shared/use-cases/vend-credentials';

// The shape only; IAM's limits (name 64, path 512) are checked by parseRoleArn in the grant evaluation, with their own codes.
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\x21-\x7e]{1,1024}$/;

export const vendRequestSchema = z.strictObject({
  role: z.string().check(z.regex(ROLE_ARN, 'expected a role ARN such as arn:aws:iam::123456789012:role/NAME')),
  durationSeconds: z.optional(
    z
      .number()
      .check(
        z.int('a whole number of seconds'),
        z.minimum(STS_LIMITS.minDurationSeconds, `at least ${STS_LIMITS.minDurationSeconds} seconds`),
        // Over one hour only where the grant says via: web-identity (not chained); the grant's maximum decides (duration_exceeds_grant).
        z.maximum(STS_LIMITS.maxWebIdentityDurationSeconds, `at most ${STS_LIMITS.maxWebIdentityDurationSeconds} seconds (12 hours, and only with a grant that uses via: web-identity; one hour otherwise)`),
      ),
  ),
  policy: z.optional(z.union([z.string(), z.record(z.string(), z.unknown())])),
  policyArns: z.optional(
    z.array(z.string().check(z.regex(/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/.+$/, 'expected a managed policy ARN'))).check(z.maxLength(STS_LIMITS.maxPolicyArns)),
  ),
  /** Always a new session and lease, even if an identical live one could be reused. */
  fresh: z.optional(z.boolean()),
  /** Decide and report what would be sent, without a lease or an STS call (200 with the decision). */
  dryRun: z.optional(z.boolean()),
  /** Admins, with dryRun: decide for this described identity instead of the caller. */
  as: z.optional(describedIdentitySchema),
});

export type VendRequest = z.infer<typeof vendRequestSchema>;

export interface CredentialsRouteDeps extends VendCredentialsDeps {
  readonly authenticator: Authenticator;
}

export function credentialsBody(result: VendedCredentials): z.infer<typeof credentialsAnswerSchema> {
  return {
    leaseId: result.leaseId,
    accessKeyId: result.accessKeyId,
    secretAccessKey: result.secretAccessKey,
    sessionToken: result.sessionToken,
    expiration: result.expiration.toISOString(),
    assumedRoleArn: result.assumedRoleArn,
  };
}

/** POST /v1/credentials and GET /v1/credentials/container. */
export function credentialsRoutes(deps: CredentialsRouteDeps) {
  const vend = httpRoute({ authenticator: deps.authenticator, body: vendRequestSchema }, async ({ identity, body, requestId, audit }) => {
    audit.note({ role: body.role });
    if (body.as !== undefined && body.dryRun !== true) {
      throw new ValidationError('as_requires_dry_run', '"as" (deciding for another identity) is only accepted with "dryRun": true.', { details: { field: 'as' } });
    }
    const input = {
      roleArn: body.role,
      durationSeconds: body.durationSeconds,
      policy: body.policy === undefined ? undefined : parseSessionPolicy(body.policy),
      policyArns: body.policyArns,
    };
    if (body.dryRun === true) {
      const subject = dryRunIdentity(deps.grants, identity, body.as);
      return dryRunResponse(dryRunCredentials(deps.grants, subject.identity, input, subject.described), requestId, 201);
    }
    const result = await vendCredentials(deps, { identity, requestId, ...input, fresh: body.fresh });
    audit.issued(result.lease);
    return json(201, credentialsBody(result), { ...NO_STORE, location: `/v1/leases/${result.leaseId}` });
  });

  // The container-credentials format, so any AWS SDK works with AWS_CONTAINER_CREDENTIALS_FULL_URI
  // and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE alone; the token arrives as the raw Authorization value.
  const container = httpRoute({ authenticator: deps.authenticator }, async ({ event, identity, requestId, audit }) => {
    const role = queryParam(event, 'role');
    if (!role) throw new ValidationError('missing_field', 'The query parameter "role" is required, e.g. ?role=arn:aws:iam::123456789012:role/NAME.', { details: { field: 'role' } });
    if (!ROLE_ARN.test(role)) throw new ValidationError('invalid_field', 'The query parameter "role" must be a role ARN.', { details: { field: 'role' } });
    audit.note({ role });
    const result = await vendCredentials(deps, { identity, requestId, roleArn: role });
    audit.issued(result.lease);
    const answer: z.infer<typeof containerCredentialsAnswerSchema> = {
      AccessKeyId: result.accessKeyId,
      SecretAccessKey: result.secretAccessKey,
      Token: result.sessionToken,
      Expiration: result.expiration.toISOString(),
      AccountId: result.accountId,
    };
    return json(200, answer, NO_STORE);
  });

  return { vend, container };
}
