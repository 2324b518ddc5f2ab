// @ts-nocheck
// 
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { randomBytes, X509Certificate } from 'node:crypto';
import { leasesRoutes } from '../../functions/leases/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { IamSessionRevoker, singleAccountIamClients } from '../../shared/adapters/iam-session-revoker';
import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { PageCursors } from '../../shared/domain/page-cursor';
import { Authenticator } from '../../shared/http/authenticator';
import { renewLeases } from '../../shared/use-cases/renew-leases';
import { vendCredentials } from '../../shared/use-cases/vend-credentials';
import { startDevIssuer, type DevIssuer } from '../../local/dev-issuer';
import { createActiveCa, verifyIssuedBy } from '../../local/moto-ca';
import { generateCsr } from '../../local/workload-csr';
import { FixedClock } from '../fakes';
import { httpEvent, lambdaContext } from '../support/http-events';
import { awsClientConfig, resetMoto } from './moto';

const ACCOUNT = '123456789012';
const PREFIX = 'nocreds-revoked';
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] }] });

let issuer: DevIssuer;
let clock: FixedClock;
let leases: DynamoLeaseStore;
let iam: IAMClient;
let caArn: string;
let caCertificatePem: string;
let grants: ReturnType<typeof parseGrantPolicy>;
const tokens: Record<string, string> = {};

function routesWith(revoker: IamSessionRevoker | undefined) {
  const ca = new PcaCertificateAuthority(new ACMPCAClient(awsClientConfig()), clock);
  return leasesRoutes({
    grants,
    leases,
    clock,
    ids: ulidGenerator(),
    cursors: new PageCursors(randomBytes(32)),
    authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers) }),
    credentials: { roleAssumer: new StsRoleAssumer(new STSClient(awsClientConfig())) },
    certificates: { ca, readyWithinMs: 10_000 },
    ...(revoker ? { sessionRevoker: revoker } : {}),
  });
}

let routes: ReturnType<typeof leasesRoutes>;

beforeAll(async () => {
  await resetMoto();
  issuer = await startDevIssuer();
  iam = new IAMClient(awsClientConfig());
  ({ caArn, caCertificatePem } = await createActiveCa(new ACMPCAClient(awsClientConfig())));
  grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: dev, url: "${issuer.url}", audiences: [nocreds], preset: kubernetes, allowInsecureLoopback: true }
rules:
  - id: team-apps
    callers: [{ oidc: dev, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-app"]
      maxDurationSeconds: 3600
    certificates:
      profiles:
        - name: mesh
          caArn: ${caArn}
          maxValiditySeconds: 86400
          san: { dns: ["\${serviceaccount}.\${namespace}.svc"] }
`);
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('leases')));
  leases = new DynamoLeaseStore(dynamo, 'leases');
  for (const name of ['team-a-app', 'team-b-app', 'team-c-app']) await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST }));
  for (const ns of ['team-a', 'team-b', 'team-c']) {
    tokens[ns] = await issuer.mint({ sub: `system:serviceaccount:${ns}:api`, 'kubernetes.io': { namespace: ns, serviceaccount: { name: 'api', uid: 'u1' } } });
  }
});

beforeEach(() => {
  clock = new FixedClock(Date.now());
  routes = routesWith(new IamSessionRevoker(singleAccountIamClients(ACCOUNT, iam)));
});

afterAll(() => issuer.stop());

async function call(ns: string, method: 'GET' | 'POST', path: string, init: { query?: Record<string, string>; body?: unknown } = {}) {
  const id = /^\/v1\/leases\/([^/]+)/.exec(path)?.[1];
  const event = httpEvent({ method, path, headers: { authorization: `Bearer ${tokens[ns]}` }, ...init, ...(id ? { pathParameters: { id } } : {}) });
  const route = method === 'GET' ? (id ? routes.get : routes.list) : path.endsWith('/revoke') ? routes.revoke : routes.renew;
  const result = await route(event, lambdaContext);
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

async function vend(ns: string, durationSeconds = 900) {
  const identity = await new JoseTokenVerifier(grants.issuers).verify(tokens[ns] as string);
  const result = await vendCredentials(
    { grants, leases, clock, ids: ulidGenerator(), roleAssumer: new StsRoleAssumer(new STSClient(awsClientConfig())) },
    { identity, requestId: 'r', roleArn: `arn:aws:iam::${ACCOUNT}:role/${ns}-app`, durationSeconds, fresh: true },
  );
  return result.leaseId;
}

interface PolicyDocument {
  Version: string;
  Statement: Array<{ Sid: string; Effect: string; Action: string; Resource: string; Condition: Record<string, Record<string, string>> }>;
}

/** The broker's deny policies on a role, by name, as IAM stores them. */
async function denyPolicies(roleName: string): Promise<Record<string, PolicyDocument>> {
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const out: Record<string, PolicyDocument> = {};
  for (const name of names.filter((n) => n.startsWith(`${PREFIX}-`))) {
    const text = (await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }))).PolicyDocument as string;
    out[name] = JSON.parse(text.trim().startsWith('{') ? text : decodeURIComponent(text)) as PolicyDocument;
  }
  return out;
}

const deniedUserIds = (policies: Record<string, PolicyDocument>) =>
  Object.values(policies)
    .map((p) => p.Statement[0]?.Condition.StringEquals?.['aws:userid'])
    .sort();

test("lists the caller's own leases page by page over DynamoDB, with cursors that only work for that listing", async () => {
  const mine = [await vend('team-c'), await vend('team-c'), await vend('team-c')];
  await vend('team-b');
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const res = await call('team-c', 'GET', '/v1/leases', { query: { limit: '2', ...(cursor ? { cursor } : {}) } });
    expect(res.status).toBe(200);
    seen.push(...res.body.leases.map((l: { leaseId: string }) => l.leaseId));
    cursor = res.body.cursor;
    if (!cursor) break;
  }
  expect(seen).toEqual([...mine].reverse());

  const first = await call('team-c', 'GET', '/v1/leases', { query: { limit: '1' } });
  const stolen = await call('team-b', 'GET', '/v1/leases', { query: { cursor: first.body.cursor } });
  expect(stolen.status).toBe(400);
  expect(stolen.body.error.code).toBe('invalid_cursor');
  // A cursor from another broker instance (another key) is as good as forged.
  const otherInstance = routesWith(undefined);
  const res = await otherInstance.list(httpEvent({ method: 'GET', path: '/v1/leases', headers: { authorization: `Bearer ${tokens['team-c']}` }, query: { cursor: first.body.cursor } }), lambdaContext);
  expect(res.statusCode).toBe(400);
});

test('revoking a credentials lease puts a deny for exactly its session on the role; a repeat changes nothing', async () => {
  const id = await vend('team-a');
  const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'team-a-app' }));
  const res = await call('team-a', 'POST', `/v1/leases/${id}/revoke`, { body: { reason: 'KEY_COMPROMISE' } });
  expect(res.status).toBe(200);
  expect(res.body.lease).toMatchObject({ status: 'revoked', revocationMethod: 'session-deny', revokeReason: 'KEY_COMPROMISE' });
  expect(res.body.effect).toContain('denied every action');

  const expiresAt = Math.ceil(Date.parse(res.body.lease.expiresAt) / 1000);
  expect(await denyPolicies('team-a-app')).toEqual({
    [`${PREFIX}-${id}-until-${expiresAt}`]: {
      Version: '2012-10-17',
      Statement: [{ Sid: 'DenyRevokedSession', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:userid': `${Role?.RoleId}:${id}` } } }],
    },
  });
  expect((await leases.get(id))?.status).toBe('revoked');

  const again = await call('team-a', 'POST', `/v1/leases/${id}/revoke`);
  expect(again.status).toBe(200);
  expect(again.body).toEqual(res.body);
  expect(Object.keys(await denyPolicies('team-a-app'))).toHaveLength(1);

  // A second lease gets its own policy next to the first.
  const second = await vend('team-a');
  await call('team-a', 'POST', `/v1/leases/${second}/revoke`);
  expect(deniedUserIds(await denyPolicies('team-a-app'))).toEqual([`${Role?.RoleId}:${id}`, `${Role?.RoleId}:${second}`].sort());
});

test("when one more session policy would pass IAM's 10,240-character limit, a role-wide aws:TokenIssueTime cut-off replaces them, and the response says so", async () => {
  // Another inline policy on the role takes most of the room.
  const filler = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Filler', Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 270 }, (_, i) => `arn:aws:s3:::bucket-${String(i).padStart(3, '0')}/data/*`) }] });
  expect(filler.length).toBeGreaterThan(9_000);
  await iam.send(new PutRolePolicyCommand({ RoleName: 'team-b-app', PolicyName: 'app-access', PolicyDocument: filler }));

  const methods: string[] = [];
  let last;
  for (let i = 0; i < 12; i++) {
    const id = await vend('team-b');
    last = await call('team-b', 'POST', `/v1/leases/${id}/revoke`);
    methods.push(last.body.lease.revocationMethod);
    const ours = Object.values(await denyPolicies('team-b-app')).reduce((sum, p) => sum + JSON.stringify(p).length, 0);
    expect(ours + filler.length).toBeLessThanOrEqual(10_240);
    if (last.body.lease.revocationMethod === 'token-issue-time-cutoff') break;
  }
  expect(methods.length).toBeGreaterThan(2);
  expect(methods.slice(0, -1).every((m) => m === 'session-deny')).toBe(true);
  expect(methods.at(-1)).toBe('token-issue-time-cutoff');
  expect(last?.body.effect).toContain('every session of arn:aws:iam::123456789012:role/team-b-app issued before');
  const cutoff = Math.ceil(clock.now().getTime() / 1000);
  // The cut-off replaces the per-session policies it covers.
  expect(await denyPolicies('team-b-app')).toEqual({
    [`${PREFIX}-before-${cutoff}-until-${cutoff + 3600}`]: {
      Version: '2012-10-17',
      Statement: [{ Sid: 'DenySessionsIssuedBeforeRevocation', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': new Date(cutoff * 1000).toISOString() } } }],
    },
  });
  // The role's own policy is untouched.
  expect((await iam.send(new GetRolePolicyCommand({ RoleName: 'team-b-app', PolicyName: 'app-access' }))).PolicyDocument).toBeDefined();
});

test('the renewal job removes a deny once its session has expired', async () => {
  const revoker = new IamSessionRevoker(singleAccountIamClients(ACCOUNT, iam));
  const id = await vend('team-c', 900);
  await call('team-c', 'POST', `/v1/leases/${id}/revoke`);
  expect(Object.keys(await denyPolicies('team-c-app'))).toHaveLength(1);

  const jobDeps = { grants, leases, clock, ids: ulidGenerator(), sessionRevoker: revoker };
  await renewLeases(jobDeps);
  expect(Object.keys(await denyPolicies('team-c-app'))).toHaveLength(1);

  clock.advanceSeconds(901);
  const run = await renewLeases(jobDeps);
  expect(run.pruned.roles).toContain(`arn:aws:iam::${ACCOUNT}:role/team-c-app`);
  expect(await denyPolicies('team-c-app')).toEqual({});
});

test('without revocation configured, a revoke marks the lease and says the session stays valid; nothing is written to IAM', async () => {
  routes = routesWith(undefined);
  const id = await vend('team-c');
  const before = await denyPolicies('team-c-app');
  const res = await call('team-c', 'POST', `/v1/leases/${id}/revoke`);
  expect(res.body.lease).toMatchObject({ status: 'revoked', revocationMethod: 'none' });
  expect(res.body.effect).toContain('stay valid until');
  expect(await denyPolicies('team-c-app')).toEqual(before);
});

test('renewing credentials vends a new session linked to the old lease; renewing a revoked lease is a 409', async () => {
  const id = await vend('team-c');
  const res = await call('team-c', 'POST', `/v1/leases/${id}/renew`);
  expect(res.status).toBe(201);
  expect(res.body.assumedRoleArn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/team-c-app/${res.body.leaseId}`);
  expect(await leases.get(id)).toMatchObject({ status: 'active', renewedBy: res.body.leaseId });
  expect(await leases.get(res.body.leaseId)).toMatchObject({ status: 'active', renewedFrom: id });

  await call('team-c', 'POST', `/v1/leases/${res.body.leaseId}/revoke`);
  const again = await call('team-c', 'POST', `/v1/leases/${res.body.leaseId}/renew`);
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('lease_revoked');
});

test('a certificate lease: GET returns the certificate, renew re-issues for the same key, revoke goes to the CA', async () => {
  const { issueCertificate } = await import('../../shared/use-cases/issue-certificate');
  const identity = await new JoseTokenVerifier(grants.issuers).verify(tokens['team-a'] as string);
  const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
  const issued = await issueCertificate(
    { grants, leases, clock, ids: ulidGenerator(), ca: new PcaCertificateAuthority(new ACMPCAClient(awsClientConfig()), clock), readyWithinMs: 10_000 },
    { identity, requestId: 'r', csr, profile: 'mesh' },
  );
  expect(issued.status).toBe('issued');

  const got = await call('team-a', 'GET', `/v1/leases/${issued.leaseId}`);
  expect(got.status).toBe(200);
  verifyIssuedBy(got.body.certificate, caCertificatePem);
  expect(got.body.lease).toMatchObject({ kind: 'certificate', status: 'active', serialNumber: got.body.serialNumber, caArn });

  const renewed = await call('team-a', 'POST', `/v1/leases/${issued.leaseId}/renew`);
  expect(renewed.status).toBe(201);
  const oldKey = new X509Certificate(got.body.certificate).publicKey.export({ type: 'spki', format: 'der' });
  const newCert = verifyIssuedBy(renewed.body.certificate, caCertificatePem);
  expect(newCert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(oldKey);
  expect(renewed.body.serialNumber).not.toBe(got.body.serialNumber);
  expect(await leases.get(renewed.body.leaseId)).toMatchObject({ status: 'active', renewedFrom: issued.leaseId, serialNumber: renewed.body.serialNumber });

  const revoked = await call('team-a', 'POST', `/v1/leases/${issued.leaseId}/revoke`, { body: { reason: 'SUPERSEDED' } });
  expect(revoked.status).toBe(200);
  expect(revoked.body.lease).toMatchObject({ status: 'revoked', revokeReason: 'SUPERSEDED' });
  const again = await call('team-a', 'POST', `/v1/leases/${issued.leaseId}/revoke`);
  expect(again.body).toEqual(revoked.body);
});

test('revocations on one role at the same moment never overwrite each other (one policy per session)', async () => {
  await iam.send(new CreateRoleCommand({ RoleName: 'shared-app', AssumeRolePolicyDocument: TRUST }));
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/shared-app`;
  // Two Lambda instances: two revokers, each with its own client.
  const revokers = [new IamSessionRevoker(singleAccountIamClients(ACCOUNT, new IAMClient(awsClientConfig()))), new IamSessionRevoker(singleAccountIamClients(ACCOUNT, new IAMClient(awsClientConfig())))];
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + 900_000);
  const sessions = ['01CONCURRENT00000000000001', '01CONCURRENT00000000000002', '01CONCURRENT00000000000003', '01CONCURRENT00000000000004'];
  await Promise.all(sessions.map((session, i) => revokers[i % 2]!.block({ roleArn, roleSessionName: session, issuedAt: now, expiresAt, now })));
  const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'shared-app' }));
  expect(deniedUserIds(await denyPolicies('shared-app'))).toEqual(sessions.map((s) => `${Role?.RoleId}:${s}`));
});
