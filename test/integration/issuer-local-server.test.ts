import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { AWS_TAGS_CLAIM, RULE_CLAIM } from '../../shared/domain/web-identity';

/**
 * Issuer mode end to end over HTTP: the local stack sees a `via: web-identity` rule, creates a KMS
 * key in moto and makes the local broker its own issuer. A workload vends an 8-hour session; what
 * moto's STS received is read back from its request recorder, and the token in it is verified the
 * way STS would: discovery document -> jwks_uri -> signature, issuer, audience.
 */
const dir = mkdtempSync(join(tmpdir(), 'nocreds-issuer-'));
const grantsFile = join(dir, 'grants.yaml');
writeFileSync(
  grantsFile,
  `${readFileSync(join(__dirname, '../../local/grants.yaml'), 'utf8')}
  - id: batch-jobs
    callers: [{ oidc: dev, claims: { namespace: "batch-*" } }]
    credentials:
      via: web-identity
      roles: ["arn:aws:iam::123456789012:role/\${namespace}-worker"]
      maxDurationSeconds: 28800
      sessionTags: { namespace: "\${namespace}" }
`,
);

let stack: LocalStack;
const saved = process.env.MOTO_RECORDER_FILEPATH;

beforeAll(async () => {
  process.env.MOTO_RECORDER_FILEPATH = join(dir, 'recording.jsonl');
  stack = await startLocalStack({ grantsFile, demoRoles: ['team-a-app', 'batch-etl-worker'] });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (saved === undefined) delete process.env.MOTO_RECORDER_FILEPATH;
  else process.env.MOTO_RECORDER_FILEPATH = saved;
});

async function recorder(path: string, method = 'POST') {
  const response = await fetch(`${stack.moto.endpoint}/moto-api/recorder/${path}`, { method });
  expect(response.ok).toBe(true);
  return response.text();
}

/** The form parameters of every STS query request moto received since recording started. */
async function stsRequests(): Promise<URLSearchParams[]> {
  const recording = await recorder('download-recording', 'GET');
  return recording
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { body?: string; body_encoded?: boolean })
    .map((entry) => new URLSearchParams(entry.body_encoded ? Buffer.from(entry.body ?? '', 'base64').toString('utf8') : (entry.body ?? '')))
    .filter((params) => params.get('Action')?.startsWith('AssumeRole'));
}

test('discovery document and JWKS are public, cacheable, and name the local broker as issuer', async () => {
  const discovery = await fetch(`${stack.broker.url}/.well-known/openid-configuration`);
  expect(discovery.status).toBe(200);
  expect(discovery.headers.get('cache-control')).toBe('public, max-age=300');
  const document = (await discovery.json()) as { issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] };
  expect(document).toMatchObject({ issuer: stack.broker.url, jwks_uri: `${stack.broker.url}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['ES256'] });
  const jwks = (await (await fetch(document.jwks_uri)).json()) as { keys: Array<Record<string, unknown>> };
  expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) })]);
});

test('an 8-hour session through AssumeRoleWithWebIdentity, with a token that verifies against the served JWKS', async () => {
  await recorder('reset-recording');
  await recorder('start-recording');
  const token = await stack.serviceAccountToken('batch-etl', 'runner');
  const response = await fetch(`${stack.broker.url}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/batch-etl-worker`, durationSeconds: 8 * 3600 }),
  });
  const body = (await response.json()) as { leaseId: string; expiration: string };
  expect(response.status).toBe(201);
  await recorder('stop-recording');

  const sent = await stsRequests();
  expect(sent.map((p) => p.get('Action'))).toEqual(['AssumeRoleWithWebIdentity']);
  const request = sent[0] as URLSearchParams;
  expect(request.get('RoleSessionName')).toBe(body.leaseId);
  expect(request.get('DurationSeconds')).toBe(String(8 * 3600));

  // What STS does with the token: read the issuer's discovery document, fetch its JWKS, verify.
  const discovery = (await (await fetch(`${stack.broker.url}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const { payload } = await jwtVerify(request.get('WebIdentityToken') as string, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
    issuer: stack.broker.url,
    audience: 'sts.amazonaws.com',
    algorithms: ['ES256'],
  });
  expect(payload).toMatchObject({ jti: body.leaseId, [RULE_CLAIM]: 'batch-jobs', [AWS_TAGS_CLAIM]: { principal_tags: { namespace: ['batch-etl'] } } });
  expect(payload.sub).toMatch(/batch-etl/);
  expect(Date.parse(body.expiration) - Date.now()).toBeGreaterThan(7.5 * 3600 * 1000);
}, 30_000);

test('renewing an issuer-mode lease (leases function) vends through AssumeRoleWithWebIdentity again, for the same 8 hours', async () => {
  const token = await stack.serviceAccountToken('batch-etl', 'runner');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const first = await fetch(`${stack.broker.url}/v1/credentials`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/batch-etl-worker`, durationSeconds: 8 * 3600, fresh: true }),
  });
  const { leaseId } = (await first.json()) as { leaseId: string };
  await recorder('reset-recording');
  await recorder('start-recording');
  const renewed = await fetch(`${stack.broker.url}/v1/leases/${leaseId}/renew`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(renewed.status).toBe(201);
  await recorder('stop-recording');
  const sent = await stsRequests();
  expect(sent.map((p) => p.get('Action'))).toEqual(['AssumeRoleWithWebIdentity']);
  expect(sent[0]?.get('DurationSeconds')).toBe(String(8 * 3600));
}, 30_000);

test('the same caller over one hour on an assume-role grant: 400 duration_exceeds_grant, and no STS call', async () => {
  await recorder('reset-recording');
  await recorder('start-recording');
  const token = await stack.serviceAccountToken('team-a');
  const response = await fetch(`${stack.broker.url}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/team-a-app`, durationSeconds: 7200 }),
  });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('duration_exceeds_grant');
  await recorder('stop-recording');
  expect((await stsRequests()).map((p) => p.get('Action'))).toEqual([]);
}, 30_000);
