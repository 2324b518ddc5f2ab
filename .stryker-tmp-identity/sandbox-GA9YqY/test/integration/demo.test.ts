// @ts-nocheck
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// The README's run command must keep working: run the walkthrough once, as a newcomer would.
test('npm run demo walks through vending, denial and the container endpoint against moto', async () => {
  const root = join(__dirname, '..', '..');
  const { stdout } = await run(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'local', 'demo.ts'), '--once'], {
    cwd: root,
    env: { ...process.env, NOCREDS_LOG_LEVEL: 'SILENT' },
    timeout: 120_000,
  });
  expect(stdout).toContain('HTTP 201');
  expect(stdout).toContain('"code":"grant_denied"');
  expect(stdout).toMatch(/an AWS SDK call through the agent: sts:GetCallerIdentity -> arn:aws:sts::123456789012:assumed-role\/team-a-app\//);
  expect(stdout).toContain('Demo finished: every step answered as expected.');
}, 150_000);
