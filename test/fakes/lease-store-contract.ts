import { ConflictError, NotFoundError } from '../../shared/domain/errors';
import { pendingLease, type Lease, type LeaseKind, type LeaseStatus } from '../../shared/domain/lease';
import { dueShard } from '../../shared/adapters/dynamo-lease-table';
import type { LeaseStore } from '../../shared/ports';

/**
 * The behaviour every LeaseStore must have, as jest tests. Run against the in-memory fake
 * (test/unit/fakes) and the DynamoDB adapter on moto (test/integration), so the fake that unit
 * tests rely on is known to behave like the real store.
 *
 * @example
 *   describeLeaseStoreContract('InMemoryLeaseStore', async () => new InMemoryLeaseStore());
 */
export function describeLeaseStoreContract(name: string, makeStore: () => Promise<LeaseStore>): void {
  const NOW = new Date('2030-01-01T00:00:00Z');

  function lease(n: number, overrides: { caller?: string; kind?: LeaseKind; status?: LeaseStatus; expiresInSeconds?: number; accessKeyId?: string } = {}): Lease {
    const base = pendingLease({
      leaseId: `01CONTRACT${String(n).padStart(16, '0')}`,
      kind: overrides.kind ?? 'credentials',
      caller: overrides.caller ?? 'k8s:alice',
      ruleId: 'r',
      requestId: `req-${n}`,
      now: NOW,
      expiresAt: new Date(NOW.getTime() + (overrides.expiresInSeconds ?? 3600) * 1000),
      roleArn: 'arn:aws:iam::111122223333:role/x',
    });
    return { ...base, status: overrides.status ?? 'pending', ...(overrides.accessKeyId ? { accessKeyId: overrides.accessKeyId } : {}) };
  }

  async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
    try {
      await promise;
    } catch (error) {
      return error as Error & { code?: string };
    }
    throw new Error('expected a rejection');
  }

  describe(`${name} (LeaseStore contract)`, () => {
    let store: LeaseStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    test('create then get returns the record as written', async () => {
      const l = lease(1);
      await store.create(l);
      expect(await store.get(l.leaseId)).toEqual(l);
      expect(await store.get('01CONTRACT0000000000000099')).toBeUndefined();
    });

    test('the claims a lease records, list claims and unreadable claim names included, read back as written and are updated as given', async () => {
      const l: Lease = {
        ...lease(1),
        claims: { department: 'eng' },
        claimLists: { groups: ['platform-core', 'sre'], 'cognito:groups': ['admins'], empty: [] },
        unreadableClaims: ['amr'],
      };
      await store.create(l);
      expect(await store.get(l.leaseId)).toEqual(l);
      const updated = await store.update(l.leaseId, 'pending', { claimLists: { groups: ['contractors'] }, unreadableClaims: null });
      const { unreadableClaims: _gone, ...rest } = l;
      expect(updated).toEqual({ ...rest, claimLists: { groups: ['contractors'] } });
      expect(await store.get(l.leaseId)).toEqual(updated);
    });

    test('the read set a lease records (claimsRead) reads back as written, an empty one as empty (not as absent), and is updated as given', async () => {
      const read: Lease = { ...lease(1), claims: { namespace: 'team-a' }, claimsRead: ['groups', 'namespace'] };
      const none: Lease = { ...lease(2), claims: {}, claimsRead: [] };
      const legacy: Lease = { ...lease(3), claims: { namespace: 'team-a' } };
      for (const l of [read, none, legacy]) await store.create(l);
      expect(await store.get(read.leaseId)).toEqual(read);
      expect((await store.get(none.leaseId))?.claimsRead).toEqual([]);
      expect(await store.get(none.leaseId)).toEqual(none);
      expect(await store.get(legacy.leaseId)).not.toHaveProperty('claimsRead');
      const updated = await store.update(legacy.leaseId, 'pending', { claimsRead: ['namespace'] });
      expect(updated).toEqual({ ...legacy, claimsRead: ['namespace'] });
      expect(await store.get(legacy.leaseId)).toEqual(updated);
    });

    test('create refuses an existing id with ConflictError lease_exists, leaving the record', async () => {
      const l = lease(1);
      await store.create(l);
      const error = await rejection(store.create({ ...l, caller: 'k8s:mallory' }));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('lease_exists');
      expect((await store.get(l.leaseId))?.caller).toBe('k8s:alice');
    });

    test('update applies changes when the status is as expected and returns the new record', async () => {
      const l = lease(1);
      await store.create(l);
      const updated = await store.update(l.leaseId, 'pending', { status: 'active', accessKeyId: 'ASIAEXAMPLE', packedPolicySize: 12, leaseId: 'ignored' } as Partial<Lease>);
      expect(updated).toEqual({ ...l, status: 'active', accessKeyId: 'ASIAEXAMPLE', packedPolicySize: 12 });
      expect(await store.get(l.leaseId)).toEqual(updated);
    });

    test('update refuses another status with ConflictError lease_state_changed naming the stored status', async () => {
      const l = lease(1);
      await store.create(l);
      await store.update(l.leaseId, 'pending', { status: 'active' });
      const error = await rejection(store.update(l.leaseId, 'pending', { status: 'failed' }));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('lease_state_changed');
      expect(error.details).toEqual({ status: 'active' });
      expect((await store.get(l.leaseId))?.status).toBe('active');
    });

    test('update of a missing lease is NotFoundError lease_not_found, and creates nothing', async () => {
      const error = await rejection(store.update('01CONTRACT0000000000000042', 'pending', { status: 'active' }));
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.code).toBe('lease_not_found');
      expect(await store.get('01CONTRACT0000000000000042')).toBeUndefined();
    });

    test('query by caller: newest first, filtered by status and kind, paged with a cursor', async () => {
      for (let n = 1; n <= 5; n++) await store.create(lease(n));
      await store.create(lease(6, { kind: 'certificate' }));
      await store.create(lease(7, { caller: 'k8s:bob' }));
      await store.update(lease(2).leaseId, 'pending', { status: 'active' });

      const ids = (page: { leases: Lease[] }) => page.leases.map((l) => Number(l.leaseId.slice(-2)));
      const first = await store.query({ caller: 'k8s:alice', limit: 2 });
      expect(ids(first)).toEqual([6, 5]);
      expect(first.next).toBeDefined();
      const second = await store.query({ caller: 'k8s:alice', limit: 2, cursor: first.next });
      expect(ids(second)).toEqual([4, 3]);
      const third = await store.query({ caller: 'k8s:alice', limit: 10, cursor: second.next });
      expect(ids(third)).toEqual([2, 1]);
      expect(third.next).toBeUndefined();

      expect(ids(await store.query({ caller: 'k8s:alice', kind: 'certificate', limit: 10 }))).toEqual([6]);
      expect(ids(await store.query({ caller: 'k8s:alice', status: 'active', limit: 10 }))).toEqual([2]);
      expect(ids(await store.query({ caller: 'k8s:bob', limit: 10 }))).toEqual([7]);
      expect((await store.query({ caller: 'k8s:nobody', limit: 10 })).leases).toEqual([]);
    });

    test('query without a caller (an admin listing): every lease, filtered by status and kind, paged to the end', async () => {
      await store.create(lease(1, { status: 'active', kind: 'certificate' }));
      await store.create(lease(2, { status: 'active', caller: 'k8s:bob' }));
      await store.create(lease(3, { status: 'pending', kind: 'certificate' }));
      await store.create(lease(4, { status: 'failed' }));
      await store.saveJobState('renewal', { phase: 'active' });
      const all = async (query: { status?: LeaseStatus; kind?: LeaseKind }) => {
        const ids: number[] = [];
        let cursor: Record<string, unknown> | undefined;
        do {
          const page = await store.query({ ...query, limit: 1, ...(cursor ? { cursor } : {}) });
          ids.push(...page.leases.map((l) => Number(l.leaseId.slice(-2))));
          cursor = page.next;
        } while (cursor);
        return ids.sort((x, y) => x - y);
      };
      // The job's state item shares the table but is no lease.
      expect(await all({})).toEqual([1, 2, 3, 4]);
      expect(await all({ status: 'active' })).toEqual([1, 2]);
      expect(await all({ status: 'active', kind: 'credentials' })).toEqual([2]);
    });

    test('due: one shard of one status, oldest expiry first, within [after, before), paged', async () => {
      // Enough certificate leases that every shard holds some.
      for (let n = 1; n <= 40; n++) await store.create(lease(n, { kind: 'certificate', status: 'active', expiresInSeconds: 100 * n }));
      const seen: string[] = [];
      for (let shard = 0; shard < store.dueShards; shard++) {
        let cursor: Record<string, unknown> | undefined;
        const inShard: Lease[] = [];
        do {
          const page = await store.due({ status: 'active', shard, after: new Date(NOW.getTime() + 500_000), before: new Date(NOW.getTime() + 3_000_000), limit: 2, ...(cursor ? { cursor } : {}) });
          inShard.push(...page.leases);
          cursor = page.next;
        } while (cursor);
        expect(inShard.map((l) => l.expiresAt)).toEqual([...inShard.map((l) => l.expiresAt)].sort());
        expect(inShard.every((l) => dueShard(l.leaseId) === shard)).toBe(true);
        seen.push(...inShard.map((l) => l.leaseId));
      }
      // 500 s <= 100 n s < 3,000 s: n = 5 .. 29, each in exactly one shard.
      expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => lease(i + 5).leaseId));
      expect(new Set(seen.map(dueShard)).size).toBeGreaterThan(8);
    });

    test('due holds what the jobs must see: not an active credentials lease; the partition follows the status', async () => {
      const every = async (status: LeaseStatus) => {
        const ids: string[] = [];
        for (let shard = 0; shard < store.dueShards; shard++) ids.push(...(await store.due({ status, shard, limit: 100 })).leases.map((l) => l.leaseId.slice(-2)));
        return ids.sort();
      };
      await store.create(lease(1, { status: 'active' }));
      await store.create(lease(2, { status: 'pending', kind: 'certificate' }));
      await store.create(lease(3, { status: 'failed' }));
      expect(await every('active')).toEqual([]);
      expect(await every('pending')).toEqual(['02']);
      expect(await every('failed')).toEqual(['03']);
      await store.update(lease(2).leaseId, 'pending', { status: 'active' });
      await store.update(lease(1).leaseId, 'active', { status: 'revoked', revokedAt: NOW.toISOString() });
      expect(await every('pending')).toEqual([]);
      expect(await every('active')).toEqual(['02']);
      expect(await every('revoked')).toEqual(['01']);
      // An update that keeps the status keeps the partition.
      await store.update(lease(2).leaseId, 'active', { renewedBy: '01CONTRACT0000000000000099' });
      expect(await every('active')).toEqual(['02']);
    });

    test('update removes a field given null, and may change nothing but still checks the status', async () => {
      const l = lease(1, { status: 'active' });
      await store.create(l);
      await store.update(l.leaseId, 'active', { renewedBy: '01CONTRACT0000000000000002' });
      expect(await store.update(l.leaseId, 'active', { renewedBy: null }, { renewedBy: '01CONTRACT0000000000000002' })).toEqual(l);
      expect(await store.get(l.leaseId)).toEqual(l);
      expect(await store.update(l.leaseId, 'active', {})).toEqual(l);
      expect((await rejection(store.update(l.leaseId, 'pending', {}))).code).toBe('lease_state_changed');
    });

    test('job state: saved, loaded, replaced and cleared; absent at first', async () => {
      expect(await store.loadJobState('renewal')).toBeUndefined();
      await store.saveJobState('renewal', { phase: 'active', shards: { '3': 'done', '4': { leaseId: 'x', due: 'active#4', expiresAt: '2030' } } });
      expect(await store.loadJobState('renewal')).toEqual({ phase: 'active', shards: { '3': 'done', '4': { leaseId: 'x', due: 'active#4', expiresAt: '2030' } } });
      await store.saveJobState('renewal', { phase: 'revoked' });
      expect(await store.loadJobState('renewal')).toEqual({ phase: 'revoked' });
      await store.saveJobState('renewal', undefined);
      expect(await store.loadJobState('renewal')).toBeUndefined();
      expect(await store.get('job#renewal')).toBeUndefined();
    });

    test('findByAccessKeyId finds the lease of a vended key', async () => {
      await store.create(lease(1));
      await store.update(lease(1).leaseId, 'pending', { status: 'active', accessKeyId: 'ASIAFINDME' });
      await store.create(lease(2));
      expect((await store.findByAccessKeyId('ASIAFINDME'))?.leaseId).toBe(lease(1).leaseId);
      expect(await store.findByAccessKeyId('ASIANOTHERE')).toBeUndefined();
    });

    test('a returned record cannot change what is stored', async () => {
      const l = lease(1);
      await store.create(l);
      const got = (await store.get(l.leaseId)) as { status: string };
      got.status = 'revoked';
      expect((await store.get(l.leaseId))?.status).toBe('pending');
    });
  });
}
