import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { REPO_ROOT } from '../../local/moto-server';
import { startLocalStack, type LocalStack } from '../../local/stack';

/**
 * Finding 11 of the security review: `nocreds credentials --cache` keyed its entries by how the
 * caller authenticated (`token-env`, `token-file:<path>`, `iam-proof`), not by who, so with another
 * token or AWS identity it answered the previous identity's credentials without asking the broker.
 * The real command against the local broker: each identity gets its own credentials, and a cache
 * entry replaced by a symbolic link is refused.
 */
const exec = promisify(execFile);
const NOCREDS = join(REPO_ROOT, 'bin', 'nocreds');

let stack: LocalStack;
let dir: string;
let role: string;
const requests: string[] = [];
const vends = () => requests.filter((r) => r === 'POST /v1/credentials').length;

beforeAll(async () => {
  stack = await startLocalStack();
  stack.broker.server.on('request', (req) => requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`));
  dir = mkdtempSync(join(tmpdir(), 'nocreds-cli-cache-'));
  role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
}, 90_000);

afterAll(() => stack?.stop());

async function command(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(NOCREDS, args, { env: { PATH: process.env.PATH, HOME: dir, AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The caller a vended session was issued to, as the broker's lease records it. */
async function callerOf(accessKeyId: string): Promise<string> {
  const out = await command(['--url', stack.broker.url, '--iam', '--server-id', 'nocreds-local', '--sts-endpoint', stack.moto.endpoint, '--region', 'us-east-1', 'leases', '--page-size', '100'], await operatorKeys('cache-auditor'));
  const lease = (JSON.parse(out.stdout).leases as Array<{ accessKeyId?: string; caller: string }>).find((l) => l.accessKeyId === accessKeyId);
  return lease?.caller ?? 'unknown';
}

const operators: Record<string, NodeJS.ProcessEnv> = {};
async function operatorKeys(name: string): Promise<NodeJS.ProcessEnv> {
  if (!operators[name]) {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await iam.send(new CreateUserCommand({ UserName: name }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
    operators[name] = { AWS_ACCESS_KEY_ID: key?.AccessKeyId, AWS_SECRET_ACCESS_KEY: key?.SecretAccessKey };
  }
  return operators[name];
}

test('two OIDC identities through the same token file each get their own credentials; each is reused for its own identity only', async () => {
  const cacheDir = join(dir, 'oidc-cache');
  const tokenFile = join(dir, 'token');
  const env = { NOCREDS_URL: stack.broker.url, NOCREDS_TOKEN_FILE: tokenFile };
  const args = ['credentials', '--role', role, '--cache-dir', cacheDir];

  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  const before = vends();
  const app = await command(args, env);
  expect(app.code).toBe(0);
  // The token is rotated to another workload's (the same file, as a projected volume does).
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'worker'), { mode: 0o600 });
  const worker = await command(args, env);
  expect(worker.code).toBe(0);
  expect(vends()).toBe(before + 2);
  const [a, w] = [JSON.parse(app.stdout), JSON.parse(worker.stdout)];
  expect(w.AccessKeyId).not.toBe(a.AccessKeyId);
  expect(await callerOf(w.AccessKeyId)).toContain('team-a:worker');

  // Each identity's entry answers that identity again, without the broker.
  expect((await command(args, env)).stdout).toBe(worker.stdout);
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  // A token minted again for the same workload is a different token: asked again (conservative).
  await command(args, env);
  expect(vends()).toBe(before + 3);
  expect(readdirSync(cacheDir)).toHaveLength(3);
  for (const file of readdirSync(cacheDir)) expect(statSync(join(cacheDir, file)).mode & 0o777).toBe(0o600);

  // NOCREDS_TOKEN: the token value, same rule.
  const byValue = { NOCREDS_URL: stack.broker.url, NOCREDS_TOKEN: await stack.serviceAccountToken('team-a', 'api') };
  const api = await command(args, byValue);
  expect(JSON.parse(api.stdout).AccessKeyId).not.toBe(a.AccessKeyId);
  expect(vends()).toBe(before + 4);
});

test('two AWS identities (--iam) each get their own credentials', async () => {
  const cacheDir = join(dir, 'iam-cache');
  const args = ['--url', stack.broker.url, '--iam', '--server-id', 'nocreds-local', '--sts-endpoint', stack.moto.endpoint, '--region', 'us-east-1', 'credentials', '--role', role, '--cache-dir', cacheDir];
  const before = vends();
  const alice = await command(args, await operatorKeys('cache-alice'));
  const bob = await command(args, await operatorKeys('cache-bob'));
  expect([alice.code, bob.code, alice.stderr, bob.stderr]).toEqual([0, 0, '', '']);
  expect(vends()).toBe(before + 2);
  const [a, b] = [JSON.parse(alice.stdout), JSON.parse(bob.stdout)];
  expect(b.AccessKeyId).not.toBe(a.AccessKeyId);
  expect(await callerOf(b.AccessKeyId)).toContain('user/cache-bob');
  expect((await command(args, await operatorKeys('cache-alice'))).stdout).toBe(alice.stdout);
  expect(vends()).toBe(before + 2);
});

test('a cache entry replaced by a symbolic link is refused: the broker is asked, the planted credentials never come out, the link target is untouched', async () => {
  const cacheDir = join(dir, 'link-cache');
  const tokenFile = join(dir, 'token-link');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  const env = { NOCREDS_URL: stack.broker.url, NOCREDS_TOKEN_FILE: tokenFile };
  const args = ['credentials', '--role', role, '--cache-dir', cacheDir];
  expect((await command(args, env)).code).toBe(0);
  const [entry] = readdirSync(cacheDir);
  const planted = join(dir, 'planted.json');
  const plantedText = JSON.stringify({ accessKeyId: 'ASIAPLANTED000000000', secretAccessKey: 'planted', sessionToken: 'planted', expiration: new Date(Date.now() + 3_600_000).toISOString() });
  writeFileSync(planted, plantedText, { mode: 0o600 });
  rmSync(join(cacheDir, entry as string));
  symlinkSync(planted, join(cacheDir, entry as string));

  const before = vends();
  const out = await command(args, env);
  expect(out.code).toBe(0);
  expect(out.stdout).not.toContain('PLANTED');
  expect(out.stderr).toMatch(/^nocreds: warning: the cache entry .* is a symbolic link; refused/);
  expect(vends()).toBe(before + 1);
  expect(readFileSync(planted, 'utf8')).toBe(plantedText);
});

test('a cache directory others can read is refused with a message, and nothing is written to it', async () => {
  const cacheDir = mkdtempSync(join(dir, 'open-'));
  const { chmodSync } = await import('node:fs');
  chmodSync(cacheDir, 0o755);
  const tokenFile = join(dir, 'token-open');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  const out = await command(['credentials', '--role', role, '--cache-dir', cacheDir], { NOCREDS_URL: stack.broker.url, NOCREDS_TOKEN_FILE: tokenFile });
  expect(out.code).toBe(0);
  expect(JSON.parse(out.stdout).AccessKeyId).toMatch(/^ASIA/);
  expect(out.stderr).toMatch(/has mode 755, so others can reach it; the cache is not used \(run: chmod 700 /);
  expect(readdirSync(cacheDir)).toEqual([]);
});
