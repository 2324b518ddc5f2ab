// @ts-nocheck
// 
import { credentialsRoutes } from '../../../../functions/credentials/routes';
import { leasesRoutes } from '../../../../functions/leases/routes';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { PageCursors } from '../../../../shared/domain/page-cursor';
import { parseSessionPolicy } from '../../../../shared/domain/session-policy';
import { ValidationError } from '../../../../shared/domain/errors';
import { Authenticator } from '../../../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../../../support/http-events';
import { FixedClock, InMemoryLeaseStore, oidcIdentity, RecordingRoleAssumer, SequentialIds, StaticTokenVerifier } from '../../../fakes';

/**
 * Bodies built to make the edge and the domain disagree: prototype keys (which a plain-object copy
 * drops or turns into a prototype), keys sent twice (JSON.parse keeps the last), deep nesting.
 * Each must be a 400 that names the path, with nothing written and STS untouched.
 */
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-reader`;
const TOKEN = 'token-team-a';
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
      sessionPolicy:
        Statement:
          - { Effect: Allow, Action: ["s3:GetObject"], Resource: "arn:aws:s3:::\${namespace}-data/*" }
`);

function setup() {
  const clock = new FixedClock();
  const leases = new InMemoryLeaseStore();
  const sts = new RecordingRoleAssumer(clock);
  const authenticator = new Authenticator({ tokenVerifier: new StaticTokenVerifier().accept(TOKEN, oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' })) });
  const credentials = credentialsRoutes({ grants, roleAssumer: sts, leases, clock, ids: new SequentialIds(), authenticator });
  const leaseRoutes = leasesRoutes({
    grants,
    leases,
    clock,
    ids: new SequentialIds(),
    authenticator,
    cursors: new PageCursors(Buffer.alloc(32, 7)),
    credentials: { roleAssumer: sts, retentionSeconds: 3600 },
  } as unknown as Parameters<typeof leasesRoutes>[0]);
  return { credentials, leaseRoutes, leases, sts };
}

const vendEvent = (rawBody: string) => httpEvent({ method: 'POST', path: '/v1/credentials', rawBody, headers: { authorization: `Bearer ${TOKEN}` } });

async function vend(rawBody: string) {
  const world = setup();
  const result = await world.credentials.vend(vendEvent(rawBody), lambdaContext);
  return { status: result.statusCode, error: parse(result)?.error, leases: world.leases.size, stsCalls: world.sts.callCount };
}

const statement = (condition: string) => `{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::team-a-data/*","Condition":${condition}}`;

describe('prototype keys in a session policy, at any depth', () => {
  test.each([
    ['__proto__', `{"StringEquals":{"__proto__":{"aws:SourceIp":"10.0.0.1"}}}`, 'policy.Statement.0.Condition.StringEquals.__proto__'],
    ['constructor', `{"constructor":{"aws:SourceIp":"10.0.0.1"}}`, 'policy.Statement.0.Condition.constructor'],
    ['prototype', `{"StringEquals":{"aws:SourceIp":{"prototype":"x"}}}`, 'policy.Statement.0.Condition.StringEquals.aws:SourceIp.prototype'],
  ])('%s inside Condition: 400 forbidden_json_key naming the path, no lease, no STS call', async (_key, condition, path) => {
    const body = `{"role":"${ROLE}","policy":{"Version":"2012-10-17","Statement":[${statement(condition)}]}}`;
    const outcome = await vend(body);
    expect(outcome).toMatchObject({ status: 400, error: { code: 'forbidden_json_key', details: { path } }, leases: 0, stsCalls: 0 });
    expect(outcome.error.message).toContain('__proto__');
  });

  test('the same keys inside a policy sent as a JSON string: 400 from parseSessionPolicy', async () => {
    const policy = JSON.stringify(`{"Version":"2012-10-17","Statement":[${statement('{"StringEquals":{"__proto__":{"a":"b"}}}')}]}`);
    const outcome = await vend(`{"role":"${ROLE}","policy":${policy}}`);
    expect(outcome).toMatchObject({ status: 400, error: { code: 'forbidden_json_key' }, leases: 0, stsCalls: 0 });
  });

  test('parseSessionPolicy itself refuses them, whether given a value or text', () => {
    const value: unknown = JSON.parse(`{"Version":"2012-10-17","Statement":[${statement('{"__proto__":{"a":"b"}}')}]}`);
    expect(() => parseSessionPolicy(value)).toThrow(expect.objectContaining({ code: 'forbidden_json_key' }) as ValidationError);
    expect(() => parseSessionPolicy(JSON.stringify(value))).toThrow(expect.objectContaining({ code: 'forbidden_json_key' }) as ValidationError);
    expect(() => parseSessionPolicy('{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}')).toThrow(expect.objectContaining({ code: 'duplicate_json_key' }) as ValidationError);
  });
});

describe('duplicate keys: rejected, never last-one-wins', () => {
  test('a role sent twice: 400 duplicate_json_key', async () => {
    const outcome = await vend(`{"role":"arn:aws:iam::${ACCOUNT}:role/team-b-admin","role":"${ROLE}"}`);
    expect(outcome).toMatchObject({ status: 400, error: { code: 'duplicate_json_key', details: { path: 'role' } }, leases: 0, stsCalls: 0 });
  });

  test('an Effect sent twice inside the policy: 400 naming policy.Statement.0.Effect', async () => {
    const outcome = await vend(`{"role":"${ROLE}","policy":{"Statement":[{"Effect":"Deny","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}`);
    expect(outcome).toMatchObject({ status: 400, error: { code: 'duplicate_json_key', details: { path: 'policy.Statement.0.Effect' } }, leases: 0, stsCalls: 0 });
  });

  test('on the lease routes too (every JSON body goes through the same edge)', async () => {
    const { leaseRoutes } = setup();
    const event = httpEvent({
      method: 'POST',
      path: '/v1/leases/01TEST00000000000000000001/revoke',
      pathParameters: { id: '01TEST00000000000000000001' },
      rawBody: '{"reason":"SUPERSEDED","reason":"KEY_COMPROMISE"}',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const result = await leaseRoutes.revoke(event, lambdaContext);
    expect({ status: result.statusCode, code: parse(result).error.code }).toEqual({ status: 400, code: 'duplicate_json_key' });
  });
});

test('nesting deeper than the limit: 400 json_too_deep', async () => {
  const outcome = await vend(`{"role":"${ROLE}","policy":${'['.repeat(40)}${']'.repeat(40)}}`);
  expect(outcome).toMatchObject({ status: 400, error: { code: 'json_too_deep' }, leases: 0, stsCalls: 0 });
});

test('a clean body still vends (control)', async () => {
  const outcome = await vend(`{"role":"${ROLE}","policy":{"Version":"2012-10-17","Statement":[${statement('{"StringEquals":{"aws:SourceIp":"10.0.0.1"}}')}]}}`);
  expect(outcome).toMatchObject({ status: 201, leases: 1, stsCalls: 1 });
});
