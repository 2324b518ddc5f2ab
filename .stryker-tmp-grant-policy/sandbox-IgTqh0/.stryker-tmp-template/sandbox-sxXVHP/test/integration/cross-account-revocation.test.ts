// @ts-nocheck
// 
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { leasesRoutes } from '../../functions/leases/routes';
import { IamSessionRevoker, revokerRoleIamClients, sessionPolicy, singleAccountIamClients, DEFAULT_REVOKER_ROLE_NAME } from '../../shared/adapters/iam-session-revoker';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { renewLeases } from '../../shared/use-cases/renew-leases';
import { call, grantsYaml, leaseWorld, TOKENS } from '../unit/functions/leases/lease-fixture';
import { awsClientConfig, motoData, resetMoto } from './moto';

/**
 * Finding 10 of the security review: revoking a lease for a role in another account put the deny
 * on a same-named role in the broker's account and reported success, because the broker's one IAM
 * client writes in the broker's account whatever account the role ARN names. Invariant: a deny is
 * written in the role's own account (through the revoker role there), or the revocation fails and
 * the lease stays active. moto keeps one IAM per account and routes a call by the account of the
 * credentials, as AWS does, so a write in the wrong account shows here.
 */
const BROKER_ACCOUNT = '123456789012'; // moto's default: the account of the broker's own credentials
const APP_ACCOUNT = '444455556666';
const APP_ROLE = `arn:aws:iam::${APP_ACCOUNT}:role/nocreds/team-a-app`;
const PREFIX = 'nocreds-revoked';
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${BROKER_ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] });

const { credentials: _dummy, ...iamConfig } = awsClientConfig();
let brokerIam: IAMClient;
let appIam: IAMClient;

/** An IAM client acting in `account` (moto issues credentials of that account for any role there). */
async function iamIn(account: string): Promise<IAMClient> {
  const out = await new STSClient(awsClientConfig()).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/test-admin`, RoleSessionName: 'test-setup' }));
  const c = out.Credentials!;
  return new IAMClient({ ...iamConfig, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
}

async function policies(client: IAMClient, roleName: string): Promise<Record<string, unknown>> {
  const { PolicyNames = [] } = await client.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  const out: Record<string, unknown> = {};
  for (const name of PolicyNames) out[name] = JSON.parse(decodeURIComponent((await client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }))).PolicyDocument!));
  return out;
}

/** The lease routes with the production wiring of revocation: the revoker role in the role's account. */
function world() {
  const w = leaseWorld({ grants: parseGrantPolicy(grantsYaml({ teamRoles: `arn:aws:iam::${APP_ACCOUNT}:role/nocreds/\${namespace}-app` })) });
  const revoker = new IamSessionRevoker(revokerRoleIamClients({ sts: new STSClient(awsClientConfig()), iamConfig }));
  const deps = { ...w.deps, sessionRevoker: revoker };
  return { ...w, deps, revoker, routes: leasesRoutes(deps) };
}

async function vend(w: ReturnType<typeof world>): Promise<string> {
  const { vendCredentials } = await import('../../shared/use-cases/vend-credentials');
  const { teamA } = await import('../unit/functions/leases/lease-fixture');
  const vended = await vendCredentials({ ...w.deps, roleAssumer: w.sts }, { identity: teamA, requestId: 'r', roleArn: APP_ROLE, durationSeconds: 900 });
  return vended.leaseId;
}

beforeAll(async () => {
  await resetMoto();
  brokerIam = new IAMClient(awsClientConfig());
  appIam = await iamIn(APP_ACCOUNT);
  // The same role name in both accounts: the trap the old code fell into.
  for (const client of [brokerIam, appIam]) await client.send(new CreateRoleCommand({ RoleName: 'team-a-app', Path: '/nocreds/', AssumeRolePolicyDocument: TRUST }));
  const [path, name] = [`/${DEFAULT_REVOKER_ROLE_NAME.slice(0, DEFAULT_REVOKER_ROLE_NAME.lastIndexOf('/') + 1)}`, DEFAULT_REVOKER_ROLE_NAME.slice(DEFAULT_REVOKER_ROLE_NAME.lastIndexOf('/') + 1)];
  await appIam.send(new CreateRoleCommand({ RoleName: name, Path: path, AssumeRolePolicyDocument: TRUST }));
});

test('revoking a lease on a role in another account writes the deny on that role, in that account, and nothing in the broker account', async () => {
  const w = world();
  const id = await vend(w);
  const res = await call(w.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
  expect(res.status).toBe(200);
  expect(res.body.lease).toMatchObject({ status: 'revoked', revocationMethod: 'session-deny', roleArn: APP_ROLE });

  const { Role } = await appIam.send(new GetRoleCommand({ RoleName: 'team-a-app' }));
  expect(Role?.Arn).toBe(APP_ROLE);
  const expiresAt = Math.ceil(Date.parse(res.body.lease.expiresAt) / 1000);
  expect(await policies(appIam, 'team-a-app')).toEqual({ [`${PREFIX}-${id}-until-${expiresAt}`]: JSON.parse(sessionPolicy(`${Role?.RoleId}:${id}`)) });
  expect(await policies(brokerIam, 'team-a-app')).toEqual({});

  // The broker got there through the revoker role of the role's account.
  const assumed = JSON.stringify((await motoData()).sts ?? {});
  expect(assumed).toContain(`arn:aws:iam::${APP_ACCOUNT}:role/${DEFAULT_REVOKER_ROLE_NAME}`);
});

test('the renewal job prunes an expired deny in the role own account, and leaves a same-named role elsewhere alone', async () => {
  const w = world();
  const id = await vend(w);
  await call(w.routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
  // An expired entry on the broker account's same-named role is not this broker's business here.
  const stray = `${PREFIX}-01STRAY000000000000000000-until-1`;
  await brokerIam.send(new PutRolePolicyCommand({ RoleName: 'team-a-app', PolicyName: stray, PolicyDocument: sessionPolicy('AROASTRAY:01STRAY') }));
  const before = Object.keys(await policies(appIam, 'team-a-app'));
  expect(before.some((n) => n.includes(id))).toBe(true);

  w.clock.advanceSeconds(901);
  const run = await renewLeases({ ...w.deps, sessionRevoker: w.revoker });
  expect(run.pruned.roles).toEqual([APP_ROLE]);
  expect(Object.keys(await policies(appIam, 'team-a-app')).some((n) => n.includes(id))).toBe(false);
  expect(Object.keys(await policies(brokerIam, 'team-a-app'))).toEqual([stray]);
});

test('a broker that cannot act in the role account refuses with 409 revocation_unavailable, writes nothing, and the lease stays active', async () => {
  const w = world();
  const deps = { ...w.deps, sessionRevoker: new IamSessionRevoker(singleAccountIamClients(BROKER_ACCOUNT, brokerIam)) };
  const routes = leasesRoutes(deps);
  const id = await vend(w);
  const before = { app: await policies(appIam, 'team-a-app'), broker: await policies(brokerIam, 'team-a-app') };

  const res = await call(routes, TOKENS.teamA, 'POST', `/v1/leases/${id}/revoke`);
  expect(res.status).toBe(409);
  expect(res.body.error).toMatchObject({ code: 'revocation_unavailable', details: { account: APP_ACCOUNT } });
  expect(res.body.error.message).toContain('Nothing was revoked');
  expect((await w.leases.get(id))?.status).toBe('active');
  expect({ app: await policies(appIam, 'team-a-app'), broker: await policies(brokerIam, 'team-a-app') }).toEqual(before);
});
