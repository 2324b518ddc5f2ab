// @ts-nocheck
// 
import { createHmac, createPublicKey, createSign, KeyObject, type JsonWebKey } from 'node:crypto';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { type GrantPolicy } from '../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { startDevIssuer, type DevIssuer } from '../../local/dev-issuer';
import { FixedClock, InMemoryLeaseStore, RecordingRoleAssumer, SequentialIds } from '../fakes';
import { httpEvent, lambdaContext, parse } from '../support/http-events';

/**
 * JWT verification end to end: real tokens from two loopback development issuers, the real
 * JoseTokenVerifier (discovery, JWKS), the credentials route; the lease store and STS are fakes,
 * so every refused token can be shown to have written nothing and asked STS nothing.
 */
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-app`;
const MAX_TOKEN_AGE = 600;

let issuerA: DevIssuer;
let issuerB: DevIssuer;
let grants: GrantPolicy;

beforeAll(async () => {
  [issuerA, issuerB] = await Promise.all([startDevIssuer(), startDevIssuer()]);
  grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: a, url: "${issuerA.url}", audiences: [nocreds], preset: kubernetes, maxTokenAgeSeconds: ${MAX_TOKEN_AGE}, allowInsecureLoopback: true }
  - { id: b, url: "${issuerB.url}", audiences: [nocreds], preset: kubernetes, allowInsecureLoopback: true }
rules:
  - id: team-apps
    callers:
      - oidc: a
        claims: { namespace: "team-*" }
      - oidc: b
        claims: { namespace: "team-*" }
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
`);
});

afterAll(async () => {
  await Promise.all([issuerA?.stop(), issuerB?.stop()]);
});

function setup() {
  const verifier = new JoseTokenVerifier(grants.issuers);
  const leases = new InMemoryLeaseStore();
  const sts = new RecordingRoleAssumer();
  const routes = credentialsRoutes({ grants, roleAssumer: sts, leases, clock: new FixedClock(), ids: new SequentialIds(), authenticator: new Authenticator({ tokenVerifier: verifier }) });
  return { routes, leases, sts };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function k8sClaims(namespace = 'team-a') {
  return { sub: `system:serviceaccount:${namespace}:app`, 'kubernetes.io': { namespace, serviceaccount: { name: 'app', uid: 'u-1' } } };
}

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token with a header and payload of our choosing and a signature computed by `sign` (jose refuses to make these). */
function handmade(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string = () => ''): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign(input)}`;
}

/** RS256 with the issuer's real private key, computed by hand. */
function rs256With(issuer: DevIssuer) {
  const key = KeyObject.from(issuer.privateKey as unknown as Parameters<typeof KeyObject.from>[0]);
  return (input: string) => createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
}

function validPayload(issuer: DevIssuer) {
  const now = nowSeconds();
  return { ...k8sClaims(), iss: issuer.url, aud: 'nocreds', iat: now, exp: now + 600 };
}

async function vendWith(authorization: string | undefined, setupState = setup()) {
  const event = httpEvent({ method: 'POST', path: '/v1/credentials', headers: authorization === undefined ? {} : { authorization }, body: { role: ROLE } });
  const result = await setupState.routes.vend(event, lambdaContext);
  return { result, body: parse(result), event, ...setupState };
}

/** Every refused token: 401, the given code, the request id, nothing written, STS never called. */
async function expectRefused(token: string, code: string) {
  const { result, body, event, leases, sts } = await vendWith(`Bearer ${token}`);
  expect({ status: result.statusCode, code: body?.error?.code }).toEqual({ status: 401, code });
  expect(body.error.requestId).toBe(event.requestContext.requestId);
  expect(result.headers['www-authenticate']).toBe('Bearer');
  expect(leases.size).toBe(0);
  expect(sts.callCount).toBe(0);
  return body.error as { code: string; message: string };
}

test('a valid token from either issuer is accepted (the control for every refusal below)', async () => {
  for (const issuer of [issuerA, issuerB]) {
    const { result, body, leases, sts } = await vendWith(`Bearer ${await issuer.mint(k8sClaims())}`);
    expect(result.statusCode).toBe(201);
    expect(leases.all()[0]?.caller).toBe(`${issuer === issuerA ? 'a' : 'b'}:system:serviceaccount:team-a:app`);
    expect(sts.callCount).toBe(1);
    expect(body.leaseId).toBeDefined();
  }
  // Also raw, without "Bearer " (the container-credentials client sends the token file as is).
  const { result } = await vendWith(await issuerA.mint(k8sClaims()));
  expect(result.statusCode).toBe(201);
});

test('a hand-built token with a valid RS256 signature is accepted (so the forgeries below fail for the reason they test)', async () => {
  // Control for `handmade`: the same construction, signed properly, passes.
  const token = handmade({ alg: 'RS256', kid: issuerA.kid, typ: 'JWT' }, validPayload(issuerA), rs256With(issuerA));
  const { result } = await vendWith(`Bearer ${token}`);
  expect(result.statusCode).toBe(201);
});

describe('refused tokens: 401 with a specific code, no lease, no STS call', () => {
  test('alg: none', async () => {
    await expectRefused(handmade({ alg: 'none', typ: 'JWT' }, validPayload(issuerA)), 'algorithm_not_allowed');
    // ... even when it names a real key id.
    await expectRefused(handmade({ alg: 'none', kid: issuerA.kid, typ: 'JWT' }, validPayload(issuerA)), 'algorithm_not_allowed');
  });

  test('HS256 signed with the issuer\'s public key (as JWK and as PEM)', async () => {
    const jwkBytes = JSON.stringify(issuerA.publicJwk);
    const pem = createPublicKey({ key: issuerA.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [jwkBytes, pem, Buffer.from(issuerA.publicJwk.n ?? '', 'base64url')]) {
      const token = handmade({ alg: 'HS256', kid: issuerA.kid, typ: 'JWT' }, validPayload(issuerA), (input) => createHmac('sha256', secret).update(input).digest('base64url'));
      await expectRefused(token, 'algorithm_not_allowed');
    }
  });

  test('an unknown kid', async () => {
    const error = await expectRefused(await issuerA.mint(k8sClaims(), { kid: 'rotated-away' }), 'unknown_signing_key');
    expect(error.message).toContain('issuer "a"');
  });

  test('an issuer the broker does not know', async () => {
    const error = await expectRefused(await issuerA.mint(k8sClaims(), { issuer: 'https://evil.example.com' }), 'unknown_issuer');
    expect(error.message).toContain('https://evil.example.com');
  });

  test('an issuer URL that differs only by a trailing slash is another issuer', async () => {
    await expectRefused(await issuerA.mint(k8sClaims(), { issuer: `${issuerA.url}/` }), 'unknown_issuer');
  });

  test('a wrong audience, or none', async () => {
    await expectRefused(await issuerA.mint({ ...k8sClaims(), aud: 'sts.amazonaws.com' }), 'invalid_audience');
    await expectRefused(await issuerA.mint({ ...k8sClaims(), aud: ['other', 'another'] }), 'invalid_audience');
  });

  test('expired (beyond the 60 s skew), while 30 s past expiry is tolerated', async () => {
    const now = nowSeconds();
    await expectRefused(await issuerA.mint(k8sClaims(), { issuedAt: now - 300, expiresAt: now - 61 - 5 }), 'token_expired');
    const { result } = await vendWith(`Bearer ${await issuerA.mint(k8sClaims(), { issuedAt: now - 300, expiresAt: now - 30 })}`);
    expect(result.statusCode).toBe(201);
  });

  test('not yet valid (nbf beyond the 60 s skew)', async () => {
    await expectRefused(await issuerA.mint(k8sClaims(), { notBefore: nowSeconds() + 300 }), 'token_not_yet_valid');
  });

  test('too old: issued longer ago than the issuer\'s maximum token age, though not expired', async () => {
    const now = nowSeconds();
    const error = await expectRefused(await issuerA.mint(k8sClaims(), { issuedAt: now - MAX_TOKEN_AGE - 120, expiresAt: now + 3600 }), 'token_too_old');
    expect(error.message).toContain('issuer "a"');
  });

  test('issued in the future (beyond the 60 s skew)', async () => {
    const now = nowSeconds();
    await expectRefused(await issuerA.mint(k8sClaims(), { issuedAt: now + 300, expiresAt: now + 900 }), 'token_too_old');
  });

  test('missing claims: a kubernetes token without a namespace', async () => {
    const error = await expectRefused(await issuerA.mint({ sub: 'some-workload' }), 'missing_claim');
    expect(error.message).toContain('"namespace"');
  });

  test('missing claims: no sub', async () => {
    const { sub: _sub, ...noSub } = validPayload(issuerA);
    const token = handmade({ alg: 'RS256', kid: issuerA.kid }, noSub, rs256With(issuerA));
    await expectRefused(token, 'missing_claim');
  });

  test.each([
    ['a word', 'hello'],
    ['three dots of garbage', 'a.b.c'],
    ['a JSON object', '{"sub":"x"}'],
    ['a JWE-shaped string', 'eyJhbGciOiJSU0EtT0FFUCJ9.x.y.z.w'],
  ])('not a JWT at all: %s', async (_what, token) => {
    await expectRefused(token, 'invalid_token');
  });

  test('a token that claims issuer A but is signed with issuer B\'s key (and B\'s kid)', async () => {
    expect(issuerA.kid).not.toBe(issuerB.kid);
    await expectRefused(await issuerB.mint(k8sClaims(), { issuer: issuerA.url }), 'unknown_signing_key');
  });

  test('a token that claims issuer A and A\'s kid but is signed with issuer B\'s key', async () => {
    await expectRefused(await issuerB.mint(k8sClaims(), { issuer: issuerA.url, kid: issuerA.kid }), 'invalid_signature');
  });

  test('a token that brings its own key (embedded jwk, or jku/x5u pointing at another JWKS)', async () => {
    const signedByB = rs256With(issuerB);
    const payload = validPayload(issuerA);
    const fetchedFromB = { ...issuerB.requestCounts };
    await expectRefused(handmade({ alg: 'RS256', kid: issuerA.kid, jwk: issuerB.publicJwk }, payload, signedByB), 'invalid_signature');
    await expectRefused(handmade({ alg: 'RS256', kid: issuerB.kid, jku: `${issuerB.url}/jwks.json` }, payload, signedByB), 'unknown_signing_key');
    await expectRefused(handmade({ alg: 'RS256', kid: issuerB.kid, x5u: `${issuerB.url}/cert.pem` }, payload, signedByB), 'unknown_signing_key');
    // The broker never followed the token's pointers to B.
    expect(issuerB.requestCounts).toEqual(fetchedFromB);
  });

  test('a valid token with a tampered payload', async () => {
    const [header, , signature] = (await issuerA.mint(k8sClaims('team-a'))).split('.');
    const forged = `${header}.${b64url({ ...validPayload(issuerA), ...k8sClaims('team-b') })}.${signature}`;
    await expectRefused(forged, 'invalid_signature');
  });
});

describe('verified tokens remembered by the verifier', () => {
  afterEach(() => jest.useRealTimers());

  test('a token accepted once is refused once it has expired', async () => {
    const state = setup();
    const now = nowSeconds();
    const token = await issuerA.mint(k8sClaims(), { issuedAt: now, expiresAt: now + 120 });
    expect((await vendWith(`Bearer ${token}`, state)).result.statusCode).toBe(201);
    // Only Date is faked: sockets and timers stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    jest.setSystemTime((now + 120 + 61 + 5) * 1000);
    const { result, body, leases, sts } = await vendWith(`Bearer ${token}`, state);
    expect([result.statusCode, body.error.code]).toEqual([401, 'token_expired']);
    expect(leases.size).toBe(1);
    expect(sts.callCount).toBe(1);
  });
});

describe('JWKS caching', () => {
  afterEach(() => jest.restoreAllMocks());

  test('discovery and JWKS are fetched once, then served from the cache', async () => {
    const state = setup();
    const before = { ...issuerA.requestCounts };
    for (let i = 0; i < 3; i++) expect((await vendWith(`Bearer ${await issuerA.mint(k8sClaims())}`, state)).result.statusCode).toBe(201);
    expect(issuerA.requestCounts.discovery - before.discovery).toBe(1);
    expect(issuerA.requestCounts.jwks - before.jwks).toBe(1);
  });

  test('an unknown kid refetches the JWKS at most once a minute', async () => {
    const state = setup();
    const before = { ...issuerA.requestCounts };
    expect((await vendWith(`Bearer ${await issuerA.mint(k8sClaims())}`, state)).result.statusCode).toBe(201);
    expect(issuerA.requestCounts.jwks - before.jwks).toBe(1);

    // A burst of unknown kids within the minute: no refetch (an attacker cannot make the broker hammer the issuer).
    for (let i = 0; i < 5; i++) {
      const { result, body } = await vendWith(`Bearer ${await issuerA.mint(k8sClaims(), { kid: `unknown-${i}` })}`, state);
      expect([result.statusCode, body.error.code]).toEqual([401, 'unknown_signing_key']);
    }
    expect(issuerA.requestCounts.jwks - before.jwks).toBe(1);

    // Just over a minute later, an unknown kid refetches once (a rotated key would now be found)...
    const realNow = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(realNow + 61_000);
    expect((await vendWith(`Bearer ${await issuerA.mint(k8sClaims(), { kid: 'unknown-late' })}`, state)).body.error.code).toBe('unknown_signing_key');
    expect(issuerA.requestCounts.jwks - before.jwks).toBe(2);
    // ... and the next one within that new minute does not.
    expect((await vendWith(`Bearer ${await issuerA.mint(k8sClaims(), { kid: 'unknown-later' })}`, state)).body.error.code).toBe('unknown_signing_key');
    expect(issuerA.requestCounts.jwks - before.jwks).toBe(2);
    // Known keys kept working throughout (minted at the real time: only the JWKS cache was moved on).
    const token = await issuerA.mint(k8sClaims(), { issuedAt: Math.floor(realNow / 1000) });
    expect((await vendWith(`Bearer ${token}`, state)).result.statusCode).toBe(201);
    expect(issuerA.requestCounts.discovery - before.discovery).toBe(1);
  });
});
