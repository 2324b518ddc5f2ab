// @ts-nocheck
// 
// 
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../local/moto-server';

const run = promisify(execFile);
const LOCK = join(tmpdir(), `nocreds-pack-${Buffer.from(REPO_ROOT).toString('base64url').slice(-24)}.lock`);
/** A lock older than this belongs to a run that was killed. */
const STALE_MS = 5 * 60_000;

/**
 * `npm pack` of workspaces, one test file at a time: each pack's prepack rebuilds the package's
 * dist/ in place, so two test files packing at once (jest runs files in parallel) overwrite each
 * other's build mid-way. The lock is a directory (mkdir is atomic).
 */
export async function packWorkspaces(workspaces: readonly string[], destination: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // Released meanwhile: try again.
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await run('npm', ['pack', ...workspaces.flatMap((w) => ['--workspace', w]), '--pack-destination', destination, '--silent'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }).catch((error) => {
      throw new Error(`npm pack failed: ${(error as { stderr?: string }).stderr ?? error}`);
    });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
