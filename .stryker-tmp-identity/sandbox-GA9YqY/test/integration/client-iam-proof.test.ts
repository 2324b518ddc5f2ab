// @ts-nocheck
import { createHash } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { whoamiRoute } from '../../functions/whoami/routes';
import { signCallerIdentityProof, type AwsCredentials } from '../../client/iam-signing';
import { PROOF_HEADER, StsCallerProofVerifier, stsHttpTransport, type StsTransport } from '../../shared/adapters/sts-caller-proof-verifier';
import { systemClock } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoEndpoint, resetMoto } from './moto';

const SERVER_ID = 'broker-a.example';
const GET_CALLER_IDENTITY = 'Action=GetCallerIdentity&Version=2011-06-15';
let alice: AwsCredentials;
let forwarded: Array<{ url: string; headers: Record<string, string>; body: string }>;
let whoami: ReturnType<typeof whoamiRoute>;

beforeAll(async () => {
  await resetMoto();
  const iam = new IAMClient(awsClientConfig());
  await iam.send(new CreateUserCommand({ UserName: 'alice' }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey;
  alice = { accessKeyId: key?.AccessKeyId as string, secretAccessKey: key?.SecretAccessKey as string };

  // The real transport to moto, recording what reaches it: rejected proofs must never get there.
  const recording: StsTransport = async (request) => {
    forwarded.push({ url: request.url.toString(), headers: request.headers, body: request.body });
    return stsHttpTransport(request);
  };
  const verifier = new StsCallerProofVerifier({ stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID, clock: systemClock, transport: recording });
  const grants = parseGrantPolicy(`
version: 1
rules:
  - id: operators
    callers: [{ iam: "arn:aws:iam::123456789012:user/*" }]
    admin: true
`);
  whoami = whoamiRoute({ grants, authenticator: new Authenticator({ proofVerifier: verifier }) });
});

beforeEach(() => {
  forwarded = [];
});

function askWhoami(proof: string) {
  return whoami(httpEvent({ method: 'GET', path: '/v1/whoami', headers: { [PROOF_HEADER]: proof } }), lambdaContext);
}

function decode(proof: string): { method: string; url: string; headers: Record<string, string>; body: string } {
  return JSON.parse(Buffer.from(proof, 'base64').toString('utf8'));
}

function encode(proof: object): string {
  return Buffer.from(JSON.stringify(proof)).toString('base64');
}

/** Signs any STS request the way an attacker with valid credentials could. */
async function signArbitrary(credentials: AwsCredentials, init: { url: string; body: string; serverId?: string; region?: string }): Promise<string> {
  const url = new URL(init.url);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'x-amz-content-sha256': createHash('sha256').update(init.body).digest('hex'),
    ...(init.serverId ? { 'x-nocreds-server-id': init.serverId } : {}),
  };
  const signer = new SignatureV4({ service: 'sts', region: init.region ?? 'us-east-1', credentials, sha256: Sha256 });
  const signed = (await signer.sign({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port) || undefined, path: '/', query: {}, headers, body: init.body } as never)) as unknown as { headers: Record<string, string> };
  return encode({ method: 'POST', url: `${url.origin}/`, headers: signed.headers, body: Buffer.from(init.body).toString('base64') });
}

async function expectRejected(proof: string, code: string) {
  const result = await askWhoami(proof);
  expect(result.statusCode).toBe(401);
  expect(parse(result).error.code).toBe(code);
  expect(forwarded).toEqual([]);
}

test('a fresh proof signed by an IAM user identifies that user, by what STS answers', async () => {
  const proof = await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID });
  const result = await askWhoami(proof);
  expect(result.statusCode).toBe(200);
  expect(parse(result)).toMatchObject({ kind: 'iam', principalArn: 'arn:aws:iam::123456789012:user/alice', admin: true, rules: expect.any(Array) });
  expect(forwarded).toHaveLength(1);
  expect(forwarded[0]).toMatchObject({ url: `${motoEndpoint()}/`, body: GET_CALLER_IDENTITY });
  expect(forwarded[0]?.headers).toMatchObject({ 'x-nocreds-server-id': SERVER_ID, authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=/) });
});

test('a proof signed with assumed-role session credentials identifies the role', async () => {
  const assumed = await new STSClient(awsClientConfig()).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/team-a-app', RoleSessionName: 'worker-1' }));
  const c = assumed.Credentials;
  const proof = await signCallerIdentityProof(
    { accessKeyId: c?.AccessKeyId as string, secretAccessKey: c?.SecretAccessKey as string, sessionToken: c?.SessionToken },
    { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID },
  );
  const result = await askWhoami(proof);
  expect(result.statusCode).toBe(200);
  expect(parse(result)).toMatchObject({ kind: 'iam', principalArn: 'arn:aws:iam::123456789012:role/team-a-app', admin: false });
  expect(forwarded[0]?.headers['x-amz-security-token']).toBe(c?.SessionToken);
});

test('a proof made for another broker is refused before STS is asked', async () => {
  const proof = await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: 'broker-b.example' });
  await expectRejected(proof, 'proof_wrong_server');
  expect(parse(await askWhoami(proof)).error.message).toContain(SERVER_ID);
});

test('a server id that is sent but not signed is refused', async () => {
  const proof = await signArbitrary(alice, { url: motoEndpoint(), body: GET_CALLER_IDENTITY });
  const tampered = decode(proof);
  tampered.headers['x-nocreds-server-id'] = SERVER_ID;
  await expectRejected(encode(tampered), 'proof_unsigned_header');
});

test('a proof signed more than 15 minutes ago, or ahead, is refused', async () => {
  const old = await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID, now: new Date(Date.now() - 16 * 60_000) });
  await expectRejected(old, 'proof_stale');
  const ahead = await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID, now: new Date(Date.now() + 16 * 60_000) });
  await expectRejected(ahead, 'proof_stale');
});

test('a proof signed for another host is refused, and so is a valid one pointed elsewhere', async () => {
  const otherHost = await signCallerIdentityProof(alice, { stsEndpoint: 'https://sts.attacker.example', region: 'us-east-1', serverId: SERVER_ID });
  await expectRejected(otherHost, 'proof_wrong_endpoint');

  const redirected = decode(await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID }));
  redirected.url = 'https://sts.attacker.example/';
  await expectRejected(encode(redirected), 'proof_wrong_endpoint');

  const hostHeader = decode(await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID }));
  hostHeader.headers.host = 'sts.attacker.example';
  await expectRejected(encode(hostHeader), 'proof_wrong_endpoint');
});

test('a proof signed for another region is refused', async () => {
  const proof = await signArbitrary(alice, { url: motoEndpoint(), body: GET_CALLER_IDENTITY, serverId: SERVER_ID, region: 'eu-west-1' });
  await expectRejected(proof, 'proof_wrong_endpoint');
});

test('a signed request for another action is refused', async () => {
  const assumeRole = await signArbitrary(alice, { url: motoEndpoint(), body: 'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fadmin&RoleSessionName=x', serverId: SERVER_ID });
  await expectRejected(assumeRole, 'proof_wrong_action');
  const extra = await signArbitrary(alice, { url: motoEndpoint(), body: `${GET_CALLER_IDENTITY}&Extra=1`, serverId: SERVER_ID });
  await expectRejected(extra, 'proof_wrong_action');
});

test('a proof whose body differs from the one signed is refused', async () => {
  const proof = decode(await signCallerIdentityProof(alice, { stsEndpoint: motoEndpoint(), region: 'us-east-1', serverId: SERVER_ID }));
  proof.body = Buffer.from('Version=2011-06-15&Action=GetCallerIdentity').toString('base64');
  await expectRejected(encode(proof), 'proof_body_mismatch');
});

test('garbage in the proof header is refused with a message naming the expected format', async () => {
  await expectRejected('not base64 json', 'invalid_proof');
  expect(parse(await askWhoami(encode({ method: 'POST' }))).error.message).toMatch(/method, url and body/);
});
