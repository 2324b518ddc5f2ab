/**
 * IAM-style wildcard patterns, compiled to a list of units (one literal character, `*` or `?`)
 * and matched by the classic greedy two-pointer algorithm: no regular expression, no
 * backtracking blow-up. Matching costs at most (value length + 1) x (pattern length + 1) steps,
 * whatever the pattern; typical patterns cost about the value's length.
 *
 * Substituted claim values (shared/domain/template.ts) become literal units, so a `*` inside a
 * claim is one ordinary character: there is no text form of a compiled pattern to inject into.
 */
// @ts-nocheck


/** `*`: any run of characters (within one segment when the glob has a separator). */
export const ANY = Symbol('*');
/** `?`: exactly one character (not a separator). */
export const ONE = Symbol('?');
/** One character (a code point), or a wildcard. */
export type GlobUnit = string | typeof ANY | typeof ONE;

export interface Glob {
  readonly units: readonly GlobUnit[];
  /** Compare ignoring case (role names, as IAM does): units are stored lower-cased. */
  readonly caseInsensitive: boolean;
  /**
   * When set, wildcards never match this character: `*` is one DNS label (`.`) or one URI path
   * segment (`/`). Separators in the value must then line up with literal separators.
   */
  readonly separator?: string;
}

/** Counts the matcher's inner-loop steps, so tests can bound its cost without timing it. */
export interface MatchCounter {
  steps: number;
}

export interface GlobOptions {
  readonly caseInsensitive?: boolean;
  readonly separator?: string;
}

/** Builds a glob from units; literal units are lower-cased for a case-insensitive glob. */
export function globOf(units: readonly GlobUnit[], options: GlobOptions = {}): Glob {
  const caseInsensitive = options.caseInsensitive ?? false;
  return {
    units: caseInsensitive ? units.map((u) => (typeof u === 'string' ? u.toLowerCase() : u)) : units,
    caseInsensitive,
    ...(options.separator === undefined ? {} : { separator: options.separator }),
  };
}

/** The units of a pattern's text: `*` and `?` are wildcards, every other character literal. */
export function unitsOf(pattern: string): GlobUnit[] {
  return Array.from(pattern, (ch) => (ch === '*' ? ANY : ch === '?' ? ONE : ch));
}

/** The units of a literal value: every character literal, `*` and `?` included. */
export function literalUnits(value: string): GlobUnit[] {
  return Array.from(value);
}

/**
 * Compiled patterns, shared by every request of a function instance: grant evaluation runs on
 * every vend, and compiling the same few patterns again each time showed up in profiles.
 * Bounded, because rendered role templates differ per caller.
 */
export class CompiledCache<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly limit = 5_000) {}

  get(key: string, compile: () => T): T {
    let value = this.entries.get(key);
    if (value === undefined) {
      if (this.entries.size >= this.limit) this.entries.clear();
      value = compile();
      this.entries.set(key, value);
    }
    return value;
  }
}

const exactGlobs = new CompiledCache<Glob>();
const foldedGlobs = new CompiledCache<Glob>();

/** A pattern's text compiled once and cached: `*` any run (including none and `/`), `?` one character. */
export function compileGlob(pattern: string, caseInsensitive = false): Glob {
  return (caseInsensitive ? foldedGlobs : exactGlobs).get(pattern, () => globOf(unitsOf(pattern), { caseInsensitive }));
}

export function matchesGlob(pattern: string, value: string, caseInsensitive = false): boolean {
  return matchGlob(compileGlob(pattern, caseInsensitive), value);
}

/** Does the whole value match the glob? */
export function matchGlob(glob: Glob, value: string, counter?: MatchCounter): boolean {
  const chars = Array.from(glob.caseInsensitive ? value.toLowerCase() : value);
  // Without a separator each side is one segment.
  const patternSegments = split(glob.units, glob.separator);
  const valueSegments = split(chars, glob.separator);
  if (patternSegments.length !== valueSegments.length) return false;
  return patternSegments.every((segment, i) => matchUnits(segment, valueSegments[i] as string[], counter));
}

function split<T>(items: readonly T[], separator: string | undefined): T[][] {
  const segments: T[][] = [[]];
  for (const item of items) {
    if (item === separator) segments.push([]);
    else (segments[segments.length - 1] as T[]).push(item);
  }
  return segments;
}

/**
 * Greedy two-pointer wildcard matching. On a mismatch only the most recent `*` takes one more
 * character: an earlier `*` never needs to, because whatever it could absorb the later one can
 * too. So each value position is revisited at most once per pattern position.
 */
function matchUnits(pattern: readonly GlobUnit[], chars: readonly string[], counter?: MatchCounter): boolean {
  let p = 0;
  let c = 0;
  let star = -1;
  let resume = 0;
  while (c < chars.length) {
    if (counter) counter.steps++;
    const unit = pattern[p];
    if (unit === ANY) {
      star = p++;
      resume = c;
    } else if (unit === ONE || unit === chars[c]) {
      // (Past the pattern's end `unit` is undefined, which equals no character.)
      p++;
      c++;
    } else if (star >= 0) {
      p = star + 1;
      c = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === ANY) p++;
  return p === pattern.length;
}

/**
 * True when every string the pattern `inner` can match is also matched by `outer`. Conservative:
 * a wildcard in `inner` can only be absorbed by a `*` in `outer` (a `?` in `inner` by `?` or `*`),
 * so a false answer may be pessimistic but a true answer is always right.
 *
 * `isOpaque` marks characters of `inner` that stand for a run of unknown length (e.g. a policy
 * variable encoded as one character): like `*`, only a `*` in `outer` (or the same character)
 * covers them, never a `?`.
 */
export function globContains(outer: string, inner: string, caseInsensitive = false, isOpaque: (ch: string) => boolean = () => false): boolean {
  const o = caseInsensitive ? outer.toLowerCase() : outer;
  const i = caseInsensitive ? inner.toLowerCase() : inner;
  // dp[a][b]: outer[a..] covers inner[b..]
  const rows = o.length + 1;
  const cols = i.length + 1;
  const dp: boolean[] = new Array(rows * cols).fill(false);
  const at = (a: number, b: number) => a * cols + b;
  dp[at(o.length, i.length)] = true;
  for (let a = o.length - 1; a >= 0; a--) {
    for (let b = i.length; b >= 0; b--) {
      const oc = o[a];
      if (oc === '*') {
        // `*` absorbs nothing, or one more character (any character of inner, wildcards included).
        dp[at(a, b)] = dp[at(a + 1, b)] === true || (b < i.length && dp[at(a, b + 1)] === true);
      } else if (b < i.length) {
        const ic = i[b];
        const single = oc === '?' ? ic !== '*' && !isOpaque(ic as string) : ic === oc && ic !== '*' && ic !== '?';
        dp[at(a, b)] = single && dp[at(a + 1, b + 1)] === true;
      }
    }
  }
  return dp[at(0, 0)] === true;
}
