// @ts-nocheck
// 
import { ValidationError } from './errors';

/**
 * JSON from callers, read strictly. The invariant: a JSON document the broker acts on means
 * exactly one thing, and that thing is what every later reader sees.
 *
 * - No object key `__proto__`, `constructor` or `prototype`, at any depth: copying such a key into
 *   a plain object changes (or silently drops) it, so what was validated is not what was sent.
 * - No key twice in one object: `JSON.parse` keeps the last, other parsers the first, so a
 *   duplicate lets a document say one thing to one reader and another to the next.
 * - At most MAX_JSON_DEPTH levels of nesting, so no reader recurses without bound.
 *
 * Every violation is a 400 that names the path of the offending key (`policy.Statement.0.Condition`).
 */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper than any document the API takes (a session policy's condition values sit at depth 6). */
export const MAX_JSON_DEPTH = 32;

function where(path: readonly (string | number)[]): string {
  return path.length === 0 ? 'the top level' : `"${path.join('.')}"`;
}

function forbiddenKey(key: string, path: readonly (string | number)[], label: string): ValidationError {
  const at = [...path, key];
  return new ValidationError('forbidden_json_key', `${label} has the key "${key}" at ${where(path)}; "__proto__", "constructor" and "prototype" are never accepted as keys.`, {
    details: { path: at.join('.') },
  });
}

function duplicateKey(key: string, path: readonly (string | number)[], label: string): ValidationError {
  return new ValidationError('duplicate_json_key', `${label} has the key "${key}" twice at ${where(path)}; send each key once.`, {
    details: { path: [...path, key].join('.') },
  });
}

function tooDeep(path: readonly (string | number)[], label: string, maxDepth = MAX_JSON_DEPTH): ValidationError {
  return new ValidationError('json_too_deep', `${label} nests deeper than ${maxDepth} levels (at ${where(path)}).`, { details: { path: path.join('.') } });
}

class Malformed extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * A JSON parser (RFC 8259, the grammar `JSON.parse` accepts) that builds the same values as
 * `JSON.parse` but refuses duplicate keys, forbidden keys and excessive depth as it reads.
 */
class StrictJsonReader {
  private at = 0;
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly text: string,
    private readonly label: string,
  ) {}

  read(): unknown {
    const value = this.value();
    this.space();
    if (this.at !== this.text.length) throw new Malformed();
    return value;
  }

  private space(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.at += 1;
      else return;
    }
  }

  private value(): unknown {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.number();
  }

  private enter(): void {
    if (this.path.length >= MAX_JSON_DEPTH) throw tooDeep(this.path, this.label);
  }

  private object(): Record<string, unknown> {
    this.enter();
    this.at += 1;
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.space();
    if (this.text[this.at] === '}') {
      this.at += 1;
      return result;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') throw new Malformed();
      const key = this.string();
      if (FORBIDDEN_JSON_KEYS.has(key)) throw forbiddenKey(key, this.path, this.label);
      if (seen.has(key)) throw duplicateKey(key, this.path, this.label);
      seen.add(key);
      this.space();
      if (this.text[this.at] !== ':') throw new Malformed();
      this.at += 1;
      this.path.push(key);
      result[key] = this.value();
      this.path.pop();
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === '}') return result;
      if (next !== ',') throw new Malformed();
    }
  }

  private array(): unknown[] {
    this.enter();
    this.at += 1;
    const result: unknown[] = [];
    this.space();
    if (this.text[this.at] === ']') {
      this.at += 1;
      return result;
    }
    for (;;) {
      this.path.push(result.length);
      result.push(this.value());
      this.path.pop();
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === ']') return result;
      if (next !== ',') throw new Malformed();
    }
  }

  private string(): string {
    // The token is located here and decoded by JSON.parse, so escapes mean exactly what they mean there.
    const start = this.at;
    this.at += 1;
    for (;;) {
      const c = this.text.charCodeAt(this.at);
      if (Number.isNaN(c) || c < 0x20) throw new Malformed();
      if (c === 0x22) break;
      this.at += c === 0x5c ? 2 : 1;
    }
    this.at += 1;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  private literal(word: string, value: unknown): unknown {
    if (!this.text.startsWith(word, this.at)) throw new Malformed();
    this.at += word.length;
    return value;
  }

  private number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) throw new Malformed();
    this.at = NUMBER.lastIndex;
    return Number(match[0]);
  }
}

/**
 * Parses caller-supplied JSON text strictly (see the module comment). Syntax errors are
 * `malformed_json`; `label` names the document in messages ("The request body").
 */
export function parseUntrustedJson(text: string, label = 'The request body'): unknown {
  try {
    return new StrictJsonReader(text, label).read();
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('malformed_json', `${label} is not valid JSON.`, { cause: error });
  }
}

/**
 * Checks an already-parsed value, or JSON text, for forbidden keys, duplicate keys (text only:
 * a parsed value has lost them) and depth. Text that is not JSON at all passes: reporting the
 * syntax error is the caller's own parser's business. `maxDepth` bounds parsed values only.
 */
export function assertSafeJson(input: unknown, label: string, maxDepth = MAX_JSON_DEPTH): void {
  if (typeof input === 'string') {
    try {
      new StrictJsonReader(input, label).read();
    } catch (error) {
      if (error instanceof ValidationError) throw error;
    }
    return;
  }
  const pending: Array<{ value: unknown; path: (string | number)[] }> = [{ value: input, path: [] }];
  while (pending.length > 0) {
    const { value, path } = pending.pop() as { value: unknown; path: (string | number)[] };
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= maxDepth) throw tooDeep(path, label, maxDepth);
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: [...path, index] }));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_JSON_KEYS.has(key)) throw forbiddenKey(key, path, label);
      pending.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
}
