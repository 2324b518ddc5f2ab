import type { Lease, LeaseStatus } from '../domain/lease';
import type { LeaseStore } from '../ports';

/**
 * Where a pass over the shards of one status stopped: per shard, the index position to go on from,
 * or `done`; a shard not named has not been started. JSON-safe, so a job can save it between runs.
 */
export type ShardPositions = Readonly<Record<string, Record<string, unknown> | 'done'>>;

/** Which leases of the `due` index a pass reads: one status, `after <= expiresAt < before`. */
export interface DueRange {
  readonly status: LeaseStatus;
  readonly after?: Date;
  readonly before?: Date;
}

export interface ShardPassOptions {
  /** Shards read at once (each reads its pages in order). */
  readonly concurrency: number;
  readonly pageSize: number;
  /** Asked before every page: true ends the pass there (a time budget spent, enough read). */
  readonly shouldStop: () => boolean;
  /** Where an earlier pass stopped. */
  readonly from?: ShardPositions;
}

export interface ShardPass {
  readonly positions: ShardPositions;
  /** Every shard read to its end. */
  readonly complete: boolean;
  readonly read: number;
}

/**
 * Reads every shard of the `due` index for one status, at most `concurrency` shards at a time,
 * handing each lease to `visit` (a page's leases one after another; the next page of a shard is
 * read only after its last page was visited, so a saved position never skips an unvisited lease).
 * Stops, between pages, as soon as `shouldStop` says so, and says where each shard stood.
 */
export async function passOverShards(leases: LeaseStore, range: DueRange, options: ShardPassOptions, visit: (lease: Lease) => Promise<void>): Promise<ShardPass> {
  const positions: Record<string, Record<string, unknown> | 'done'> = { ...(options.from ?? {}) };
  const queue = Array.from({ length: leases.dueShards }, (_, shard) => shard).filter((shard) => positions[shard] !== 'done');
  let read = 0;
  let stopped = false;

  const worker = async (): Promise<void> => {
    for (let shard = queue.shift(); shard !== undefined; shard = queue.shift()) {
      let cursor = positions[shard] as Record<string, unknown> | undefined;
      for (;;) {
        if (stopped || options.shouldStop()) {
          stopped = true;
          return;
        }
        const page = await leases.due({ ...range, shard, limit: options.pageSize, ...(cursor ? { cursor } : {}) });
        read += page.leases.length;
        for (const lease of page.leases) await visit(lease);
        if (!page.next) {
          positions[shard] = 'done';
          break;
        }
        cursor = page.next;
        positions[shard] = cursor;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
  const complete = Array.from({ length: leases.dueShards }, (_, shard) => positions[shard] === 'done').every(Boolean);
  return { positions, complete, read };
}
