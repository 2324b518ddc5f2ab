// @ts-nocheck
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { fromProcess } from '@aws-sdk/credential-provider-process';
import { fromNocreds, NocredsCredentialsError, type NocredsProviderInit } from '../../client/provider';
import { freePort, REPO_ROOT } from '../../local/moto-server';
import { startLocalStack, type LocalStack } from '../../local/stack';

/**
 * The workload side end to end: the local broker (real handlers over HTTP) on moto, and the AWS
 * SDK's own providers, botocore and our CLI as a real subprocess asking it for credentials.
 */
const run = promisify(execFile);
const PYTHON = join(REPO_ROOT, '.venv', 'bin', 'python');
const NOCREDS = join(REPO_ROOT, 'bin', 'nocreds');

let stack: LocalStack;
let dir: string;
let tokenFile: string;
let role: string;
const vendRequests: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack();
  // Every request the broker receives, by method and path: what "one broker request" is measured by.
  stack.broker.server.on('request', (req) => vendRequests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`));
  dir = mkdtempSync(join(tmpdir(), 'nocreds-sdk-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
}, 90_000);

afterAll(async () => {
  jest.useRealTimers();
  await stack?.stop();
});

function sts(credentials: NonNullable<ConstructorParameters<typeof STSClient>[0]>['credentials']) {
  return new STSClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, maxAttempts: 1, credentials });
}

function nocreds(init: Partial<NocredsProviderInit> = {}) {
  return fromNocreds({ url: stack.broker.url, role, auth: { oidc: { tokenFile } }, ...init });
}

function countVends(): number {
  return vendRequests.filter((r) => r === 'POST /v1/credentials').length;
}

const ASSUMED_TEAM_A = new RegExp(`^arn:aws:sts::${'123456789012'}:assumed-role/team-a-app/[0-9A-Z]{26}$`);

describe('fromNocreds in a real STSClient', () => {
  test('GetCallerIdentity with the provided credentials returns the assumed-role ARN', async () => {
    const identity = await sts(nocreds()).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(ASSUMED_TEAM_A);
  });

  test('100 concurrent calls on one client make one broker request', async () => {
    const client = sts(nocreds());
    const before = countVends();
    const answers = await Promise.all(Array.from({ length: 100 }, () => client.send(new GetCallerIdentityCommand({}))));
    expect(new Set(answers.map((a) => a.Arn)).size).toBe(1);
    expect(answers[0]?.Arn).toMatch(ASSUMED_TEAM_A);
    expect(countVends() - before).toBe(1);
  });

  test('credentials are refreshed before they expire, and no call fails during the refresh', async () => {
    const provider = nocreds({ durationSeconds: 900 });
    const client = sts(provider);
    const before = countVends();
    const first = await client.config.credentials();
    await client.send(new GetCallerIdentityCommand({}));
    expect(countVends() - before).toBe(1);

    // Only Date moves (HTTP and timers stay real): 11 minutes on, 4 of the 15 remain, under the SDK's 5.
    // moto dates sessions by the real clock, so refreshed ones look short too: the SDK may refresh
    // more than once here; what matters is that it does, ahead of expiry, and no call fails.
    jest.useFakeTimers({ doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    try {
      jest.setSystemTime(Date.now() + 11 * 60_000);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.send(new GetCallerIdentityCommand({}))));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(countVends() - before).toBeGreaterThanOrEqual(2);
      const refreshed = await client.config.credentials();
      expect(refreshed.accessKeyId).not.toBe(first.accessKeyId);
      expect(first.expiration!.getTime() - Date.now()).toBeGreaterThan(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('IAM callers prove themselves with a signed GetCallerIdentity and get the role their grant allows', async () => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await iam.send(new CreateUserCommand({ UserName: 'operator' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'operator' }))).AccessKey;
    const provider = nocreds({
      role: `arn:aws:iam::${stack.accountId}:role/team-b-app`,
      auth: { iam: { credentials: { accessKeyId: key?.AccessKeyId as string, secretAccessKey: key?.SecretAccessKey as string }, serverId: 'nocreds-local', stsEndpoint: stack.moto.endpoint, region: 'us-east-1' } },
    });
    const identity = await sts(provider).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/team-b-app\//);
  });

  test('a proof made for another broker is refused: an auth error, no credentials', async () => {
    const provider = nocreds({ auth: { iam: { credentials: { accessKeyId: 'AKIAOTHER0000000000', secretAccessKey: 'x' }, serverId: 'some-other-broker', stsEndpoint: stack.moto.endpoint } } });
    await expect(sts(provider).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'NocredsCredentialsError', kind: 'auth', code: 'proof_wrong_server', status: 401, tryNextLink: false });
  });

  test('a denied role is a 403 auth error from the provider, and the SDK call fails without credentials', async () => {
    const provider = nocreds({ role: `arn:aws:iam::${stack.accountId}:role/team-b-app` });
    const error = await sts(provider).send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NocredsCredentialsError);
    expect(error).toMatchObject({ kind: 'auth', status: 403, tryNextLink: false });
  });

  test('a broker that is down gives broker_unreachable', async () => {
    const provider = fromNocreds({ url: `http://127.0.0.1:${await freePort()}`, role, auth: { oidc: { tokenFile } }, maxAttempts: 2 });
    await expect(sts(provider).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ kind: 'broker', code: 'broker_unreachable', tryNextLink: false, message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe("the AWS SDK's own providers", () => {
  test('fromProcess runs `nocreds credentials` from a credential_process profile', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, `[profile team-a]\ncredential_process = ${NOCREDS} --url ${stack.broker.url} --token-file ${tokenFile} credentials --role ${role}\n`);
    const credentials = fromProcess({ profile: 'team-a', configFilepath: config, filepath: join(dir, 'no-credentials') });
    const identity = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(ASSUMED_TEAM_A);
  });

  test('fromHttp reads the container endpoint over loopback with the token file as Authorization', async () => {
    const before = vendRequests.filter((r) => r === 'GET /v1/credentials/container').length;
    const credentials = fromHttp({ awsContainerCredentialsFullUri: `${stack.broker.url}/v1/credentials/container?role=${encodeURIComponent(role)}`, awsContainerAuthorizationTokenFile: tokenFile });
    const identity = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(ASSUMED_TEAM_A);
    expect(vendRequests.filter((r) => r === 'GET /v1/credentials/container').length - before).toBe(1);
  });
});

describe('botocore (Python)', () => {
  // Resolves credentials the way any boto3 program does, then calls STS (moto) with them.
  const script = `
import json, botocore.session
session = botocore.session.Session(profile=__import__('os').environ.get('PROFILE'))
creds = session.get_credentials()
sts = session.create_client('sts', region_name='us-east-1', endpoint_url=__import__('os').environ['MOTO'])
print(json.dumps({'method': creds.method, 'arn': sts.get_caller_identity()['Arn']}))
`;
  const baseEnv = () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, MOTO: stack.moto.endpoint, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') };
    return env;
  };

  test('resolves credentials from a credential_process profile running the CLI', async () => {
    const config = join(dir, 'botocore-config');
    writeFileSync(config, `[profile team-a]\ncredential_process = ${NOCREDS} --url ${stack.broker.url} --token-file ${tokenFile} credentials --role ${role}\n`);
    const { stdout } = await run(PYTHON, ['-c', script], { env: { ...baseEnv(), AWS_CONFIG_FILE: config, PROFILE: 'team-a' } });
    const result = JSON.parse(stdout);
    expect(result.method).toBe('custom-process');
    expect(result.arn).toMatch(ASSUMED_TEAM_A);
  });

  test('resolves credentials from the container-credentials environment variables', async () => {
    const { stdout } = await run(PYTHON, ['-c', script], {
      env: { ...baseEnv(), AWS_CONTAINER_CREDENTIALS_FULL_URI: `${stack.broker.url}/v1/credentials/container?role=${encodeURIComponent(role)}`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile },
    });
    const result = JSON.parse(stdout);
    expect(result.method).toBe('container-role');
    expect(result.arn).toMatch(ASSUMED_TEAM_A);
  });
});
