import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', '..', 'scripts', 'setup-moto.sh');

/**
 * scripts/setup-moto.sh's first run, with a stand-in Python whose venv has a pip that takes a
 * few seconds (no network, no real install): what a newcomer sees while moto installs.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nocreds-setup-moto-'));
  // `python -c ...` (the version check) succeeds; `python -m venv DIR` makes DIR/bin/pip, which
  // sleeps, prints like pip, and exits with FAKE_PIP_EXIT.
  const python = join(dir, 'python');
  writeFileSync(
    python,
    `#!/usr/bin/env bash
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/usr/bin/env bash\\necho "Collecting moto[server]==5.2.5"\\nsleep 2.5\\necho "ERROR: No matching distribution" >&2\\nexit "\${FAKE_PIP_EXIT:-0}"\\n' > "$3/bin/pip"
  chmod +x "$3/bin/pip"
fi
exit 0
`,
  );
  chmodSync(python, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function setup(pipExit: number): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('bash', [SCRIPT], { env: { ...process.env, PYTHON: join(dir, 'python'), NOCREDS_VENV: join(dir, 'venv'), NOCREDS_PROGRESS_SECONDS: '0.5', FAKE_PIP_EXIT: String(pipExit) }, encoding: 'utf8' });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('says what it installs before pip starts, shows dots while pip works, and how long it took', async () => {
  const { code, stderr } = await setup(0);
  expect(code).toBe(0);
  const [first, dots, last] = stderr.trimEnd().split('\n');
  expect(first).toMatch(/^First run: installing the AWS emulator moto 5\.2\.5 into .*venv with pip/);
  expect(dots).toMatch(/^\.{3,}$/); // 2.5 s of pip at a dot every 0.5 s
  expect(last).toMatch(/^moto 5\.2\.5 installed in .*venv in \d+ s$/);
  // pip's own output is kept, not lost.
  expect(readFileSync(join(dir, 'venv', 'pip-install.log'), 'utf8')).toContain('Collecting moto[server]==5.2.5');
}, 20_000);

test('when pip fails it says so, shows the end of pip\'s log and exits with pip\'s status', async () => {
  const { code, stderr } = await setup(3);
  expect(code).toBe(3);
  expect(stderr).toMatch(/pip failed \(exit 3\) after \d+ s; the end of .*pip-install\.log:\nCollecting moto\[server\]==5\.2\.5\nERROR: No matching distribution/);
  expect(existsSync(join(dir, 'venv', 'bin', 'moto_server'))).toBe(false);
}, 20_000);
