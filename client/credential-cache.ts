import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The CLI's optional on-disk cache of vended credentials, so `credential_process` does not ask the
 * broker on every SDK start. One file per request (broker, role, options, auth source), mode 0600 in
 * a 0700 directory; an entry is used while more than 10 minutes remain (botocore refreshes at 15 and
 * insists at 10, the JavaScript SDK at 5). A file anyone else could read or write is ignored.
 */
export const MIN_REMAINING_MS = 10 * 60 * 1000;

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nocreds');
}

export function cacheKey(request: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 32);
}

export class CredentialCache {
  constructor(
    private readonly dir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /** The cached broker answer for `key`, if it is private to this user and has time left. */
  async get(key: string): Promise<Record<string, unknown> | undefined> {
    const file = this.file(key);
    try {
      const info = await stat(file);
      if ((info.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && info.uid !== process.getuid())) return undefined;
      const entry = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      const expiration = Date.parse(String(entry.expiration));
      if (Number.isNaN(expiration) || expiration - this.now().getTime() <= MIN_REMAINING_MS) return undefined;
      return entry;
    } catch {
      return undefined;
    }
  }

  async put(key: string, entry: Record<string, unknown>): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    // Written under a private temporary name, then renamed: readers never see half a file.
    const temporary = join(this.dir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temporary, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
      await rename(temporary, this.file(key));
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }
}
