import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CURSOR_KEY_MAX_AGE_SECONDS, cursorKeyReader } from '../../shared/adapters/cursor-key';
import { cursorKeyFromSecret, cursorKeySourceFrom } from '../../shared/config';
import { awsClientConfig, resetMoto } from './moto';

/** The cursor key read from Secrets Manager (moto) through Powertools Parameters, as the leases function does at init. */
const SECRET = 'Zq7x'.repeat(16);
let secrets: SecretsManagerClient;
beforeAll(() => {
  secrets = new SecretsManagerClient(awsClientConfig());
});
beforeEach(() => resetMoto());

test('reads the key from the secret its ARN names, then from the cache until it is stale', async () => {
  const { ARN } = await secrets.send(new CreateSecretCommand({ Name: 'nocreds-cursor-key', SecretString: SECRET }));
  const source = cursorKeySourceFrom({ NOCREDS_CURSOR_KEY_SECRET_ARN: ARN, AWS_LAMBDA_FUNCTION_NAME: 'nocreds-leases' });
  const read = cursorKeyReader(source, awsClientConfig());
  const key = await read();
  expect(key.equals(cursorKeyFromSecret(SECRET))).toBe(true);
  // Rotated in Secrets Manager: this instance keeps its cached key for up to CURSOR_KEY_MAX_AGE_SECONDS.
  await secrets.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'Pw9k'.repeat(16) }));
  expect((await read()).equals(key)).toBe(true);
  expect(CURSOR_KEY_MAX_AGE_SECONDS).toBe(900);
});

test('a missing secret is a 503-class dependency error, not a crash or a random key', async () => {
  const read = cursorKeyReader({ secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nocreds-missing-AbCdEf' }, awsClientConfig());
  await expect(read()).rejects.toMatchObject({ name: 'DependencyUnavailableError', code: expect.stringMatching(/^secretsmanager_/) });
});

test('a secret too short to be a key is refused', async () => {
  const { ARN } = await secrets.send(new CreateSecretCommand({ Name: 'short', SecretString: 'too-short' }));
  await expect(cursorKeyReader({ secretArn: ARN as string }, awsClientConfig())()).rejects.toMatchObject({ code: 'invalid_setting' });
});

test('in Lambda the secret ARN is required; outside it a random per-process key serves', async () => {
  expect(() => cursorKeySourceFrom({ AWS_LAMBDA_FUNCTION_NAME: 'nocreds-leases' })).toThrow(/NOCREDS_CURSOR_KEY_SECRET_ARN must be set in Lambda/);
  expect(() => cursorKeySourceFrom({ NOCREDS_CURSOR_KEY_SECRET_ARN: 'the-key-itself' })).toThrow(/must be a Secrets Manager secret ARN/);
  const read = cursorKeyReader(cursorKeySourceFrom({}), awsClientConfig());
  expect((await read()).length).toBe(32);
  expect((await read()).equals(await read())).toBe(true);
});
