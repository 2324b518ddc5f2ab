// @ts-nocheck
import { ConflictError, NotFoundError } from '../../shared/domain/errors';
import { pendingLease, type Lease, type LeaseKind, type LeaseStatus } from '../../shared/domain/lease';
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

    test('query by status: oldest expiry first; active by default', async () => {
      await store.create(lease(1, { status: 'active', expiresInSeconds: 300 }));
      await store.create(lease(2, { status: 'active', expiresInSeconds: 100 }));
      await store.create(lease(3, { status: 'pending', expiresInSeconds: 50 }));
      await store.create(lease(4, { status: 'active', expiresInSeconds: 200, kind: 'certificate' }));
      const ids = (page: { leases: Lease[] }) => page.leases.map((l) => Number(l.leaseId.slice(-2)));
      expect(ids(await store.query({ limit: 10 }))).toEqual([2, 4, 1]);
      expect(ids(await store.query({ status: 'pending', limit: 10 }))).toEqual([3]);
      expect(ids(await store.query({ status: 'active', kind: 'credentials', limit: 10 }))).toEqual([2, 1]);
    });

    test('dueBefore: leases of a status expiring before a time, oldest first, paged', async () => {
      await store.create(lease(1, { status: 'active', expiresInSeconds: 300 }));
      await store.create(lease(2, { status: 'active', expiresInSeconds: 100 }));
      await store.create(lease(3, { status: 'active', expiresInSeconds: 7200 }));
      await store.create(lease(4, { status: 'pending', expiresInSeconds: 10 }));
      if (!store.dueBefore) return;
      const before = new Date(NOW.getTime() + 3600 * 1000);
      const first = await store.dueBefore('active', before, 1);
      expect(first.leases.map((l) => l.leaseId.slice(-2))).toEqual(['02']);
      const second = await store.dueBefore('active', before, 10, first.next);
      expect(second.leases.map((l) => l.leaseId.slice(-2))).toEqual(['01']);
    });

    test('findByAccessKeyId finds the lease of a vended key', async () => {
      await store.create(lease(1));
      await store.update(lease(1).leaseId, 'pending', { status: 'active', accessKeyId: 'ASIAFINDME' });
      await store.create(lease(2));
      if (!store.findByAccessKeyId) return;
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
