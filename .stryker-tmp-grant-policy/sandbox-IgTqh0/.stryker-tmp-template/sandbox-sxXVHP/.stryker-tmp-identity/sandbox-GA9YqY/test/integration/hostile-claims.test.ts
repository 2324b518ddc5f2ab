// @ts-nocheck
// 
// 
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { startDevIssuer, type DevIssuer } from '../../local/dev-issuer';
import { RecordingRoleAssumer } from '../fakes';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, resetMoto } from './moto';

/**
 * Found by `npm run fuzz`: a signed token whose claims carry a `constructor` key made the lease
 * write fail (the DynamoDB marshaller reads `value.constructor`), a 503 for a bad token. Claims are
 * caller JSON like any body: prototype keys at any depth, and claims nested past DynamoDB's
 * limits, are refused as an invalid token before anything is written.
 */
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-app`;
const TABLE = 'leases';
let issuer: DevIssuer;

beforeAll(async () => {
  issuer = await startDevIssuer();
});
afterAll(() => issuer?.stop());

async function vendWith(claims: Record<string, unknown>) {
  await resetMoto();
  const ddb = new DynamoDBClient(awsClientConfig());
  await ddb.send(new CreateTableCommand(createTableInput(TABLE)));
  const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: dev, url: "${issuer.url}", audiences: [nocreds], preset: kubernetes, allowInsecureLoopback: true }
rules:
  - id: team-apps
    callers: [{ oidc: dev, claims: { namespace: "team-*" } }]
    credentials: { roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-app"] }
`);
  const sts = new RecordingRoleAssumer();
  const leases = new DynamoLeaseStore(ddb, TABLE);
  const routes = credentialsRoutes({ grants, roleAssumer: sts, leases, clock: systemClock, ids: ulidGenerator(), authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers) }) });
  const token = await issuer.mint({ sub: 'system:serviceaccount:team-a:app', 'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app' } }, ...claims });
  const result = await routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', body: { role: ROLE }, headers: { authorization: `Bearer ${token}` } }), lambdaContext);
  const written = await leases.query({ caller: `dev:system:serviceaccount:team-a:app`, limit: 10 });
  return { status: result.statusCode, error: parse(result).error, leases: written.leases.length, stsCalls: sts.callCount };
}

test.each([
  ['a top-level constructor claim', { constructor: 'x' }, 'constructor'],
  ['a nested __proto__ claim', JSON.parse('{"extra":{"__proto__":{"admin":true}}}') as Record<string, unknown>, 'extra.__proto__'],
  ['a prototype claim', { prototype: { namespace: 'team-b' } }, 'prototype'],
])('%s: 401 invalid_token naming the claim, no lease, no STS call', async (_what, claims, path) => {
  const outcome = await vendWith(claims);
  expect(outcome).toMatchObject({ status: 401, error: { code: 'invalid_token', details: { path } }, leases: 0, stsCalls: 0 });
});

test('claims nested deeper than a lease can record: 401 invalid_token', async () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 20; i += 1) deep = { d: deep };
  expect(await vendWith({ deep })).toMatchObject({ status: 401, error: { code: 'invalid_token' }, leases: 0, stsCalls: 0 });
});

test('ordinary extra claims still vend, and the lease is written (control)', async () => {
  expect(await vendWith({ team: 'alpha', groups: ['a', 'b'], nested: { level: { two: 2 } } })).toMatchObject({ status: 201, leases: 1, stsCalls: 1 });
});
