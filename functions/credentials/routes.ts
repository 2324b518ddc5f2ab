import * as z from 'zod/mini';
import '../../shared/domain/schema-locale';
import { ValidationError } from '../../shared/domain/errors';
import { parseSessionPolicy } from '../../shared/domain/session-policy';
import { STS_LIMITS } from '../../shared/domain/session';
import type { Authenticator } from '../../shared/http/authenticator';
import { json, NO_STORE, queryParam } from '../../shared/http/event';
import { httpRoute } from '../../shared/http/route';
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
        z.maximum(STS_LIMITS.maxChainedDurationSeconds, `at most ${STS_LIMITS.maxChainedDurationSeconds} seconds (STS caps chained sessions at one hour)`),
      ),
  ),
  policy: z.optional(z.union([z.string(), z.record(z.string(), z.unknown())])),
  policyArns: z.optional(
    z.array(z.string().check(z.regex(/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/.+$/, 'expected a managed policy ARN'))).check(z.maxLength(STS_LIMITS.maxPolicyArns)),
  ),
  /** Always a new session and lease, even if an identical live one could be reused. */
  fresh: z.optional(z.boolean()),
});

export type VendRequest = z.infer<typeof vendRequestSchema>;

export interface CredentialsRouteDeps extends VendCredentialsDeps {
  readonly authenticator: Authenticator;
}

/** The API v1 answer for vended credentials (also the answer of renewing a credentials lease). */
export function credentialsBody(result: VendedCredentials) {
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
    const result = await vendCredentials(deps, {
      identity,
      requestId,
      roleArn: body.role,
      durationSeconds: body.durationSeconds,
      policy: body.policy === undefined ? undefined : parseSessionPolicy(body.policy),
      policyArns: body.policyArns,
      fresh: body.fresh,
    });
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
    return json(
      200,
      {
        AccessKeyId: result.accessKeyId,
        SecretAccessKey: result.secretAccessKey,
        Token: result.sessionToken,
        Expiration: result.expiration.toISOString(),
        AccountId: result.accountId,
      },
      NO_STORE,
    );
  });

  return { vend, container };
}
