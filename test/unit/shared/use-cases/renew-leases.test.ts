import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import type { Identity } from '../../../../shared/domain/identity';
import { oidcIdentityFromClaims } from '../../../../shared/domain/oidc';
import { issueCertificate } from '../../../../shared/use-cases/issue-certificate';
import { CERTIFICATE_RENEWED, renewLeases, type RenewLeasesDeps } from '../../../../shared/use-cases/renew-leases';
import { revokeLease } from '../../../../shared/use-cases/revoke-lease';
import { vendCredentials } from '../../../../shared/use-cases/vend-credentials';
import { generateCsr } from '../../../../local/workload-csr';
import { dueShard } from '../../../../shared/adapters/dynamo-lease-table';
import { isInForce, pendingLease } from '../../../../shared/domain/lease';
import { identityOfLease } from '../../../../shared/domain/lease-access';
import { evaluateCertificate, evaluateCredentials, type GrantPolicy, type GrantRule } from '../../../../shared/domain/grant-policy';
import { RecordingEventPublisher, RecordingSessionRevoker } from '../../../fakes';
import { CA, grantsYaml, leaseWorld, TEAM_A_ROLE, teamA } from '../../functions/leases/lease-fixture';

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

/** Certificate leases left pending with no certificate ARN (IssueCertificate never answered), past the grace period. */
async function stalePendingCertificates(world: JobWorld, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const lease = pendingLease({ leaseId: world.ids.next(), kind: 'certificate', caller: teamA.caller, ruleId: 'team-apps', requestId: 'r', now: world.clock.now(), expiresAt: new Date(world.clock.now().getTime() + 86_400_000), profile: 'mesh', caArn: CA });
    await world.leases.create(lease);
    ids.push(lease.leaseId);
  }
  world.clock.advanceSeconds(301);
  return ids;
}

test('writes nothing at expiry: an active credentials lease past it is expired by rule, and the job never reads one', async () => {
  const world = jobWorld();
  const short = await vend(world, 900);
  const long = await vend(world, 3600);
  world.clock.advanceSeconds(901);
  const run = await renewLeases(world.deps);
  expect(run.examined).toBe(0);
  expect(world.leases.callCount('update')).toBe(0);
  expect(isInForce((await world.leases.get(short))!, world.clock.now())).toBe(false);
  expect(isInForce((await world.leases.get(long))!, world.clock.now())).toBe(true);
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
  const { claims: _claims, ...withoutIdentity } = stored;
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

describe('over the shards of the due index', () => {
  test('settles more leases than one page, in every shard, each exactly once', async () => {
    const world = jobWorld();
    const ids = await stalePendingCertificates(world, 120);
    const run = await renewLeases(world.deps);
    expect(run.abandoned.map((a) => a.leaseId).sort()).toEqual([...ids].sort());
    expect(run.examined).toBe(120);
    expect(new Set(ids.map(dueShard)).size).toBe(world.leases.dueShards);
    expect(world.leases.all().every((l) => l.status === 'abandoned')).toBe(true);
    expect(run.continuation).toBeUndefined();
  });

  test('reads at most `concurrency` shards at once', async () => {
    const world = jobWorld();
    await stalePendingCertificates(world, 64);
    let inFlight = 0;
    let most = 0;
    const due = world.leases.due.bind(world.leases);
    world.leases.due = async (query) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      try {
        return await due(query);
      } finally {
        inFlight--;
      }
    };
    await renewLeases(world.deps, { concurrency: 3 });
    expect(most).toBe(3);
  });

  test('a run stopped by its time budget says where each shard stood; the next resumes there and reads nothing twice', async () => {
    const world = jobWorld();
    const ids = await stalePendingCertificates(world, 90);
    let pages = 0;
    const due = world.leases.due.bind(world.leases);
    world.leases.due = async (query) => {
      pages++;
      return due(query);
    };
    // The budget runs out after 5 pages.
    const first = await renewLeases(world.deps, { shouldStop: () => pages >= 5, concurrency: 2 });
    expect(first.continuation?.phase).toBe('pending');
    expect(first.examined).toBeGreaterThan(0);
    expect(first.examined).toBeLessThan(90);
    // JSON-safe: saved between invocations as it is.
    const saved = JSON.parse(JSON.stringify(first.continuation));

    const runs = [first];
    while (runs.at(-1)?.continuation) {
      pages = 0;
      runs.push(await renewLeases(world.deps, { shouldStop: () => pages >= 5, concurrency: 2, continuation: runs.length === 1 ? saved : runs.at(-1)!.continuation }));
      expect(runs.length).toBeLessThan(20);
    }
    expect(runs.length).toBeGreaterThan(2);
    const settled = runs.flatMap((r) => r.abandoned.map((a) => a.leaseId));
    expect(settled.sort()).toEqual([...ids].sort());
    expect(runs.reduce((sum, r) => sum + r.examined, 0)).toBe(90);
  });

  test('maxLeases bounds a run too', async () => {
    const world = jobWorld();
    await stalePendingCertificates(world, 60);
    const first = await renewLeases(world.deps, { maxLeases: 10, concurrency: 1 });
    expect(first.examined).toBeLessThan(60);
    expect(first.continuation).toBeDefined();
    const second = await renewLeases(world.deps, { continuation: first.continuation });
    expect(first.examined + second.examined).toBe(60);
    expect(world.leases.all().every((l) => l.status === 'abandoned')).toBe(true);
  });
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
  const [first, second] = await stalePendingCertificates(world, 2);
  world.leases.failNext('update', new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling', 1), { when: (args) => args[0] === first });
  const run = await renewLeases(world.deps);
  expect(run.failed).toEqual([{ leaseId: first, error: expect.stringContaining('throttling') }]);
  expect(run.abandoned.map((a) => a.leaseId)).toEqual([second]);
});

describe('settling pending leases (no lease stays pending)', () => {
  const { DependencyUnavailableError, DependencyDeniedError } = jest.requireActual<typeof import('../../../../shared/domain/errors')>('../../../../shared/domain/errors');
  const unavailable = (outcomeUnknown: boolean) => new DependencyUnavailableError('dynamodb_unavailable', 'DynamoDB is unavailable; retry after 1 s.', 1, { outcomeUnknown });

  /**
   * A credentials lease written pending by the release before single-write vends (its request then
   * died, or its active write failed): still settled by the job while such records exist.
   */
  async function vendWithLostActiveWrite(world: JobWorld) {
    const lease = pendingLease({ leaseId: world.ids.next(), kind: 'credentials', caller: teamA.caller, ruleId: 'team-apps', requestId: 'r', now: world.clock.now(), expiresAt: new Date(world.clock.now().getTime() + 900_000), roleArn: TEAM_A_ROLE, durationSeconds: 900 });
    await world.leases.create(lease);
    return lease.leaseId;
  }

  test('a credentials lease left pending after STS issued its session is settled after the grace period: the session denied, the lease abandoned with the reason', async () => {
    const world = jobWorld();
    const id = await vendWithLostActiveWrite(world);

    world.clock.advanceSeconds(299);
    expect((await renewLeases(world.deps)).abandoned).toEqual([]);
    expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([]);

    world.clock.advanceSeconds(2);
    const run = await renewLeases(world.deps);
    expect(run.abandoned).toEqual([{ leaseId: id, kind: 'credentials', action: 'session-deny' }]);
    expect(world.revoker.requests).toEqual([{ roleArn: TEAM_A_ROLE, roleSessionName: id, issuedAt: new Date('2030-01-01T00:00:00Z'), expiresAt: new Date('2030-01-01T00:15:00Z'), now: world.clock.now() }]);
    expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([id]);
    expect(await world.leases.get(id)).toMatchObject({
      status: 'abandoned',
      revocationMethod: 'session-deny',
      revokedAt: world.clock.now().toISOString(),
      failureReason: expect.stringMatching(/^Pending for 301 s: the request never recorded its outcome .*; the caller never received what it asked for\. Its session is denied by fake on arn:aws:iam::123456789012:role\/team-a-app\.$/),
    });
    // Settled once: the next run finds nothing pending.
    expect((await renewLeases(world.deps)).abandoned).toEqual([]);
  });

  test('without session revocation the lease is still settled, and says the session stays valid until it expires', async () => {
    const world = jobWorld();
    const id = await vendWithLostActiveWrite(world);
    world.clock.advanceSeconds(301);
    const run = await renewLeases({ ...world.deps, sessionRevoker: undefined });
    expect(run.abandoned).toEqual([{ leaseId: id, kind: 'credentials', action: 'none' }]);
    expect(await world.leases.get(id)).toMatchObject({ status: 'abandoned', revocationMethod: 'none', failureReason: expect.stringContaining('Session revocation is not enabled: a session STS may have issued stays valid until 2030-01-01T00:15:00.000Z') });
    expect((await world.leases.get(id))?.revokedAt).toBeUndefined();
  });

  test('IAM down: the lease stays pending and the next run blocks it; IAM refusing for good: settled, saying the session could not be blocked', async () => {
    const world = jobWorld();
    const id = await vendWithLostActiveWrite(world);
    world.clock.advanceSeconds(301);
    world.revoker.failNext(new DependencyUnavailableError('iam_unavailable', 'IAM is unavailable.', 1, { outcomeUnknown: true }));
    const first = await renewLeases(world.deps);
    expect(first.failed).toEqual([{ leaseId: id, error: expect.stringContaining('IAM is unavailable') }]);
    expect((await world.leases.get(id))?.status).toBe('pending');

    world.revoker.failNext(new DependencyDeniedError('revocation_not_permitted', 'The broker may not manage deny policies on role team-a-app.'));
    const second = await renewLeases(world.deps);
    expect(second.abandoned).toEqual([{ leaseId: id, kind: 'credentials', action: 'none' }]);
    expect((await world.leases.get(id))?.failureReason).toContain('could not be blocked (The broker may not manage deny policies on role team-a-app.)');
  });

  test('a lease whose session has expired is settled at once, with nothing to block', async () => {
    const world = jobWorld();
    const id = await vendWithLostActiveWrite(world);
    world.clock.advanceSeconds(900);
    const run = await renewLeases({ ...world.deps, pendingGraceSeconds: 600 });
    expect(run.abandoned).toEqual([{ leaseId: id, kind: 'credentials', action: 'none' }]);
    expect(world.revoker.requests).toEqual([]);
    expect((await world.leases.get(id))?.failureReason).toContain('expired at 2030-01-01T00:15:00.000Z');
  });

  test('an STS call whose outcome is unknown (a timeout) leaves no lease: nothing pending, nothing for the job (the CloudTrail reconciler records a session STS did issue)', async () => {
    const world = jobWorld();
    world.sts.failNext(new DependencyUnavailableError('sts_unavailable', 'STS is unavailable; retry after 1 s.', 1, { outcomeUnknown: true }));
    await expect(vend(world)).rejects.toMatchObject({ code: 'sts_unavailable' });
    expect(world.leases.all()).toEqual([]);
    world.clock.advanceSeconds(301);
    expect((await renewLeases(world.deps)).examined).toBe(0);
  });

  test('an STS refusal (throttling) fails the lease at once: nothing was issued, nothing to settle', async () => {
    const world = jobWorld();
    world.sts.failNext(new DependencyUnavailableError('sts_throttled', 'STS is throttling the broker.', 1));
    await expect(vend(world)).rejects.toMatchObject({ code: 'sts_throttled' });
    expect(world.leases.all()).toEqual([expect.objectContaining({ status: 'failed' })]);
    world.clock.advanceSeconds(301);
    expect((await renewLeases(world.deps)).abandoned).toEqual([]);
  });

  test('a certificate its caller never received (the active write failed) is revoked at the CA, not activated', async () => {
    const world = jobWorld();
    world.leases.failNext('update', unavailable(true), { when: (args) => (args[2] as { status?: string }).status === 'active' });
    await expect(certificate(world)).rejects.toMatchObject({ code: 'dynamodb_unavailable' });
    const [pending] = world.leases.all();
    expect(pending).toMatchObject({ status: 'pending', certificateArn: expect.any(String) });
    expect(pending?.acknowledgedAt).toBeUndefined();

    world.clock.advanceSeconds(301);
    const run = await renewLeases(world.deps);
    expect(run.activated).toEqual([]);
    expect(run.abandoned).toEqual([{ leaseId: pending?.leaseId, kind: 'certificate', action: 'certificate-revoked' }]);
    const settled = await world.leases.get(pending!.leaseId);
    expect(world.ca.revoked).toEqual([{ caArn: pending?.caArn, certificateArn: pending?.certificateArn, serialNumber: settled?.serialNumber, reason: 'CESSATION_OF_OPERATION' }]);
    expect(settled).toMatchObject({ status: 'abandoned', revokeReason: 'CESSATION_OF_OPERATION', failureReason: expect.stringContaining(`Certificate ${settled?.serialNumber} was issued but never delivered, and is revoked at the CA.`) });
  });

  test('a certificate its caller fetched by id while the job was revoking it ends revoked, never active with a revoked certificate', async () => {
    const world = jobWorld();
    world.leases.failNext('update', unavailable(true), { when: (args) => (args[2] as { status?: string }).status === 'active' });
    await expect(certificate(world)).rejects.toMatchObject({ code: 'dynamodb_unavailable' });
    const [pending] = world.leases.all();
    const { collectCertificate } = await import('../../../../shared/use-cases/issue-certificate');
    const revoke = world.ca.revoke.bind(world.ca);
    world.ca.revoke = async (request) => {
      // The holder found the lease in its listing and fetched it (GET /v1/leases/{id}) at this moment.
      await collectCertificate({ ca: world.ca, leases: world.leases, clock: world.clock }, (await world.leases.get(pending!.leaseId))!);
      return revoke(request);
    };
    world.clock.advanceSeconds(301);
    const run = await renewLeases(world.deps);
    expect(run.abandoned).toEqual([]);
    expect(await world.leases.get(pending!.leaseId)).toMatchObject({ status: 'revoked', revokeReason: 'CESSATION_OF_OPERATION', serialNumber: world.ca.revoked[0]?.serialNumber });
  });

  test('a certificate whose holder was given the lease id (202) is finished, not revoked, however late', async () => {
    const world = jobWorld();
    world.ca.inProgressPolls = 1;
    const answered = await certificate(world);
    expect(answered.status).toBe('pending');
    expect((await world.leases.get(answered.leaseId))?.acknowledgedAt).toBe(world.clock.now().toISOString());
    world.clock.advanceSeconds(1800);
    const run = await renewLeases(world.deps);
    expect(run).toMatchObject({ activated: [answered.leaseId], abandoned: [] });
    expect(world.ca.revoked).toEqual([]);
  });

  test('a certificate still being issued past the grace period is left for the next run, then revoked', async () => {
    const world = jobWorld();
    world.ca.inProgressPolls = 1;
    world.leases.failNext('update', unavailable(false), { when: (args) => (args[2] as { acknowledgedAt?: string }).acknowledgedAt !== undefined });
    await expect(certificate(world)).rejects.toMatchObject({ code: 'dynamodb_unavailable' });
    world.ca.inProgressPolls = 0;
    world.ca.failNext('get', new DependencyUnavailableError('pca_unavailable', 'PCA is unavailable.', 2, { outcomeUnknown: true }));
    world.clock.advanceSeconds(301);
    const first = await renewLeases(world.deps);
    expect(first.abandoned).toEqual([]);
    expect(world.leases.all()[0]?.status).toBe('pending');
    const second = await renewLeases(world.deps);
    expect(second.abandoned).toEqual([{ leaseId: world.leases.all()[0]?.leaseId, kind: 'certificate', action: 'certificate-revoked' }]);
  });

  test('an issuance whose ARN was never recorded is settled and says what is unknown', async () => {
    const world = jobWorld();
    world.ca.failNext('issue', new DependencyUnavailableError('pca_unavailable', 'PCA is unavailable; retry after 2 s.', 2, { outcomeUnknown: true }));
    await expect(certificate(world)).rejects.toMatchObject({ code: 'pca_unavailable' });
    world.clock.advanceSeconds(301);
    const run = await renewLeases(world.deps);
    expect(run.abandoned).toEqual([{ leaseId: world.leases.all()[0]?.leaseId, kind: 'certificate', action: 'none' }]);
    expect(world.leases.all()[0]?.failureReason).toContain('No certificate ARN was recorded');
  });

  test('the deny entries of abandoned sessions are pruned once the sessions have expired', async () => {
    const world = jobWorld();
    const id = await vendWithLostActiveWrite(world);
    world.clock.advanceSeconds(301);
    await renewLeases(world.deps);
    expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([id]);
    world.clock.advanceSeconds(600);
    const run = await renewLeases(world.deps);
    expect(run.pruned).toEqual({ entries: 1, roles: [TEAM_A_ROLE] });
    expect(world.revoker.blocked(TEAM_A_ROLE)).toEqual([]);
  });
});

describe('a lease granted by a list claim (groups)', () => {
  const groupGrants = () =>
    parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: mesh-group
    callers: [{ oidc: k8s, claims: { groups: mesh-users } }]
    certificates:
      profiles:
        - { name: mesh, caArn: ${CA}, maxValiditySeconds: 86400, autoRenew: true, san: { dns: ["\${serviceaccount}.\${namespace}.svc"] } }
`);
  function groupWorld() {
    const world = leaseWorld({ grants: groupGrants() });
    return { ...world, deps: { ...world.deps, events: new RecordingEventPublisher(), sessionRevoker: new RecordingSessionRevoker() } as RenewLeasesDeps };
  }
  const member = (groups: unknown) =>
    oidcIdentityFromClaims(groupGrants().issuers[0]!, { sub: 'system:serviceaccount:team-a:api', 'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'api' } }, groups });

  test('is renewed by the job: the re-check sees the group the lease recorded', async () => {
    const world = groupWorld();
    const original = await certificate(world as unknown as JobWorld, member(['staff', 'mesh-users']));
    expect((await world.leases.get(original.leaseId))?.claimLists).toEqual({ groups: ['staff', 'mesh-users'] });
    world.clock.advanceSeconds(2100);
    const run = await renewLeases(world.deps);
    expect(run.renewed).toEqual([{ from: original.leaseId, to: expect.any(String), status: 'issued' }]);
    expect(await world.leases.get(run.renewed[0]!.to)).toMatchObject({ status: 'active', claimLists: { groups: ['staff', 'mesh-users'] } });
  });

  test('is not renewed once a deny rule names a group it recorded, or a claim it recorded as unreadable', async () => {
    for (const groups of [['mesh-users', 'contractors'], { mesh: 'users' }]) {
      const world = groupWorld();
      if (!Array.isArray(groups)) world.deps.grants.rules[0]!.callers.push({ oidc: 'k8s', claims: { namespace: 'team-a' } });
      const original = await certificate(world as unknown as JobWorld, member(groups));
      world.deps.grants.rules.unshift({ id: 'no-contractors', effect: 'deny', callers: [{ oidc: 'k8s', claims: { groups: 'contractors' } }] });
      world.clock.advanceSeconds(2100);
      const run = await renewLeases(world.deps);
      expect(run.skipped).toEqual([{ leaseId: original.leaseId, reason: 'no_longer_granted' }]);
    }
  });
});

describe('a re-check under a policy that reads claims the lease never recorded (fail closed)', () => {
  // Policy A reads only `namespace`: a lease granted under it records no `groups`, whatever the token had.
  const policyA = (extraRules = '') =>
    parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    certificates:
      profiles:
        - { name: mesh, caArn: ${CA}, maxValiditySeconds: 86400, autoRenew: true, san: { dns: ["\${namespace}.svc"] } }
${extraRules}`);
  const contractorsDeny = { id: 'no-contractors', effect: 'deny' as const, callers: [{ oidc: 'k8s', claims: { groups: 'contractors' } }] };
  // Policy B is a new policy, as a reload makes it (the read set of a policy is cached per object).
  const withRules = (grants: GrantPolicy, first: readonly GrantRule[], last: readonly GrantRule[] = []): GrantPolicy => ({ ...grants, rules: [...first, ...grants.rules, ...last] });
  function world(grants = policyA()) {
    const w = leaseWorld({ grants });
    return { ...w, deps: { ...w.deps, events: new RecordingEventPublisher(), sessionRevoker: new RecordingSessionRevoker() } as RenewLeasesDeps };
  }
  const holder = (claims: Record<string, unknown> = {}) =>
    oidcIdentityFromClaims(policyA().issuers[0]!, { sub: 'system:serviceaccount:team-a:api', 'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'api' } }, ...claims });
  async function issued(w: ReturnType<typeof world>, identity: Identity) {
    const { csr } = await generateCsr({ dns: ['team-a.svc'] });
    const lease = await issueCertificate({ ...w.deps, ca: w.ca, readyWithinMs: 0, sleep: async () => undefined }, { identity, requestId: 'r', csr, profile: 'mesh', validitySeconds: 3000 });
    expect(lease.status).toBe('issued');
    return lease;
  }

  test('a deny added on a claim policy A never read (groups: contractors) stops the auto-renewal of a contractor\'s certificate', async () => {
    const w = world();
    const original = await issued(w, holder({ groups: ['contractors'] }));
    const stored = (await w.leases.get(original.leaseId))!;
    expect(stored.claims).toEqual({ namespace: 'team-a' });
    expect(stored.claimsRead).toEqual(['namespace']);
    w.clock.advanceSeconds(2100);
    const run = await renewLeases({ ...w.deps, grants: withRules(w.deps.grants, [contractorsDeny]) });
    expect(run.renewed).toEqual([]);
    expect(run.skipped).toEqual([{ leaseId: original.leaseId, reason: 'no_longer_granted' }]);
    expect(w.ca.issued).toHaveLength(1);
    expect((await w.leases.get(original.leaseId))?.renewedBy).toBeUndefined();
  });

  test('a deny added on a scalar claim policy A never read (team present at all) stops it too; a deny role template needing that attribute denies whatever its value', async () => {
    const w = world();
    const original = await issued(w, holder({ team: 'vendor' }));
    w.clock.advanceSeconds(2100);
    const policyB = withRules(w.deps.grants, [{ id: 'no-teams', effect: 'deny', callers: [{ oidc: 'k8s', claims: { team: '*' } }] }]);
    expect((await renewLeases({ ...w.deps, grants: policyB })).skipped).toEqual([{ leaseId: original.leaseId, reason: 'no_longer_granted' }]);

    // Role templates (credentials): `${team}` is unknown on the lease, so the deny names every role it could.
    const stored = (await w.leases.get(original.leaseId))!;
    const grants = policyA(`  - id: vendor-roles
    effect: deny
    callers: [{ oidc: k8s }]
    credentials: { roles: ["arn:aws:iam::123456789012:role/\${team}-admin"] }
`);
    const rebuilt = identityOfLease(stored, grants)!;
    expect(rebuilt).toMatchObject({ unreadableClaims: ['team'] });
    expect(evaluateCredentials(grants, rebuilt, 'arn:aws:iam::123456789012:role/anything-admin')).toMatchObject({ allowed: false, ruleId: 'vendor-roles' });
  });

  test('control: a claim policy A read that was absent at grant stays absent, so a deny on it does not apply and the renewal goes on', async () => {
    // Policy A reads groups (for another rule) but the holder had none.
    const w = world(policyA(`  - id: admins
    callers: [{ oidc: k8s, claims: { groups: admins } }]
    admin: true
`));
    const original = await issued(w, holder());
    const stored = (await w.leases.get(original.leaseId))!;
    expect(stored.claimsRead).toEqual(['groups', 'namespace']);
    w.clock.advanceSeconds(2100);
    const run = await renewLeases({ ...w.deps, grants: withRules(w.deps.grants, [contractorsDeny]) });
    expect(run.skipped).toEqual([]);
    expect(run.renewed).toEqual([{ from: original.leaseId, to: expect.any(String), status: 'issued' }]);
    // The renewal records what it knew: the same read set, nothing unknown turned into an absence.
    expect(await w.leases.get(run.renewed[0]!.to)).toMatchObject({ claims: { namespace: 'team-a' }, claimsRead: ['groups', 'namespace'] });
  });

  test('a renewal by the job keeps unknown claims unknown: the next re-check still fails closed', async () => {
    const w = world();
    await issued(w, holder({ groups: ['contractors'] }));
    // Policy B reads groups in a rule that does not deny this holder: the lease is renewed, groups unknown.
    const policyB = withRules(w.deps.grants, [], [{ id: 'admins', effect: 'allow', callers: [{ oidc: 'k8s', claims: { groups: 'admins' } }], admin: true } as unknown as GrantRule]);
    w.clock.advanceSeconds(2100);
    const run = await renewLeases({ ...w.deps, grants: policyB });
    expect(run.renewed).toHaveLength(1);
    const renewed = (await w.leases.get(run.renewed[0]!.to))!;
    expect(renewed.claimsRead).toEqual(['namespace']);
    expect(renewed.claimsRead).not.toContain('groups');
    const policyC = withRules(policyB, [contractorsDeny]);
    expect(evaluateCertificate(policyC, identityOfLease(renewed, policyC)!, 'mesh')).toMatchObject({ allowed: false, ruleId: 'no-contractors' });
  });

  test('a lease written before the read set was recorded keeps today\'s behaviour: unrecorded claims are absent, the deny does not apply', async () => {
    const w = world();
    const original = await issued(w, holder({ groups: ['contractors'] }));
    const { claimsRead: _read, ...legacy } = (await w.leases.get(original.leaseId))!;
    const { InMemoryLeaseStore } = await import('../../../fakes');
    const leases = new InMemoryLeaseStore([legacy]);
    w.clock.advanceSeconds(2100);
    const run = await renewLeases({ ...w.deps, leases, grants: withRules(w.deps.grants, [contractorsDeny]) });
    expect(run.skipped).toEqual([]);
    expect(run.renewed).toEqual([{ from: original.leaseId, to: expect.any(String), status: 'issued' }]);
  });
});
