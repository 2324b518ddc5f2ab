// @ts-nocheck
import { DependencyUnavailableError } from '../../../shared/domain/errors';
import type { SessionRequest } from '../../../shared/domain/session';
import { FixedClock, RecordingRoleAssumer, SequentialIds, StaticTokenVerifier, oidcIdentity } from '../../fakes';

const request: SessionRequest = {
  roleArn: 'arn:aws-cn:iam::111122223333:role/path/to/reader',
  roleSessionName: 'L1',
  sourceIdentity: 'caller',
  durationSeconds: 900,
  policyArns: [],
  tags: [],
};

test('RecordingRoleAssumer answers like STS and records every request, failed ones included', async () => {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const sts = new RecordingRoleAssumer(clock, { packedPolicySize: 40 });
  const session = await sts.assumeRole(request);
  expect(session).toEqual({
    accessKeyId: 'ASIAFAKE000000000001',
    secretAccessKey: 'fake-secret-1',
    sessionToken: 'fake-session-token-1',
    expiration: new Date('2030-01-01T00:15:00Z'),
    assumedRoleArn: 'arn:aws-cn:sts::111122223333:assumed-role/reader/L1',
    assumedRoleId: 'AROAFAKE000000000001:L1',
    packedPolicySize: 40,
  });
  const fault = new DependencyUnavailableError('sts_throttled', 'throttled', 1);
  sts.failNext(fault);
  await expect(sts.assumeRole({ ...request, roleSessionName: 'L2' })).rejects.toBe(fault);
  expect((await sts.assumeRole({ ...request, roleSessionName: 'L3' })).accessKeyId).toBe('ASIAFAKE000000000002');
  expect(sts.requests.map((r) => r.roleSessionName)).toEqual(['L1', 'L2', 'L3']);
  expect(sts.callCount).toBe(3);
  expect(sts.issued).toHaveLength(2);
});

test('FixedClock stands still until moved', () => {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const before = clock.now();
  before.setFullYear(1999);
  expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  clock.advanceSeconds(90);
  expect(clock.now().toISOString()).toBe('2030-01-01T00:01:30.000Z');
  clock.set('2031-06-01T12:00:00Z');
  expect(clock.epochSeconds()).toBe(Date.parse('2031-06-01T12:00:00Z') / 1000);
});

test('SequentialIds are ULID-shaped and sort in issue order', () => {
  const ids = new SequentialIds();
  const issued = Array.from({ length: 12 }, () => ids.next());
  for (const id of issued) expect(id).toMatch(/^[0-9A-Z]{26}$/);
  expect([...issued].sort()).toEqual(issued);
  expect(ids.peek()).toBe('01TEST00000000000000000013');
  expect(new SequentialIds('01B').next()).toBe('01B00000000000000000000001');
  expect(() => new SequentialIds('lower')).toThrow();
});

test('StaticTokenVerifier accepts only registered tokens', async () => {
  const identity = oidcIdentity({ namespace: 'team-a' });
  const tokens = new StaticTokenVerifier().accept('t1', identity);
  await expect(tokens.verify('t1')).resolves.toBe(identity);
  await expect(tokens.verify('t2')).rejects.toMatchObject({ code: 'invalid_token' });
  expect(tokens.presented).toEqual(['t1', 't2']);
});
