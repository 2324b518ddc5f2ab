import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { run, type CliIo } from '../../client/cli';
import { freePort, REPO_ROOT } from '../../local/moto-server';
import { startLocalStack, type LocalStack } from '../../local/stack';

/** `nocreds` against the local broker: in-process through `run()`, and as the real command. */
const exec = promisify(execFile);
const NOCREDS = join(REPO_ROOT, 'bin', 'nocreds');

let stack: LocalStack;
let dir: string;
let tokenFile: string;
let role: string;
const requests: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack();
  stack.broker.server.on('request', (req) => requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`));
  dir = mkdtempSync(join(tmpdir(), 'nocreds-cli-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
}, 90_000);

afterAll(() => stack?.stop());

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} };
  const code = await run(['--url', stack.broker.url, '--token-file', tokenFile, ...argv], io);
  return { code, stdout, stderr };
}

/** The installed command, as a shell or credential_process runs it. */
async function command(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(NOCREDS, args, { env: { PATH: process.env.PATH, HOME: dir, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const vends = () => requests.filter((r) => r === 'POST /v1/credentials').length;

describe('nocreds credentials', () => {
  test('--format process prints credential_process JSON (Version 1) and nothing else', async () => {
    const { code, stdout } = await cli('credentials', '--role', role);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toEqual({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/), SecretAccessKey: expect.any(String), SessionToken: expect.any(String), Expiration: expect.any(String) });
    expect(Date.parse(out.Expiration)).toBeGreaterThan(Date.now() + 10 * 60_000);
  });

  test('--format env prints shell exports a shell can eval', async () => {
    const { code, stdout } = await cli('credentials', '--role', role, '--format', 'env', '--duration', '900');
    expect(code).toBe(0);
    const { stdout: echoed } = await exec('bash', ['-c', `${stdout}\necho "$AWS_ACCESS_KEY_ID $AWS_CREDENTIAL_EXPIRATION"`]);
    expect(echoed.trim()).toMatch(/^ASIA\S+ \d{4}-\d{2}-\d{2}T/);
  });

  test('--format json prints the broker answer with the lease id', async () => {
    const { stdout } = await cli('credentials', '--role', role, '--format', 'json');
    expect(JSON.parse(stdout)).toMatchObject({ leaseId: expect.stringMatching(/^[0-9A-Z]{26}$/), assumedRoleArn: expect.stringContaining('assumed-role/team-a-app/') });
  });

  test('--cache-dir keeps the answer in a 0600 file and reuses it without asking the broker', async () => {
    const cacheDir = join(dir, 'cache');
    const first = await cli('credentials', '--role', role, '--cache-dir', cacheDir);
    const before = vends();
    const second = await cli('credentials', '--role', role, '--cache-dir', cacheDir);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(vends()).toBe(before);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(statSync(join(cacheDir, files[0] as string)).mode & 0o777).toBe(0o600);

    // Another role is another entry: the cache never answers for a request it was not given.
    await cli('credentials', '--role', `arn:aws:iam::${stack.accountId}:role/team-a-app`, '--duration', '1800', '--cache-dir', cacheDir);
    expect(vends()).toBe(before + 1);
  });

  test('--policy-file narrows the session with an inline policy the broker records', async () => {
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/reports/*' }] }));
    const { code } = await cli('credentials', '--role', role, '--policy-file', policyFile, '--format', 'json');
    expect(code).toBe(0);
    const sentToSts = await (await fetch(`${stack.moto.endpoint}/moto-api/data.json`)).text();
    expect(sentToSts).toContain('team-a-data/reports/*');
  });
});

describe('exit codes', () => {
  test('2 for usage errors: no broker URL, an unknown option, a malformed role the broker refuses', async () => {
    let said = '';
    expect(await run(['credentials', '--role', role], { stdout: () => undefined, stderr: (t) => (said += t), env: {} })).toBe(2);
    expect(said).toMatch(/--url or set NOCREDS_URL/);
    expect((await cli('credentials', '--role', role, '--frobnicate')).code).toBe(2);
    const malformed = await cli('credentials', '--role', 'arn:aws:iam::123456789012:user/alice');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/role/);
  });

  test('3 when the grant does not allow the role, or the token file cannot be read', async () => {
    const denied = await cli('credentials', '--role', `arn:aws:iam::${stack.accountId}:role/team-b-app`);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/HTTP 403/);
    expect(denied.stdout).toBe('');
    const unreadable = await run(['--url', stack.broker.url, '--token-file', join(dir, 'missing'), 'whoami'], { stdout: () => undefined, stderr: () => undefined, env: {} });
    expect(unreadable).toBe(3);
  });

  test('4 when the broker cannot be reached', async () => {
    let said = '';
    const down = await run(['--url', `http://127.0.0.1:${await freePort()}`, '--token-file', tokenFile, 'credentials', '--role', role], { stdout: () => undefined, stderr: (t) => (said += t), env: {} });
    expect(down).toBe(4);
    expect(said).toMatch(/cannot be reached \(ECONNREFUSED\)/);
  });

  test('the real command exits with the same codes, and --help with 0', async () => {
    const help = await command(['credentials', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--format <format>');
    expect((await command(['credentials', '--role', role])).code).toBe(2);
    const denied = await command(['credentials', '--role', `arn:aws:iam::${stack.accountId}:role/team-b-app`], { NOCREDS_URL: stack.broker.url, NOCREDS_TOKEN_FILE: tokenFile });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/^nocreds: .*HTTP 403/);
  });
});

describe('nocreds whoami', () => {
  test('whoami shows the caller and the rules that apply', async () => {
    const { code, stdout } = await cli('whoami');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'oidc', subject: 'system:serviceaccount:team-a:app', attributes: expect.objectContaining({ namespace: 'team-a' }) });
  });

  test('whoami --iam proves an IAM user with the default credential chain (environment variables here)', async () => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await iam.send(new CreateUserCommand({ UserName: 'cli-operator' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'cli-operator' }))).AccessKey;
    const { code, stdout, stderr } = await command(['--url', stack.broker.url, '--iam', '--server-id', 'nocreds-local', '--sts-endpoint', stack.moto.endpoint, '--region', 'us-east-1', 'whoami'], {
      AWS_ACCESS_KEY_ID: key?.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: key?.SecretAccessKey,
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'iam', principalArn: 'arn:aws:iam::123456789012:user/cli-operator', admin: true });
  });
  test('a credential_process profile that loops back through --iam fails instead of recursing', async () => {
    const config = join(dir, 'loop-config');
    writeFileSync(config, `[profile loop]\ncredential_process = ${NOCREDS} --url ${stack.broker.url} --iam credentials --role ${role}\n`);
    const { code, stderr } = await command(['--url', stack.broker.url, '--iam', 'whoami'], { AWS_CONFIG_FILE: config, AWS_PROFILE: 'loop', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') });
    expect(code).toBe(3);
    // The inner run refuses (exit 2); the outer one then has no AWS credentials to sign with (exit 3).
    expect(stderr).toMatch(/^nocreds: No AWS credentials to sign the request/);
  });
});

describe('nocreds leases', () => {
  test('leases lists the caller\'s own leases', async () => {
    await cli('credentials', '--role', role);
    const { code, stdout, stderr } = await cli('leases', '--max-items', '5');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const page = JSON.parse(stdout);
    expect(page.leases.length).toBeGreaterThan(0);
    expect(page.leases.length).toBeLessThanOrEqual(5);
    expect(stdout).toContain(role);
    expect(stdout).not.toContain('secretAccessKey');
  });

  test('a bad filter is a usage error before any request', async () => {
    expect((await cli('leases', '--status', 'sleeping')).code).toBe(2);
  });
});
