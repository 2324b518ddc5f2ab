import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run, type CliIo } from '../../client/cli';
import { REPO_ROOT } from '../../local/moto-server';
import { startLocalStack, type LocalStack } from '../../local/stack';

/**
 * The CLI's lease, certificate, grants and usage commands against the local broker (moto behind it),
 * in-process through `run()` and, where the process matters (exit codes, suggestions), as the real command.
 */
const exec = promisify(execFile);
const NOCREDS = join(REPO_ROOT, 'bin', 'nocreds');

let stack: LocalStack;
let dir: string;
let tokenFile: string;
let token: string;
let role: string;
const requests: URL[] = [];

beforeAll(async () => {
  stack = await startLocalStack();
  stack.broker.server.on('request', (req) => requests.push(new URL(`${req.method?.toLowerCase()}://x${req.url ?? '/'}`)));
  dir = mkdtempSync(join(tmpdir(), 'nocreds-cli-commands-'));
  tokenFile = join(dir, 'token');
  // Another service account than the other CLI tests': this file counts its own leases.
  token = await stack.serviceAccountToken('team-a', 'cli-commands');
  writeFileSync(tokenFile, token, { mode: 0o600 });
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

async function command(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(NOCREDS, args, { env: { PATH: process.env.PATH, HOME: dir } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const since = (mark: number, method: string, path: string) => requests.slice(mark).filter((r) => r.protocol === `${method}:` && r.pathname === path);

async function vendFresh(): Promise<string> {
  const { code, stdout } = await cli('credentials', '--role', role, '--fresh', '--format', 'json');
  expect(code).toBe(0);
  return JSON.parse(stdout).leaseId as string;
}

describe('nocreds leases', () => {
  let vended: string[];

  beforeAll(async () => {
    vended = [];
    for (let i = 0; i < 5; i++) vended.push(await vendFresh());
  });

  test('--fresh makes a new lease each time (the broker would otherwise reuse the session)', () => {
    expect(new Set(vended).size).toBe(5);
  });

  test('follows every page: --page-size 2 lists what one big page lists', async () => {
    const whole = JSON.parse((await cli('leases', '--page-size', '100')).stdout);
    const mark = requests.length;
    const { code, stdout } = await cli('leases', '--page-size', '2');
    expect(code).toBe(0);
    const paged = JSON.parse(stdout);
    expect(paged.leases.map((l: { leaseId: string }) => l.leaseId).sort()).toEqual(whole.leases.map((l: { leaseId: string }) => l.leaseId).sort());
    expect(paged.leases.map((l: { leaseId: string }) => l.leaseId)).toEqual(expect.arrayContaining(vended));
    expect(paged.cursor).toBeUndefined();
    expect(since(mark, 'get', '/v1/leases').length).toBeGreaterThanOrEqual(3);
    expect(stdout).not.toContain('secretAccessKey');
  });

  test('--max-items stops with a cursor that --cursor resumes from, with no lease twice or missed', async () => {
    const whole = JSON.parse((await cli('leases')).stdout).leases.map((l: { leaseId: string }) => l.leaseId);
    const mark = requests.length;
    const first = JSON.parse((await cli('leases', '--max-items', '3', '--page-size', '2')).stdout);
    expect(first.leases).toHaveLength(3);
    expect(since(mark, 'get', '/v1/leases').map((r) => r.searchParams.get('limit'))).toEqual(['2', '1']);
    expect(first.cursor).toEqual(expect.any(String));
    const rest = JSON.parse((await cli('leases', '--cursor', first.cursor)).stdout);
    expect([...first.leases, ...rest.leases].map((l: { leaseId: string }) => l.leaseId)).toEqual(whole);
  });

  test('--output table: a header, one line per lease, at most 80 columns, no secrets', async () => {
    const { code, stdout } = await cli('leases', '--output', 'table', '--status', 'active');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LEASE ID\s+KIND\s+STATUS\s+EXPIRES\s+ROLE \/ NAMES$/);
    for (const id of vended) expect(lines.some((line) => line.startsWith(`${id}  cred  active  20`) && line.endsWith('team-a-app'))).toBe(true);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });
});

describe('nocreds lease get | revoke | renew', () => {
  test('get prints the lease; --output table prints KEY VALUE lines', async () => {
    const id = await vendFresh();
    const json = await cli('lease', 'get', id);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).lease).toMatchObject({ leaseId: id, kind: 'credentials', status: 'active', roleArn: role });
    const table = await cli('lease', 'get', id, '--output', 'table');
    expect(table.stdout).toMatch(new RegExp(`^KEY +VALUE\\nleaseId +${id}\\n`));
    expect(table.stdout).toMatch(/\nstatus +active\n/);
  });

  test('revoke, then revoke again (the same answer), then renew is refused as a conflict (exit 2)', async () => {
    const id = await vendFresh();
    const revoked = await cli('lease', 'revoke', id);
    expect(revoked.code).toBe(0);
    const answer = JSON.parse(revoked.stdout);
    expect(answer).toMatchObject({ lease: { leaseId: id, status: 'revoked' }, effect: expect.any(String) });
    expect(JSON.parse((await cli('lease', 'revoke', id)).stdout)).toEqual(answer);
    const renew = await cli('lease', 'renew', id);
    expect(renew.code).toBe(2);
    expect(renew.stderr).toMatch(/HTTP 409 lease_revoked/);
  });

  test('renew a credentials lease: a new lease linked to the old; the table shows no secret', async () => {
    const id = await vendFresh();
    const json = await cli('lease', 'renew', id, '--duration', '900');
    expect(json.code).toBe(0);
    const renewed = JSON.parse(json.stdout);
    expect(renewed).toMatchObject({ renewedFrom: id, leaseId: expect.not.stringMatching(id), secretAccessKey: expect.any(String) });
    const table = await cli('lease', 'renew', renewed.leaseId, '--output', 'table');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`\\nrenewedFrom +${renewed.leaseId}\\n`));
    expect(table.stdout).not.toMatch(/secretAccessKey|sessionToken/);
  });

  test('an unknown lease id is a usage error (exit 2), a malformed one too', async () => {
    expect((await cli('lease', 'get', '01JD6S3M0Q8J4Z5X7Y9W2V1T0R')).code).toBe(2);
    const malformed = await cli('lease', 'get', 'not-a-lease');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/invalid_lease_id/);
  });
});

describe('nocreds certificate and certificate leases', () => {
  test('renew --cert-out writes a new certificate for the same key; revoke --reason records the reason', async () => {
    const keyOut = join(dir, 'renew.key');
    const certOut = join(dir, 'renew.crt');
    const issued = await cli('certificate', '--profile', 'mesh', '--dns', 'app.team-a.svc', '--key-out', keyOut, '--cert-out', certOut);
    expect(issued.code).toBe(0);
    const leaseId = /lease (\w{26})/.exec(issued.stderr)?.[1] as string;
    const first = new X509Certificate(readFileSync(certOut));

    const renewedOut = join(dir, 'renewed.crt');
    const renewed = await cli('lease', 'renew', leaseId, '--cert-out', renewedOut, '--output', 'table');
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).not.toContain('BEGIN CERTIFICATE');
    const second = new X509Certificate(readFileSync(renewedOut));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.checkPrivateKey(createPrivateKey(readFileSync(keyOut)))).toBe(true);
    expect(second.publicKey.export({ format: 'der', type: 'spki' })).toEqual(createPublicKey(readFileSync(keyOut)).export({ format: 'der', type: 'spki' }));

    const newLease = /renewedFrom +\S+/.test(renewed.stdout) ? /\nleaseId +(\w{26})/.exec(renewed.stdout)?.[1] : undefined;
    expect(newLease).toMatch(/^\w{26}$/);
    const revoked = await cli('lease', 'revoke', newLease as string, '--reason', 'SUPERSEDED');
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout).lease).toMatchObject({ status: 'revoked', revokeReason: 'SUPERSEDED' });
    expect((await cli('lease', 'revoke', leaseId, '--reason', 'BORED')).code).toBe(2);
  });

  test('an existing key file is never replaced without --force, and nothing is asked of the broker', async () => {
    const keyOut = join(dir, 'existing.key');
    writeFileSync(keyOut, 'the key someone still needs\n', { mode: 0o600 });
    const mark = requests.length;
    const refused = await cli('certificate', '--dns', 'app.team-a.svc', '--key-out', keyOut, '--cert-out', join(dir, 'existing.crt'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/existing\.key already exists; pass --force to replace it/);
    expect(readFileSync(keyOut, 'utf8')).toBe('the key someone still needs\n');
    expect(since(mark, 'post', '/v1/certificates')).toEqual([]);

    const forced = await cli('certificate', '--dns', 'app.team-a.svc', '--key-out', keyOut, '--cert-out', join(dir, 'existing.crt'), '--force');
    expect(forced.code).toBe(0);
    expect(new X509Certificate(readFileSync(join(dir, 'existing.crt'))).checkPrivateKey(createPrivateKey(readFileSync(keyOut)))).toBe(true);
  });

  test('an unknown profile is refused (exit 2) with the profiles the caller may use', async () => {
    const { code, stderr } = await cli('certificate', '--profile', 'nope', '--dns', 'app.team-a.svc', '--key-out', join(dir, 'nope.key'), '--cert-out', join(dir, 'nope.crt'));
    expect(code).toBe(2);
    expect(stderr).toMatch(/HTTP 400 unknown_profile/);
    expect(stderr).toMatch(/Profiles you may use: mesh \(--profile NAME\)\./);
  });

  test('--debug on a certificate shows the exchange and never the key', async () => {
    const keyOut = join(dir, 'debug.key');
    const { code, stderr } = await cli('--debug', 'certificate', '--dns', 'app.team-a.svc', '--key-out', keyOut, '--cert-out', join(dir, 'debug.crt'));
    expect(code).toBe(0);
    expect(stderr).toMatch(/debug: POST \/v1\/certificates -> 201 in \d+ ms \(attempt 1\/3[^)]*\)/);
    expect(stderr).not.toMatch(/PRIVATE KEY|CERTIFICATE REQUEST/);
    const keyBody = readFileSync(keyOut, 'utf8').split('\n').slice(1, -2).join('');
    expect(stderr).not.toContain(keyBody.slice(0, 40));
    expect(stderr).not.toContain(token);
  });
});

describe('the real command', () => {
  test('an unknown command or option: exit 2 with a suggestion, not the main help', async () => {
    const typo = await command(['leasse']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'leasse'\n\(Did you mean one of lease, leases\?\)/);
    expect(typo.stdout).toBe('');
    const option = await command(['leases', '--outptu', 'table']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/Did you mean --output\?/);
  });

  test('grants validate: 0 for a valid file, 1 with FILE:LINE PATH for an invalid one, 2 for a missing one', async () => {
    const good = await command(['grants', 'validate', join(REPO_ROOT, 'infra/example-grants.yaml')]);
    expect(good).toMatchObject({ code: 0, stdout: expect.stringMatching(/example-grants\.yaml: valid \(\d+ rules, \d+ issuers\)/) });
    const badFile = join(dir, 'bad-grants.yaml');
    writeFileSync(badFile, ['version: 1', 'issuers: []', 'rules:', '  - id: broken', '    callers: [{ iam: "arn:aws:iam::123456789012:user/*" }]', '    credentials:', '      roles: ["not-an-arn"]', ''].join('\n'));
    const bad = await command(['grants', 'validate', badFile]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`^${badFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7 rules\\[0\\]\\.credentials\\.roles\\[0\\]: `, 'm'));
    const missing = await command(['grants', 'validate', join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.yaml: cannot be read \(ENOENT\)/);
  });
});

describe('dry runs and grants explain', () => {
  test('credentials --dry-run: the decision and the session STS would get; no lease, no credentials; exit 1 when refused', async () => {
    const mark = requests.length;
    const before = JSON.parse((await cli('leases', '--output', 'json')).stdout).leases.length as number;
    const allowed = await cli('credentials', '--role', role, '--dry-run', '--duration', '900');
    expect(allowed.code).toBe(0);
    const answer = JSON.parse(allowed.stdout);
    expect(answer).toMatchObject({ dryRun: true, allowed: true, wouldAnswer: 201, session: { roleArn: role, durationSeconds: 900, roleSessionName: '{leaseId}' } });
    expect(allowed.stdout).not.toMatch(/secretAccessKey|sessionToken/);
    const refused = await cli('credentials', '--role', `arn:aws:iam::${stack.accountId}:role/team-b-app`, '--dry-run');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ allowed: false, wouldAnswer: 403, error: { code: 'grant_denied' } });
    expect(since(mark, 'post', '/v1/credentials')).toHaveLength(2);
    expect(JSON.parse((await cli('leases', '--output', 'json')).stdout).leases).toHaveLength(before);
  });

  test('certificate --dry-run needs no output files and writes none', async () => {
    const answer = await cli('certificate', '--dry-run', '--dns', 'cli-commands.team-a.svc');
    expect(answer.stderr).toBe('');
    expect(JSON.parse(answer.stdout)).toMatchObject({ dryRun: true, kind: 'certificate' });
    expect(answer.code).toBe(JSON.parse(answer.stdout).allowed ? 0 : 1);
    const missing = await cli('certificate', '--dns', 'cli-commands.team-a.svc');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--key-out <file>' not specified/);
  });

  test('grants explain decides offline from a policy file for a described identity, as the broker would', async () => {
    const policy = join(dir, 'explain-grants.yaml');
    writeFileSync(
      policy,
      [
        'version: 1',
        'issuers:',
        '  - { id: eks, url: "https://oidc.eks.example.com/id/X", audiences: [nocreds], preset: kubernetes }',
        'rules:',
        '  - id: team-apps',
        '    callers: [{ oidc: eks, claims: { namespace: "team-*" } }]',
        '    credentials: { roles: ["arn:aws:iam::111122223333:role/${namespace}-app"], sessionTags: { ns: "${namespace}" } }',
        '  - id: no-sandbox',
        '    effect: deny',
        '    callers: [{ oidc: eks, claims: { namespace: team-sandbox } }]',
        '',
      ].join('\n'),
    );
    const as = (ns: string) => JSON.stringify({ iss: 'https://oidc.eks.example.com/id/X', sub: `system:serviceaccount:${ns}:api` });
    const allowed = await command(['grants', 'explain', '--policy', policy, '--as', as('team-a'), '--role', 'arn:aws:iam::111122223333:role/team-a-app']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({
      allowed: true,
      rule: 'team-apps',
      identity: { caller: 'eks:system:serviceaccount:team-a:api', described: true },
      session: { tags: expect.arrayContaining([{ key: 'ns', value: 'team-a' }]) },
    });
    const denied = await command(['grants', 'explain', '--policy', policy, '--as', as('team-sandbox'), '--role', 'arn:aws:iam::111122223333:role/team-sandbox-app']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({ allowed: false, rule: 'no-sandbox', error: { code: 'grant_denied' } });
    const badIdentity = await command(['grants', 'explain', '--policy', policy, '--as', '{"iss":"https://elsewhere"}', '--role', 'arn:aws:iam::111122223333:role/x']);
    expect(badIdentity.code).toBe(2);
    expect(badIdentity.stderr).toMatch(/--as: No issuer in the grant policy has URL or id "https:\/\/elsewhere"/);
    const nothing = await command(['grants', 'explain', '--policy', policy, '--as', as('team-a')]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/Say what to explain/);
  });
});
