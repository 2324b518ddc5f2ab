import { RENEWAL_JOB, RESERVE_MS, renewalJob } from '../../../../functions/renewal/job';
import { pendingLease } from '../../../../shared/domain/lease';
import { CA, leaseWorld, TEAM_A_ROLE, teamA } from '../leases/lease-fixture';

function logger() {
  const lines: Array<{ level: string; message: string; data?: unknown }> = [];
  const log = (level: string) => (message: string, data?: unknown) => void lines.push({ level, message, data });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

/** Certificate leases left pending with no certificate ARN, past the grace period: each is settled as abandoned. */
async function worldWithStalePendingLeases(count: number) {
  const world = leaseWorld();
  for (let i = 0; i < count; i++) {
    await world.leases.create(pendingLease({ leaseId: world.ids.next(), kind: 'certificate', caller: teamA.caller, ruleId: 'team-apps', requestId: 'r', now: world.clock.now(), expiresAt: new Date(world.clock.now().getTime() + 86_400_000), profile: 'mesh', caArn: CA }));
  }
  world.clock.advanceSeconds(301);
  return world;
}

/** A Lambda context whose remaining time drops by `msPerCall` each time it is asked. */
function context(startMs: number, msPerCall = 0) {
  let remaining = startMs;
  return {
    awsRequestId: 'a',
    getRemainingTimeInMillis: () => {
      const now = remaining;
      remaining -= msPerCall;
      return now;
    },
  };
}

test('works through every shard while the invocation has time, and leaves no saved state', async () => {
  const world = await worldWithStalePendingLeases(150);
  const log = logger();
  const summary = await renewalJob({ ...world.deps, logger: log as never })(context(200_000));
  expect(summary).toMatchObject({ examined: 150, abandoned: 150, incomplete: false, resumed: false });
  expect(world.leases.all().every((l) => l.status === 'abandoned')).toBe(true);
  expect(await world.leases.loadJobState(RENEWAL_JOB)).toBeUndefined();
  expect(log.lines.at(-1)).toMatchObject({ level: 'info', message: 'renewal run finished' });
});

test('stops before the Lambda timeout, saves where each shard stood, and the next invocation resumes there', async () => {
  const world = await worldWithStalePendingLeases(150);
  // Past the reserve after a few pages.
  const first = await renewalJob({ ...world.deps, logger: logger() as never, concurrency: 2 })(context(RESERVE_MS + 5_000, 1_000));
  expect(first).toMatchObject({ incomplete: true, resumed: false });
  expect(first.examined).toBeGreaterThan(0);
  expect(first.examined).toBeLessThan(150);
  expect(await world.leases.loadJobState(RENEWAL_JOB)).toMatchObject({ phase: 'pending', shards: expect.any(Object) });

  const second = await renewalJob({ ...world.deps, logger: logger() as never })(context(200_000));
  expect(second).toMatchObject({ incomplete: false, resumed: true });
  // Nothing read twice: the second run started where the first stopped.
  expect(first.examined + second.examined).toBe(150);
  expect(world.leases.all().every((l) => l.status === 'abandoned')).toBe(true);
  expect(await world.leases.loadJobState(RENEWAL_JOB)).toBeUndefined();
});

test('logs failures without stopping the run', async () => {
  const world = await worldWithStalePendingLeases(2);
  const { DependencyUnavailableError } = await import('../../../../shared/domain/errors');
  const first = world.leases.all()[0]?.leaseId;
  world.leases.failNext('update', new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling', 1), { when: (args) => args[0] === first });
  const log = logger();
  const summary = await renewalJob({ ...world.deps, logger: log as never })(context(200_000));
  expect(summary).toMatchObject({ abandoned: 1, failed: 1 });
  expect(log.lines.filter((l) => l.level === 'error')).toEqual([{ level: 'error', message: 'renewal step failed', data: { leaseId: first, error: expect.stringContaining('throttling') } }]);
});

test('settles leases left pending past the grace period, counts them and logs each as a warning', async () => {
  const world = leaseWorld();
  // A credentials lease written pending by the release before single-write vends.
  const legacy = pendingLease({ leaseId: world.ids.next(), kind: 'credentials', caller: teamA.caller, ruleId: 'team-apps', requestId: 'r', now: world.clock.now(), expiresAt: new Date(world.clock.now().getTime() + 900_000), roleArn: TEAM_A_ROLE });
  await world.leases.create(legacy);
  world.clock.advanceSeconds(301);
  const log = logger();
  const summary = await renewalJob({ ...world.deps, logger: log as never })(context(200_000));
  expect(summary).toMatchObject({ abandoned: 1, failed: 0, incomplete: false });
  expect(log.lines.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', message: 'pending lease settled as abandoned', data: { leaseId: legacy.leaseId, kind: 'credentials', action: 'none' } }]);
  expect(world.leases.all()[0]?.status).toBe('abandoned');
});
