import fc from 'fast-check';
import { ANY, CompiledCache, compileGlob, globContains, globOf, literalUnits, matchesGlob, matchGlob, ONE, unitsOf, type MatchCounter } from '../../../../shared/domain/glob';

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
    expect(matchesGlob('S3:Get*', 'S3:GetObject')).toBe(true);
    expect(matchGlob(globOf(unitsOf('Role/*')), 'Role/X')).toBe(true);
  });

  test('* matches any character, newlines included; ? exactly one code point', () => {
    expect(matchesGlob('a*b', 'a\nb')).toBe(true);
    expect(matchesGlob('a?b', 'a🙂b')).toBe(true);
    expect(matchesGlob('a??b', 'a🙂b')).toBe(false);
  });

  test('the classic cases of greedy matching', () => {
    expect(matchesGlob('*', '')).toBe(true);
    expect(matchesGlob('', '')).toBe(true);
    expect(matchesGlob('', 'a')).toBe(false);
    expect(matchesGlob('?', '')).toBe(false);
    expect(matchesGlob('**', 'abc')).toBe(true);
    expect(matchesGlob('a*', 'a')).toBe(true);
    expect(matchesGlob('*a', 'ba')).toBe(true);
    expect(matchesGlob('*a', 'ab')).toBe(false);
    expect(matchesGlob('a*b*c', 'aXbYbZc')).toBe(true);
    expect(matchesGlob('a*b*c', 'aXbYbZ')).toBe(false);
    expect(matchesGlob('*abc', 'ababc')).toBe(true);
    expect(matchesGlob('a*?', 'a')).toBe(false);
    expect(matchesGlob('a*?', 'ab')).toBe(true);
    expect(matchesGlob('*?*', 'x')).toBe(true);
    expect(matchesGlob('x*y', 'xay-')).toBe(false);
  });
});

describe('compiled globs', () => {
  test('compileGlob is cached per text and case mode', () => {
    expect(compileGlob('a*')).toBe(compileGlob('a*'));
    expect(compileGlob('a*', true)).not.toBe(compileGlob('a*'));
    expect(compileGlob('A*', true).units).toEqual(['a', ANY]);
  });

  test('globOf leaves the separator key out unless one is given', () => {
    expect(globOf(['a'])).toStrictEqual({ units: ['a'], caseInsensitive: false });
    expect(globOf(['a'], { separator: '.' })).toStrictEqual({ units: ['a'], caseInsensitive: false, separator: '.' });
  });

  test('unitsOf reads wildcards, literalUnits never does', () => {
    expect(unitsOf('a*?')).toEqual(['a', ANY, ONE]);
    expect(literalUnits('a*?')).toEqual(['a', '*', '?']);
    expect(matchGlob(globOf(literalUnits('a*')), 'ab')).toBe(false);
    expect(matchGlob(globOf(literalUnits('a*')), 'a*')).toBe(true);
  });

  test('with a separator, * and ? stay inside one segment and segments line up', () => {
    const dns = globOf(unitsOf('*.example.com'), { separator: '.' });
    expect(matchGlob(dns, 'a.example.com')).toBe(true);
    expect(matchGlob(dns, '.example.com')).toBe(true);
    expect(matchGlob(dns, 'a.b.example.com')).toBe(false);
    expect(matchGlob(dns, 'example.com')).toBe(false);
    expect(matchGlob(globOf(unitsOf('?.x'), { separator: '.' }), '..x')).toBe(false);
    expect(matchGlob(globOf(unitsOf('a*'), { separator: '/' }), 'ab/c')).toBe(false);
    // Segments must line up in number, not only pairwise.
    expect(matchGlob(globOf(unitsOf('*.x'), { separator: '.' }), 'a.x.x')).toBe(false);
    expect(matchGlob(dns, 'a.example.org')).toBe(false);
    expect(matchGlob(globOf(unitsOf('*.x.*'), { separator: '.' }), 'a.x')).toBe(false);
  });

  test('a case-insensitive glob folds the value too', () => {
    expect(matchGlob(globOf(unitsOf('Role/*'), { caseInsensitive: true }), 'rOLE/X')).toBe(true);
    expect(matchGlob(globOf(unitsOf('Role/*')), 'role/x')).toBe(false);
  });

  test('matching cost is bounded by (value + 1) x (pattern + 1) steps, whatever the pattern', () => {
    const value = `arn:aws:iam::111122223333:role/${'a'.repeat(500)}`;
    for (const pattern of ['*a*a*a*a*b', '*'.repeat(20) + 'b', '?*?*?*?*?*x', 'arn:aws:iam::*:role/*']) {
      const counter: MatchCounter = { steps: 0 };
      matchGlob(compileGlob(pattern), value, counter);
      expect(counter.steps).toBeLessThanOrEqual((value.length + 1) * (pattern.length + 1));
    }
    const typical: MatchCounter = { steps: 0 };
    expect(matchGlob(compileGlob('arn:aws:iam::*:role/*'), value, typical)).toBe(true);
    expect(typical.steps).toBeLessThanOrEqual(value.length + 2);
    // Every character is looked at at least once.
    expect(typical.steps).toBeGreaterThanOrEqual(value.length);
  });
});

describe('CompiledCache', () => {
  test('compiles once per key and starts over when full', () => {
    const cache = new CompiledCache<number>(2);
    let compiled = 0;
    const get = (key: string) => cache.get(key, () => ++compiled);
    expect(get('a')).toBe(1);
    expect(get('a')).toBe(1);
    expect(get('b')).toBe(2);
    expect(get('c')).toBe(3);
    expect(get('a')).toBe(4);
    expect(get('c')).toBe(3);
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

  test('agrees with the recursive definition on short patterns (differential, seeded)', () => {
    // outer[a..] covers inner[b..]: the DP's specification, written as plainly as possible.
    const covers = (o: string, i: string): boolean => {
      if (o === '') return i === '';
      if (o[0] === '*') return covers(o.slice(1), i) || (i !== '' && covers(o, i.slice(1)));
      if (i === '') return false;
      const single = o[0] === '?' ? i[0] !== '*' : i[0] === o[0] && i[0] !== '?';
      return single && covers(o.slice(1), i.slice(1));
    };
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 6 });
    fc.assert(
      fc.property(pattern, pattern, (outer, inner) => globContains(outer, inner) === covers(outer, inner)),
      { seed: Number(process.env.FC_SEED ?? 20261201), numRuns: Number(process.env.FC_RUNS ?? 300) * 3 },
    );
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
