import { ConflictError } from '../../../../shared/domain/errors';
import { assertTransition, canTransition, DEFAULT_RETENTION_SECONDS, isInForce, pendingLease, ttlFor, type LeaseStatus } from '../../../../shared/domain/lease';

const NOW = new Date('2030-01-01T00:00:00Z');
const EXPIRES = new Date('2030-01-01T01:00:00Z');

function lease(status: LeaseStatus = 'pending') {
  return {
    ...pendingLease({ leaseId: 'L1', kind: 'credentials', caller: 'k8s:sub', ruleId: 'r', requestId: 'req', now: NOW, expiresAt: EXPIRES, roleArn: 'arn:aws:iam::1:role/x' }),
    status,
  };
}

describe('lease state machine', () => {
  const ALL: LeaseStatus[] = ['pending', 'active', 'expired', 'revoked', 'failed'];
  const ALLOWED = new Set(['pending->active', 'pending->failed', 'active->expired', 'active->revoked']);

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
