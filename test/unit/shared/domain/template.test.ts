import { matchGlob } from '../../../../shared/domain/glob';
import {
  checkValues,
  escapeForIamPolicy,
  InvalidClaimError,
  MissingAttributeError,
  parseTemplate,
  partsOf,
  placeholdersIn,
  renderPolicyJson,
  renderPolicyString,
  renderRolePattern,
  renderRoleText,
  renderTagValue,
  renderTokens,
  textOf,
} from '../../../../shared/domain/template';

function claimError(fn: () => unknown): { claim: string; reason: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidClaimError);
    const e = error as InvalidClaimError;
    expect(e.code).toBe('invalid_claim');
    expect(e.details).toEqual({ claim: e.claim, reason: e.reason });
    return { claim: e.claim, reason: e.reason };
  }
  throw new Error('expected invalid_claim');
}

describe('parseTemplate', () => {
  test('splits text, wildcards and placeholders once', () => {
    expect(parseTemplate('arn:*:role/${ns}-?x', true)).toEqual([
      { kind: 'text', text: 'arn:' },
      { kind: 'any' },
      { kind: 'text', text: ':role/' },
      { kind: 'attribute', name: 'ns' },
      { kind: 'text', text: '-' },
      { kind: 'one' },
      { kind: 'text', text: 'x' },
    ]);
    expect(parseTemplate('a*?${b}')).toEqual([{ kind: 'text', text: 'a*?' }, { kind: 'attribute', name: 'b' }]);
    expect(parseTemplate('${a}${b}')).toEqual([{ kind: 'attribute', name: 'a' }, { kind: 'attribute', name: 'b' }]);
    expect(parseTemplate('')).toEqual([]);
  });

  test('is cached: the same template gives the same tokens', () => {
    expect(parseTemplate('x/${a}', true)).toBe(parseTemplate('x/${a}', true));
    expect(parseTemplate('x/${a}', false)).not.toBe(parseTemplate('x/${a}', true));
  });

  test('leaves IAM policy variables as text', () => {
    expect(parseTemplate('${aws:PrincipalTag/team}/${aws:username}')).toEqual([{ kind: 'text', text: '${aws:PrincipalTag/team}/${aws:username}' }]);
  });

  test('placeholdersIn lists the names used', () => {
    expect(placeholdersIn('${a}-${b}-${aws:x}')).toEqual(['a', 'b']);
  });
});

describe('renderTokens', () => {
  test('substitutes values as their own tokens, naming the claim', () => {
    expect(renderTokens('r/${ns}-*', { ns: 'a*' }, true)).toEqual([{ kind: 'text', text: 'r/' }, { kind: 'value', text: 'a*', claim: 'ns' }, { kind: 'text', text: '-' }, { kind: 'any' }]);
    expect(textOf(renderTokens('r/${ns}-*?', { ns: 'a' }, true))).toBe('r/a-*?');
  });

  test('does not substitute inside a substituted value', () => {
    expect(textOf(renderTokens('${a}', { a: '${b}', b: 'secret' }))).toBe('${b}');
  });

  test('a missing attribute fails with its name', () => {
    expect(() => renderTokens('role/${namespace}', {})).toThrow(MissingAttributeError);
    expect(() => renderTokens('role/${namespace}', {})).toThrow(/"namespace"/);
  });

  test.each([
    ['empty', '', /empty/],
    ['a NUL (C0)', 'a\u0000', /control/],
    ['a newline (C0)', 'a\nb', /control/],
    ['DEL', 'a\u007f', /control/],
    ['a C1 control', 'a\u0085', /control/],
    ['longer than 256 characters', 'a'.repeat(257), /256/],
  ])('refuses a value that is %s', (_what, value, reason) => {
    expect(claimError(() => renderTokens('x${v}', { v: value }))).toEqual({ claim: 'v', reason: expect.stringMatching(reason) });
  });

  test('without wildcards (the default) * and ? in the template are text', () => {
    expect(renderTokens('a*b?${v}', { v: 'c' })).toEqual([{ kind: 'text', text: 'a*b?' }, { kind: 'value', text: 'c', claim: 'v' }]);
  });

  test('the refusal names the claim and the reason, never the value', () => {
    const error = (() => {
      try {
        renderTokens('x${team}', { team: 'secret\n' });
      } catch (e) {
        return e as InvalidClaimError;
      }
      throw new Error('expected invalid_claim');
    })();
    expect(error.message).toBe('Your identity\'s "team" attribute cannot be used by this grant: it contains a control character.');
  });

  test('accepts 256 characters', () => {
    expect(() => renderTokens('x${v}', { v: 'a'.repeat(256) })).not.toThrow();
  });
});

describe('checkValues and partsOf', () => {
  test('checkValues refuses the first value outside the alphabet, and dot values unless told otherwise', () => {
    const tokens = renderTokens('${a}/${b}', { a: 'ok', b: 'no!' });
    expect(claimError(() => checkValues(tokens, /^[a-z]+$/, 'letters only'))).toEqual({ claim: 'b', reason: 'letters only' });
    expect(claimError(() => checkValues(renderTokens('${a}', { a: '..' }), /^[.]+$/, 'r'))).toEqual({ claim: 'a', reason: expect.stringContaining('dot segment') });
    expect(claimError(() => checkValues(renderTokens('${a}', { a: '.' }), /^[.]+$/, 'r')).claim).toBe('a');
    expect(() => checkValues(renderTokens('${a}', { a: '..' }), /^[.]+$/, 'r', false)).not.toThrow();
    expect(() => checkValues(renderTokens('${a}', { a: '...' }), /^[.]+$/, 'r')).not.toThrow();
  });

  test('partsOf cuts only at separators of the template text and names the first claim of each part', () => {
    const tokens = renderTokens('a.${x}-${y}.*.b', { x: 'p.q', y: 'r' }, true);
    expect(partsOf(tokens, '.')).toEqual([
      { text: 'a', wildcard: false, literalLength: 1 },
      { text: 'p.q-r', wildcard: false, literalLength: 5, claim: 'x' },
      { text: '*', wildcard: true, literalLength: 0 },
      { text: 'b', wildcard: false, literalLength: 1 },
    ]);
    expect(partsOf(renderTokens('?', {}, true), '.')).toEqual([{ text: '?', wildcard: true, literalLength: 0 }]);
    // A part without a claim has no `claim` key at all (not one holding undefined).
    expect(partsOf(renderTokens('a.${x}', { x: 'y' }, true), '.')).toStrictEqual([
      { text: 'a', wildcard: false, literalLength: 1 },
      { text: 'y', wildcard: false, literalLength: 1, claim: 'x' },
    ]);
  });
});

describe('role patterns', () => {
  test('compile to a case-insensitive glob with the template wildcards live and values literal', () => {
    const glob = renderRolePattern('arn:aws:iam::*:role/${ns}-*', { ns: 'a.b' });
    expect(matchGlob(glob, 'arn:aws:iam::111122223333:role/A.B-x')).toBe(true);
    expect(matchGlob(glob, 'arn:aws:iam::111122223333:role/aXb-x')).toBe(false);
    expect(renderRolePattern('arn:aws:iam::*:role/${ns}-*', { ns: 'a.b' })).toBe(glob);
    expect(renderRolePattern('arn:aws:iam::*:role/${ns}-*', { ns: 'a.c' })).not.toBe(glob);
  });

  test('for a deny rule a missing attribute renders as a wildcard; the allow rendering of the same template still refuses it', () => {
    const template = 'arn:aws:iam::*:role/${team}-admin';
    const deny = renderRolePattern(template, {}, true);
    expect(matchGlob(deny, 'arn:aws:iam::111122223333:role/anything-admin')).toBe(true);
    expect(matchGlob(deny, 'arn:aws:iam::111122223333:role/app')).toBe(false);
    expect(renderRoleText(template, {}, true)).toBe('arn:aws:iam::*:role/*-admin');
    // Cached apart: the wildcard rendering must never be what an allow rule gets for the same caller.
    expect(() => renderRolePattern(template, {})).toThrow(MissingAttributeError);
    expect(() => renderRoleText(template, {})).toThrow(MissingAttributeError);
    // A present value is a value in both renderings.
    expect(matchGlob(renderRolePattern(template, { team: 'a' }, true), 'arn:aws:iam::111122223333:role/b-admin')).toBe(false);
    expect(renderTokens('${a}-${b}', { b: 'x' }, true, true)).toEqual([{ kind: 'any' }, { kind: 'text', text: '-' }, { kind: 'value', text: 'x', claim: 'b' }]);
  });

  test('the cache key cannot be forged by a value', () => {
    // Same text when joined naively, different values: different patterns.
    const a = renderRolePattern('arn:aws:iam::1:role/${x}${y}', { x: 'ab', y: 'c' });
    const b = renderRolePattern('arn:aws:iam::1:role/${x}${y}', { x: 'a', y: 'bc' });
    expect(matchGlob(a, 'arn:aws:iam::1:role/abc')).toBe(true);
    expect(matchGlob(b, 'arn:aws:iam::1:role/abc')).toBe(true);
  });

  test('a refused or missing value is never cached', () => {
    const template = 'arn:aws:iam::1:role/${ns}';
    expect(() => renderRolePattern(template, { ns: 'a/b' })).toThrow(InvalidClaimError);
    expect(() => renderRolePattern(template, { ns: 'a/b' })).toThrow(InvalidClaimError);
    expect(() => renderRolePattern(template, {})).toThrow(MissingAttributeError);
    expect(() => renderRolePattern(template, { ns: 'null' })).not.toThrow();
    expect(() => renderRolePattern(template, {})).toThrow(MissingAttributeError);
  });

  test('renderRoleText writes the rendered pattern for whoami', () => {
    expect(renderRoleText('arn:aws:iam::*:role/${ns}-?', { ns: 'team-a' })).toBe('arn:aws:iam::*:role/team-a-?');
  });

  test.each([
    ['/', 'a/b'],
    [':', 'a:b'],
    ['*', 'a*'],
    ['?', 'a?'],
    ['%', 'a%2F'],
    ['a fullwidth slash', 'a／b'],
    ['a space', 'a b'],
  ])('a value with %s is refused in a role ARN', (_what, value) => {
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/p/${v}', { v: value })).reason).toMatch(/role ARN/);
  });

  test('each ARN field that holds a value must be valid once rendered', () => {
    expect(claimError(() => renderRolePattern('arn:aws:iam::${a}:role/x', { a: '12345678901' })).reason).toMatch(/12 digits/);
    expect(() => renderRolePattern('arn:aws:iam::${a}:role/x', { a: '123456789012' })).not.toThrow();
    expect(claimError(() => renderRolePattern('arn:aws:iam::${a}:role/x', { a: '1234567890123' })).claim).toBe('a');
    expect(claimError(() => renderRolePattern('arn:aws:iam::${a}:role/x', { a: 'a123456789012' })).claim).toBe('a');
    expect(claimError(() => renderRolePattern('arn:${a}:iam::1:role/x', { a: 'aws=x' })).claim).toBe('a');
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/${a}', { a: 'x'.repeat(65) })).reason).toMatch(/name/);
    expect(() => renderRolePattern('arn:aws:iam::1${a}*:role/x', { a: '2' })).not.toThrow();
    expect(claimError(() => renderRolePattern('arn:${a}:iam::1:role/x', { a: '-aws' })).reason).toMatch(/partition/);
    expect(() => renderRolePattern('arn:${a}*:iam::1:role/x', { a: 'aws' })).not.toThrow();
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/${a}./x', { a: '.' })).claim).toBe('a');
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/.${a}/x', { a: '.' })).claim).toBe('a');
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/x/a${a}', { a: 'b'.repeat(64) })).reason).toMatch(/64/);
    expect(() => renderRolePattern('arn:aws:iam::1:role/x/a${a}', { a: 'b'.repeat(63) })).not.toThrow();
    expect(() => renderRolePattern('arn:aws:iam::1:role/x/a${a}*', { a: 'b'.repeat(62) })).not.toThrow();
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/${a}/${a}/x', { a: 'p'.repeat(255) })).reason).toMatch(/512/);
    expect(() => renderRolePattern('arn:aws:iam::1:role/${a}/${b}/x', { a: 'p'.repeat(255), b: 'p'.repeat(254) })).not.toThrow();
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/${a}/${b}/x', { a: 'p'.repeat(255), b: 'p'.repeat(255) })).claim).toBe('a');
    expect(() => renderRolePattern('arn:aws:iam::1:role/${a}/*/${b}/x', { a: 'p'.repeat(255), b: 'p'.repeat(253) })).not.toThrow();
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/${a}/*/${b}/x', { a: 'p'.repeat(255), b: 'p'.repeat(254) })).claim).toBe('a');
    expect(claimError(() => renderRolePattern('arn:aws:iam::1:role/q/${a}/${b}/x', { a: 'p'.repeat(255), b: 'p'.repeat(254) })).claim).toBe('a');
    // A template-only problem is the policy author's, not a claim's.
    expect(() => renderRolePattern('arn:aws:iam::1:role/../x', {})).not.toThrow();
  });
});

describe('IAM policy strings', () => {
  test('escapeForIamPolicy writes *, ? and $ the way IAM reads them literally', () => {
    expect(escapeForIamPolicy('team-*')).toBe('team-${*}');
    expect(escapeForIamPolicy('a?b')).toBe('a${?}b');
    expect(escapeForIamPolicy('$HOME')).toBe('${$}HOME');
    expect(escapeForIamPolicy('plain-value_1')).toBe('plain-value_1');
  });

  test('escapes each substituted value, not the template', () => {
    expect(renderPolicyString('a*/${x}?', { x: 'b*' })).toBe('a*/b${*}?');
    expect(renderPolicyString('${aws:username}/${x}', { x: '${aws:username}' })).toBe('${aws:username}/${$}{aws:username}');
  });

  test('in a Resource or NotResource a value is one segment of the ARN; elsewhere it may hold / and :', () => {
    const doc = (resource: string) => ({ Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: [resource], Condition: { StringEquals: { 'aws:PrincipalTag/sub': '${sub}' } } }] });
    const rendered = renderPolicyJson(doc('arn:aws:s3:::${ns}-data/*'), { ns: 'team-a', sub: 'system:serviceaccount:a/b' });
    expect(rendered).toEqual({
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::team-a-data/*'], Condition: { StringEquals: { 'aws:PrincipalTag/sub': 'system:serviceaccount:a/b' } } }],
    });
    for (const ns of ['team-b-data/x', 'a:b', '..', '.']) {
      expect(claimError(() => renderPolicyJson(doc('arn:aws:s3:::${ns}-data/*'), { ns, sub: 's' })).claim).toBe('ns');
    }
    expect(claimError(() => renderPolicyJson({ NotResource: 'arn:aws:s3:::${ns}/*' }, { ns: 'a/b' })).claim).toBe('ns');
    expect(claimError(() => renderPolicyJson({ NotResource: 'arn:aws:s3:::${ns}/*' }, { ns: 'a/b' })).reason).toBe('in a policy resource a value may not contain / or :');
    expect(renderPolicyString('${ns}', { ns: 'a/b:c' })).toBe('a/b:c');
  });

  test('renders every string of a policy document, keys untouched', () => {
    const doc = { Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::${ns}-data/*' }], '${ns}': 1, n: null };
    expect(renderPolicyJson(doc, { ns: 'a*' })).toEqual({
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::a${*}-data/*' }],
      '${ns}': 1,
      n: null,
    });
  });
});

describe('session tag values', () => {
  test('render STS-accepted values, unicode letters included', () => {
    expect(renderTagValue('ns=${ns}', { ns: 'tëam a/b:c@d+e' })).toBe('ns=tëam a/b:c@d+e');
    expect(renderTagValue('${a}', { a: 'x'.repeat(256) })).toHaveLength(256);
  });

  test('refuse a value STS would refuse, naming the claim', () => {
    expect(claimError(() => renderTagValue('${ns}', { ns: 'a*' })).claim).toBe('ns');
    expect(claimError(() => renderTagValue('x${ns}', { ns: 'a'.repeat(256) })).reason).toMatch(/256/);
    expect(claimError(() => renderTagValue('${ns}', { ns: 'a*' })).reason).toBe('a session tag value may only use letters, digits, spaces and _ . : / = + - @');
  });

  test('a tag value may be "." or ".." (it is no path segment)', () => {
    expect(renderTagValue('${ns}', { ns: '.' })).toBe('.');
    expect(renderTagValue('${ns}', { ns: '..' })).toBe('..');
  });

  test('the length check names a claim; a template of its own text is left to the grant schema', () => {
    const long = 'x'.repeat(300);
    expect(renderTagValue(long, {})).toBe(long);
  });
});
