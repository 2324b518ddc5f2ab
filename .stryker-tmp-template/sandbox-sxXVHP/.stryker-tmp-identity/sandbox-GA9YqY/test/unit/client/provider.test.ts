// @ts-nocheck
// 
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';
import { chain } from '@smithy/property-provider';
import { fromNocreds, NocredsCredentialsError, type NocredsProviderInit } from '../../../client/provider';

const ROLE = 'arn:aws:iam::123456789012:role/team-a-app';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4ifQ.c2lnbmF0dXJl';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fake broker transport: answers in order, records what was sent. */
function fakeBroker(...answers: Array<Response | Error | (() => Response)>) {
  const sent: Sent[] = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    sent.push({ url: String(url), method: String(init.method), headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const next = answers.length > 1 ? answers.shift() : answers[0];
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : (next as Response).clone();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

function vended(overrides: Record<string, unknown> = {}): Response {
  return Response.json(
    {
      leaseId: '01J0000000000000000000000A',
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-key',
      sessionToken: 'session-token',
      expiration: new Date(Date.now() + 3600_000).toISOString(),
      assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/team-a-app/01J0000000000000000000000A',
      ...overrides,
    },
    { status: 201 },
  );
}

function brokerError(status: number, code: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message: `broker says ${code}`, requestId: 'req-1' } }, { status, headers });
}

const networkDown = () => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });

function provider(transport: ReturnType<typeof fakeBroker>, init: Partial<NocredsProviderInit> = {}) {
  const sleeps: number[] = [];
  const credentials = fromNocreds({
    url: 'https://broker.example',
    role: ROLE,
    auth: { oidc: { token: TOKEN } },
    fetch: transport.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...init,
  });
  return { credentials, sleeps };
}

async function failure(promise: Promise<unknown>): Promise<NocredsCredentialsError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NocredsCredentialsError);
  const e = error as NocredsCredentialsError;
  expect(e.tryNextLink).toBe(false);
  expect(e.message).not.toContain(TOKEN);
  return e;
}

describe('fromNocreds', () => {
  test('an SDK client gets the vended credentials with a Date expiration, from one POST /v1/credentials with the bearer token', async () => {
    const broker = fakeBroker(vended());
    const client = new STSClient({ region: 'us-east-1', credentials: provider(broker, { durationSeconds: 900 }).credentials });

    const credentials = await client.config.credentials();

    expect(credentials).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret-key', sessionToken: 'session-token', accountId: '123456789012' });
    expect(credentials.expiration).toBeInstanceOf(Date);
    expect(broker.sent).toEqual([
      { url: 'https://broker.example/v1/credentials', method: 'POST', headers: expect.objectContaining({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }), body: { role: ROLE, durationSeconds: 900 } },
    ]);
  });

  test('the token file is read again on every call (projected tokens rotate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nocreds-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'first.token.value\n');
    const broker = fakeBroker(vended());
    const { credentials } = provider(broker, { auth: { oidc: { tokenFile: file } } });

    await credentials();
    writeFileSync(file, 'second.token.value');
    await credentials();

    expect(broker.sent.map((s) => s.headers.authorization)).toEqual(['Bearer first.token.value', 'Bearer second.token.value']);
  });

  test('a broker that cannot be reached is retried a bounded number of times, then fails with broker_unreachable', async () => {
    const broker = fakeBroker(networkDown());
    const { credentials, sleeps } = provider(broker, { maxAttempts: 3 });

    const error = await failure(credentials());

    expect(error).toMatchObject({ kind: 'broker', code: 'broker_unreachable' });
    expect(error.message).toContain('ECONNREFUSED');
    expect(broker.sent).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  test('403 is an authorization failure and is not retried', async () => {
    const broker = fakeBroker(brokerError(403, 'access_denied'));
    const error = await failure(provider(broker).credentials());
    expect(error).toMatchObject({ kind: 'auth', code: 'access_denied', status: 403, requestId: 'req-1' });
    expect(error.message).toContain('broker says access_denied');
    expect(broker.sent).toHaveLength(1);
  });

  test('a body that is not JSON is a malformed response, never credentials', async () => {
    const broker = fakeBroker(new Response('{"accessKeyId": "ASIA', { status: 201, headers: { 'content-type': 'application/json' } }));
    const error = await failure(provider(broker).credentials());
    expect(error).toMatchObject({ kind: 'broker', code: 'malformed_response' });
  });

  test('credentials that have already expired are refused', async () => {
    const broker = fakeBroker(vended({ expiration: new Date(Date.now() - 1000).toISOString() }));
    const error = await failure(provider(broker).credentials());
    expect(error).toMatchObject({ kind: 'broker', code: 'expired_credentials' });
  });

  test.each([['sessionToken'], ['secretAccessKey'], ['expiration'], ['leaseId']])('credentials without %s are refused', async (field) => {
    const broker = fakeBroker(vended({ [field]: undefined }));
    const error = await failure(provider(broker).credentials());
    expect(error).toMatchObject({ kind: 'broker', code: 'malformed_credentials' });
    expect(error.message).toContain(field);
  });

  test('an expiration that is not a date is refused', async () => {
    const error = await failure(provider(fakeBroker(vended({ expiration: 'soon' }))).credentials());
    expect(error.code).toBe('malformed_credentials');
  });

  test('503 with Retry-After waits that long, then succeeds', async () => {
    const broker = fakeBroker(brokerError(503, 'sts_throttled', { 'retry-after': '2' }), vended());
    const { credentials, sleeps } = provider(broker);
    await expect(credentials()).resolves.toMatchObject({ accessKeyId: 'ASIAEXAMPLE' });
    expect(sleeps).toEqual([2000]);
    expect(broker.sent).toHaveLength(2);
  });

  test('429 is retried with jittered backoff when no Retry-After is given', async () => {
    const broker = fakeBroker(brokerError(429, 'rate_limited'), vended());
    const { credentials, sleeps } = provider(broker);
    await credentials();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(0);
    expect(sleeps[0]).toBeLessThanOrEqual(800);
  });

  test('a Retry-After longer than the provider will wait fails at once', async () => {
    const broker = fakeBroker(brokerError(503, 'sts_throttled', { 'retry-after': '120' }), vended());
    const error = await failure(provider(broker).credentials());
    expect(error).toMatchObject({ kind: 'broker', code: 'sts_throttled', status: 503 });
    expect(broker.sent).toHaveLength(1);
  });

  test('400 from the broker is a usage error, not retried', async () => {
    const broker = fakeBroker(brokerError(400, 'invalid_field'), vended());
    const error = await failure(provider(broker).credentials());
    expect(error).toMatchObject({ kind: 'usage', code: 'invalid_field' });
    expect(broker.sent).toHaveLength(1);
  });

  test('a timeout is a broker failure', async () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    const error = await failure(provider(fakeBroker(timeout), { maxAttempts: 1 }).credentials());
    expect(error).toMatchObject({ kind: 'broker', code: 'broker_timeout' });
  });

  test('in a provider chain, a failing nocreds stops the chain: no fallback to another identity', async () => {
    const fallback = jest.fn(async () => ({ accessKeyId: 'AKIAFALLBACK', secretAccessKey: 'other' }));
    const chained = chain(provider(fakeBroker(brokerError(403, 'access_denied'))).credentials, fallback);
    await expect(chained()).rejects.toMatchObject({ code: 'access_denied', tryNextLink: false });
    expect(fallback).not.toHaveBeenCalled();
  });

  test('misconfiguration is refused when the provider is built', () => {
    const base = { url: 'https://broker.example', role: ROLE, auth: { oidc: { token: TOKEN } } };
    expect(() => fromNocreds({ ...base, role: 'team-a-app' })).toThrow(/role ARN/);
    expect(() => fromNocreds({ ...base, url: 'http://broker.example' })).toThrow(/https/);
    expect(() => fromNocreds({ ...base, auth: { oidc: {} } })).toThrow(/token or a tokenFile/);
    expect(() => fromNocreds({ ...base, url: 'http://127.0.0.1:8787' })).not.toThrow();
  });

  test('an unreadable token file is an authentication failure that names the file', async () => {
    const broker = fakeBroker(vended());
    const error = await failure(provider(broker, { auth: { oidc: { tokenFile: '/nonexistent/token' } } }).credentials());
    expect(error).toMatchObject({ kind: 'auth', code: 'token_file_unreadable' });
    expect(error.message).toContain('/nonexistent/token');
    expect(broker.sent).toHaveLength(0);
  });

  test('IAM auth with method sigv4 signs the broker request for execute-api in the URL\'s region', async () => {
    const broker = fakeBroker(vended());
    const { credentials } = provider(broker, {
      url: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      auth: { iam: { method: 'sigv4', credentials: { accessKeyId: 'AKIDBASE', secretAccessKey: 'base-secret' } } },
    });
    await credentials();
    const authorization = broker.sent[0]?.headers.authorization ?? '';
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDBASE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
    expect(authorization).not.toContain('base-secret');
  });
});
