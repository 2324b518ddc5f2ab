import { reconcilerBatch } from '../../../../functions/reconciler/batch';
import { loadReconcilerConfig } from '../../../../shared/config';
import { brokeredRoleMatcher } from '../../../../shared/domain/cloudtrail-session';
import { ConfigurationError, DependencyUnavailableError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { FixedClock, InMemoryLeaseStore, RecordingSessionRevoker } from '../../../fakes';
import { cloudTrailFixture, FIXTURE_GRANTS_YAML } from '../../../support/cloudtrail-fixtures';

const grants = parseGrantPolicy(FIXTURE_GRANTS_YAML);

function setup() {
  const leases = new InMemoryLeaseStore();
  const logged: Array<{ level: string; message: string; facts: unknown }> = [];
  const log =
    (level: string) =>
    (message: unknown, ...facts: unknown[]): void => {
      logged.push({ level, message: String(message), facts });
    };
  const clock = new FixedClock('2026-12-01T03:10:00Z');
  const batch = reconcilerBatch({
    leases,
    clock,
    broker: { roleArns: ['arn:aws:iam::123456789012:role/Nocreds-BrokerCredentialsFunctionRole-1A2B3C4D'] },
    isBrokeredRole: brokeredRoleMatcher(grants),
    sessionRevoker: new RecordingSessionRevoker(),
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  });
  return { leases, logged, clock, batch };
}

const message = (messageId: string, body: unknown) => ({ messageId, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('a batch: reconciled messages succeed; unreadable ones and dependency errors go back to the queue, one by one', async () => {
  const { leases, logged, batch } = setup();
  leases.failNext('get', new DependencyUnavailableError('dynamodb_throttled', 'Throttled', 1), { when: ([id]) => typeof id === 'string' && id !== '01JDXK2M3N4P5Q6R7S8T9V0W1X' });
  const result = await batch({
    Records: [
      message('m1', cloudTrailFixture('broker-assume-role')),
      message('m2', '{not json'),
      message('m3', { ...cloudTrailFixture('broker-assume-role'), source: 'aws.iam' }),
      message('m4', cloudTrailFixture('broker-assume-role-failed')),
      message('m5', cloudTrailFixture('outside-assume-role')),
    ],
  });
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }, { itemIdentifier: 'm5' }]);
  expect((await leases.get('01JDXK2M3N4P5Q6R7S8T9V0W1X'))?.status).toBe('unrecorded');
  expect(logged.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['broker session without a lease recorded as unrecorded']);
  expect(logged.filter((l) => l.level === 'error')).toHaveLength(3);
  // The event carries the session token: it is never logged.
  expect(JSON.stringify(logged)).not.toContain('IQoJb3JpZ2luX2VjEXAMPLE');
});

test('inside the grace period the message goes back to the queue', async () => {
  const { batch, clock, leases } = setup();
  clock.set('2026-12-01T03:00:30Z');
  expect(await batch({ Records: [message('m1', cloudTrailFixture('broker-assume-role'))] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  expect(leases.size).toBe(0);
});

describe('loadReconcilerConfig', () => {
  const arns = 'arn:aws:iam::123456789012:role/a, arn:aws:iam::123456789012:role/b';
  test('reads the broker roles, grace, revocation and the outside-session switch', () => {
    expect(loadReconcilerConfig({ NOCREDS_BROKER_ROLE_ARNS: arns, NOCREDS_REVOCATION_ENABLED: 'true' })).toEqual({
      brokerRoleArns: ['arn:aws:iam::123456789012:role/a', 'arn:aws:iam::123456789012:role/b'],
      webIdentityProviders: [],
      graceSeconds: 120,
      revokeOutsideSessions: false,
      revocationEnabled: true,
      revocationPolicyPrefix: 'nocreds-revoked',
      revokerRoleName: undefined,
    });
  });
  test.each([
    [{}, /NOCREDS_BROKER_ROLE_ARNS/],
    [{ NOCREDS_BROKER_ROLE_ARNS: 'arn:aws:sts::123456789012:assumed-role/a/b' }, /not role ARNs/],
    [{ NOCREDS_BROKER_ROLE_ARNS: arns, NOCREDS_RECONCILE_GRACE_SECONDS: '30' }, /at least 60/],
    [{ NOCREDS_BROKER_ROLE_ARNS: arns, NOCREDS_REVOKE_OUTSIDE_SESSIONS: 'yes' }, /"true" or "false"/],
  ])('refuses %p', (env, message) => {
    expect(() => loadReconcilerConfig(env)).toThrow(ConfigurationError);
    expect(() => loadReconcilerConfig(env)).toThrow(message);
  });
});
