import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DUE_SHARDS, dueOf, duePartition, leaseFromItem, leaseItem } from '../../shared/adapters/dynamo-lease-table';
import { ConflictError, NotFoundError } from '../../shared/domain/errors';
import type { Lease, LeaseStatus } from '../../shared/domain/lease';
import type { DueQuery, LeaseChanges, LeaseCondition, LeasePage, LeaseQuery, LeaseStore } from '../../shared/ports';

export type LeaseStoreOperation = 'create' | 'get' | 'update' | 'query' | 'due' | 'findByAccessKeyId' | 'loadJobState' | 'saveJobState';

interface Fault {
  readonly operation: LeaseStoreOperation;
  readonly error: unknown;
  remaining: number;
  readonly when?: (args: readonly unknown[]) => boolean;
}

/** Same page cap as the DynamoDB adapter. */
const MAX_PAGE = 100;

/** A stored item: the DynamoDB item of the lease (leaseItem), and its sparse `due` key. */
interface Stored {
  readonly item: Record<string, AttributeValue>;
  readonly due?: string;
}

/**
 * An in-memory LeaseStore with the DynamoDB adapter's semantics (shared/adapters/dynamo-lease-store.ts),
 * storing the very items the adapter writes (leaseItem / leaseFromItem of dynamo-lease-table.ts):
 * - `create` is a conditional put: an existing id fails with ConflictError `lease_exists`;
 * - `update` is a conditional update on the expected status: a missing lease fails with
 *   NotFoundError `lease_not_found`, another status with ConflictError `lease_state_changed`
 *   (details.status = the stored status); `leaseId` and undefined values in `changes` are ignored,
 *   `null` removes a field; extra conditions (`{ renewedBy: null }`) fail with ConflictError
 *   `lease_condition_failed`; the `due` key follows the status as the adapter's does;
 * - `query` by caller pages newest first (leaseId descending); without a caller, every lease in id
 *   order (DynamoDB's Scan has its own order: callers must not rely on one); `kind` and `status`
 *   filter; `due` pages one shard of one status, oldest expiry first; `next` is an opaque cursor.
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
 *   leases.failNext('create', new DependencyUnavailableError('dynamodb_throttled', '...', 1));
 *   await vendCredentials({ ...deps, leases }, request); // rejects; no credentials, no lease
 */
export class InMemoryLeaseStore implements LeaseStore {
  readonly dueShards = DUE_SHARDS;
  private readonly items = new Map<string, Stored>();
  private readonly jobStates = new Map<string, Record<string, unknown>>();
  private readonly faults: Fault[] = [];
  /** Every call in order, with its arguments (copied). */
  readonly calls: Array<{ operation: LeaseStoreOperation; args: unknown[] }> = [];

  constructor(initial: readonly Lease[] = []) {
    for (const lease of initial) this.put(lease);
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
    return [...this.items.keys()].sort(compare).map((id) => this.lease(id) as Lease);
  }

  /** The DynamoDB item stored for a lease (what PutItem would have written), for tests of the layout. */
  item(leaseId: string): Record<string, AttributeValue> | undefined {
    const stored = this.items.get(leaseId);
    return stored ? structuredClone(stored.item) : undefined;
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
    this.put(lease);
  }

  async get(leaseId: string): Promise<Lease | undefined> {
    this.enter('get', [leaseId]);
    return this.lease(leaseId);
  }

  async update(leaseId: string, expectedStatus: LeaseStatus, changes: LeaseChanges, condition: LeaseCondition = {}): Promise<Lease> {
    this.enter('update', [leaseId, expectedStatus, changes, condition]);
    const old = this.lease(leaseId);
    const stored = this.items.get(leaseId);
    if (!old || !stored) throw new NotFoundError('lease_not_found', `Lease ${leaseId} does not exist.`);
    if (old.status !== expectedStatus) {
      throw new ConflictError('lease_state_changed', `Lease ${leaseId} is ${old.status}, not ${expectedStatus}.`, { details: { status: old.status } });
    }
    for (const [field, wanted] of Object.entries(condition)) {
      const actual = (old as unknown as Record<string, unknown>)[field];
      if (wanted === null ? actual !== undefined : actual !== wanted) {
        throw new ConflictError('lease_condition_failed', `Lease ${leaseId} has changed since it was read.`, { details: { status: old.status, lease: old } });
      }
    }
    const updated: Record<string, unknown> = { ...old };
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined || field === 'leaseId') continue;
      if (value === null) delete updated[field];
      else updated[field] = value;
    }
    // As the adapter: the due key changes with the status (an update to active is a certificate's).
    const due = changes.status ? dueOf(changes.kind ?? (changes.status === 'active' ? 'certificate' : 'credentials'), changes.status, leaseId) : stored.due;
    this.put(updated as unknown as Lease, due);
    return this.lease(leaseId) as Lease;
  }

  async query(query: LeaseQuery): Promise<LeasePage> {
    this.enter('query', [query]);
    const matches = (l: Lease) => (query.status === undefined || l.status === query.status) && (query.kind === undefined || l.kind === query.kind);
    if (query.caller !== undefined) {
      const leases = this.all().filter((l) => l.caller === query.caller && matches(l)).sort(newestFirst);
      return page(leases, newestFirst, Math.min(query.limit, MAX_PAGE), query.cursor, (l) => ({ leaseId: l.leaseId, caller: l.caller }));
    }
    return page(this.all().filter(matches), byId, Math.min(query.limit, MAX_PAGE), query.cursor, (l) => ({ leaseId: l.leaseId }));
  }

  async due(query: DueQuery): Promise<LeasePage> {
    this.enter('due', [query]);
    const partition = duePartition(query.status, query.shard);
    const from = query.after?.toISOString() ?? '';
    const to = query.before?.toISOString();
    const leases = [...this.items.entries()]
      .filter(([, s]) => s.due === partition)
      .map(([id]) => this.lease(id) as Lease)
      .filter((l) => l.expiresAt >= from && (to === undefined || l.expiresAt < to))
      .sort(byExpiry);
    return page(leases, byExpiry, Math.min(query.limit, MAX_PAGE), query.cursor, (l) => ({ leaseId: l.leaseId, due: partition, expiresAt: l.expiresAt }));
  }

  async findByAccessKeyId(accessKeyId: string): Promise<Lease | undefined> {
    this.enter('findByAccessKeyId', [accessKeyId]);
    return this.all().find((l) => l.accessKeyId === accessKeyId);
  }

  async loadJobState(job: string): Promise<Record<string, unknown> | undefined> {
    this.enter('loadJobState', [job]);
    const state = this.jobStates.get(job);
    return state ? structuredClone(state) : undefined;
  }

  async saveJobState(job: string, state: Record<string, unknown> | undefined): Promise<void> {
    this.enter('saveJobState', [job, state]);
    if (state === undefined) this.jobStates.delete(job);
    else this.jobStates.set(job, JSON.parse(JSON.stringify(state)) as Record<string, unknown>);
  }

  private put(lease: Lease, due?: string): void {
    const item = leaseItem(lease);
    const key = due === undefined && !this.items.has(lease.leaseId) ? item.due?.S : due;
    delete item.due;
    this.items.set(lease.leaseId, { item, ...(key ? { due: key } : {}) });
  }

  private lease(leaseId: string): Lease | undefined {
    const stored = this.items.get(leaseId);
    return stored ? leaseFromItem(structuredClone(stored.item)) : undefined;
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

function byId(a: Lease, b: Lease): number {
  return compare(a.leaseId, b.leaseId);
}

function byExpiry(a: Lease, b: Lease): number {
  return compare(a.expiresAt, b.expiresAt) || compare(a.leaseId, b.leaseId);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}
