import { AccessDeniedError } from '../domain/errors';
import { isAdmin, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import type { Lease, LeaseKind, LeaseStatus } from '../domain/lease';
import type { PageCursors } from '../domain/page-cursor';
import type { LeaseStore } from '../ports';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** Without a status filter an admin's listing walks the statuses in this order. */
const ALL_STATUSES: readonly LeaseStatus[] = ['pending', 'active', 'revoked', 'expired', 'failed', 'abandoned', 'unrecorded'];
/** Store reads per request: a filtered page may need several, but never unboundedly many. */
const MAX_READS = 5;

export interface ListLeasesDeps {
  readonly grants: GrantPolicy;
  readonly leases: LeaseStore;
  readonly cursors: PageCursors;
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
  /** Index into ALL_STATUSES when an admin lists every status. */
  readonly s?: number;
  /** The store's position (DynamoDB's LastEvaluatedKey). */
  readonly k?: Record<string, unknown>;
}

/**
 * Lists leases: a caller sees its own; an admin (per the grant policy) sees every caller's, or
 * one caller's with `caller`. Newest first for one caller; by status then expiry for everyone.
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

  // One status at a time when an admin lists everything (the status index is partitioned by it).
  const walkStatuses = caller === undefined && request.status === undefined;
  const leases: Lease[] = [];
  for (let reads = 0; reads < MAX_READS && leases.length < limit; reads++) {
    const statusIndex = position.s ?? 0;
    const status = walkStatuses ? ALL_STATUSES[statusIndex] : request.status;
    if (walkStatuses && status === undefined) return { leases, scope };
    const page = await deps.leases.query({
      ...(caller === undefined ? {} : { caller }),
      ...(request.kind === undefined ? {} : { kind: request.kind }),
      ...(status === undefined ? {} : { status }),
      limit: limit - leases.length,
      ...(position.k ? { cursor: position.k } : {}),
    });
    leases.push(...page.leases);
    if (page.next) {
      position = { ...(walkStatuses ? { s: statusIndex } : {}), k: page.next };
    } else if (walkStatuses && statusIndex + 1 < ALL_STATUSES.length) {
      position = { s: statusIndex + 1 };
    } else {
      return { leases, scope };
    }
  }
  return { leases, scope, cursor: deps.cursors.encode(position as Record<string, unknown>, listing) };
}
