import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient, type KeySpec } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { KmsTokenSigner } from '../../shared/adapters/kms-token-signer';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { ModeRoutingRoleAssumer, StsWebIdentityRoleAssumer } from '../../shared/adapters/sts-web-identity-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { fitSourceIdentity } from '../../shared/domain/identity';
import { AWS_SOURCE_IDENTITY_CLAIM, AWS_TAGS_CLAIM, RULE_CLAIM, WEB_IDENTITY_TOKEN_LIFETIME_SECONDS, type IssuerSettings } from '../../shared/domain/web-identity';
import { vendCredentials, type VendCredentialsDeps } from '../../shared/use-cases/vend-credentials';
import { oidcIdentity } from '../fakes';
import { awsClientConfig, resetMoto } from './moto';

/**
 * Issuer mode on moto with the real KMS and STS clients: KMS signs (moto signs with real keys),
 * the broker exchanges its token with AssumeRoleWithWebIdentity. moto does not check the token,
 * so what STS would check is checked here: the token verifies with jose against the published
 * JWKS, for the configured issuer and audience, and carries the session's tags, SourceIdentity,
 * rule and lease id; the STS request carries the token with the session policy.
 */
const ACCOUNT = '123456789012';
const settings: IssuerSettings = { issuer: 'https://broker.example.com', audience: 'sts.amazonaws.com' };
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: long-jobs
    callers: [{ oidc: k8s, claims: { namespace: "batch-*" } }]
    credentials:
      via: web-identity
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-worker"]
      maxDurationSeconds: 28800
      sessionPolicy:
        Statement:
          - { Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::\${namespace}-input/*" }
      sessionTags: { namespace: "\${namespace}" }
  - id: apps
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-app"]
`);

let kms: KMSClient;
let leases: DynamoLeaseStore;
const stsCalls: Array<{ command: string; input: Record<string, unknown> }> = [];

async function createKey(spec: KeySpec = 'ECC_NIST_P256'): Promise<string> {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY', Description: 'nocreds issuer test' }));
  return KeyMetadata?.Arn as string;
}

function deps(signer: KmsTokenSigner): VendCredentialsDeps {
  const sts = new STSClient(awsClientConfig());
  sts.middlewareStack.add(
    (next, context) => async (args) => {
      stsCalls.push({ command: String(context.commandName), input: structuredClone(args.input as Record<string, unknown>) });
      return next(args);
    },
    { step: 'initialize', name: 'recordStsCalls' },
  );
  return {
    grants,
    roleAssumer: new ModeRoutingRoleAssumer(new StsRoleAssumer(sts), new StsWebIdentityRoleAssumer(sts, signer, settings, systemClock)),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
  };
}

beforeAll(async () => {
  await resetMoto();
  kms = new KMSClient(awsClientConfig());
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('issuer-leases')));
  leases = new DynamoLeaseStore(dynamo, 'issuer-leases');
});
beforeEach(() => {
  stsCalls.length = 0;
});

const batch = oidcIdentity({ namespace: 'batch-etl', serviceaccount: 'runner' });

test('a web-identity grant vends through AssumeRoleWithWebIdentity with a KMS-signed token that verifies against the JWKS', async () => {
  const signer = new KmsTokenSigner(kms, { signingKeyId: await createKey() });
  const vended = await vendCredentials(deps(signer), { identity: batch, requestId: 'r1', roleArn: `arn:aws:iam::${ACCOUNT}:role/batch-etl-worker`, durationSeconds: 8 * 3600 });

  expect(stsCalls.map((c) => c.command)).toEqual(['AssumeRoleWithWebIdentityCommand']);
  const input = stsCalls[0]?.input as Record<string, unknown>;
  expect(input).toMatchObject({
    RoleArn: `arn:aws:iam::${ACCOUNT}:role/batch-etl-worker`,
    RoleSessionName: vended.leaseId,
    DurationSeconds: 8 * 3600,
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::batch-etl-input/*' }] }),
  });
  // No broker-side tags or SourceIdentity parameters: they are claims of the token.
  expect(input).not.toHaveProperty('Tags');
  expect(input).not.toHaveProperty('SourceIdentity');

  const token = input.WebIdentityToken as string;
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [...(await signer.publicKeys())] }), {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: ['ES256'],
  });
  expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT' });
  expect(payload).toMatchObject({
    sub: batch.caller,
    jti: vended.leaseId,
    [RULE_CLAIM]: 'long-jobs',
    [AWS_TAGS_CLAIM]: { principal_tags: { 'nocreds:caller': [batch.caller], 'nocreds:lease': [vended.leaseId], namespace: ['batch-etl'] } },
    [AWS_SOURCE_IDENTITY_CLAIM]: fitSourceIdentity(batch.caller),
  });
  expect((payload.exp as number) - (payload.iat as number)).toBe(WEB_IDENTITY_TOKEN_LIFETIME_SECONDS);
  expect(vended.expiration.getTime() - Date.now()).toBeGreaterThan(7 * 3600 * 1000);
  expect((await leases.get(vended.leaseId))?.status).toBe('active');
});

test('sessions over one hour only in issuer mode, and only up to the grant; an assume-role grant still uses AssumeRole', async () => {
  const signer = new KmsTokenSigner(kms, { signingKeyId: await createKey() });
  const d = deps(signer);
  await expect(vendCredentials(d, { identity: batch, requestId: 'r', roleArn: `arn:aws:iam::${ACCOUNT}:role/batch-etl-worker`, durationSeconds: 9 * 3600 })).rejects.toMatchObject({
    code: 'duration_exceeds_grant',
  });
  const app = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
  await expect(vendCredentials(d, { identity: app, requestId: 'r', roleArn: `arn:aws:iam::${ACCOUNT}:role/team-a-app`, durationSeconds: 7200 })).rejects.toMatchObject({
    code: 'duration_exceeds_grant',
  });
  expect(stsCalls).toEqual([]);
  await vendCredentials(d, { identity: app, requestId: 'r', roleArn: `arn:aws:iam::${ACCOUNT}:role/team-a-app` });
  expect(stsCalls.map((c) => c.command)).toEqual(['AssumeRoleCommand']);
});

test('key rotation: the next key is published before it signs, and tokens of the previous key verify until they expire', async () => {
  const oldKey = await createKey();
  const newKey = await createKey();
  // Step 1: the old key signs; the new key is already published.
  const before = new KmsTokenSigner(kms, { signingKeyId: oldKey, publishedKeyIds: [oldKey, newKey] });
  // Step 2 (after relying parties had time to fetch the JWKS): the new key signs; the old stays published.
  const after = new KmsTokenSigner(kms, { signingKeyId: newKey, publishedKeyIds: [newKey, oldKey] });
  const claims = { iss: settings.issuer, aud: settings.audience, sub: 'k8s:x', exp: Math.floor(Date.now() / 1000) + 300 };
  const oldToken = await before.sign(claims);
  const newToken = await after.sign(claims);
  expect(decodeProtectedHeader(oldToken).kid).not.toBe(decodeProtectedHeader(newToken).kid);

  // The JWKS published in step 1 already verifies tokens of step 2, and step 2's verifies step 1's.
  for (const jwks of [await before.publicKeys(), await after.publicKeys()]) {
    const keySet = createLocalJWKSet({ keys: [...jwks] });
    await expect(jwtVerify(oldToken, keySet)).resolves.toBeDefined();
    await expect(jwtVerify(newToken, keySet)).resolves.toBeDefined();
  }
  // Step 3 (every old token expired): the old key is dropped, and its tokens no longer verify.
  const done = new KmsTokenSigner(kms, { signingKeyId: newKey });
  await expect(jwtVerify(oldToken, createLocalJWKSet({ keys: [...(await done.publicKeys())] }))).rejects.toThrow();
});

test('an RSA key signs RS256; a key that cannot sign is refused with a configuration error naming it', async () => {
  const rsa = new KmsTokenSigner(kms, { signingKeyId: await createKey('RSA_2048') });
  const token = await rsa.sign({ sub: 'x' });
  await expect(jwtVerify(token, createLocalJWKSet({ keys: [...(await rsa.publicKeys())] }), { algorithms: ['RS256'] })).resolves.toBeDefined();

  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
  const wrong = new KmsTokenSigner(kms, { signingKeyId: KeyMetadata?.Arn as string });
  await expect(wrong.sign({ sub: 'x' })).rejects.toMatchObject({ code: 'invalid_signing_key', message: expect.stringContaining('ECC_NIST_P256') });
});
