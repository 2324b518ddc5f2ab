// @ts-nocheck
// 
import { ConflictError, NotFoundError } from '../../shared/domain/errors';
import type { Lease, LeaseStatus } from '../../shared/domain/lease';
import type { LeaseCondition, LeasePage, LeaseQuery, LeaseStore } from '../../shared/ports';

export type LeaseStoreOperation = 'create' | 'get' | 'update' | 'query' | 'dueBefore' | 'findByAccessKeyId';

interface Fault {
  readonly operation: LeaseStoreOperation;
  readonly error: unknown;
  remaining: number;
  readonly when?: (args: readonly unknown[]) => boolean;
}

/** Same page cap as the DynamoDB adapter. */
const MAX_PAGE = 100;

/**
 * An in-memory LeaseStore with the DynamoDB adapter's semantics (shared/adapters/dynamo-lease-store.ts):
 * - `create` is a conditional put: an existing id fails with ConflictError `lease_exists`;
 * - `update` is a conditional update on the expected status: a missing lease fails with
 *   NotFoundError `lease_not_found`, another status with ConflictError `lease_state_changed`
 *   (details.status = the stored status); `leaseId` and undefined values in `changes` are ignored;
 *   extra conditions (`{ renewedBy: null }`) fail with ConflictError `lease_condition_failed`;
 * - `query` by caller pages newest first (leaseId descending), by status (default `active`)
 *   oldest expiry first; `kind` (and `status` with a caller) filter; `next` is an opaque cursor.
 *   One difference: DynamoDB applies the limit before filters, so its pages can be short (even
 *   empty) with a `next`; here filters come first and `next` appears only when more remain.
 *   Code that pages must keep following `next` rather than stop at a short page;
 * - records are copied in and out, so a caller cannot mutate what is stored.
 *
 * Faults are injected per operation with `failNext` / `failAlways` (checked before the operation
 * touches anything, like a failed request), and every call is recorded in `calls`.
 *
 * @example
 *   const leases = new InMemoryLeaseStore();
 *   leases.failNext('update', new DependencyUnavailableError('dynamodb_throttled', '...', 1));
 *   await vendCredentials({ ...deps, leases }, request); // rejects; leases.all()[0].status === 'pending'
 */
export class InMemoryLeaseStore implements LeaseStore {
  private readonly items = new Map<string, Lease>();
  private readonly faults: Fault[] = [];
  /** Every call in order, with its arguments (copied). */
  readonly calls: Array<{ operation: LeaseStoreOperation; args: unknown[] }> = [];

  constructor(initial: readonly Lease[] = []) {
    for (const lease of initial) this.items.set(lease.leaseId, copy(lease));
  }

  /** Makes the next `times` calls of `operation` (for which `when` holds, if given) throw `error`. */
  failNext(operation: LeaseStoreOperation, error: unknown, options: { times?: number; when?: (args: readonly unknown[]) => boolean } = {}): this {
    this.faults.push({ operation, error, remaining: options.times ?? 1, when: options.when });
    return this;
  }

  /** Makes every call of `operation` throw `error` until `clearFaults()`. */
  failAlways(operation: LeaseStoreOperation, error: unknown): this {
    return this.failNext(operation, error, { times: Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Every stored lease, in id order. */
  all(): Lease[] {
    return [...this.items.values()].sort((a, b) => compare(a.leaseId, b.leaseId)).map(copy);
  }

  get size(): number {
    return this.items.size;
  }

  /** Number of recorded calls of one operation. */
  callCount(operation: LeaseStoreOperation): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  async create(lease: Lease): Promise<void> {
    this.enter('create', [lease]);
    if (this.items.has(lease.leaseId)) throw new ConflictError('lease_exists', `Lease ${lease.leaseId} already exists.`);
    this.items.set(lease.leaseId, copy(withoutUndefined(lease)));
  }

  async get(leaseId: string): Promise<Lease | undefined> {
    this.enter('get', [leaseId]);
    const lease = this.items.get(leaseId);
    return lease ? copy(lease) : undefined;
  }

  async update(leaseId: string, expectedStatus: LeaseStatus, changes: Partial<Lease>, condition: LeaseCondition = {}): Promise<Lease> {
    this.enter('update', [leaseId, expectedStatus, changes, condition]);
    const old = this.items.get(leaseId);
    if (!old) throw new NotFoundError('lease_not_found', `Lease ${leaseId} does not exist.`);
    if (old.status !== expectedStatus) {
      throw new ConflictError('lease_state_changed', `Lease ${leaseId} is ${old.status}, not ${expectedStatus}.`, { details: { status: old.status } });
    }
    for (const [field, wanted] of Object.entries(condition)) {
      const actual = (old as unknown as Record<string, unknown>)[field];
      if (wanted === null ? actual !== undefined : actual !== wanted) {
        throw new ConflictError('lease_condition_failed', `Lease ${leaseId} has changed since it was read.`, { details: { status: old.status, lease: copy(old) } });
      }
    }
    const { leaseId: _ignored, ...rest } = withoutUndefined(changes);
    const updated = { ...old, ...rest } as Lease;
    this.items.set(leaseId, copy(updated));
    return copy(updated);
  }

  async query(query: LeaseQuery): Promise<LeasePage> {
    this.enter('query', [query]);
    let leases: Lease[];
    let key: (l: Lease) => Record<string, unknown>;
    let order: (a: Lease, b: Lease) => number = byExpiry;
    if (query.caller !== undefined) {
      leases = [...this.items.values()]
        .filter((l) => l.caller === query.caller && (query.status === undefined || l.status === query.status))
        .sort(newestFirst);
      order = newestFirst;
      key = (l) => ({ leaseId: l.leaseId, caller: l.caller });
    } else {
      const status = query.status ?? 'active';
      leases = [...this.items.values()].filter((l) => l.status === status).sort(byExpiry);
      key = (l) => ({ leaseId: l.leaseId, status: l.status, expiresAt: l.expiresAt });
    }
    if (query.kind !== undefined) leases = leases.filter((l) => l.kind === query.kind);
    return page(leases, order, Math.min(query.limit, MAX_PAGE), query.cursor, key);
  }

  async dueBefore(status: LeaseStatus, before: Date, limit: number, cursor?: Record<string, unknown>, after?: Date): Promise<LeasePage> {
    this.enter('dueBefore', [status, before, limit, cursor, after]);
    const iso = before.toISOString();
    const from = after?.toISOString() ?? '';
    const leases = [...this.items.values()].filter((l) => l.status === status && l.expiresAt < iso && l.expiresAt >= from).sort(byExpiry);
    return page(leases, byExpiry, Math.min(limit, MAX_PAGE), cursor, (l) => ({ leaseId: l.leaseId, status: l.status, expiresAt: l.expiresAt }));
  }

  async findByAccessKeyId(accessKeyId: string): Promise<Lease | undefined> {
    this.enter('findByAccessKeyId', [accessKeyId]);
    const lease = [...this.items.values()].find((l) => l.accessKeyId === accessKeyId);
    return lease ? copy(lease) : undefined;
  }

  private enter(operation: LeaseStoreOperation, args: unknown[]): void {
    this.calls.push({ operation, args: structuredClone(args) });
    const fault = this.faults.find((f) => f.operation === operation && f.remaining > 0 && (f.when === undefined || f.when(args)));
    if (fault) {
      fault.remaining -= 1;
      throw fault.error;
    }
  }
}

/**
 * Like DynamoDB's ExclusiveStartKey: the page starts after the cursor's position in the index
 * order, even when the lease the cursor names has since left the index.
 */
function page(
  sorted: Lease[],
  order: (a: Lease, b: Lease) => number,
  limit: number,
  cursor: Record<string, unknown> | undefined,
  key: (l: Lease) => Record<string, unknown>,
): LeasePage {
  let start = 0;
  if (cursor !== undefined) {
    const position = cursor as unknown as Lease;
    start = sorted.findIndex((l) => order(l, position) > 0);
    if (start === -1) start = sorted.length;
  }
  const leases = sorted.slice(start, start + limit);
  const last = leases[leases.length - 1];
  const more = start + limit < sorted.length;
  return { leases: leases.map(copy), ...(more && last ? { next: key(last) } : {}) };
}

function newestFirst(a: Lease, b: Lease): number {
  return compare(b.leaseId, a.leaseId);
}

function byExpiry(a: Lease, b: Lease): number {
  return compare(a.expiresAt, b.expiresAt) || compare(a.leaseId, b.leaseId);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}
