// @ts-nocheck
// 
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The CLI's optional on-disk cache of vended credentials, so `credential_process` does not ask the
 * broker on every SDK start. An entry is used while more than 10 minutes remain (botocore
 * refreshes at 15 and insists at 10, the JavaScript SDK at 5).
 *
 * Invariants:
 * - an entry answers only the identity that got it: the key hashes what authenticated the caller
 *   (the OIDC token itself, or the AWS credentials and profile), with the broker URL and the whole
 *   request (role, duration, policy, policyArns). Another token or profile is another entry, so the
 *   cache never hands one identity's credentials to another without the broker deciding;
 * - it reads only a regular file this user owns, mode 0600 (nothing for group or others), with one
 *   link, opened with O_NOFOLLOW and checked on the opened descriptor (no check-then-open race), in a
 *   directory this user owns with mode 0700 that is not a symlink. Anything else is refused with a
 *   message saying what to fix; the caller then asks the broker;
 * - it writes a private temporary file (0600, O_EXCL) and renames it over the entry, so a reader
 *   never sees half a file and a planted symlink is replaced, never followed.
 */
export const MIN_REMAINING_MS = 10 * 60 * 1000;

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nocreds');
}

/** What authenticates the caller to the broker; hashed into the key, never written anywhere. */
export type CacheIdentity = Readonly<Record<string, string | undefined>>;

export interface CacheKeyInput {
  readonly url: string;
  readonly identity: CacheIdentity;
  /** The request body as sent: role, durationSeconds, policy, policyArns. */
  readonly request: Readonly<Record<string, unknown>>;
}

/** The entry's name: SHA-256 over the broker, the identity and the request (keys sorted, so order does not matter). */
export function cacheKey(input: CacheKeyInput): string {
  return createHash('sha256').update(canonicalJson({ v: 2, url: input.url, identity: input.identity, request: input.request })).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface CredentialCacheOptions {
  readonly now?: () => Date;
  /** Told why an entry or the directory was refused (the CLI prints it on stderr). */
  readonly warn?: (message: string) => void;
}

// Windows has neither O_NOFOLLOW nor uids; there the directory's ACLs are what protect it.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;

export class CredentialCache {
  private readonly now: () => Date;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly dir: string,
    options: CredentialCacheOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.warn = options.warn ?? (() => undefined);
  }

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /** The cached broker answer for `key`, if the directory and the file are private to this user and it has time left. */
  async get(key: string): Promise<Record<string, unknown> | undefined> {
    const problem = await this.directoryProblem();
    if (problem === 'missing') return undefined;
    if (problem) {
      this.warn(problem);
      return undefined;
    }
    const file = this.file(key);
    let handle;
    try {
      handle = await open(file, constants.O_RDONLY | O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      this.warn(code === 'ELOOP' ? `the cache entry ${file} is a symbolic link; refused (remove it).` : `the cache entry ${file} cannot be opened (${code ?? 'error'}); refused.`);
      return undefined;
    }
    try {
      const info = await handle.stat();
      const why = !info.isFile()
        ? 'is not a regular file'
        : uid !== undefined && info.uid !== uid
          ? 'belongs to another user'
          : (info.mode & 0o077) !== 0
            ? `has mode ${(info.mode & 0o777).toString(8)}, not 600`
            : info.nlink !== 1
              ? 'has other hard links'
              : undefined;
      if (why) {
        this.warn(`the cache entry ${file} ${why}; refused (remove it).`);
        return undefined;
      }
      const entry = JSON.parse(await handle.readFile('utf8')) as Record<string, unknown>;
      const expiration = Date.parse(String(entry.expiration));
      if (Number.isNaN(expiration) || expiration - this.now().getTime() <= MIN_REMAINING_MS) return undefined;
      return entry;
    } catch {
      // Unreadable or not JSON: ask the broker, and the next put replaces it.
      return undefined;
    } finally {
      await handle.close();
    }
  }

  async put(key: string, entry: Record<string, unknown>): Promise<void> {
    if ((await this.directoryProblem()) === 'missing') await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const problem = await this.directoryProblem();
    if (problem) throw new Error(problem === 'missing' ? `the cache directory ${this.dir} could not be created` : problem);
    // Written under a private temporary name, then renamed: readers never see half a file.
    const temporary = join(this.dir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
      try {
        // The umask can only remove bits; this makes the mode exactly 0600 whatever it is.
        await handle.chmod(0o600);
        await handle.writeFile(JSON.stringify(entry));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.file(key));
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  /** Why the directory may not hold credentials (`missing` when it does not exist), or undefined. */
  private async directoryProblem(): Promise<string | undefined> {
    let info;
    try {
      info = await lstat(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      return `the cache directory ${this.dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); the cache is not used.`;
    }
    if (info.isSymbolicLink()) return `the cache directory ${this.dir} is a symbolic link; the cache is not used (point --cache-dir at a real directory).`;
    if (!info.isDirectory()) return `the cache directory ${this.dir} is not a directory; the cache is not used.`;
    if (uid !== undefined && info.uid !== uid) return `the cache directory ${this.dir} belongs to another user; the cache is not used (use a directory of your own).`;
    if ((info.mode & 0o077) !== 0) {
      return `the cache directory ${this.dir} has mode ${(info.mode & 0o777).toString(8)}, so others can reach it; the cache is not used (run: chmod 700 ${this.dir}).`;
    }
    return undefined;
  }
}
