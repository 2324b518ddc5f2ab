import * as z from 'zod/mini';
import '../../shared/domain/schema-locale';
import type { Authenticator } from '../../shared/http/authenticator';
import type { certificateAnswerSchema, pendingCertificateAnswerSchema } from './answers';
import { header, json, NO_STORE, type HttpEvent } from '../../shared/http/event';
import { ValidationError } from '../../shared/domain/errors';
import { describedIdentitySchema, dryRunResponse } from '../../shared/http/dry-run';
import { httpRoute } from '../../shared/http/route';
import { dryRunIdentity } from '../../shared/use-cases/dry-run';
import { dryRunCertificate } from '../../shared/use-cases/dry-run-certificate';
import { issueCertificate, type IssueCertificateDeps, type IssueCertificateResult } from '../../shared/use-cases/issue-certificate';
import { trustBundle } from '../../shared/use-cases/trust-bundle';

export const issueRequestSchema = z.strictObject({
  csr: z.string().check(z.minLength(1, 'a PEM-encoded certificate signing request'), z.maxLength(12 * 1024, 'at most 12 KiB of PEM')),
  profile: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  validitySeconds: z.optional(z.number().check(z.int('a whole number of seconds'), z.positive('a positive number of seconds'))),
  /** Decide and report the certificate that would be issued, without a lease or a PCA call (200 with the decision). */
  dryRun: z.optional(z.boolean()),
  /** Admins, with dryRun: decide for this described identity instead of the caller. */
  as: z.optional(describedIdentitySchema),
});

export type IssueRequest = z.infer<typeof issueRequestSchema>;

export interface CertificatesRouteDeps extends IssueCertificateDeps {
  readonly authenticator: Authenticator;
}

export function certificateBody(result: Extract<IssueCertificateResult, { status: 'issued' }>): z.infer<typeof certificateAnswerSchema> {
  return {
    leaseId: result.leaseId,
    certificate: result.certificate,
    certificateChain: result.certificateChain,
    serialNumber: result.serialNumber,
    notAfter: result.notAfter.toISOString(),
  };
}

/**
 * POST /v1/certificates: 201 with the certificate, or 202 with the lease id when the CA has not
 * finished in time (GET /v1/leases/{id} then delivers it).
 */
export function certificatesRoutes(deps: CertificatesRouteDeps) {
  const issue = httpRoute({ authenticator: deps.authenticator, body: issueRequestSchema }, async ({ identity, body, requestId, audit }) => {
    audit.note({ profile: body.profile });
    if (body.as !== undefined && body.dryRun !== true) {
      throw new ValidationError('as_requires_dry_run', '"as" (deciding for another identity) is only accepted with "dryRun": true.', { details: { field: 'as' } });
    }
    const input = { csr: body.csr, profile: body.profile, validitySeconds: body.validitySeconds };
    if (body.dryRun === true) {
      const subject = dryRunIdentity(deps.grants, identity, body.as);
      return dryRunResponse(await dryRunCertificate(deps.grants, subject.identity, input, subject.described), requestId, 201);
    }
    const result = await issueCertificate(deps, { identity, requestId, ...input });
    audit.issued(result.lease);
    const location = `/v1/leases/${result.leaseId}`;
    if (result.status === 'pending') {
      const pending: z.infer<typeof pendingCertificateAnswerSchema> = { leaseId: result.leaseId, status: 'pending', location };
      return json(202, pending, { ...NO_STORE, location, 'retry-after': '2' });
    }
    return json(201, certificateBody(result), { ...NO_STORE, location });
  });

  // GET /v1/trust-bundle: PEM, revalidated with ETag / If-None-Match (agents poll it cheaply).
  const trust = httpRoute({ authenticator: deps.authenticator }, async ({ event, identity }) => {
    const bundle = await trustBundle(deps, identity);
    const headers = { etag: bundle.etag, 'cache-control': 'private, no-cache', 'x-nocreds-ca-arns': bundle.authorities.map((a) => a.caArn).join(',') };
    if (etagMatches(header(event, 'if-none-match'), bundle.etag)) return { statusCode: 304, headers, body: '' };
    return { statusCode: 200, headers: { ...headers, 'content-type': 'application/x-pem-file' }, body: bundle.pem };
  });
  return { issue, trustBundle: trust };
}

/** Which route of this function an event is for (one function serves both). */
export function routeOf(event: HttpEvent): 'issue' | 'trustBundle' | undefined {
  const method = 'httpMethod' in event ? event.httpMethod : event.requestContext.http.method;
  const path = 'httpMethod' in event ? event.path : event.rawPath;
  if (method === 'POST' && /\/v1\/certificates\/?$/.test(path)) return 'issue';
  if (method === 'GET' && /\/v1\/trust-bundle\/?$/.test(path)) return 'trustBundle';
  return undefined;
}

/** If-None-Match: `*`, or a list of tags (weak ones compare equal to strong, as RFC 9110 says for GET). */
function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
