import { credentialsRoutes } from '../../../../functions/credentials/routes';
import { logger } from '../../../../shared/adapters/logger';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { Authenticator } from '../../../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../../../support/http-events';
import { FixedClock, InMemoryLeaseStore, oidcIdentity, RecordingRoleAssumer, SequentialIds, StaticTokenVerifier } from '../../../fakes';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-reader`;
const CI_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers:
      - oidc: k8s
        claims: { namespace: "team-*" }
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
      maxDurationSeconds: 1800
      sessionPolicy:
        Statement:
          - { Effect: Allow, Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::\${namespace}-data/*" }
      sessionTags: { team: "\${team}" }
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/deploy"]
  - id: secret-rule-of-another-team
    callers: [{ iam: "arn:aws:iam::999988887777:role/*" }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/payments-admin"]
`);

const TEAM_A_TOKEN = 'token-team-a';
const LONG_CLAIM_TOKEN = 'token-long-claim';

function setup() {
  const clock = new FixedClock();
  const leases = new InMemoryLeaseStore();
  const sts = new RecordingRoleAssumer(clock);
  const tokens = new StaticTokenVerifier()
    .accept(TEAM_A_TOKEN, oidcIdentity({ namespace: 'team-a', serviceaccount: 'api', team: 'alpha' }))
    .accept(LONG_CLAIM_TOKEN, oidcIdentity({ namespace: 'team-a', serviceaccount: 'api', team: 'x'.repeat(300) }));
  const routes = credentialsRoutes({ grants, roleAssumer: sts, leases, clock, ids: new SequentialIds(), authenticator: new Authenticator({ tokenVerifier: tokens }) });
  return { routes, leases, sts, tokens };
}

type Init = Parameters<typeof httpEvent>[0];
const post = (init: Partial<Init> = {}): Init => ({ method: 'POST', path: '/v1/credentials', headers: { authorization: `Bearer ${TEAM_A_TOKEN}` }, ...init });

/** Sends the request and checks the outcome every rejection must have: status, code, request id, nothing written, STS untouched. */
async function expectRejected(init: Init, status: number, code: string) {
  const { routes, leases, sts } = setup();
  const event = httpEvent(init);
  const result = await routes.vend(event, lambdaContext);
  const body = parse(result);
  expect({ status: result.statusCode, code: body?.error?.code }).toEqual({ status, code });
  expect(body.error.requestId).toBe(event.requestContext.requestId);
  expect(body.error.message).toEqual(expect.any(String));
  expect(result.headers['cache-control']).toBe('no-store');
  expect(leases.size).toBe(0);
  expect(leases.callCount('create')).toBe(0);
  expect(sts.callCount).toBe(0);
  return body.error as { code: string; message: string; requestId: string; details?: Record<string, unknown> };
}

test('a valid request is answered 201 with the credentials, no-store, and an active lease', async () => {
  const { routes, leases, sts } = setup();
  const result = await routes.vend(httpEvent(post({ body: { role: ROLE, durationSeconds: 900 } })), lambdaContext);
  expect(result.statusCode).toBe(201);
  expect(result.headers).toMatchObject({ 'cache-control': 'no-store', location: '/v1/leases/01TEST00000000000000000001' });
  expect(parse(result)).toEqual({
    leaseId: '01TEST00000000000000000001',
    accessKeyId: 'ASIAFAKE000000000001',
    secretAccessKey: 'fake-secret-1',
    sessionToken: 'fake-session-token-1',
    expiration: '2030-01-01T00:15:00.000Z',
    assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/team-a-reader/01TEST00000000000000000001`,
  });
  expect(leases.all()[0]?.status).toBe('active');
  expect(sts.requests[0]?.tags).toContainEqual({ key: 'team', value: 'alpha' });
});

describe('bad bodies are refused before anything is written or asked of STS', () => {
  test('malformed JSON: 400 malformed_json', async () => {
    await expectRejected(post({ rawBody: '{"role": "arn:aws:iam::111122223333:role/team-a-reader",' }), 400, 'malformed_json');
  });

  test('a body that is JSON but not an object: 400 invalid_request', async () => {
    await expectRejected(post({ rawBody: '["role"]' }), 400, 'invalid_request');
  });

  test('no body at all: 400', async () => {
    const error = await expectRejected(post({ headers: { authorization: `Bearer ${TEAM_A_TOKEN}`, 'content-type': 'application/json' } }), 400, 'invalid_request');
    expect(error.message).toMatch(/JSON object/);
  });

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', ''])('content type %j: 415 unsupported_media_type', async (contentType) => {
    const error = await expectRejected(post({ body: { role: ROLE }, headers: { authorization: `Bearer ${TEAM_A_TOKEN}`, 'content-type': contentType } }), 415, 'unsupported_media_type');
    expect(error.message).toContain('application/json');
  });

  test('application/json with a charset is accepted', async () => {
    const { routes } = setup();
    const result = await routes.vend(httpEvent(post({ body: { role: ROLE }, headers: { authorization: `Bearer ${TEAM_A_TOKEN}`, 'content-type': 'application/json; charset=utf-8' } })), lambdaContext);
    expect(result.statusCode).toBe(201);
  });

  test('a body over 16 KiB: 413 body_too_large, even before authentication', async () => {
    const big = JSON.stringify({ role: ROLE, policy: 'x'.repeat(16 * 1024) });
    await expectRejected(post({ rawBody: big }), 413, 'body_too_large');
    await expectRejected(post({ rawBody: big, headers: {} }), 413, 'body_too_large');
  });

  test('a body of exactly 16 KiB is read (and then judged on its content)', async () => {
    const base = JSON.stringify({ role: ROLE, policy: '' });
    const exact = JSON.stringify({ role: ROLE, policy: ' '.repeat(16 * 1024 - base.length) });
    expect(Buffer.byteLength(exact)).toBe(16 * 1024);
    await expectRejected(post({ rawBody: exact }), 400, 'invalid_session_policy');
  });

  test('unknown fields: 400 unknown_field naming them', async () => {
    const error = await expectRejected(post({ body: { role: ROLE, roleArn: ROLE, sessionName: 'me' } }), 400, 'unknown_field');
    expect(error.message).toContain('"roleArn"');
    expect(error.details).toEqual({ fields: ['roleArn', 'sessionName'] });
  });

  test('missing role: 400 missing_field', async () => {
    const error = await expectRejected(post({ body: { durationSeconds: 900 } }), 400, 'missing_field');
    expect(error.details).toEqual({ field: 'role' });
  });

  test.each([
    ['not an ARN', 'team-a-reader'],
    ['a user ARN', `arn:aws:iam::${ACCOUNT}:user/alice`],
    ['a number', 42],
  ])('role that is %s: 400 invalid_field', async (_what, role) => {
    const error = await expectRejected(post({ body: { role } }), 400, 'invalid_field');
    expect(error.details).toEqual({ field: 'role' });
  });

  test('a role no grant allows: 403 grant_denied, naming no other caller\'s rule', async () => {
    const error = await expectRejected(post({ body: { role: `arn:aws:iam::${ACCOUNT}:role/payments-admin` } }), 403, 'grant_denied');
    expect(error.message).toContain('applicable rules: team-apps');
    expect(JSON.stringify(error)).not.toMatch(/secret-rule-of-another-team|\bci\b|deploy|999988887777/);
  });

  test.each([
    ['under 900 s', 899, /at least 900/],
    ['over STS\'s 12 h', 43_201, /at most 43200/],
    ['not an integer', 900.5, /whole number of seconds/],
    ['a string', '900', /number/],
  ])('duration %s: 400 invalid_field', async (_what, durationSeconds, message) => {
    const error = await expectRejected(post({ body: { role: ROLE, durationSeconds } }), 400, 'invalid_field');
    expect(error.details).toEqual({ field: 'durationSeconds' });
    expect(error.message).toMatch(message);
  });

  test('a duration within STS\'s range but over the grant: 400 duration_exceeds_grant naming the limit', async () => {
    const error = await expectRejected(post({ body: { role: ROLE, durationSeconds: 3600 } }), 400, 'duration_exceeds_grant');
    expect(error.message).toContain('exceeds the 1800 s your grant (rule "team-apps") allows');
  });

  test('over one hour with an assume-role grant: 400 duration_exceeds_grant, pointing to via: web-identity', async () => {
    const error = await expectRejected(post({ body: { role: ROLE, durationSeconds: 7200 } }), 400, 'duration_exceeds_grant');
    expect(error.message).toContain('need a grant with credentials.via: web-identity');
  });

  test('a session policy that is not valid JSON: 400 invalid_session_policy', async () => {
    const error = await expectRejected(post({ body: { role: ROLE, policy: '{"Statement": [' } }), 400, 'invalid_session_policy');
    expect(error.message).toContain('not valid JSON');
  });

  test('a session policy that is JSON but not a policy: 400 invalid_session_policy naming where', async () => {
    const error = await expectRejected(post({ body: { role: ROLE, policy: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] } } }), 400, 'invalid_session_policy');
    expect(error.message).toMatch(/Statement.*Resource/);
  });

  test.each([
    ['another action', { Statement: [{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-a-data/*' }] }],
    ['another bucket', { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-b-data/*' }] }],
    ['NotAction', { Statement: [{ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-a-data/*' }] }],
  ])('a session policy that would widen the grant (%s): 400 session_policy_widens_grant', async (_what, policy) => {
    await expectRejected(post({ body: { role: ROLE, policy } }), 400, 'session_policy_widens_grant');
    await expectRejected(post({ body: { role: ROLE, policy: JSON.stringify(policy) } }), 400, 'session_policy_widens_grant');
  });

  test('a managed policy ARN the grant does not list: 400 policy_arn_not_granted', async () => {
    await expectRejected(post({ body: { role: ROLE, policyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] } }), 400, 'policy_arn_not_granted');
  });

  test('a claim too long for a tag template (300 characters): 403 invalid_claim naming it', async () => {
    const error = await expectRejected(post({ body: { role: ROLE }, headers: { authorization: `Bearer ${LONG_CLAIM_TOKEN}` } }), 403, 'invalid_claim');
    expect(error.message).toContain('"team" attribute cannot be used by this grant: it is longer than 256 characters');
  });

  test.each([
    ['a role name over IAM\'s 64 characters', `arn:aws:iam::${ACCOUNT}:role/${'r'.repeat(65)}`, 'role_name_too_long'],
    ['a role path over IAM\'s 512 characters', `arn:aws:iam::${ACCOUNT}:role/${'p/'.repeat(300)}r`, 'role_path_too_long'],
  ])('%s: 400 %s', async (_what, role, code) => {
    await expectRejected(post({ body: { role } }), 400, code);
  });

  test('a session policy over 2048 characters: 400 session_policy_too_large', async () => {
    const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::team-a-data/p${i}/*`);
    await expectRejected(post({ body: { role: ROLE, policy: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] } } }), 400, 'session_policy_too_large');
  });
});

describe('authentication', () => {
  const iamPost = (iam: Record<string, unknown> | undefined, headers: Record<string, string> = {}): Init => ({
    method: 'POST',
    path: '/v1/credentials',
    body: { role: `arn:aws:iam::${ACCOUNT}:role/deploy` },
    headers,
    ...(iam ? { iam } : {}),
  });

  test('an IAM caller from the authorizer context is served', async () => {
    const { routes, leases } = setup();
    const result = await routes.vend(httpEvent(iamPost({ userArn: CI_ARN, accountId: ACCOUNT })), lambdaContext);
    expect(result.statusCode).toBe(201);
    expect(leases.all()[0]?.caller).toBe(`arn:aws:iam::${ACCOUNT}:role/ci-runner`);
  });

  test('no authorizer context and no token: 401 missing_credentials', async () => {
    await expectRejected(iamPost(undefined), 401, 'missing_credentials');
  });

  test.each([
    ['no userArn', { accountId: ACCOUNT }],
    ['an empty userArn', { userArn: '', accountId: ACCOUNT }],
    ['a userArn that is not a string', { userArn: 42, accountId: ACCOUNT }],
    ['no accountId', { userArn: CI_ARN }],
    ['an accountId that does not match the ARN', { userArn: CI_ARN, accountId: '999988887777' }],
  ])('an authorizer context with %s: 401 malformed_authorizer_context', async (_what, iam) => {
    await expectRejected(iamPost(iam), 401, 'malformed_authorizer_context');
  });

  test.each([
    ['the root user', `arn:aws:iam::${ACCOUNT}:root`],
    ['a federated user', `arn:aws:sts::${ACCOUNT}:federated-user/bob`],
  ])('%s: 401 unsupported_principal', async (_what, userArn) => {
    await expectRejected(iamPost({ userArn, accountId: ACCOUNT }), 401, 'unsupported_principal');
  });

  test('a token the verifier refuses: 401 with WWW-Authenticate', async () => {
    const { routes, leases, sts } = setup();
    const result = await routes.vend(httpEvent(post({ body: { role: ROLE }, headers: { authorization: 'Bearer forged' } })), lambdaContext);
    expect(result.statusCode).toBe(401);
    expect(result.headers['www-authenticate']).toBe('Bearer');
    expect(parse(result).error.code).toBe('invalid_token');
    expect(leases.size + sts.callCount).toBe(0);
  });

  test('identity headers a caller sets are never trusted', async () => {
    await expectRejected(
      iamPost(undefined, { 'x-amz-user-arn': CI_ARN, 'x-nocreds-caller': CI_ARN, 'x-forwarded-user': CI_ARN, 'x-amzn-oidc-identity': 'team-a' }),
      401,
      'missing_credentials',
    );
  });

  test('a SigV4 Authorization header on this route: 401 sigv4_not_verified_here', async () => {
    await expectRejected(iamPost(undefined, { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20300101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00' }), 401, 'sigv4_not_verified_here');
  });
});

describe('faults reach the caller as the one error envelope', () => {
  test('an unexpected error is a plain 500 that leaks nothing', async () => {
    const { routes, sts } = setup();
    sts.assumeRole = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.1:443 table=leases-prod');
    };
    const event = httpEvent(post({ body: { role: ROLE } }));
    const result = await routes.vend(event, lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(parse(result)).toEqual({ error: { code: 'internal_error', message: 'The broker failed to handle the request. It has been logged.', requestId: event.requestContext.requestId } });
  });

  test('a lease write that fails after STS, however it fails, is a 503 with a code and no credentials', async () => {
    const { routes, leases, sts } = setup();
    leases.failNext('create', new Error('connect ECONNREFUSED 10.0.0.1:443 table=leases-prod'));
    const event = httpEvent(post({ body: { role: ROLE } }));
    const result = await routes.vend(event, lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBeDefined();
    expect(parse(result).error.code).toBe('lease_not_recorded');
    expect(sts.callCount).toBe(1);
    expect(JSON.stringify(result)).not.toContain('ECONNREFUSED');
    expect(JSON.stringify(result)).not.toContain(sts.issued[0]?.accessKeyId);
  });
});

describe('GET /v1/credentials/container', () => {
  const get = (query?: Record<string, string>, authorization = TEAM_A_TOKEN): Init => ({ method: 'GET', path: '/v1/credentials/container', headers: { authorization }, ...(query ? { query } : {}) });

  test('answers in the container-credentials format, the raw token as Authorization', async () => {
    const { routes } = setup();
    const result = await routes.container(httpEvent(get({ role: ROLE })), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(result.headers['cache-control']).toBe('no-store');
    expect(parse(result)).toEqual({ AccessKeyId: 'ASIAFAKE000000000001', SecretAccessKey: 'fake-secret-1', Token: 'fake-session-token-1', Expiration: '2030-01-01T00:30:00.000Z', AccountId: ACCOUNT });
  });

  test.each([
    ['no role', undefined, 400, 'missing_field'],
    ['a role that is not an ARN', { role: 'reader' }, 400, 'invalid_field'],
    ['a role no grant allows', { role: `arn:aws:iam::${ACCOUNT}:role/payments-admin` }, 403, 'grant_denied'],
  ])('%s: %i %s, nothing written', async (_what, query, status, code) => {
    const { routes, leases, sts } = setup();
    const result = await routes.container(httpEvent(get(query)), lambdaContext);
    expect(result.statusCode).toBe(status);
    expect(parse(result).error.code).toBe(code);
    expect(leases.size + sts.callCount).toBe(0);
  });
});

describe('nothing secret is logged', () => {
  afterEach(() => jest.restoreAllMocks());

  /** Everything handed to the logger, errors with their messages, stacks and causes. */
  function captureLogs(): () => string {
    const calls: unknown[][] = [];
    for (const level of ['debug', 'info', 'warn', 'error', 'critical'] as const) {
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => void calls.push(args));
    }
    const expand = (_key: string, value: unknown): unknown =>
      value instanceof Error ? { ...value, name: value.name, message: value.message, stack: value.stack, cause: value.cause } : value;
    return () => JSON.stringify(calls, expand);
  }

  test('neither the bearer token nor the vended secret appear in any log line, on success or on failure', async () => {
    const logs = captureLogs();
    const { routes, leases, sts } = setup();
    await routes.vend(httpEvent(post({ body: { role: ROLE } })), lambdaContext);
    leases.failNext('create', new Error('conditional write failed'));
    const failed = await routes.vend(httpEvent(post({ body: { role: ROLE } })), lambdaContext);
    expect(failed.statusCode).toBe(503);
    await routes.vend(httpEvent(post({ body: { role: ROLE, policy: '{not json' } })), lambdaContext);

    expect(sts.issued).toHaveLength(2);
    const text = logs();
    expect(text).toContain('request failed');
    for (const secret of [TEAM_A_TOKEN, ...sts.issued.flatMap((s) => [s.secretAccessKey, s.sessionToken])]) expect(text).not.toContain(secret);
    expect(text).not.toContain('{not json');
  });
});
