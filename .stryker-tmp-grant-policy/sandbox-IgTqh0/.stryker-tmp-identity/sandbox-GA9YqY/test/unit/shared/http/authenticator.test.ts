// @ts-nocheck
// 
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { UnauthenticatedError } from '../../../../shared/domain/errors';
import { Authenticator } from '../../../../shared/http/authenticator';
import type { HttpEvent } from '../../../../shared/http/event';
import { oidcIdentity, StaticTokenVerifier } from '../../../fakes';
import { httpEvent } from '../../../support/http-events';

const ACCOUNT = '111122223333';
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;

/** A REST API (payload v1) event with the IAM identity API Gateway fills in. */
function restEvent(identity: Record<string, unknown> | undefined, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: '/v1/credentials',
    headers,
    requestContext: { requestId: 'rest-req', ...(identity ? { identity } : {}) },
  } as unknown as APIGatewayProxyEvent;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthenticatedError);
    return (error as UnauthenticatedError).code;
  }
  throw new Error('expected an UnauthenticatedError');
}

const tokens = new StaticTokenVerifier().accept('good-token', oidcIdentity({ namespace: 'team-a' }));
const authenticator = new Authenticator({ tokenVerifier: tokens });

describe('IAM, HTTP API payload v2 (requestContext.authorizer.iam)', () => {
  const v2 = (iam: Record<string, unknown>, headers: Record<string, string> = {}) => httpEvent({ method: 'POST', path: '/v1/credentials', iam, headers });

  test('a role session is normalised to its role', async () => {
    const identity = await authenticator.authenticate(v2({ userArn: SESSION_ARN, accountId: ACCOUNT }));
    expect(identity).toMatchObject({ kind: 'iam', caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, sessionName: 'build-17' });
  });

  test('the authorizer context wins over any Authorization header', async () => {
    const identity = await authenticator.authenticate(v2({ userArn: SESSION_ARN, accountId: ACCOUNT }, { authorization: 'Bearer good-token' }));
    expect(identity.kind).toBe('iam');
  });

  test.each([
    [{ accountId: ACCOUNT }, 'malformed_authorizer_context'],
    [{ userArn: SESSION_ARN }, 'malformed_authorizer_context'],
    [{ userArn: SESSION_ARN, accountId: '999988887777' }, 'malformed_authorizer_context'],
    [{ userArn: ['arn'], accountId: ACCOUNT }, 'malformed_authorizer_context'],
    [{ userArn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT }, 'unsupported_principal'],
  ])('%j is refused: %s', async (iam, code) => {
    expect(await codeOf(authenticator.authenticate(v2(iam)))).toBe(code);
  });
});

describe('IAM, REST API payload v1 (requestContext.identity)', () => {
  test('an IAM user is accepted from the identity block', async () => {
    const identity = await authenticator.authenticate(restEvent({ userArn: `arn:aws:iam::${ACCOUNT}:user/ops/alice`, accountId: ACCOUNT, accessKey: 'AKIAEXAMPLE' }));
    expect(identity).toMatchObject({ kind: 'iam', caller: `arn:aws:iam::${ACCOUNT}:user/ops/alice` });
  });

  test('an access key without a user ARN is a malformed context, not an anonymous caller', async () => {
    expect(await codeOf(authenticator.authenticate(restEvent({ accessKey: 'AKIAEXAMPLE', accountId: ACCOUNT, userArn: null })))).toBe('malformed_authorizer_context');
  });

  test('an identity block with neither (no IAM auth on the route) falls through to the bearer token', async () => {
    const event = restEvent({ userArn: null, accessKey: null, sourceIp: '203.0.113.7' }, { Authorization: 'Bearer good-token' });
    expect((await authenticator.authenticate(event)).kind).toBe('oidc');
    expect(await codeOf(authenticator.authenticate(restEvent({ userArn: null, accessKey: null })))).toBe('missing_credentials');
  });
});

describe('bearer tokens', () => {
  const withAuth = (authorization?: string): HttpEvent => httpEvent({ method: 'GET', path: '/v1/whoami', headers: authorization === undefined ? {} : { authorization } });

  test('accepted with "Bearer ", any case, or raw (container-credentials clients send the file as is)', async () => {
    for (const header of ['Bearer good-token', 'bearer good-token', 'BEARER   good-token', 'good-token', '  good-token  ']) {
      expect((await authenticator.authenticate(withAuth(header))).kind).toBe('oidc');
    }
  });

  test('no header: missing_credentials; an empty one too', async () => {
    expect(await codeOf(authenticator.authenticate(withAuth()))).toBe('missing_credentials');
    expect(await codeOf(authenticator.authenticate(withAuth('   ')))).toBe('missing_credentials');
  });

  test('a token over 16 KiB is refused without being verified', async () => {
    const verifier = new StaticTokenVerifier();
    const code = await codeOf(new Authenticator({ tokenVerifier: verifier }).authenticate(withAuth(`Bearer ${'a'.repeat(16 * 1024 + 1)}`)));
    expect(code).toBe('invalid_token');
    expect(verifier.presented).toEqual([]);
  });

  test('without a token verifier, OIDC callers are refused', async () => {
    expect(await codeOf(new Authenticator({}).authenticate(withAuth('Bearer good-token')))).toBe('oidc_not_configured');
  });

  test('a SigV4 Authorization header is not mistaken for a token', async () => {
    const verifier = new StaticTokenVerifier();
    const code = await codeOf(new Authenticator({ tokenVerifier: verifier }).authenticate(withAuth('AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=00')));
    expect(code).toBe('sigv4_not_verified_here');
    expect(verifier.presented).toEqual([]);
  });
});
