import { escapeForIamPolicy, MissingAttributeError, placeholdersIn, renderJson, renderTemplate } from '../../../../shared/domain/template';

describe('renderTemplate', () => {
  test('substitutes ${name} placeholders from attributes', () => {
    expect(renderTemplate('arn:aws:iam::1:role/${namespace}-${serviceaccount}', { namespace: 'team-a', serviceaccount: 'api' })).toBe('arn:aws:iam::1:role/team-a-api');
  });

  test('leaves IAM policy variables untouched', () => {
    expect(renderTemplate('${aws:PrincipalTag/team}/${aws:username}', {})).toBe('${aws:PrincipalTag/team}/${aws:username}');
  });

  test('a missing attribute fails with its name', () => {
    expect(() => renderTemplate('role/${namespace}', {})).toThrow(MissingAttributeError);
    expect(() => renderTemplate('role/${namespace}', {})).toThrow(/"namespace"/);
  });

  test('escapes each substituted value, not the template', () => {
    expect(renderTemplate('a*/${x}', { x: 'b*' }, escapeForIamPolicy)).toBe('a*/b${*}');
  });

  test('does not substitute inside a substituted value', () => {
    expect(renderTemplate('${a}', { a: '${b}', b: 'secret' })).toBe('${b}');
  });

  test('placeholdersIn lists the names used', () => {
    expect(placeholdersIn('${a}-${b}-${aws:x}')).toEqual(['a', 'b']);
  });
});

describe('escapeForIamPolicy', () => {
  test('writes *, ? and $ from a claim the way IAM reads them literally', () => {
    expect(escapeForIamPolicy('team-*')).toBe('team-${*}');
    expect(escapeForIamPolicy('a?b')).toBe('a${?}b');
    expect(escapeForIamPolicy('$HOME')).toBe('${$}HOME');
    expect(escapeForIamPolicy('plain-value_1')).toBe('plain-value_1');
  });
});

describe('renderJson', () => {
  test('renders every string of a policy document with escaping, keys untouched', () => {
    const doc = { Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::${ns}-data/*' }], '${ns}': 1 };
    expect(renderJson(doc, { ns: 'a*' }, escapeForIamPolicy)).toEqual({
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::a${*}-data/*' }],
      '${ns}': 1,
    });
  });
});
