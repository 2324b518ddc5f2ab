// @ts-nocheck
// 
import { DependencyUnavailableError } from '../../../shared/domain/errors';
import { pendingLease } from '../../../shared/domain/lease';
import { InMemoryLeaseStore } from '../../fakes';
import { describeLeaseStoreContract } from '../../fakes/lease-store-contract';

describeLeaseStoreContract('InMemoryLeaseStore', async () => new InMemoryLeaseStore());

describe('InMemoryLeaseStore fault injection', () => {
  const lease = pendingLease({ leaseId: 'L1', kind: 'credentials', caller: 'c', ruleId: 'r', requestId: 'q', now: new Date(0), expiresAt: new Date(1000) });
  const fault = new DependencyUnavailableError('dynamodb_throttled', 'throttled', 1);

  test('failNext fails one call, before it changes anything, then the store works again', async () => {
    const store = new InMemoryLeaseStore().failNext('create', fault);
    await expect(store.create(lease)).rejects.toBe(fault);
    expect(store.size).toBe(0);
    await store.create(lease);
    expect(store.size).toBe(1);
    expect(store.calls.map((c) => c.operation)).toEqual(['create', 'create']);
  });

  test('failNext with `when` fails only matching calls; failAlways until cleared', async () => {
    const store = new InMemoryLeaseStore([lease]).failNext('update', fault, { when: ([, , changes]) => (changes as { status?: string }).status === 'active' });
    await expect(store.update('L1', 'pending', { status: 'active' })).rejects.toBe(fault);
    await expect(store.update('L1', 'pending', { status: 'failed' })).resolves.toMatchObject({ status: 'failed' });
    store.failAlways('get', fault);
    await expect(store.get('L1')).rejects.toBe(fault);
    await expect(store.get('L1')).rejects.toBe(fault);
    store.clearFaults();
    await expect(store.get('L1')).resolves.toMatchObject({ status: 'failed' });
    expect(store.callCount('get')).toBe(3);
  });
});
