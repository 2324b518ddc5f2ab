// @ts-nocheck
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * How the agent writes files so that a reader never sees half of one, or a key that does not
 * match its certificate.
 */

/** Writes `path` under a private temporary name in the same directory, then renames it over. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, content, { mode, flag: 'wx' });
    // The umask may have narrowed the mode; set it exactly.
    await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export interface VersionedFile {
  readonly name: string;
  readonly content: string;
  readonly mode: number;
}

const DATA_LINK = '..data';

/**
 * Writes a set of files that must change together (key, certificate, chain, trust bundle) the way
 * Kubernetes updates a mounted secret: the files go into a new hidden directory, the `..data`
 * symlink is swapped to it with one rename, and each visible name (`tls.key`, ...) is a symlink
 * through `..data`. A reader opening `tls.key` then `tls.crt` sees both from the same version
 * unless a rotation happens in between, and never a partial file.
 */
export async function writeVersionedFiles(dir: string, files: readonly VersionedFile[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const version = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  const versionDir = join(dir, version);
  await mkdir(versionDir, { mode: 0o755 });
  await chmod(versionDir, 0o755);
  for (const file of files) {
    await writeFile(join(versionDir, file.name), file.content, { mode: file.mode, flag: 'wx' });
    await chmod(join(versionDir, file.name), file.mode);
  }
  const temporaryLink = join(dir, `${DATA_LINK}_tmp.${randomBytes(4).toString('hex')}`);
  await symlink(version, temporaryLink);
  await rename(temporaryLink, join(dir, DATA_LINK));
  for (const file of files) {
    const visible = join(dir, file.name);
    const target = join(DATA_LINK, file.name);
    const current = await readlink(visible).catch(() => undefined);
    if (current === target) continue;
    // A regular file from an older layout (or a user) is replaced by the link, atomically.
    const link = `${visible}.${randomBytes(4).toString('hex')}.tmp`;
    await symlink(target, link);
    await rename(link, visible);
  }
  // Old versions go once nothing points at them; a reader holding one open keeps its inode.
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') && entry !== DATA_LINK && entry !== version && !entry.startsWith(`${DATA_LINK}_tmp`)) {
      const info = await lstat(join(dir, entry)).catch(() => undefined);
      if (info?.isDirectory()) await rm(join(dir, entry), { recursive: true, force: true });
    }
  }
}

export interface ProfileCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/**
 * Replaces one profile of an AWS shared-credentials file (INI), keeping every other profile and
 * comment as it was; written atomically, mode 0600. The profile is created if missing.
 */
export async function writeCredentialsProfile(path: string, profile: string, credentials: ProfileCredentials): Promise<void> {
  let existing = '';
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const section = [
    `[${profile}]`,
    `# written by nocreds agent; expires ${credentials.expiration.toISOString()}; refreshed before then`,
    `aws_access_key_id = ${credentials.accessKeyId}`,
    `aws_secret_access_key = ${credentials.secretAccessKey}`,
    `aws_session_token = ${credentials.sessionToken}`,
  ];
  await writeFileAtomic(path, replaceSection(existing, profile, section), 0o600);
}

/** The INI text with section `name` replaced by `lines` (appended when absent). */
export function replaceSection(text: string, name: string, lines: readonly string[]): string {
  const source = text === '' ? [] : text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  const header = (line: string) => /^\s*\[([^\]]+)\]\s*$/.exec(line)?.[1]?.trim();
  const out: string[] = [];
  let replaced = false;
  for (let i = 0; i < source.length; i++) {
    if (header(source[i] as string) !== name) {
      out.push(source[i] as string);
      continue;
    }
    // Skip the old section up to the next header, keeping the blank line that separated it.
    let end = i + 1;
    while (end < source.length && header(source[end] as string) === undefined) end++;
    const trailingBlank = end < source.length && (source[end - 1] as string).trim() === '';
    out.push(...lines, ...(trailingBlank ? [''] : []));
    replaced = true;
    i = end - 1;
  }
  if (!replaced) {
    if (out.length > 0 && (out[out.length - 1] as string).trim() !== '') out.push('');
    out.push(...lines);
  }
  return `${out.join('\n')}\n`;
}
