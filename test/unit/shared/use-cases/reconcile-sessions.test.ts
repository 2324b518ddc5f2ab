import fc from 'fast-check';
import { brokeredRoleMatcher, parseSessionEvent, type SessionEvent } from '../../../../shared/domain/cloudtrail-session';
import { ConflictError, DependencyDeniedError, DependencyUnavailableError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { pendingLease, type Lease, type LeaseStatus } from '../../../../shared/domain/lease';
import { reconcileSession, type ReconcileSessionsDeps } from '../../../../shared/use-cases/reconcile-sessions';
import { FixedClock, InMemoryLeaseStore, RecordingSessionRevoker, SequentialIds } from '../../../fakes';
import { cloudTrailFixture, FIXTURE_GRANTS_YAML } from '../../../support/cloudtrail-fixtures';

const CREDENTIALS_ROLE = 'arn:aws:iam::123456789012:role/Nocreds-BrokerCredentialsFunctionRole-1A2B3C4D';
const APP_ROLE = 'arn:aws:iam::123456789012:role/nocreds/team-a-app';
const LEASE_ID = '01JDXK2M3N4P5Q6R7S8T9V0W1X';
const grants = parseGrantPolicy(FIXTURE_GRANTS_YAML);

/** The fixture events (03:00 to 03:06), with the clock past their grace period. */
function world(options: { revocation?: boolean; revokeOutsideSessions?: boolean; leases?: Lease[] } = {}) {
  const leases = new InMemoryLeaseStore(options.leases ?? []);
  const revoker = new RecordingSessionRevoker();
  const clock = new FixedClock('2026-12-01T03:10:00Z');
  const deps: ReconcileSessionsDeps = {
    leases,
    clock,
    broker: { roleArns: [CREDENTIALS_ROLE] },
    isBrokeredRole: brokeredRoleMatcher(grants),
    ...(options.revocation === false ? {} : { sessionRevoker: revoker }),
    ...(options.revokeOutsideSessions ? { revokeOutsideSessions: true } : {}),
  };
  return { leases, revoker, clock, deps };
}

const event = (name = 'broker-assume-role') => parseSessionEvent(cloudTrailFixture(name)) as SessionEvent;

/** The lease the vend writes for the fixture's session (any status). */
function vendLease(status: LeaseStatus = 'active', leaseId = LEASE_ID): Lease {
  const lease = pendingLease({ leaseId, kind: 'credentials', caller: 'system:serviceaccount:team-a:api', ruleId: 'team-apps', requestId: 'r', now: new Date('2026-12-01T03:00:00Z'), expiresAt: new Date('2026-12-01T03:15:00Z'), roleArn: APP_ROLE });
  return { ...lease, status };
}

describe("the broker's own session", () => {
  test('with no lease after the grace period: recorded unrecorded, then blocked by the per-lease deny, and the lease says how', async () => {
    const w = world();
    const outcome = await reconcileSession(w.deps, event());
    expect(outcome).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'session-deny' });
    expect(w.revoker.blocked(APP_ROLE)).toEqual([LEASE_ID]);
    expect(w.revoker.requests[0]).toMatchObject({ roleArn: APP_ROLE, roleSessionName: LEASE_ID, issuedAt: new Date('2026-12-01T03:00:00Z'), expiresAt: new Date('2026-12-01T03:15:00Z') });
    // The record came first: a block is never applied to a session whose lease might still appear.
    expect(w.leases.calls.map((c) => c.operation)).toEqual(['get', 'create', 'update']);
    const lease = await w.leases.get(LEASE_ID);
    expect(lease).toMatchObject({
      status: 'unrecorded',
      origin: 'broker',
      caller: 'system:serviceaccount:team-a:api',
      roleArn: APP_ROLE,
      accessKeyId: 'ASIAEXAMPLEVENDED001',
      revocationMethod: 'session-deny',
      revokedAt: '2026-12-01T03:10:00.000Z',
      revokeReason: 'session_without_lease',
    });
    expect(lease?.failureReason).toMatch(/no lease recorded it.*denied by fake/);
  });

  test.each(['active', 'pending', 'revoked', 'expired', 'failed', 'abandoned'] as const)('whose lease exists (%s): nothing is written and nothing blocked', async (status) => {
    const w = world({ leases: [vendLease(status)] });
    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'recorded', leaseId: LEASE_ID });
    expect(w.revoker.requests).toEqual([]);
    expect(w.leases.calls.map((c) => c.operation)).toEqual(['get']);
    expect((await w.leases.get(LEASE_ID))?.status).toBe(status);
  });

  test('inside the grace period: too early, nothing read (the vend may still write its lease)', async () => {
    const w = world();
    w.clock.set('2026-12-01T03:01:30Z');
    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'too_early', retryAfterSeconds: 30 });
    expect(w.leases.calls).toEqual([]);
  });

  test('a grace period set below the minimum is raised to it', async () => {
    const w = world();
    w.clock.set('2026-12-01T03:00:30Z');
    expect(await reconcileSession({ ...w.deps, graceSeconds: 1 }, event())).toEqual({ outcome: 'too_early', retryAfterSeconds: 30 });
  });

  test('the vend writing its lease at the same moment wins: the reconciler stands down and blocks nothing', async () => {
    const w = world();
    const racing = new (class extends InMemoryLeaseStore {
      override async create(lease: Lease): Promise<void> {
        if (lease.status === 'unrecorded') await super.create(vendLease('active'));
        return super.create(lease);
      }
    })();
    expect(await reconcileSession({ ...w.deps, leases: racing }, event())).toEqual({ outcome: 'recorded', leaseId: LEASE_ID });
    expect(w.revoker.requests).toEqual([]);
    expect((await racing.get(LEASE_ID))?.status).toBe('active');
  });

  test('revocation off: recorded unrecorded with revocation none, and why', async () => {
    const w = world({ revocation: false });
    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'none' });
    expect((await w.leases.get(LEASE_ID))?.failureReason).toMatch(/revocation is not enabled/);
  });

  test('IAM throttled: the error goes back to the queue with the record in place; the redelivery finishes the block', async () => {
    const w = world();
    w.revoker.failNext(new DependencyUnavailableError('iam_throttled', 'Rate exceeded', 1));
    await expect(reconcileSession(w.deps, event())).rejects.toThrow('Rate exceeded');
    expect(await w.leases.get(LEASE_ID)).toMatchObject({ status: 'unrecorded' });
    expect((await w.leases.get(LEASE_ID))?.revocationMethod).toBeUndefined();

    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'session-deny' });
    expect(w.revoker.blocked(APP_ROLE)).toEqual([LEASE_ID]);
    // A third delivery has nothing left to do.
    const before = w.revoker.requests.length;
    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'session-deny' });
    expect(w.revoker.requests.length).toBe(before);
  });

  test('a block left unfinished, then revocation turned off: the redelivery records that nothing was blocked', async () => {
    const w = world();
    w.revoker.failNext(new DependencyUnavailableError('iam_throttled', 'Rate exceeded', 1));
    await expect(reconcileSession(w.deps, event())).rejects.toThrow('Rate exceeded');
    const { sessionRevoker: _off, ...withoutRevocation } = w.deps;
    expect(await reconcileSession(withoutRevocation, event())).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'none' });
    expect((await w.leases.get(LEASE_ID))?.failureReason).toMatch(/revocation is not enabled/);
  });

  test.each([
    ['IAM refused the broker', new DependencyDeniedError('iam_access_denied', 'not authorized to perform iam:PutRolePolicy')],
    ['no revoker role in that account', new ConflictError('revocation_unavailable', 'the broker cannot assume the revoker role')],
  ])('%s: recorded as not blocked, with the reason, and not retried forever', async (_name, error) => {
    const w = world();
    w.revoker.failNext(error);
    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'none' });
    expect((await w.leases.get(LEASE_ID))?.failureReason).toContain(error.message);
  });

  test('found after the session expired: recorded, nothing to block', async () => {
    const w = world();
    w.clock.set('2026-12-01T04:00:00Z');
    expect(await reconcileSession(w.deps, event())).toEqual({ outcome: 'unrecorded', leaseId: LEASE_ID, revocationMethod: 'none' });
    expect(w.revoker.requests).toEqual([]);
    expect((await w.leases.get(LEASE_ID))?.failureReason).toMatch(/expired at .* before it was found/);
  });
});

describe('sessions nocreds did not mint', () => {
  test('someone else on a brokered role: flagged as an outside lease, not blocked by default', async () => {
    const w = world();
    const outcome = await reconcileSession(w.deps, event('outside-assume-role'));
    expect(outcome).toMatchObject({ outcome: 'outside', revocationMethod: 'none' });
    const lease = await w.leases.get((outcome as { leaseId: string }).leaseId);
    expect(lease).toMatchObject({ status: 'unrecorded', origin: 'outside', caller: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.org', roleArn: APP_ROLE, revocationMethod: 'none' });
    expect(lease?.failureReason).toMatch(/not by nocreds.*revokeOutsideSessions is off/);
    expect(w.revoker.requests).toEqual([]);
  });

  test('with revokeOutsideSessions: blocked by its own session name', async () => {
    const w = world({ revokeOutsideSessions: true });
    expect(await reconcileSession(w.deps, event('outside-assume-role'))).toMatchObject({ outcome: 'outside', revocationMethod: 'session-deny' });
    expect(w.revoker.blocked(APP_ROLE)).toEqual(['alice-debugging']);
  });

  test('redelivered: one record', async () => {
    const w = world();
    const first = await reconcileSession(w.deps, event('outside-web-identity'));
    const again = await reconcileSession(w.deps, event('outside-web-identity'));
    expect(again).toEqual(first);
    expect(w.leases.size).toBe(1);
  });

  test.each(['broker-assume-role-failed', 'broker-revoker-session', 'unbrokered-role'])('%s: ignored without a read', async (name) => {
    const w = world();
    expect((await reconcileSession(w.deps, parseSessionEvent(cloudTrailFixture(name)))).outcome).toBe('ignored');
    expect(w.leases.calls).toEqual([]);
  });
});

/**
 * Invariants over any mix of broker sessions (some recorded by the vend, in any status, some not),
 * outside sessions, and deliveries in any order with any repetition:
 * - a session whose lease the vend recorded is never blocked, and its lease is untouched;
 * - every broker session ends with a lease, and every unrecorded one is blocked;
 * - the store after any delivery sequence equals the store after one delivery of each event.
 */
test('property: never block a recorded session; every broker session ends as a lease; redelivery changes nothing (seed fixed)', async () => {
  const statuses: LeaseStatus[] = ['active', 'pending', 'revoked', 'expired', 'failed', 'abandoned'];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ recorded: fc.option(fc.constantFrom(...statuses), { nil: undefined }), outside: fc.boolean() }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 24 }),
      async (sessions, order) => {
        const ids = new SequentialIds('01TEST', 1000);
        const events = sessions.map((s, i) => {
          const json = cloudTrailFixture(s.outside ? 'outside-assume-role' : 'broker-assume-role');
          json.detail.eventID = `event-${i}`;
          if (!s.outside) json.detail.requestParameters.roleSessionName = ids.next();
          return parseSessionEvent(json) as SessionEvent;
        });
        const recorded = sessions.flatMap((s, i) => (s.recorded && !s.outside ? [vendLease(s.recorded, (events[i] as SessionEvent).roleSessionName)] : []));

        const once = world({ leases: recorded });
        for (const e of events) await reconcileSession(once.deps, e);
        const repeated = world({ leases: recorded });
        // Every event at least once, then the random redeliveries.
        for (const i of [...events.keys(), ...order.map((n) => n % events.length)]) await reconcileSession(repeated.deps, events[i] as SessionEvent);

        expect(repeated.leases.all()).toEqual(once.leases.all());
        const blocked = new Set(repeated.revoker.blocked(APP_ROLE));
        for (const lease of recorded) {
          expect(blocked.has(lease.leaseId)).toBe(false);
          expect(await repeated.leases.get(lease.leaseId)).toEqual(lease);
        }
        for (const e of events.filter((_, i) => !sessions[i]?.outside)) {
          const lease = await repeated.leases.get(e.roleSessionName);
          expect(lease).toBeDefined();
          if (lease?.status === 'unrecorded') expect(blocked.has(e.roleSessionName)).toBe(true);
        }
        // Outside sessions are not blocked by default.
        expect(blocked.has('alice-debugging')).toBe(false);
      },
    ),
    { seed: 1_312_026, numRuns: 150 },
  );
});
