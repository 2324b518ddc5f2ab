import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import type { Identity } from '../../../../shared/domain/identity';
import { issueCertificate } from '../../../../shared/use-cases/issue-certificate';
import { CERTIFICATE_RENEWED, renewLeases, type RenewLeasesDeps } from '../../../../shared/use-cases/renew-leases';
import { revokeLease } from '../../../../shared/use-cases/revoke-lease';
import { vendCredentials } from '../../../../shared/use-cases/vend-credentials';
import { generateCsr } from '../../../../local/workload-csr';
import { RecordingEventPublisher, RecordingSessionRevoker } from '../../../fakes';
import { grantsYaml, leaseWorld, TEAM_A_ROLE, teamA } from '../../functions/leases/lease-fixture';

function jobWorld(options: { autoRenew?: boolean } = {}) {
  const world = leaseWorld({ grants: parseGrantPolicy(grantsYaml({ autoRenew: options.autoRenew ?? true })) });
  const events = new RecordingEventPublisher();
  const revoker = new RecordingSessionRevoker();
  const deps: RenewLeasesDeps = { ...world.deps, events, sessionRevoker: revoker };
  return { ...world, events, revoker, deps };
}

type JobWorld = ReturnType<typeof jobWorld>;

async function vend(world: JobWorld, durationSeconds = 900) {
  return (await vendCredentials({ ...world.deps, roleAssumer: world.sts }, { identity: teamA, requestId: 'r', roleArn: TEAM_A_ROLE, durationSeconds, fresh: true })).leaseId;
}

async function certificate(world: JobWorld, identity: Identity = teamA) {
  const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
  return issueCertificate({ ...world.deps, ca: world.ca, readyWithinMs: 0, sleep: async () => undefined }, { identity, requestId: 'r', csr, profile: 'mesh', validitySeconds: 3000 });
}

test('moves active leases past their expiry to expired, and only those', async () => {
  const world = jobWorld();
  const short = await vend(world, 900);
  const long = await vend(world, 3600);
  world.clock.advanceSeconds(901);
  const run = await renewLeases(world.deps);
  expect(run.expired).toEqual([short]);
  expect((await world.leases.get(short))?.status).toBe('expired');
  expect((await world.leases.get(long))?.status).toBe('active');
  expect(run.continuation).toBeUndefined();
});

test('finishes a pending certificate issuance once PCA has the certificate', async () => {
  const world = jobWorld();
  world.ca.inProgressPolls = 1;
  const pending = await certificate(world);
  expect(pending.status).toBe('pending');
  const run = await renewLeases(world.deps);
  expect(run.activated).toEqual([pending.leaseId]);
  expect(await world.leases.get(pending.leaseId)).toMatchObject({ status: 'active', serialNumber: expect.stringMatching(/^[0-9a-f:]+$/) });
});

test('re-issues a certificate in the last third of its life for the same key, links the leases and publishes the event', async () => {
  const world = jobWorld();
  const original = await certificate(world);
  world.clock.advanceSeconds(1900);
  expect((await renewLeases(world.deps)).renewed).toEqual([]);

  world.clock.advanceSeconds(200);
  const run = await renewLeases(world.deps);
  expect(run.renewed).toEqual([{ from: original.leaseId, to: expect.any(String), status: 'issued' }]);
  const renewedId = run.renewed[0]?.to as string;
  expect(await world.leases.get(original.leaseId)).toMatchObject({ status: 'active', renewedBy: renewedId });
  const renewed = await world.leases.get(renewedId);
  expect(renewed).toMatchObject({ status: 'active', renewedFrom: original.leaseId, caller: teamA.caller, profile: 'mesh' });
  expect(world.ca.issued.at(-1)).toMatchObject({ csrPem: (await world.leases.get(original.leaseId))?.csr, idempotencyToken: renewedId });

  expect(world.events.events).toEqual([
    {
      type: CERTIFICATE_RENEWED,
      time: world.clock.now(),
      resources: [renewed?.certificateArn],
      detail: {
        leaseId: renewedId,
        renewedFrom: original.leaseId,
        caller: teamA.caller,
        profile: 'mesh',
        status: 'issued',
        serialNumber: renewed?.serialNumber,
        notAfter: renewed?.expiresAt,
        location: `/v1/leases/${renewedId}`,
      },
    },
  ]);

  // The next run leaves the renewed lease alone.
  const again = await renewLeases(world.deps);
  expect(again.renewed).toEqual([]);
  expect(world.ca.issued).toHaveLength(2);
});

test('does not renew a certificate whose profile does not ask for it', async () => {
  const world = jobWorld({ autoRenew: false });
  await certificate(world);
  world.clock.advanceSeconds(2100);
  const run = await renewLeases(world.deps);
  expect(run.renewed).toEqual([]);
  expect(world.ca.issued).toHaveLength(1);
});

test('does not renew a certificate the grant policy no longer allows, and says why', async () => {
  const world = jobWorld();
  const original = await certificate(world);
  world.deps.grants.rules.splice(0, 1);
  world.clock.advanceSeconds(2100);
  const run = await renewLeases(world.deps);
  expect(run.skipped).toEqual([{ leaseId: original.leaseId, reason: 'no_longer_granted' }]);
  expect(world.ca.issued).toHaveLength(1);
  expect((await world.leases.get(original.leaseId))?.renewedBy).toBeUndefined();
});

test('a lease without a recorded identity (older records of OIDC callers) is skipped, not renewed blindly', async () => {
  const world = jobWorld();
  const original = await certificate(world);
  const stored = (await world.leases.get(original.leaseId))!;
  const { identity: _identity, ...withoutIdentity } = stored;
  const { InMemoryLeaseStore } = await import('../../../fakes');
  const leases = new InMemoryLeaseStore([withoutIdentity]);
  world.clock.advanceSeconds(2100);
  const run = await renewLeases({ ...world.deps, leases });
  expect(run.skipped).toEqual([{ leaseId: original.leaseId, reason: 'no_recorded_identity' }]);
});

test('two runs at once renew each lease once: one claim wins, the other run skips it', async () => {
  const world = jobWorld();
  const originals = [await certificate(world), await certificate(world), await certificate(world)];
  world.clock.advanceSeconds(2100);
  const issuedBefore = world.ca.issued.length;

  const [a, b] = await Promise.all([renewLeases(world.deps, { runId: 'a' }), renewLeases(world.deps, { runId: 'b' })]);

  expect([...a.renewed, ...b.renewed].map((r) => r.from).sort()).toEqual(originals.map((o) => o.leaseId).sort());
  expect(world.ca.issued.length - issuedBefore).toBe(3);
  expect(world.events.ofType(CERTIFICATE_RENEWED)).toHaveLength(3);
  const successors = world.leases.all().filter((l) => l.renewedFrom);
  expect(successors).toHaveLength(3);
  expect(new Set(successors.map((l) => l.renewedFrom)).size).toBe(3);
});

test('work per run is bounded; the continuation picks up where the run stopped', async () => {
  const world = jobWorld();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await vend(world));
  world.clock.advanceSeconds(901);

  const first = await renewLeases(world.deps, { maxLeases: 2 });
  expect(first.examined).toBe(2);
  expect(first.expired).toHaveLength(2);
  expect(first.continuation).toBeDefined();

  const second = await renewLeases(world.deps, { maxLeases: 2, continuation: first.continuation });
  const third = await renewLeases(world.deps, { maxLeases: 2, continuation: second.continuation });
  expect([...first.expired, ...second.expired, ...third.expired].sort()).toEqual(ids.sort());
  expect(world.leases.all().every((l) => l.status === 'expired')).toBe(true);
});

test('prunes the deny entries of revoked sessions once they have expired', async () => {
  const world = jobWorld();
  const id = await vend(world);
  await revokeLease({ ...world.deps, sessionRevoker: world.revoker }, { identity: teamA, leaseId: id });
  expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([id]);

  expect((await renewLeases(world.deps)).pruned.entries).toBe(0);
  expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([id]);

  world.clock.advanceSeconds(901);
  const run = await renewLeases(world.deps);
  expect(run.pruned).toEqual({ entries: 1, roles: [TEAM_A_ROLE] });
  expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([]);
});

test('one failing lease does not stop the others', async () => {
  const world = jobWorld();
  const { DependencyUnavailableError } = await import('../../../../shared/domain/errors');
  const first = await vend(world);
  const second = await vend(world);
  world.clock.advanceSeconds(901);
  world.leases.failNext('update', new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling', 1), { when: (args) => args[0] === first });
  const run = await renewLeases(world.deps);
  expect(run.failed).toEqual([{ leaseId: first, error: expect.stringContaining('throttling') }]);
  expect(run.expired).toEqual([second]);
});
