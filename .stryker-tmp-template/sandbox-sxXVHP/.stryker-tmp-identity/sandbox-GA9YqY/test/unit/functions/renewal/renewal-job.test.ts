// @ts-nocheck
// 
import { renewalJob } from '../../../../functions/renewal/job';
import { vendCredentials } from '../../../../shared/use-cases/vend-credentials';
import { leaseWorld, TEAM_A_ROLE, teamA } from '../leases/lease-fixture';

function logger() {
  const lines: Array<{ level: string; message: string; data?: unknown }> = [];
  const log = (level: string) => (message: string, data?: unknown) => void lines.push({ level, message, data });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

async function worldWithExpiredLeases(count: number) {
  const world = leaseWorld();
  for (let i = 0; i < count; i++) {
    await vendCredentials({ ...world.deps, roleAssumer: world.sts }, { identity: teamA, requestId: 'r', roleArn: TEAM_A_ROLE, durationSeconds: 900, fresh: true });
  }
  world.clock.advanceSeconds(901);
  return world;
}

test('keeps running batches while the invocation has time, until the work is done', async () => {
  const world = await worldWithExpiredLeases(150);
  const log = logger();
  const summary = await renewalJob({ ...world.deps, logger: log as never })({ getRemainingTimeInMillis: () => 200_000, awsRequestId: 'a' });
  expect(summary).toMatchObject({ expired: 150, incomplete: false });
  expect(summary.batches).toBeGreaterThan(1);
  expect(world.leases.all().every((l) => l.status === 'expired')).toBe(true);
  expect(log.lines.at(-1)).toMatchObject({ level: 'info', message: 'renewal run finished' });
});

test('stops starting batches when less than a minute is left, and says the run is incomplete', async () => {
  const world = await worldWithExpiredLeases(150);
  const summary = await renewalJob({ ...world.deps, logger: logger() as never })({ getRemainingTimeInMillis: () => 30_000, awsRequestId: 'a' });
  expect(summary).toMatchObject({ batches: 1, expired: 100, incomplete: true });
  expect(world.leases.all().filter((l) => l.status === 'active')).toHaveLength(50);
});

test('logs failures without stopping the run', async () => {
  const world = await worldWithExpiredLeases(2);
  const { DependencyUnavailableError } = await import('../../../../shared/domain/errors');
  const first = world.leases.all()[0]?.leaseId;
  world.leases.failNext('update', new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling', 1), { when: (args) => args[0] === first });
  const log = logger();
  const summary = await renewalJob({ ...world.deps, logger: log as never })({ getRemainingTimeInMillis: () => 200_000, awsRequestId: 'a' });
  expect(summary).toMatchObject({ expired: 1, failed: 1 });
  expect(log.lines.filter((l) => l.level === 'error')).toEqual([{ level: 'error', message: 'renewal step failed', data: { leaseId: first, error: expect.stringContaining('throttling') } }]);
});

test('settles leases left pending past the grace period, counts them and logs each as a warning', async () => {
  const world = leaseWorld();
  const { DependencyUnavailableError } = await import('../../../../shared/domain/errors');
  world.leases.failNext('update', new DependencyUnavailableError('dynamodb_unavailable', 'DynamoDB is unavailable', 1, { outcomeUnknown: true }));
  await expect(vendCredentials({ ...world.deps, roleAssumer: world.sts }, { identity: teamA, requestId: 'r', roleArn: TEAM_A_ROLE, durationSeconds: 900, fresh: true })).rejects.toThrow();
  const [pending] = world.leases.all();
  world.clock.advanceSeconds(301);
  const log = logger();
  const summary = await renewalJob({ ...world.deps, logger: log as never })({ getRemainingTimeInMillis: () => 200_000, awsRequestId: 'a' });
  expect(summary).toMatchObject({ abandoned: 1, failed: 0, incomplete: false });
  expect(log.lines.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', message: 'pending lease settled as abandoned', data: { leaseId: pending?.leaseId, kind: 'credentials', action: 'none' } }]);
  expect(world.leases.all()[0]?.status).toBe('abandoned');
});
