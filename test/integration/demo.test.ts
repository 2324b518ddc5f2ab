import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

function demo(): Promise<string> {
  return run(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'local', 'demo.ts'), '--once'], {
    cwd: ROOT,
    env: { ...process.env, NOCREDS_LOG_LEVEL: 'SILENT' },
    timeout: 150_000,
  }).then(({ stdout }) => stdout);
}

// The README's run command must keep working: run the walkthrough as a newcomer would, twice at
// the same time (each run has its own moto, issuer, broker and agent on free ports, and its own
// token file: two runs sharing one would send each other's tokens to the wrong broker).
test('npm run demo walks through vending, denial, the container endpoint, the CLI and the agent; two runs at once do not disturb each other', async () => {
  const outputs = await Promise.all([demo(), demo()]);
  const tokenFiles = outputs.map((stdout) => /token for system:serviceaccount:team-a:app written to (\S+)/.exec(stdout)?.[1]);
  expect(tokenFiles[0]).toMatch(/^\.local\/demo-\w+\/token$/);
  expect(tokenFiles[1]).toMatch(/^\.local\/demo-\w+\/token$/);
  expect(tokenFiles[0]).not.toBe(tokenFiles[1]);

  for (const [i, stdout] of outputs.entries()) {
    expect(stdout).toContain('HTTP 201');
    expect(stdout).toContain('"code":"grant_denied"');
    // The CLI, shown as typed, with its output and exit code.
    expect(stdout).toContain(`$ export NOCREDS_URL=http://127.0.0.1:`);
    expect(stdout).toMatch(/\$ nocreds credentials --role arn:aws:iam::123456789012:role\/team-a-app --format env\n.*\nexport AWS_ACCESS_KEY_ID='ASIA\w+'\n/);
    expect(stdout).toMatch(/\$ nocreds leases --max-items 2\n.*\n\{\n {2}"leases": \[[\s\S]*"caller": "dev:system:serviceaccount:team-a:app"[\s\S]*\n# exit 0\n/);
    expect(stdout).not.toMatch(/# exit [1-9]/);
    // No secret on screen: every secret key and session token, from curl or the CLI, is masked.
    const secrets = [...stdout.matchAll(/(?:"(?:secretAccessKey|SecretAccessKey|sessionToken|SessionToken|Token)":"|AWS_SECRET_ACCESS_KEY='|AWS_SESSION_TOKEN=')([^"']*)/g)].map((m) => m[1]);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const value of secrets) expect(value).toMatch(/^.{0,4}…\(masked\)$/);
    expect(stdout).toMatch(/an AWS SDK call through the agent: sts:GetCallerIdentity -> arn:aws:sts::123456789012:assumed-role\/team-a-app\//);
    expect(stdout).toContain('Demo finished: every step answered as expected.');
    // Its token and keys leave with it.
    expect(existsSync(join(ROOT, tokenFiles[i] as string))).toBe(false);
  }
}, 180_000);
