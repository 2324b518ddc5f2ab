import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import type { Identity } from '../../../../shared/domain/identity';
import { issueCertificate } from '../../../../shared/use-cases/issue-certificate';
import { vendCredentials } from '../../../../shared/use-cases/vend-credentials';
import { generateCsr } from '../../../../local/workload-csr';
import { RecordingSessionRevoker } from '../../../fakes';
import { call, grantsYaml, leaseWorld, TEAM_A_ROLE, teamA, teamB, TOKENS } from './lease-fixture';

type World = ReturnType<typeof leaseWorld>;

async function vend(world: World, identity: Identity = teamA, roleArn = TEAM_A_ROLE) {
  const result = await vendCredentials({ ...world.deps, roleAssumer: world.sts }, { identity, requestId: 'r', roleArn, durationSeconds: 900, fresh: true });
  return result.leaseId;
}

async function certificate(world: World, identity: Identity = teamA) {
  const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
  const result = await issueCertificate({ ...world.deps, ca: world.ca, readyWithinMs: 0, sleep: async () => undefined }, { identity, requestId: 'r', csr, profile: 'mesh', validitySeconds: 3000 });
  return result;
}

describe('GET /v1/leases', () => {
  test("lists only the caller's own leases, newest first, without storage details", async () => {
    const world = leaseWorld();
    const a1 = await vend(world);
    await vend(world, teamB, 'arn:aws:iam::123456789012:role/team-b-app');
    const a2 = await vend(world);

    const res = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases');
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('own');
    expect(res.body.leases.map((l: { leaseId: string }) => l.leaseId)).toEqual([a2, a1]);
    expect(res.body.leases[0]).toMatchObject({ kind: 'credentials', status: 'active', caller: teamA.caller, roleArn: TEAM_A_ROLE });
    expect(res.body.leases[0]).not.toHaveProperty('ttl');
    // What the lease records of its holder's identity stays with the jobs.
    expect((await world.leases.get(a1))?.claimsRead).toEqual(['namespace', 'serviceaccount']);
    for (const hidden of ['claims', 'claimLists', 'unreadableClaims', 'claimsRead']) expect(res.body.leases[0]).not.toHaveProperty(hidden);
    expect((await call(world.routes, TOKENS.teamA, 'GET', `/v1/leases/${a1}`)).body.lease).not.toHaveProperty('claimsRead');
    expect(res.body.cursor).toBeUndefined();
  });

  test('nothing writes at expiry, yet a lease past its expiry reads expired, in listings, filters and GET', async () => {
    const world = leaseWorld();
    const old = await vend(world);
    world.clock.advanceSeconds(600);
    const young = await vend(world);
    world.clock.advanceSeconds(400);
    const ids = (res: { body: { leases: Array<{ leaseId: string; status: string }> } }) => res.body.leases.map((l) => `${l.status}:${l.leaseId}`);
    expect(ids(await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases'))).toEqual([`active:${young}`, `expired:${old}`]);
    expect(ids(await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { status: 'expired' } }))).toEqual([`expired:${old}`]);
    expect(ids(await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { status: 'active' } }))).toEqual([`active:${young}`]);
    expect((await call(world.routes, TOKENS.teamA, 'GET', `/v1/leases/${old}`)).body.lease.status).toBe('expired');
    expect((await world.leases.get(old))?.status).toBe('active');
    expect(world.leases.callCount('update')).toBe(0);
  });

  test('an admin sees every caller, walking the statuses page by page with the cursor', async () => {
    const world = leaseWorld();
    const ids = [await vend(world), await vend(world, teamB, 'arn:aws:iam::123456789012:role/team-b-app'), await vend(world)];
    await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${ids[0]}/revoke`);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call(world.routes, TOKENS.operator, 'GET', '/v1/leases', { query: { limit: '1', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('all');
      seen.push(...res.body.leases.map((l: { leaseId: string; status: string }) => `${l.status}:${l.leaseId}`));
      cursor = res.body.cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen.sort()).toEqual([`active:${ids[1]}`, `active:${ids[2]}`, `revoked:${ids[0]}`].sort());
  });

  test('filters by kind and status', async () => {
    const world = leaseWorld();
    const cred = await vend(world);
    const cert = await certificate(world);
    const certs = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { kind: 'certificate' } });
    expect(certs.body.leases.map((l: { leaseId: string }) => l.leaseId)).toEqual([cert.leaseId]);
    const active = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { status: 'active', kind: 'credentials' } });
    expect(active.body.leases.map((l: { leaseId: string }) => l.leaseId)).toEqual([cred]);
  });

  describe('cursors', () => {
    async function firstPage(world: World) {
      await vend(world);
      await vend(world);
      const res = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { limit: '1' } });
      expect(res.body.cursor).toEqual(expect.any(String));
      return res.body.cursor as string;
    }

    test('the next page continues where the first ended', async () => {
      const world = leaseWorld();
      const cursor = await firstPage(world);
      const next = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { limit: '1', cursor } });
      expect(next.status).toBe(200);
      expect(next.body.leases).toHaveLength(1);
      expect(next.body.leases[0].leaseId).toBe(world.ids.issued[0]);
    });

    test.each([
      ['garbage', () => 'not-a-cursor'],
      ['a tampered position', (c: string) => `${Buffer.from(JSON.stringify({ k: { leaseId: '01TEST00000000000000000009', caller: 'k8s:x' } })).toString('base64url')}.${c.split('.')[1]}`],
      ['a tampered signature', (c: string) => `${c.split('.')[0]}.${'A'.repeat(43)}`],
      ['a truncated cursor', (c: string) => c.slice(0, -3)],
    ])('%s is rejected with 400 invalid_cursor', async (_name, forge) => {
      const world = leaseWorld();
      const cursor = await firstPage(world);
      const before = world.leases.callCount('query');
      const res = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { cursor: forge(cursor) } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_cursor');
      expect(world.leases.callCount('query')).toBe(before);
    });

    test("another caller cannot use someone else's cursor, nor the same caller with other filters", async () => {
      const world = leaseWorld();
      const cursor = await firstPage(world);
      const other = await call(world.routes, TOKENS.teamB, 'GET', '/v1/leases', { query: { cursor } });
      expect(other.status).toBe(400);
      expect(other.body.error.code).toBe('invalid_cursor');
      const admin = await call(world.routes, TOKENS.operator, 'GET', '/v1/leases', { query: { cursor } });
      expect(admin.body.error.code).toBe('invalid_cursor');
      const filtered = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { cursor, status: 'revoked' } });
      expect(filtered.body.error.code).toBe('invalid_cursor');
    });
  });

  test.each([
    [{ limit: '0' }, 'invalid_field'],
    [{ limit: '1000' }, 'invalid_field'],
    [{ limit: 'ten' }, 'invalid_field'],
    [{ status: 'alive' }, 'invalid_field'],
    [{ owner: 'x' }, 'unknown_field'],
  ])('bad query %j is a 400 %s', async (query, code) => {
    const world = leaseWorld();
    const res = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });

  test("only an admin may list another caller's leases", async () => {
    const world = leaseWorld();
    await vend(world, teamB, 'arn:aws:iam::123456789012:role/team-b-app');
    const denied = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases', { query: { caller: teamB.caller } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('admin_required');
    const admin = await call(world.routes, TOKENS.operator, 'GET', '/v1/leases', { query: { caller: teamB.caller } });
    expect(admin.body.scope).toBe('caller');
    expect(admin.body.leases).toHaveLength(1);
  });

  test('an unauthenticated request is a 401', async () => {
    const world = leaseWorld();
    const res = await call(world.routes, 'wrong-token', 'GET', '/v1/leases');
    expect(res.status).toBe(401);
  });
});

describe('GET /v1/leases/{id}', () => {
  test("returns the caller's lease; someone else's is the same 404 as one that does not exist", async () => {
    const world = leaseWorld();
    const id = await vend(world);
    const own = await call(world.routes, TOKENS.teamA, 'GET', `/v1/leases/${id}`);
    expect(own.status).toBe(200);
    expect(own.body.lease).toMatchObject({ leaseId: id, status: 'active', accessKeyId: expect.stringMatching(/^ASIA/) });
    expect(JSON.stringify(own.body)).not.toMatch(/secret|sessionToken/i);

    const other = await call(world.routes, TOKENS.teamB, 'GET', `/v1/leases/${id}`);
    const missing = await call(world.routes, TOKENS.teamB, 'GET', '/v1/leases/01TEST99999999999999999999');
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect({ ...other.body.error, requestId: '', message: other.body.error.message.replace(id, 'ID') }).toEqual({
      ...missing.body.error,
      requestId: '',
      message: missing.body.error.message.replace('01TEST99999999999999999999', 'ID'),
    });

    const admin = await call(world.routes, TOKENS.operator, 'GET', `/v1/leases/${id}`);
    expect(admin.status).toBe(200);
  });

  test('a malformed id is a 400', async () => {
    const world = leaseWorld();
    const res = await call(world.routes, TOKENS.teamA, 'GET', '/v1/leases/..%2F..%2Fetc');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_lease_id');
  });

  test('a certificate lease that answered 202 delivers its certificate once the CA has issued it', async () => {
    const world = leaseWorld();
    world.ca.inProgressPolls = 1;
    const issued = await certificate(world);
    expect(issued.status).toBe('pending');

    const res = await call(world.routes, TOKENS.teamA, 'GET', `/v1/leases/${issued.leaseId}`);
    expect(res.status).toBe(200);
    expect(res.body.lease.status).toBe('active');
    expect(res.body.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(res.body.serialNumber).toBe(res.body.lease.serialNumber);
    expect(res.body.lease).not.toHaveProperty('csr');
  });
});

describe('POST /v1/leases/{id}/revoke', () => {
  test('without session revocation: marks the lease revoked and says the session stays valid until it expires', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    world.clock.advanceSeconds(60);
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
    expect(res.status).toBe(200);
    expect(res.body.lease).toMatchObject({ status: 'revoked', revokedAt: '2030-01-01T00:01:00.000Z', revokeReason: 'UNSPECIFIED', revocationMethod: 'none' });
    expect(res.body.effect).toContain('stay valid until 2030-01-01T00:15:00.000Z');
    expect((await world.leases.get(id))?.status).toBe('revoked');
  });

  test('with session revocation: the session is blocked before the lease says revoked; a repeat is a 200 with the same state', async () => {
    const revoker = new RecordingSessionRevoker();
    const world = leaseWorld({ revoker });
    const id = await vend(world);
    const first = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`, { body: { reason: 'KEY_COMPROMISE' } });
    expect(first.status).toBe(200);
    expect(first.body.lease).toMatchObject({ status: 'revoked', revocationMethod: 'session-deny', revokeReason: 'KEY_COMPROMISE' });
    expect(revoker.blocked(TEAM_A_ROLE)).toEqual([id]);
    expect(revoker.requests[0]).toMatchObject({ roleSessionName: id, expiresAt: new Date('2030-01-01T00:15:00Z') });

    world.clock.advanceSeconds(30);
    const again = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(revoker.requests).toHaveLength(1);
  });

  test('when the block fails, the lease stays active (it never claims a protection that is not there)', async () => {
    const { DependencyUnavailableError } = await import('../../../../shared/domain/errors');
    const revoker = new RecordingSessionRevoker().failNext(new DependencyUnavailableError('iam_throttled', 'IAM is throttling', 1));
    const world = leaseWorld({ revoker });
    const id = await vend(world);
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
    expect(res.status).toBe(503);
    expect((await world.leases.get(id))?.status).toBe('active');
  });

  test('a full deny list falls back to a role-wide cut-off, and the response says so', async () => {
    const revoker = new RecordingSessionRevoker({ fullAfter: 1 });
    const world = leaseWorld({ revoker });
    const first = await vend(world);
    const second = await vend(world);
    await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${first}/revoke`);
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${second}/revoke`);
    expect(res.body.lease.revocationMethod).toBe('token-issue-time-cutoff');
    expect(res.body.effect).toContain(`every session of ${TEAM_A_ROLE} issued before`);
  });

  test("revoking someone else's lease is a 404 and changes nothing; an admin may revoke it", async () => {
    const world = leaseWorld();
    const id = await vend(world);
    const res = await call(world.routes, TOKENS.teamB, 'POST', `/v1/leases/${id}/revoke`);
    expect(res.status).toBe(404);
    expect((await world.leases.get(id))?.status).toBe('active');
    const admin = await call(world.routes, TOKENS.operator, 'POST', `/v1/leases/${id}/revoke`);
    expect(admin.body.lease.status).toBe('revoked');
  });

  test('an expired lease cannot be revoked: 409, nothing changes', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    world.clock.advanceSeconds(901);
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('lease_expired');
    expect((await world.leases.get(id))?.status).toBe('active');
  });

  test.each([
    [{ reason: 'BORED' }, 'invalid_field'],
    [{ why: 'x' }, 'unknown_field'],
  ])('a bad body %j is a 400 %s and revokes nothing', async (body, code) => {
    const world = leaseWorld();
    const id = await vend(world);
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect((await world.leases.get(id))?.status).toBe('active');
  });

  test('a certificate lease is revoked at the CA once; a repeat answers the same state', async () => {
    const world = leaseWorld();
    const issued = await certificate(world);
    const first = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${issued.leaseId}/revoke`, { body: { reason: 'SUPERSEDED' } });
    expect(first.status).toBe(200);
    expect(first.body.lease).toMatchObject({ status: 'revoked', revokeReason: 'SUPERSEDED' });
    expect(world.ca.revoked).toEqual([expect.objectContaining({ serialNumber: first.body.lease.serialNumber, reason: 'SUPERSEDED' })]);
    const again = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${issued.leaseId}/revoke`);
    expect(again.body).toEqual(first.body);
    expect(world.ca.revoked).toHaveLength(1);
  });
});

describe('POST /v1/leases/{id}/renew', () => {
  test('credentials: a fresh session in a new lease linked to the old one', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    world.clock.advanceSeconds(600);
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`);
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ renewedFrom: id, accessKeyId: expect.stringMatching(/^ASIA/), secretAccessKey: expect.any(String), expiration: '2030-01-01T00:25:00.000Z' });
    expect(res.body.leaseId).not.toBe(id);
    expect(world.sts.requests.at(-1)).toMatchObject({ roleArn: TEAM_A_ROLE, roleSessionName: res.body.leaseId, durationSeconds: 900 });
    expect(await world.leases.get(id)).toMatchObject({ status: 'active', renewedBy: res.body.leaseId });
    expect(await world.leases.get(res.body.leaseId)).toMatchObject({ status: 'active', renewedFrom: id });
  });

  test('a lease renews once: the second renewal is a 409 naming the successor, and vends nothing', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    const first = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`);
    const calls = world.sts.callCount;
    const second = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'lease_already_renewed', details: { renewedBy: first.body.leaseId } });
    expect(world.sts.callCount).toBe(calls);
  });

  test('two renewals at once issue one session', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    const results = await Promise.all([call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`), call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(world.sts.callCount).toBe(2);
  });

  test.each([
    ['revoked', 'lease_revoked', async (world: World, id: string) => void (await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`))],
    ['expired', 'lease_expired', async (world: World) => world.clock.advanceSeconds(1000)],
  ])('a %s lease cannot be renewed: 409 %s, nothing changes', async (_state, code, prepare) => {
    const world = leaseWorld();
    const id = await vend(world);
    await prepare(world, id);
    const before = world.leases.all();
    const calls = world.sts.callCount;
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe(code);
    expect(world.leases.all()).toEqual(before);
    expect(world.sts.callCount).toBe(calls);
  });

  test('a lease the grant no longer allows is not renewed: 403, nothing changes', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    world.deps.grants.rules.splice(0, world.deps.grants.rules.length, ...parseGrantPolicy(grantsYaml({ teamRoles: 'arn:aws:iam::123456789012:role/${namespace}-reader' })).rules);
    const before = world.leases.all();
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('grant_denied');
    expect(world.leases.all()).toEqual(before);
    expect(world.sts.callCount).toBe(1);
  });

  test("someone else's lease: 404 for a caller, 403 for an admin (a renewal goes to the holder)", async () => {
    const world = leaseWorld();
    const id = await vend(world);
    expect((await call(world.routes, TOKENS.teamB, 'POST', `/v1/leases/${id}/renew`)).status).toBe(404);
    const admin = await call(world.routes, TOKENS.operator, 'POST', `/v1/leases/${id}/renew`);
    expect(admin.status).toBe(403);
    expect(admin.body.error.code).toBe('not_lease_holder');
  });

  test('a renewal can narrow the new session, never widen it', async () => {
    const world = leaseWorld();
    const id = await vend(world);
    const longer = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`, { body: { durationSeconds: 7200 } });
    expect(longer.status).toBe(400);
    expect((await world.leases.get(id))?.renewedBy).toBeUndefined();
    const shorter = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/renew`, { body: { durationSeconds: 1200 } });
    expect(shorter.status).toBe(201);
    expect(world.sts.requests.at(-1)?.durationSeconds).toBe(1200);
  });

  test('certificate: re-issued for the same public key into a linked lease', async () => {
    const world = leaseWorld();
    const issued = await certificate(world);
    if (issued.status !== 'issued') throw new Error('expected issued');
    const res = await call(world.routes, TOKENS.teamA, 'POST', `/v1/leases/${issued.leaseId}/renew`);
    expect(res.status).toBe(201);
    expect(res.body.renewedFrom).toBe(issued.leaseId);
    const { X509Certificate } = await import('node:crypto');
    const before = new X509Certificate(issued.certificate);
    const after = new X509Certificate(res.body.certificate);
    expect(after.publicKey.export({ format: 'der', type: 'spki' })).toEqual(before.publicKey.export({ format: 'der', type: 'spki' }));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(world.ca.issued.at(-1)).toMatchObject({ idempotencyToken: res.body.leaseId, dns: ['api.team-a.svc'] });
    expect(await world.leases.get(res.body.leaseId)).toMatchObject({ status: 'active', renewedFrom: issued.leaseId, claims: { namespace: 'team-a', serviceaccount: 'api' } });
    expect(await world.leases.get(issued.leaseId)).toMatchObject({ status: 'active', renewedBy: res.body.leaseId });
  });
});
