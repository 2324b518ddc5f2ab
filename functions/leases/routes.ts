import * as z from 'zod/mini';
import '../../shared/domain/schema-locale';
import { REVOCATION_REASONS } from '../../shared/domain/certificate-profile';
import { LEASE_STATUSES, type Lease } from '../../shared/domain/lease';
import type { PageCursors } from '../../shared/domain/page-cursor';
import { parseSessionPolicy } from '../../shared/domain/session-policy';
import { STS_LIMITS } from '../../shared/domain/session';
import type { Authenticator } from '../../shared/http/authenticator';
import { json, NO_STORE, pathParam, type HttpEvent } from '../../shared/http/event';
import { httpRoute, validationErrorFrom, type RouteInput } from '../../shared/http/route';
import type { HttpResult } from '../../shared/http/event';
import { getLease, type GetLeaseDeps } from '../../shared/use-cases/get-lease';
import { certificateBody } from '../certificates/routes';
import { credentialsBody } from '../credentials/routes';
import type { LeaseView, leaseAnswerSchema, leaseListAnswerSchema, pendingRenewalAnswerSchema, renewAnswerSchema, revokeAnswerSchema } from './answers';
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

export function leaseView(lease: Lease): LeaseView {
  const { ttl: _ttl, claims: _claims, claimLists: _claimLists, unreadableClaims: _unreadableClaims, claimsRead: _claimsRead, csr: _csr, names, ...view } = lease;
  return { ...view, ...(names ? { names: [...names] } : {}) };
}

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
