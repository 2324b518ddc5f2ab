// @ts-nocheck
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { cacheKey, CredentialCache, type CacheKeyInput } from '../../../client/credential-cache';

const NOW = new Date('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

function cache() {
  const dir = join(mkdtempSync(join(tmpdir(), 'nocreds-cache-')), 'nocreds');
  const warnings: string[] = [];
  return { dir, warnings, cache: new CredentialCache(dir, { now: () => NOW, warn: (m) => warnings.push(m) }) };
}

test('an entry is reused while more than 10 minutes remain, and not after', async () => {
  const { cache: c } = cache();
  await c.put('fresh', { accessKeyId: 'A', expiration: at(11) });
  await c.put('stale', { accessKeyId: 'B', expiration: at(10) });
  await expect(c.get('fresh')).resolves.toEqual({ accessKeyId: 'A', expiration: at(11) });
  await expect(c.get('stale')).resolves.toBeUndefined();
  await expect(c.get('absent')).resolves.toBeUndefined();
});

test('files are 0600 in a 0700 directory, whatever the umask, and no temporary file is left behind', async () => {
  const { dir, cache: c } = cache();
  const umask = process.umask(0);
  try {
    await c.put('k', { expiration: at(60) });
  } finally {
    process.umask(umask);
  }
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(readdirSync(dir)).toEqual(['k.json']);
  expect(statSync(join(dir, 'k.json')).mode & 0o777).toBe(0o600);
});

describe('refused, with a message saying what to fix, and then not read', () => {
  it('an entry others can read', async () => {
    const { dir, cache: c, warnings } = cache();
    await c.put('k', { expiration: at(60) });
    chmodSync(join(dir, 'k.json'), 0o644);
    await expect(c.get('k')).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/k\.json has mode 644, not 600; refused/)]);
  });

  it('an entry that is a symbolic link (O_NOFOLLOW), even to a private file of this user', async () => {
    const { dir, cache: c, warnings } = cache();
    await c.put('real', { accessKeyId: 'REAL', expiration: at(60) });
    const planted = join(dir, '..', 'planted.json');
    writeFileSync(planted, JSON.stringify({ accessKeyId: 'PLANTED', expiration: at(60) }), { mode: 0o600 });
    symlinkSync(planted, join(dir, 'k.json'));
    await expect(c.get('k')).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/k\.json is a symbolic link; refused/)]);

    // Writing the entry replaces the link; the file it pointed to is never written.
    await c.put('k', { accessKeyId: 'NEW', expiration: at(60) });
    expect(JSON.parse(readFileSync(planted, 'utf8')).accessKeyId).toBe('PLANTED');
    expect(statSync(join(dir, 'k.json')).isFile()).toBe(true);
    await expect(c.get('k')).resolves.toMatchObject({ accessKeyId: 'NEW' });
  });

  it('an entry with another hard link', async () => {
    const { dir, cache: c, warnings } = cache();
    await c.put('k', { expiration: at(60) });
    linkSync(join(dir, 'k.json'), join(dir, '..', 'elsewhere.json'));
    await expect(c.get('k')).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/other hard links/)]);
  });

  it('an entry that is a directory', async () => {
    const { dir, cache: c, warnings } = cache();
    mkdirSync(join(dir, 'k.json'), { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    await expect(c.get('k')).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/not a regular file/)]);
  });

  it('a directory others can reach: neither read nor written', async () => {
    const { dir, cache: c, warnings } = cache();
    await c.put('k', { expiration: at(60) });
    chmodSync(dir, 0o755);
    await expect(c.get('k')).resolves.toBeUndefined();
    await expect(c.put('k2', { expiration: at(60) })).rejects.toThrow(/has mode 755.*chmod 700/);
    expect(warnings).toEqual([expect.stringMatching(/has mode 755, so others can reach it; the cache is not used \(run: chmod 700 /)]);
    expect(readdirSync(dir)).toEqual(['k.json']);
  });

  it('a directory that is a symbolic link', async () => {
    const { dir, warnings } = cache();
    const real = join(dir, '..', 'real');
    mkdirSync(real, { mode: 0o700 });
    const linked = join(dir, '..', 'linked');
    symlinkSync(real, linked);
    const c = new CredentialCache(linked, { now: () => NOW, warn: (m) => warnings.push(m) });
    await expect(c.put('k', { expiration: at(60) })).rejects.toThrow(/is a symbolic link/);
    await expect(c.get('k')).resolves.toBeUndefined();
    expect(readdirSync(real)).toEqual([]);
  });
});

describe('the key', () => {
  const base: CacheKeyInput = { url: 'https://b', identity: { kind: 'oidc', token: 'eyJ.a.b' }, request: { role: 'arn:aws:iam::111122223333:role/a' } };

  it('depends on the identity that authenticates, not only on how it was given', () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, identity: { token: 'eyJ.a.b', kind: 'oidc' } }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, identity: { kind: 'oidc', token: 'eyJ.c.d' } }));
    const iam = { kind: 'iam-proof', accessKeyId: 'AKIA1', secretAccessKey: 's', profile: 'dev' };
    expect(cacheKey({ ...base, identity: iam })).not.toBe(cacheKey({ ...base, identity: { ...iam, accessKeyId: 'AKIA2' } }));
    expect(cacheKey({ ...base, identity: iam })).not.toBe(cacheKey({ ...base, identity: { ...iam, profile: 'prod' } }));
    expect(cacheKey({ ...base, identity: iam })).not.toBe(cacheKey({ ...base, identity: { ...iam, secretAccessKey: 't' } }));
  });

  it('depends on the broker and every request field; is a full SHA-256 and holds no secret', () => {
    for (const request of [{ role: 'arn:aws:iam::111122223333:role/b' }, { ...base.request, durationSeconds: 900 }, { ...base.request, policy: { Version: '2012-10-17' } }, { ...base.request, policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }]) {
      expect(cacheKey({ ...base, request })).not.toBe(cacheKey(base));
    }
    expect(cacheKey({ ...base, url: 'https://other' })).not.toBe(cacheKey(base));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  // Property: two inputs get the same key exactly when they are the same input (fields in any order).
  it('is equal exactly for equal inputs (property, seed fixed)', () => {
    const text = fc.string({ maxLength: 12 });
    const input = fc.record({
      url: fc.constantFrom('https://a', 'https://b'),
      identity: fc.record({ kind: fc.constantFrom('oidc', 'iam-proof', 'iam-sigv4'), token: fc.option(text, { nil: undefined }), accessKeyId: fc.option(text, { nil: undefined }), profile: fc.option(text, { nil: undefined }) }),
      request: fc.record({ role: text, durationSeconds: fc.option(fc.integer({ min: 900, max: 3600 }), { nil: undefined }), policyArns: fc.option(fc.array(text, { maxLength: 2 }), { nil: undefined }) }),
    });
    const normal = (i: CacheKeyInput) => JSON.stringify(i, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
    fc.assert(
      fc.property(input, input, (a, b) => {
        expect(cacheKey(a) === cacheKey(b)).toBe(normal(a) === normal(b));
        const reversed = { request: a.request, identity: Object.fromEntries(Object.entries(a.identity).reverse()), url: a.url };
        expect(cacheKey(reversed)).toBe(cacheKey(a));
      }),
      { seed: 20261201, numRuns: 300 },
    );
  });
});
