// @ts-nocheck
// 
// 
import fc from 'fast-check';
import { ValidationError } from '../../../../shared/domain/errors';
import { assertSafeJson, FORBIDDEN_JSON_KEYS, MAX_JSON_DEPTH, parseUntrustedJson } from '../../../../shared/domain/json-input';

/** Fixed seed so a failure reproduces; change it to explore. */
const SEED = 20261201;

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).code;
  }
}

function hasForbiddenKey(value: unknown, depth = 0): { forbidden: boolean; depth: number } {
  if (value === null || typeof value !== 'object') return { forbidden: false, depth };
  let forbidden = false;
  let deepest = depth + 1;
  for (const [key, child] of Object.entries(value)) {
    if (!Array.isArray(value) && FORBIDDEN_JSON_KEYS.has(key)) forbidden = true;
    const inner = hasForbiddenKey(child, depth + 1);
    forbidden ||= inner.forbidden;
    deepest = Math.max(deepest, inner.depth);
  }
  return { forbidden, depth: deepest };
}

describe('parseUntrustedJson', () => {
  test('builds exactly what JSON.parse builds for any JSON without forbidden keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 0, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const facts = hasForbiddenKey(JSON.parse(text));
        fc.pre(!facts.forbidden && facts.depth <= MAX_JSON_DEPTH);
        expect(parseUntrustedJson(text)).toEqual(JSON.parse(text));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('rejects every text JSON.parse rejects, and accepts the others unless a key or depth rule says no', () => {
    const texts = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', '-', '.', 'e', 't', 'n', ' ', '\\', 'u', 'a', '0') }),
      // a valid document with one character removed or inserted
      fc.tuple(fc.jsonValue(), fc.nat(), fc.constantFrom('', ',', '"', '}', ']', '\u0000')).map(([v, i, c]) => {
        const t = JSON.stringify(v);
        const at = i % (t.length + 1);
        return t.slice(0, at) + c + t.slice(at + (c === '' ? 1 : 0));
      }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        let reference: unknown;
        let referenceFailed = false;
        try {
          reference = JSON.parse(text);
        } catch {
          referenceFailed = true;
        }
        const code = codeOf(() => parseUntrustedJson(text));
        // A rule broken before the syntax error is reported first; either way it is a 400.
        if (referenceFailed) expect(['malformed_json', 'duplicate_json_key', 'forbidden_json_key', 'json_too_deep']).toContain(code);
        else {
          const facts = hasForbiddenKey(reference);
          if (!facts.forbidden && facts.depth <= MAX_JSON_DEPTH) expect(code).toBeUndefined();
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('rejects a key sent twice in any object, naming where', () => {
    expect(codeOf(() => parseUntrustedJson('{"role":"a","role":"b"}'))).toBe('duplicate_json_key');
    // the same key however it is escaped
    expect(codeOf(() => parseUntrustedJson('{"role":"a","r\\u006fle":"b"}'))).toBe('duplicate_json_key');
    try {
      parseUntrustedJson('{"policy":{"Statement":[{"Effect":"Allow","Effect":"Deny"}]}}');
    } catch (error) {
      expect((error as ValidationError).details).toEqual({ path: 'policy.Statement.0.Effect' });
    }
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => !FORBIDDEN_JSON_KEYS.has(k)), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }), fc.nat(), (object, pick) => {
        const keys = Object.keys(object);
        const key = keys[pick % keys.length] as string;
        const text = `${JSON.stringify(object).slice(0, -1)},${JSON.stringify(key)}:1}`;
        expect(codeOf(() => parseUntrustedJson(text))).toBe('duplicate_json_key');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test.each([...FORBIDDEN_JSON_KEYS])('rejects "%s" as a key at any depth, naming the path', (key) => {
    const text = `{"policy":{"Statement":[{"Condition":{"StringEquals":{${JSON.stringify(key)}:{"a":"b"}}}}]}}`;
    let error: ValidationError | undefined;
    try {
      parseUntrustedJson(text);
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error?.code).toBe('forbidden_json_key');
    expect(error?.details).toEqual({ path: `policy.Statement.0.Condition.StringEquals.${key}` });
    expect(error?.message).toContain('"policy.Statement.0.Condition.StringEquals"');
    // escaped spellings are the same key
    expect(codeOf(() => parseUntrustedJson(`{"\\u005f_proto__":1}`))).toBe('forbidden_json_key');
  });

  test('bounds nesting depth without recursing on the input', () => {
    expect(codeOf(() => parseUntrustedJson(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`))).toBeUndefined();
    expect(codeOf(() => parseUntrustedJson(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`))).toBe('json_too_deep');
    expect(codeOf(() => parseUntrustedJson('['.repeat(100_000)))).toBe('json_too_deep');
  });
});

describe('assertSafeJson', () => {
  test('finds forbidden keys in parsed values, which JSON.parse keeps as own properties', () => {
    const parsed: unknown = JSON.parse('{"Statement":[{"Condition":{"__proto__":{"x":"y"}}}]}');
    expect(codeOf(() => assertSafeJson(parsed, 'The session policy'))).toBe('forbidden_json_key');
    expect(codeOf(() => assertSafeJson({ Statement: [{ Effect: 'Allow' }] }, 'The session policy'))).toBeUndefined();
  });

  test('checks JSON text for duplicates too, and leaves syntax errors to the caller', () => {
    expect(codeOf(() => assertSafeJson('{"Version":"1","Version":"2"}', 'The session policy'))).toBe('duplicate_json_key');
    expect(codeOf(() => assertSafeJson('not json', 'The session policy'))).toBeUndefined();
  });

  test('agrees with parseUntrustedJson on every generated value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(codeOf(() => assertSafeJson(JSON.parse(text), 'x'))).toBe(codeOf(() => parseUntrustedJson(text)));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
