import { globContains, globToRegExp, matchesGlob } from '../../../../shared/domain/glob';

describe('matchesGlob', () => {
  test('* matches any run of characters, including none and slashes', () => {
    expect(matchesGlob('arn:aws:iam::*:role/app-*', 'arn:aws:iam::111122223333:role/app-')).toBe(true);
    expect(matchesGlob('arn:aws:iam::*:role/app-*', 'arn:aws:iam::111122223333:role/app-x/y')).toBe(true);
    expect(matchesGlob('arn:aws:iam::*:role/app-*', 'arn:aws:iam::111122223333:role/other')).toBe(false);
  });

  test('? matches exactly one character', () => {
    expect(matchesGlob('team-?', 'team-a')).toBe(true);
    expect(matchesGlob('team-?', 'team-')).toBe(false);
    expect(matchesGlob('team-?', 'team-ab')).toBe(false);
  });

  test('regular-expression characters are literal', () => {
    expect(matchesGlob('a.b', 'axb')).toBe(false);
    expect(matchesGlob('a.b', 'a.b')).toBe(true);
    expect(matchesGlob('(x|y)+', 'x')).toBe(false);
    expect(matchesGlob('${ns}', '${ns}')).toBe(true);
  });

  test('anchors the whole value', () => {
    expect(matchesGlob('team', 'my-team-a')).toBe(false);
  });

  test('case sensitivity is the caller\'s choice', () => {
    expect(matchesGlob('S3:GetObject', 's3:getobject')).toBe(false);
    expect(matchesGlob('S3:GetObject', 's3:getobject', true)).toBe(true);
  });

  test('globToRegExp matches multi-line values with *', () => {
    expect(globToRegExp('a*b').test('a\nb')).toBe(true);
  });
});

describe('globContains', () => {
  test.each([
    ['s3:*', 's3:GetObject', true],
    ['s3:*', 's3:Get*', true],
    ['s3:Get*', 's3:GetObject', true],
    ['s3:Get*', 's3:*', false],
    ['s3:GetObject', 's3:Get*', false],
    ['*', '*', true],
    ['*', 'anything?', true],
    ['s3:GetObjec?', 's3:GetObject', true],
    ['s3:GetObjec?', 's3:GetObjec?', true],
    ['s3:GetObjec?', 's3:GetObjec*', false],
    ['s3:GetObjec*', 's3:GetObjec?', true],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b', true],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket-other/a', false],
    ['arn:aws:s3:::bucket/team-*', 'arn:aws:s3:::bucket/*', false],
    ['a*b*c', 'a*c', false],
    ['a*b*c', 'abbc', true],
    ['', '', true],
    ['a', '', false],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(globContains(outer, inner)).toBe(expected);
  });

  test('a true answer is always right: every sample the inner pattern matches, the outer matches too', () => {
    const patterns = ['s3:*', 's3:Get*', 's3:GetObject', 's3:?etObject', '*', '*Object', 's3:*Object*', 'ec2:*'];
    const samples = ['s3:GetObject', 's3:PutObject', 's3:GetObjectAcl', 'ec2:RunInstances', 's3:', 'xObject'];
    for (const outer of patterns) {
      for (const inner of patterns) {
        if (!globContains(outer, inner)) continue;
        for (const sample of samples) {
          if (matchesGlob(inner, sample)) expect([outer, inner, sample, matchesGlob(outer, sample)]).toEqual([outer, inner, sample, true]);
        }
      }
    }
  });

  test('ignores case only when asked', () => {
    expect(globContains('S3:*', 's3:GetObject')).toBe(false);
    expect(globContains('S3:*', 's3:GetObject', true)).toBe(true);
  });
});

test('globContains: an opaque character of inner is covered only by * or itself, never by ?', () => {
  const opaque = (ch: string) => ch === '\uE100';
  expect(globContains('a/?/b', 'a/\uE100/b', false, opaque)).toBe(false);
  expect(globContains('a/*/b', 'a/\uE100/b', false, opaque)).toBe(true);
  expect(globContains('a/\uE100/b', 'a/\uE100/b', false, opaque)).toBe(true);
  // Without the marker it would be one ordinary character:
  expect(globContains('a/?/b', 'a/\uE100/b')).toBe(true);
});
