import { AccessDeniedError } from '../domain/errors';
import { isAdmin, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { leaseAsOf, type Lease, type LeaseKind, type LeaseStatus } from '../domain/lease';
import type { PageCursors } from '../domain/page-cursor';
import type { Clock, LeaseStore } from '../ports';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** Store reads per request: a filtered page may need several, but never unboundedly many. */
const MAX_READS = 5;

export interface ListLeasesDeps {
  readonly grants: GrantPolicy;
  readonly leases: LeaseStore;
  readonly cursors: PageCursors;
  /** Shows leases as of now (an active lease past its expiry reads `expired`); stored status without it. */
  readonly clock?: Clock;
}

export interface ListLeasesRequest {
  readonly identity: Identity;
  readonly kind?: LeaseKind;
  readonly status?: LeaseStatus;
  /** Another caller's leases: admins only. */
  readonly caller?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface LeaseListing {
  readonly leases: Lease[];
  /** Present when there may be more: pass it back as `cursor` with the same filters. */
  readonly cursor?: string;
  /** `own`: the caller's leases; `all`: every caller's (an admin grant). */
  readonly scope: 'own' | 'all' | 'caller';
}

interface Position {
  /** The store's position (DynamoDB's LastEvaluatedKey). */
  readonly k?: Record<string, unknown>;
}

/**
 * Lists leases: a caller sees its own; an admin (per the grant policy) sees every caller's, or
 * one caller's with `caller`. Newest first for one caller; in the store's order for everyone (a
 * scan of the table: there is no index of every lease, and an admin's listing is rare).
 * The cursor is signed and bound to the caller and the filters (see PageCursors).
 */
export async function listLeases(deps: ListLeasesDeps, request: ListLeasesRequest): Promise<LeaseListing> {
  const { identity } = request;
  const admin = isAdmin(deps.grants, identity);
  if (request.caller !== undefined && request.caller !== identity.caller && !admin) {
    throw new AccessDeniedError('admin_required', "Only an admin grant can list other callers' leases; leave out \"caller\" to list your own.");
  }
  const caller = request.caller ?? (admin ? undefined : identity.caller);
  const scope = caller === undefined ? 'all' : caller === identity.caller ? 'own' : 'caller';
  const limit = Math.min(Math.max(1, request.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const listing = JSON.stringify({ who: identity.caller, caller: caller ?? null, kind: request.kind ?? null, status: request.status ?? null });
  let position: Position = request.cursor === undefined ? {} : (deps.cursors.decode(request.cursor, listing) as Position);

  // Nothing writes at expiry: `expired` is an active lease past its expiry, read from `active` ones.
  const now = deps.clock?.now();
  const asOf = (lease: Lease) => (now ? leaseAsOf(lease, now) : lease);
  const stored = now && request.status === 'expired' ? 'active' : request.status;
  const leases: Lease[] = [];
  for (let reads = 0; reads < MAX_READS && leases.length < limit; reads++) {
    const page = await deps.leases.query({
      ...(caller === undefined ? {} : { caller }),
      ...(request.kind === undefined ? {} : { kind: request.kind }),
      ...(stored === undefined ? {} : { status: stored }),
      limit: limit - leases.length,
      ...(position.k ? { cursor: position.k } : {}),
    });
    leases.push(...page.leases.map(asOf).filter((l) => request.status === undefined || l.status === request.status));
    if (!page.next) return { leases, scope };
    position = { k: page.next };
  }
  return { leases, scope, cursor: deps.cursors.encode(position as Record<string, unknown>, listing) };
}
