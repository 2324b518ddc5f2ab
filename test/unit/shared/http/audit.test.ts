import '../../../support/telemetry-on';
import { credentialsRoutes } from '../../../../functions/credentials/routes';
import { DependencyUnavailableError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { Authenticator } from '../../../../shared/http/authenticator';
import { httpEvent, lambdaContext } from '../../../support/http-events';
import { FixedClock, InMemoryLeaseStore, oidcIdentity, RecordingRoleAssumer, SequentialIds, StaticTokenVerifier } from '../../../fakes';
import { SessionReuse } from '../../../../shared/use-cases/session-reuse';

/**
 * The decision record of shared/http/audit.ts, as an operator reads it: everything the function
 * writes to stdout and stderr (Powertools' logger and metrics both write there) is captured, each
 * line parsed, and scanned for secrets.
 */
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-reader`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/payments-admin`;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.team-a-token.signature';
const SANDBOX_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.sandbox-token.signature';
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: no-sandbox
    effect: deny
    callers: [{ oidc: k8s, claims: { namespace: sandbox } }]
  - id: team-apps
    callers: [{ oidc: k8s, claims: { namespace: "*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
`);

function setup() {
  const clock = new FixedClock();
  const sts = new RecordingRoleAssumer(clock);
  const tokens = new StaticTokenVerifier()
    .accept(TOKEN, oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }))
    .accept(SANDBOX_TOKEN, oidcIdentity({ namespace: 'sandbox', serviceaccount: 'api' }));
  const routes = credentialsRoutes({
    grants,
    roleAssumer: sts,
    leases: new InMemoryLeaseStore(),
    clock,
    ids: new SequentialIds(),
    reuse: new SessionReuse(clock),
    authenticator: new Authenticator({ tokenVerifier: tokens }),
  });
  return { routes, sts };
}

let output: string[] = [];
beforeEach(() => {
  output = [];
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => jest.restoreAllMocks());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- log lines and EMF documents are checked field by field
type Line = Record<string, any>;
const lines = (): Line[] => output.join('').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Line);
const decisions = () => lines().filter((l) => typeof l.message === 'string' && /^request (allowed|denied|failed)$/.test(l.message));
const emf = () => lines().filter((l) => l._aws);
/** Every metric value published, by name, with the dimension names it was published under. */
function metrics(): { name: string; value: unknown; dimensions: string[] }[] {
  return emf().flatMap((doc) => doc._aws.CloudWatchMetrics.flatMap((m: Line) => m.Metrics.map((metric: Line) => ({ name: metric.Name, value: doc[metric.Name], dimensions: m.Dimensions.flat() }))));
}

const vend = (token: string, role: string) =>
  httpEvent({ method: 'POST', path: '/v1/credentials', headers: { authorization: `Bearer ${token}` }, body: { role } });

test('a vend writes one "request allowed" line with who, what, which rule and lease, and no secret anywhere', async () => {
  const { routes, sts } = setup();
  const event = vend(TOKEN, ROLE);
  const result = await routes.vend(event, lambdaContext);
  expect(result.statusCode).toBe(201);
  const issued = sts.issued[0]!;

  expect(decisions()).toEqual([
    expect.objectContaining({
      level: 'INFO',
      message: 'request allowed',
      service: 'nocreds',
      requestId: event.requestContext.requestId,
      function_request_id: lambdaContext.awsRequestId,
      cold_start: expect.any(Boolean),
      route: 'POST /v1/credentials',
      caller: 'k8s:system:serviceaccount:team-a:api',
      authKind: 'oidc',
      ruleId: 'team-apps',
      role: ROLE,
      leaseId: '01TEST00000000000000000001',
      accessKeyId: issued.accessKeyId,
      reused: false,
      durationMs: expect.any(Number),
      outcome: 'allowed',
      status: 201,
    }),
  ]);
  expect(decisions()[0]).not.toHaveProperty('code');
  const everything = output.join('');
  for (const secret of [issued.secretAccessKey, issued.sessionToken, TOKEN]) expect(everything).not.toContain(secret);
});

test('a vend publishes Vends and a reuse miss; the same request again is a reuse hit, in the log line too', async () => {
  const { routes, sts } = setup();
  await routes.vend(vend(TOKEN, ROLE), lambdaContext);
  await routes.vend(vend(TOKEN, ROLE), lambdaContext);
  expect(sts.issued).toHaveLength(1);
  expect(decisions().map((d) => d.reused)).toEqual([false, true]);
  const published = metrics().filter((m) => m.dimensions.join() === 'service');
  expect(published.filter((m) => m.name === 'Vends').map((m) => m.value)).toEqual([1, 1]);
  expect(published.filter((m) => m.name === 'SessionReuseMisses').map((m) => m.value)).toEqual([1]);
  expect(published.filter((m) => m.name === 'SessionReuseHits').map((m) => m.value)).toEqual([1]);
  // One EMF document per invocation, in the nocreds namespace.
  for (const doc of emf()) expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('nocreds');
});

test('a denial with no matching rule says "no rule", names the role asked for and the code, and counts the denial by code', async () => {
  const { routes } = setup();
  const event = vend(TOKEN, OTHER_ROLE);
  const result = await routes.vend(event, lambdaContext);
  expect(result.statusCode).toBe(403);
  expect(decisions()).toEqual([
    expect.objectContaining({
      level: 'INFO',
      message: 'request denied',
      requestId: event.requestContext.requestId,
      route: 'POST /v1/credentials',
      caller: 'k8s:system:serviceaccount:team-a:api',
      authKind: 'oidc',
      ruleId: 'no rule',
      role: OTHER_ROLE,
      outcome: 'denied',
      status: 403,
      code: 'grant_denied',
    }),
  ]);
  expect(decisions()[0]).not.toHaveProperty('leaseId');
  expect(metrics()).toEqual(
    expect.arrayContaining([
      { name: 'Denials', value: 1, dimensions: ['service'] },
      { name: 'Denials', value: 1, dimensions: ['service', 'Code'] },
    ]),
  );
  expect(emf().find((doc) => doc.Code)).toMatchObject({ Code: 'grant_denied', service: 'nocreds' });
  expect(output.join('')).not.toContain(TOKEN);
});

test('a denial by an explicit deny rule names that rule', async () => {
  const { routes } = setup();
  await routes.vend(vend(SANDBOX_TOKEN, `arn:aws:iam::${ACCOUNT}:role/sandbox-app`), lambdaContext);
  expect(decisions()).toEqual([expect.objectContaining({ outcome: 'denied', ruleId: 'no-sandbox', code: 'grant_denied' })]);
  expect(output.join('')).not.toContain(SANDBOX_TOKEN);
});

test('a request without credentials is denied with auth kind "none" and no caller', async () => {
  const { routes } = setup();
  await routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', body: { role: ROLE } }), lambdaContext);
  const [line] = decisions();
  expect(line).toMatchObject({ outcome: 'denied', status: 401, code: 'missing_credentials', authKind: 'none', ruleId: 'no rule' });
  expect(line).not.toHaveProperty('caller');
});

test('a dependency failure is one ERROR line with the rule and role, the error code, and a Failures count by code', async () => {
  const { routes, sts } = setup();
  sts.failNext(new DependencyUnavailableError('sts_throttled', 'STS is throttling the broker; retry after 1 s.', 1));
  const result = await routes.vend(vend(TOKEN, ROLE), lambdaContext);
  expect(result.statusCode).toBe(503);
  expect(decisions()).toEqual([
    expect.objectContaining({ level: 'ERROR', message: 'request failed', outcome: 'failed', status: 503, code: 'sts_throttled', role: ROLE, error: expect.objectContaining({ code: 'sts_throttled' }) }),
  ]);
  expect(metrics()).toEqual(expect.arrayContaining([{ name: 'Failures', value: 1, dimensions: ['service', 'Code'] }]));
  expect(output.join('')).not.toContain(TOKEN);
});
