/**
 * Compiled patterns, shared by every request of a function instance: grant evaluation runs on
 * every vend, and compiling the same few patterns again each time showed up in profiles.
 * Non-global RegExps keep no state between `test` calls, so sharing them is safe. Bounded,
 * because rendered role templates differ per caller.
 */
const compiledPatterns = new Map<string, RegExp>();
const MAX_COMPILED_PATTERNS = 5_000;

export function cachedRegExp(source: string, flags = ''): RegExp {
  const key = `${flags}\u0000${source}`;
  let regExp = compiledPatterns.get(key);
  if (!regExp) {
    if (compiledPatterns.size >= MAX_COMPILED_PATTERNS) compiledPatterns.clear();
    regExp = new RegExp(source, flags);
    compiledPatterns.set(key, regExp);
  }
  return regExp;
}

/** The regular-expression source of a glob, without anchors. */
export function globSource(pattern: string): string {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += escapeRegExp(ch);
  }
  return source;
}

/**
 * IAM-style wildcard patterns: `*` matches any run of characters (including none and `/`),
 * `?` matches exactly one character. Everything else is literal.
 */
export function globToRegExp(pattern: string, flags = ''): RegExp {
  return cachedRegExp(`^${globSource(pattern)}$`, flags);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export function matchesGlob(pattern: string, value: string, caseInsensitive = false): boolean {
  return globToRegExp(pattern, caseInsensitive ? 'i' : '').test(value);
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
