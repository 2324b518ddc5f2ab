import { ConflictError } from '../../../../shared/domain/errors';
import fc from 'fast-check';
import {
  abandonedChanges,
  assertTransition,
  canTransition,
  DEFAULT_RETENTION_SECONDS,
  isInForce,
  LEASE_STATUSES,
  mustSettle,
  pendingLease,
  ttlFor,
  type LeaseStatus,
} from '../../../../shared/domain/lease';

const NOW = new Date('2030-01-01T00:00:00Z');
const EXPIRES = new Date('2030-01-01T01:00:00Z');

function lease(status: LeaseStatus = 'pending') {
  return {
    ...pendingLease({ leaseId: 'L1', kind: 'credentials', caller: 'k8s:sub', ruleId: 'r', requestId: 'req', now: NOW, expiresAt: EXPIRES, roleArn: 'arn:aws:iam::1:role/x' }),
    status,
  };
}

describe('lease state machine', () => {
  // unrecorded: written only by the CloudTrail reconciler, terminal (no transition to or from it).
  const ALL: LeaseStatus[] = ['pending', 'active', 'expired', 'revoked', 'failed', 'abandoned', 'unrecorded'];
  const ALLOWED = new Set(['pending->active', 'pending->failed', 'pending->abandoned', 'active->expired', 'active->revoked']);

  test('every status is listed once', () => {
    expect([...LEASE_STATUSES].sort()).toEqual([...ALL].sort());
  });

  test.each(ALL.flatMap((from) => ALL.map((to) => [from, to] as const)))('%s -> %s', (from, to) => {
    const expected = ALLOWED.has(`${from}->${to}`);
    expect(canTransition(from, to)).toBe(expected);
    if (expected) expect(() => assertTransition(lease(from), to)).not.toThrow();
    else expect(() => assertTransition(lease(from), to)).toThrow(ConflictError);
  });

  test('a refused transition names the lease and both states', () => {
    try {
      assertTransition(lease('revoked'), 'active');
      throw new Error('expected a conflict');
    } catch (error) {
      expect((error as ConflictError).code).toBe('invalid_lease_transition');
      expect((error as Error).message).toBe('Lease L1 is revoked and cannot become active.');
    }
  });
});

describe('pendingLease', () => {
  test('starts pending, with times in ISO 8601 and a TTL of expiry plus retention', () => {
    expect(lease()).toEqual({
      leaseId: 'L1',
      kind: 'credentials',
      caller: 'k8s:sub',
      ruleId: 'r',
      requestId: 'req',
      roleArn: 'arn:aws:iam::1:role/x',
      status: 'pending',
      issuedAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
      expiresAt: '2030-01-01T01:00:00.000Z',
      ttl: EXPIRES.getTime() / 1000 + DEFAULT_RETENTION_SECONDS,
    });
  });

  test('drops absent optional fields (DynamoDB refuses undefined)', () => {
    expect((Object.values(lease()) as unknown[]).includes(undefined)).toBe(false);
    expect('caArn' in lease()).toBe(false);
  });

  test('honours a retention period', () => {
    expect(ttlFor(EXPIRES, 3600)).toBe(EXPIRES.getTime() / 1000 + 3600);
  });
});

describe('isInForce', () => {
  test('only an active lease before its expiry is in force', () => {
    expect(isInForce(lease('active'), NOW)).toBe(true);
    expect(isInForce(lease('active'), EXPIRES)).toBe(false);
    expect(isInForce(lease('pending'), NOW)).toBe(false);
    expect(isInForce(lease('revoked'), NOW)).toBe(false);
  });
});

describe('settling pending leases', () => {
  test('a pending lease must be settled once its grace period has passed', () => {
    const pending = lease();
    expect(mustSettle(pending, new Date(NOW.getTime() + 299_000), 300)).toBe(false);
    expect(mustSettle(pending, new Date(NOW.getTime() + 300_000), 300)).toBe(true);
    expect(mustSettle(lease('active'), new Date(NOW.getTime() + 3_600_000), 300)).toBe(false);
  });

  // The invariant: no lease is pending past the expiry of what it may have issued, whatever the grace.
  test('property: a pending lease is due for settlement at its expiry at the latest (seed fixed)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 60, max: 10_000 }), fc.integer({ min: 0, max: 20_000 }), (lifeSeconds, grace, elapsed) => {
        const pending = { ...lease(), expiresAt: new Date(NOW.getTime() + lifeSeconds * 1000).toISOString() };
        const now = new Date(NOW.getTime() + elapsed * 1000);
        const due = mustSettle(pending, now, grace);
        expect(due).toBe(elapsed >= Math.min(grace, lifeSeconds));
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  test('abandoning records why and what was revoked; only a pending lease can be abandoned', () => {
    const at = new Date('2030-01-01T00:10:00Z');
    expect(abandonedChanges(lease(), { now: at, reason: 'never delivered', revocationMethod: 'session-deny' })).toEqual({
      status: 'abandoned',
      failureReason: 'never delivered',
      updatedAt: at.toISOString(),
      revocationMethod: 'session-deny',
      revokedAt: at.toISOString(),
    });
    expect(abandonedChanges(lease(), { now: at, reason: 'x', revocationMethod: 'none' })).toEqual({ status: 'abandoned', failureReason: 'x', updatedAt: at.toISOString(), revocationMethod: 'none' });
    expect(abandonedChanges(lease(), { now: at, reason: 'x', revokedSerialNumber: 'aa:01', revokeReason: 'CESSATION_OF_OPERATION' })).toMatchObject({ serialNumber: 'aa:01', revokedAt: at.toISOString(), revokeReason: 'CESSATION_OF_OPERATION' });
    expect(abandonedChanges(lease(), { now: at, reason: 'y'.repeat(2000) }).failureReason).toHaveLength(1024);
    for (const status of ['active', 'failed', 'abandoned', 'revoked', 'expired'] as const) {
      expect(() => abandonedChanges(lease(status), { now: at, reason: 'x' })).toThrow(ConflictError);
    }
  });
});
