import * as z from 'zod/mini';
import '../../shared/domain/schema-locale';
import { REVOCATION_REASONS } from '../../shared/domain/certificate-profile';
import { LEASE_STATUSES, type Lease } from '../../shared/domain/lease';
import type { PageCursors } from '../../shared/domain/page-cursor';
import { parseSessionPolicy } from '../../shared/domain/session-policy';
import { STS_LIMITS } from '../../shared/domain/session';
import { described, timestamp } from '../../shared/http/answer-schema';
import type { Authenticator } from '../../shared/http/authenticator';
import { json, NO_STORE, pathParam, type HttpEvent } from '../../shared/http/event';
import { httpRoute, validationErrorFrom, type RouteInput } from '../../shared/http/route';
import type { HttpResult } from '../../shared/http/event';
import { getLease, type GetLeaseDeps } from '../../shared/use-cases/get-lease';
import { certificateAnswerSchema, certificateBody } from '../certificates/routes';
import { credentialsAnswerSchema, credentialsBody } from '../credentials/routes';
import { listLeases, MAX_PAGE_SIZE } from '../../shared/use-cases/list-leases';
import { renewLease, type RenewLeaseDeps } from '../../shared/use-cases/renew-lease';
import { revokeLease, type RevokeLeaseDeps } from '../../shared/use-cases/revoke-lease';

export const listQuerySchema = z.strictObject({
  kind: z.optional(z.enum(['credentials', 'certificate'])),
  status: z.optional(z.enum(LEASE_STATUSES)),
  caller: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  limit: z.optional(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d{1,3}$/, 'a whole number')), z.transform(Number)),
      z.number().check(z.int(), z.minimum(1), z.maximum(MAX_PAGE_SIZE, `at most ${MAX_PAGE_SIZE}`)),
    ),
  ),
  cursor: z.optional(z.string().check(z.maxLength(8192))),
});

export const revokeBodySchema = z.nullable(z.strictObject({ reason: z.optional(z.enum(REVOCATION_REASONS)) }));

export const renewBodySchema = z.nullable(
  z.strictObject({
    // Over one hour only for a grant with via: web-identity; the grant decides (duration_exceeds_grant).
    durationSeconds: z.optional(z.number().check(z.int(), z.minimum(STS_LIMITS.minDurationSeconds), z.maximum(STS_LIMITS.maxWebIdentityDurationSeconds))),
    policy: z.optional(z.union([z.string(), z.record(z.string(), z.unknown())])),
    policyArns: z.optional(
      z.array(z.string().check(z.regex(/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/.+$/, 'expected a managed policy ARN'))).check(z.maxLength(STS_LIMITS.maxPolicyArns)),
    ),
  }),
);

export interface LeasesRouteDeps extends Omit<GetLeaseDeps, 'certificates'>, Omit<RevokeLeaseDeps, 'certificates'>, RenewLeaseDeps {
  readonly authenticator: Authenticator;
  readonly cursors: PageCursors;
}

/** What a lease looks like over the API: the record, without storage details or the recorded identity's claims. */
export const leaseViewSchema = z.strictObject({
  leaseId: described(z.string(), 'Sortable unique id (a ULID).', '01JD5Y8W3J7B4ZQ6N0T2V9K1XH'),
  kind: z.enum(['credentials', 'certificate']),
  caller: described(z.string(), 'Who the lease was granted to.', 'oidc:dev:system:serviceaccount:team-a:app'),
  ruleId: described(z.string(), 'The grant rule that allowed it.'),
  status: z.enum(LEASE_STATUSES),
  requestId: z.string(),
  issuedAt: timestamp('When the lease was granted.'),
  expiresAt: timestamp('When the credentials or certificate stop being valid.'),
  updatedAt: timestamp('The last change of the record.'),
  roleArn: z.optional(z.string()),
  accessKeyId: z.optional(z.string()),
  assumedRoleArn: z.optional(z.string()),
  sourceIdentity: z.optional(z.string()),
  packedPolicySize: z.optional(described(z.number(), 'STS PackedPolicySize: percent of the packed-size limit used.')),
  durationSeconds: z.optional(z.number()),
  caArn: z.optional(z.string()),
  serialNumber: z.optional(z.string()),
  certificateArn: z.optional(z.string()),
  profile: z.optional(z.string()),
  names: z.optional(z.array(z.string())),
  failureReason: z.optional(z.string()),
  revokedAt: z.optional(timestamp('When it was revoked.')),
  revokeReason: z.optional(z.string()),
  revocationMethod: z.optional(z.enum(['session-deny', 'token-issue-time-cutoff', 'none'])),
  acknowledgedAt: z.optional(timestamp('When the holder was given the id of the pending certificate lease.')),
  renewedFrom: z.optional(z.string()),
  renewedBy: z.optional(z.string()),
  origin: z.optional(described(z.enum(['broker', 'outside']), 'unrecorded leases: whose AssumeRole made the session (the broker, or someone around it).')),
});

export type LeaseView = z.infer<typeof leaseViewSchema>;

/** Fields of a Lease that never go over the API. */
type HiddenLeaseField = 'ttl' | 'claims' | 'csr';
// A field added to Lease fails the type check here until the view (and so docs/openapi.json) says whether it is shown.
type Unlisted = Exclude<keyof Lease, keyof LeaseView | HiddenLeaseField>;
const _everyLeaseFieldListed: [Unlisted] extends [never] ? true : Unlisted = true;

export function leaseView(lease: Lease): LeaseView {
  const { ttl: _ttl, claims: _claims, csr: _csr, names, ...view } = lease;
  return { ...view, ...(names ? { names: [...names] } : {}) };
}

/** GET /v1/leases: one page; `cursor` asks for the next. */
export const leaseListAnswerSchema = z.strictObject({
  leases: z.array(leaseViewSchema),
  scope: described(z.enum(['own', 'all', 'caller']), 'Whose leases: the caller\'s own, everyone\'s (admin), or the one caller asked for (admin).'),
  cursor: z.optional(described(z.string(), 'Opaque: send it back as ?cursor= for the next page. Absent on the last page.')),
});

/** GET /v1/leases/{id}: the lease, and for a certificate lease whose certificate is ready, the certificate. */
export const leaseAnswerSchema = z.strictObject({
  lease: leaseViewSchema,
  certificate: z.optional(z.string()),
  certificateChain: z.optional(z.string()),
  serialNumber: z.optional(z.string()),
  notAfter: z.optional(timestamp('When the certificate expires.')),
});

export const revokeAnswerSchema = z.strictObject({
  lease: leaseViewSchema,
  effect: described(z.string(), 'What revoking did, in words (e.g. how a credentials session was blocked).'),
});

const renewedFrom = { renewedFrom: described(z.string(), 'The lease this one renews.') };

/** 201 of a renewal: fresh credentials, or a certificate for the same public key. */
export const renewAnswerSchema = z.union([z.strictObject({ ...credentialsAnswerSchema.def.shape, ...renewedFrom }), z.strictObject({ ...certificateAnswerSchema.def.shape, ...renewedFrom })]);

/** 202 of a certificate renewal the CA has not finished in time. */
export const pendingRenewalAnswerSchema = z.strictObject({ leaseId: z.string(), status: z.literal('pending'), ...renewedFrom });

function leaseId(event: HttpEvent): string {
  return pathParam(event, 'id') ?? '';
}

/**
 * A POST route whose JSON body is optional: without a body (and so without a Content-Type) it runs
 * with `null`; with one, the usual size, media type and schema checks apply.
 */
function optionalBodyRoute<B>(deps: LeasesRouteDeps, schema: z.ZodMiniType<B>, handle: (input: RouteInput<B | null>) => Promise<HttpResult>) {
  const withBody = httpRoute({ authenticator: deps.authenticator, body: schema }, handle);
  const withoutBody = httpRoute({ authenticator: deps.authenticator }, (input) => handle({ ...input, body: null }));
  return (event: HttpEvent, context: Parameters<typeof withBody>[1]) => (event.body ? withBody(event, context) : withoutBody(event, context));
}

/** GET /v1/leases, GET /v1/leases/{id}, POST /v1/leases/{id}/revoke, POST /v1/leases/{id}/renew. */
export function leasesRoutes(deps: LeasesRouteDeps) {
  const list = httpRoute({ authenticator: deps.authenticator }, async ({ event, identity }) => {
    const parsed = listQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!parsed.success) throw validationErrorFrom(parsed.error);
    const result = await listLeases(deps, { identity, ...parsed.data });
    const answer: z.infer<typeof leaseListAnswerSchema> = { leases: result.leases.map(leaseView), scope: result.scope, ...(result.cursor ? { cursor: result.cursor } : {}) };
    return json(200, answer, { 'cache-control': 'no-store' });
  });

  const get = httpRoute({ authenticator: deps.authenticator }, async ({ event, identity, audit }) => {
    const result = await getLease(deps, { identity, leaseId: leaseId(event) });
    audit.lease(result.lease);
    const certificate = result.certificate
      ? {
          certificate: result.certificate.certificate,
          certificateChain: result.certificate.certificateChain,
          serialNumber: result.certificate.serialNumber,
          notAfter: result.certificate.notAfter.toISOString(),
        }
      : {};
    const answer: z.infer<typeof leaseAnswerSchema> = { lease: leaseView(result.lease), ...certificate };
    return json(200, answer, { 'cache-control': 'no-store' });
  });

  const revoke = optionalBodyRoute(deps, revokeBodySchema, async ({ event, identity, body, audit }) => {
    const result = await revokeLease(deps, { identity, leaseId: leaseId(event), reason: body?.reason ?? undefined });
    audit.lease(result.lease);
    const answer: z.infer<typeof revokeAnswerSchema> = { lease: leaseView(result.lease), effect: result.effect };
    return json(200, answer, { 'cache-control': 'no-store' });
  });

  const renew = optionalBodyRoute(deps, renewBodySchema, async ({ event, identity, body, requestId, audit }) => {
    const result = await renewLease(deps, {
      identity,
      requestId,
      leaseId: leaseId(event),
      durationSeconds: body?.durationSeconds,
      policy: body?.policy === undefined ? undefined : parseSessionPolicy(body.policy),
      policyArns: body?.policyArns,
    });
    audit.issued(result.lease);
    const location = { location: `/v1/leases/${result.lease.leaseId}` };
    if (result.kind === 'credentials') {
      const renewed: z.infer<typeof renewAnswerSchema> = { ...credentialsBody(result.credentials), renewedFrom: result.previous.leaseId };
      return json(201, renewed, { ...NO_STORE, ...location });
    }
    const issued = result.certificate;
    if (issued.status === 'pending') {
      const pending: z.infer<typeof pendingRenewalAnswerSchema> = { leaseId: issued.leaseId, renewedFrom: result.previous.leaseId, status: 'pending' };
      return json(202, pending, { 'cache-control': 'no-store', ...location });
    }
    const renewed: z.infer<typeof renewAnswerSchema> = { ...certificateBody(issued), renewedFrom: result.previous.leaseId };
    return json(201, renewed, { 'cache-control': 'no-store', ...location });
  });

  return { list, get, revoke, renew };
}

/** Picks the route for an API Gateway event (one Lambda serves the four routes). */
export function routeOf(event: HttpEvent): 'list' | 'get' | 'revoke' | 'renew' | undefined {
  const method = 'httpMethod' in event ? event.httpMethod : event.requestContext.http.method;
  const path = 'httpMethod' in event ? event.path : event.rawPath;
  if (method === 'GET' && /\/v1\/leases\/?$/.test(path)) return 'list';
  if (method === 'GET' && /\/v1\/leases\/[^/]+$/.test(path)) return 'get';
  if (method === 'POST' && /\/v1\/leases\/[^/]+\/revoke$/.test(path)) return 'revoke';
  if (method === 'POST' && /\/v1\/leases\/[^/]+\/renew$/.test(path)) return 'renew';
  return undefined;
}
