import * as z from 'zod/mini';
import { described, timestamp } from '../../shared/http/answer-schema';

// What the credentials function answers, as schemas for docs/openapi.json (functions/api-contract.ts).
// The routes import only their types: schemas are built when their module is evaluated, and
// building them in the handler's bundle would cost every cold start for nothing.

/** The API v1 answer for vended credentials (also the answer of renewing a credentials lease). */
export const credentialsAnswerSchema = z.strictObject({
  leaseId: described(z.string(), 'The lease recording this grant (also the STS session name).', '01JD5Y8W3J7B4ZQ6N0T2V9K1XH'),
  accessKeyId: described(z.string(), 'STS temporary access key id.', 'ASIAEXAMPLEEXAMPLE12'),
  secretAccessKey: z.string(),
  sessionToken: z.string(),
  expiration: timestamp('When the credentials stop working.'),
  assumedRoleArn: described(z.string(), 'The STS session the credentials belong to.', 'arn:aws:sts::123456789012:assumed-role/team-a-app/01JD5Y8W3J7B4ZQ6N0T2V9K1XH'),
});

/** The container-credentials answer (what AWS SDKs read from AWS_CONTAINER_CREDENTIALS_FULL_URI). */
export const containerCredentialsAnswerSchema = z.strictObject({
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  Token: z.string(),
  Expiration: timestamp('When the credentials stop working.'),
  AccountId: z.optional(described(z.string(), 'The account of the assumed role.', '123456789012')),
});

/** GET /.well-known/openid-configuration (docs/openapi.json). */
export const discoveryAnswerSchema = z.looseObject({
  issuer: z.string(),
  jwks_uri: z.string(),
  response_types_supported: z.array(z.string()),
  subject_types_supported: z.array(z.string()),
  id_token_signing_alg_values_supported: z.array(z.string()),
  claims_supported: z.array(z.string()),
});

/** GET /.well-known/jwks.json: public keys only. */
export const jwksAnswerSchema = z.strictObject({
  keys: z.array(z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') })),
});
