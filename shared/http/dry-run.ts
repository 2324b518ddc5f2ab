import * as z from 'zod/mini';
import type { CertificateDryRun, CredentialsDryRun } from '../use-cases/dry-run';
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
