import { createHash } from 'node:crypto';
import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Lease, LeaseKind, LeaseStatus } from '../domain/lease';

/**
 * The lease table: one description that the store (dynamo-lease-store.ts), the CDK construct
 * (infra/nocreds.ts), the local stack (local/stack.ts) and the cost model all read.
 *
 * | index       | partition key             | sort key  | projection          | holds                                                  |
 * |-------------|---------------------------|-----------|---------------------|--------------------------------------------------------|
 * | (table)     | leaseId                   |           | every attribute     | get, conditional writes                                |
 * | byCaller    | caller                    | leaseId   | keys + kind, status | GET /v1/leases for one caller, newest first            |
 * | byAccessKey | accessKeyId               |           | keys only           | CloudTrail access key id -> lease (credentials only)   |
 * | due         | due = `<status>#<shard>`  | expiresAt | keys only           | what the scheduled jobs must see (sparse, see dueOf)   |
 *
 * No index has a hot key: `caller` and `accessKeyId` spread by workload and by key; `due` is
 * write-sharded by a hash of the lease id. Keys-only indexes cost about 100 bytes of index write
 * per item; the jobs and listings read the full items by key afterwards (reads are 5x cheaper than
 * writes, and the indexes are written far more often than read).
 *
 * `ttl` (epoch seconds) is the TTL attribute: expiry plus retention. TTL deletes lag by days,
 * so readers still check `expiresAt`.
 */
export const DUE_SHARDS = 16;

export interface LeaseIndex {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** KEYS_ONLY, or INCLUDE with the non-key attributes listed. */
  readonly projection: { readonly type: 'KEYS_ONLY' } | { readonly type: 'INCLUDE'; readonly attributes: readonly string[] };
}

export const LEASE_TABLE = {
  partitionKey: 'leaseId',
  ttlAttribute: 'ttl',
  /** Shards of the `due` index: partitions `<status>#0` .. `<status>#15`. See docs/leases.md for the count. */
  dueShards: DUE_SHARDS,
  indexes: [
    { name: 'byCaller', partitionKey: 'caller', sortKey: 'leaseId', projection: { type: 'INCLUDE', attributes: ['kind', 'status'] } },
    { name: 'byAccessKey', partitionKey: 'accessKeyId', projection: { type: 'KEYS_ONLY' } },
    { name: 'due', partitionKey: 'due', sortKey: 'expiresAt', projection: { type: 'KEYS_ONLY' } },
  ] as readonly LeaseIndex[],
} as const;

/** Attribute names of the keys, for the key schema (every key attribute is a string). */
export const KEY_ATTRIBUTES = ['leaseId', 'caller', 'accessKeyId', 'due', 'expiresAt'] as const;

/** The CreateTable input for this schema: used by the local run and the integration tests. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [{ AttributeName: LEASE_TABLE.partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: LEASE_TABLE.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [{ AttributeName: index.partitionKey, KeyType: 'HASH' as const }, ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : [])],
      Projection: index.projection.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.attributes] } : { ProjectionType: 'KEYS_ONLY' },
    })),
  };
}

/** The shard of a lease in the `due` index: a stable hash of its id, mod DUE_SHARDS. */
export function dueShard(leaseId: string): number {
  return createHash('sha256').update(leaseId).digest().readUInt32BE(0) % DUE_SHARDS;
}

/**
 * Whether a job must see a lease in this state, and so its `due` partition, or undefined.
 *
 * Every lease is due except an active credentials lease: it needs no write at expiry (expired is
 * derived from `expiresAt`) and no job acts on it, so the vend's one put writes no `due` and the
 * busiest path pays for two index entries only (byCaller, byAccessKey). Pending certificates are
 * settled or collected by the renewal job; active certificates are renewed; revoked and abandoned
 * credentials leases have deny entries to prune; failed, revoked and abandoned leases, and any
 * state added later (a reconciler's `unrecorded`), are what the audit lists. The sort key
 * `expiresAt` lets each job read only the range it needs, so entries past it cost no reads.
 */
export function dueOf(kind: LeaseKind, status: LeaseStatus, leaseId: string): string | undefined {
  if (kind === 'credentials' && status === 'active') return undefined;
  return duePartition(status, dueShard(leaseId));
}

export function duePartition(status: LeaseStatus, shard: number): string {
  return `${status}#${shard}`;
}

/** Job state items share the table under keys no lease id (26 characters of [0-9A-Z]) can take. */
export function jobStateKey(job: string): string {
  return `job#${job}`;
}

/**
 * The DynamoDB item of a lease: what one PutItem writes. The record as the domain keeps it (which
 * already records only the claims the grant policy reads, and no identity the caller id repeats),
 * less `updatedAt` while it equals `issuedAt` (a lease never updated), plus the sparse `due` key
 * where a job needs the lease.
 */
export function leaseItem(lease: Lease): Record<string, AttributeValue> {
  const { updatedAt, ...rest } = lease;
  const due = dueOf(lease.kind, lease.status, lease.leaseId);
  return marshall({ ...rest, ...(updatedAt === lease.issuedAt ? {} : { updatedAt }), ...(due ? { due } : {}) }, { removeUndefinedValues: true });
}

/** The lease an item holds (the inverse of leaseItem; tolerates items written before it). */
export function leaseFromItem(item: Record<string, AttributeValue>): Lease {
  const { due: _due, identity, ...stored } = unmarshall(item) as Lease & { due?: string; identity?: { attributes?: Record<string, string> } };
  // Items written before the lean layout carried the whole identity: its attributes are its claims.
  const claims = stored.claims ?? identity?.attributes;
  return { ...stored, updatedAt: stored.updatedAt ?? stored.issuedAt, ...(claims ? { claims } : {}) };
}
