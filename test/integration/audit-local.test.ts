import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

// `npm run audit:local`, as an operator runs it: the audit job against the local stack, the HTML
// report written where it says.
test('npm run audit:local runs the audit job against moto and writes the HTML report to the path it prints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nocreds-audit-local-'));
  try {
    const out = join(dir, 'nested', 'audit.html');
    const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'local', 'audit.ts'), '--out', out], {
      cwd: ROOT,
      env: { ...process.env, NOCREDS_LOG_LEVEL: 'SILENT' },
      timeout: 120_000,
    });
    expect(stdout).toContain(`audit report: ${out}\n`);
    const revoked = /\/v1\/leases\/(\w+)\/revoke -> 200/.exec(stdout)?.[1];
    const leases = [...stdout.matchAll(/-> 201 lease (\w+)/g)].map((m) => m[1]);
    expect(leases).toHaveLength(3);
    expect(revoked).toBe(leases[1]);

    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    // What the job found in the table moto holds: the revoked lease as a finding, the rest in force.
    expect(html).toContain('id="findings-summary"');
    expect(html).toMatch(new RegExp(`<h3 id="revokedNotExpired">[^<]*<span class="sev sev-medium">medium</span></h3>\\n<table id="revokedNotExpired-table"[\\s\\S]*?>${revoked}</code>`));
    // Active credentials leases are not in the due index the audit reads: the certificate is the one
    // active lease it counts, and of the three issued it sees the certificate and the revoked vend.
    expect(html).toContain('<div class="card" data-metric="active"><b>1</b>');
    expect(html).toContain('<div class="card" data-metric="issued"><b>2</b>');
    expect(html).toContain('active ones are not indexed, so they are not counted here');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);
