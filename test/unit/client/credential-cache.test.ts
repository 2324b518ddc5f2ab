import { chmodSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, CredentialCache } from '../../../client/credential-cache';

const NOW = new Date('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

function cache() {
  const dir = join(mkdtempSync(join(tmpdir(), 'nocreds-cache-')), 'nocreds');
  return { dir, cache: new CredentialCache(dir, () => NOW) };
}

test('an entry is reused while more than 10 minutes remain, and not after', async () => {
  const { cache: c } = cache();
  await c.put('fresh', { accessKeyId: 'A', expiration: at(11) });
  await c.put('stale', { accessKeyId: 'B', expiration: at(10) });
  await expect(c.get('fresh')).resolves.toEqual({ accessKeyId: 'A', expiration: at(11) });
  await expect(c.get('stale')).resolves.toBeUndefined();
  await expect(c.get('absent')).resolves.toBeUndefined();
});

test('files are 0600 in a 0700 directory, and no temporary file is left behind', async () => {
  const { dir, cache: c } = cache();
  await c.put('k', { expiration: at(60) });
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(readdirSync(dir)).toEqual(['k.json']);
  expect(statSync(join(dir, 'k.json')).mode & 0o777).toBe(0o600);
});

test('an entry others can read is ignored', async () => {
  const { dir, cache: c } = cache();
  await c.put('k', { expiration: at(60) });
  chmodSync(join(dir, 'k.json'), 0o644);
  await expect(c.get('k')).resolves.toBeUndefined();
});

test('the key depends on everything that shapes the answer', () => {
  const base = { url: 'https://b', authSource: 'token-file:/t', role: 'arn:aws:iam::1:role/a' };
  expect(cacheKey(base)).toBe(cacheKey({ ...base }));
  expect(cacheKey(base)).not.toBe(cacheKey({ ...base, role: 'arn:aws:iam::1:role/b' }));
  expect(cacheKey(base)).not.toBe(cacheKey({ ...base, durationSeconds: 900 }));
  expect(cacheKey(base)).not.toBe(cacheKey({ ...base, authSource: 'iam-proof' }));
});
