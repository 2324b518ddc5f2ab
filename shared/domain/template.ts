import { AccessDeniedError } from './errors';
import { ANY, CompiledCache, globOf, literalUnits, ONE, type Glob, type GlobUnit } from './glob';
import { ROLE_LIMITS, ROLE_NAME_CHARS } from './identity';

/**
 * Grant templates: `${name}` substitution from a caller's identity attributes, the one
 * templating module (grant-policy.ts and certificate-profile.ts render through it).
 *
 * A template is parsed once into tokens: literal text, `*`, `?` (where the target is a pattern)
 * and `${attribute}`. Rendering for a caller keeps template text, wildcards and substituted values
 * apart, so a value is always literal: nothing in a claim can become a wildcard, a separator or
 * a placeholder, and no marker characters are involved. Each target grammar then checks that the
 * rendered result has the structure the template gave it, or refuses the claim (`invalid_claim`).
 *
 * Invariants, for every value substituted anywhere:
 * - it is non-empty, at most 256 characters, and has no control character (C0, DEL, C1);
 * - in a role ARN: it uses only IAM's name characters `[A-Za-z0-9_+=,.@-]` (so no `/`, `:`, `*`,
 *   `?`), is not `.` or `..`, and the rendered ARN's account, path segments and name stay valid;
 * - in an IAM policy string: `*`, `?` and `$` are written `${*}`, `${?}`, `${$}`; in a
 *   `Resource`/`NotResource` ARN it has no `/` or `:` and is not `.` or `..`;
 * - in a session tag value: the rendered value uses STS's tag characters, at most 256;
 * - in certificate names: see certificate-profile.ts (one DNS label, one URI segment, an address).
 *
 * Names are `[A-Za-z_][A-Za-z0-9_]*`, so IAM policy variables such as `${aws:PrincipalTag/team}`
 * pass through untouched.
 */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type Attributes = Readonly<Record<string, string>>;

export class MissingAttributeError extends Error {
  constructor(readonly attribute: string) {
    super(`attribute "${attribute}" is not present in the caller's identity`);
  }
}

/**
 * A caller's attribute (claim) cannot stand where a grant template puts it (HTTP 403): it would
 * change the structure of what the template renders. The value itself is never echoed.
 */
export class InvalidClaimError extends AccessDeniedError {
  constructor(
    readonly claim: string,
    readonly reason: string,
  ) {
    super('invalid_claim', `Your identity's "${claim}" attribute cannot be used by this grant: ${reason}.`, { details: { claim, reason } });
  }
}

export const MAX_VALUE_LENGTH = 256;
const CONTROL = /\p{Cc}/u;

export type TemplateToken =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'one' }
  | { readonly kind: 'attribute'; readonly name: string };

/** A template rendered for one caller: template text, wildcards and substituted values, kept apart. */
export type RenderedToken =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'value'; readonly text: string; readonly claim: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'one' };

const patternTemplates = new CompiledCache<readonly TemplateToken[]>();
const textTemplates = new CompiledCache<readonly TemplateToken[]>();

/**
 * Parses a template once (cached). With `wildcards`, `*` and `?` in the template's own text are
 * wildcard tokens; without, they are text.
 */
export function parseTemplate(template: string, wildcards = false): readonly TemplateToken[] {
  return (wildcards ? patternTemplates : textTemplates).get(template, () => {
    const tokens: TemplateToken[] = [];
    const text = (chunk: string) => {
      if (!wildcards) {
        if (chunk) tokens.push({ kind: 'text', text: chunk });
        return;
      }
      for (const part of chunk.split(/([*?])/)) {
        if (part === '*') tokens.push({ kind: 'any' });
        else if (part === '?') tokens.push({ kind: 'one' });
        else if (part) tokens.push({ kind: 'text', text: part });
      }
    };
    let last = 0;
    for (const match of template.matchAll(PLACEHOLDER)) {
      text(template.slice(last, match.index));
      tokens.push({ kind: 'attribute', name: match[1] as string });
      last = match.index + match[0].length;
    }
    text(template.slice(last));
    return tokens;
  });
}

export function placeholdersIn(template: string): string[] {
  return parseTemplate(template).flatMap((t) => (t.kind === 'attribute' ? [t.name] : []));
}

/**
 * Substitutes the caller's attributes. Throws MissingAttributeError for an absent attribute and
 * InvalidClaimError for a value that is empty, too long or has a control character.
 */
export function renderTokens(template: string, attributes: Attributes, wildcards = false, missingAsAny = false): RenderedToken[] {
  return parseTemplate(template, wildcards).map((token): RenderedToken => {
    if (token.kind !== 'attribute') return token;
    const value = attributes[token.name];
    // A deny pattern cannot be ruled out for a caller without the attribute: it stands for any value.
    if (value === undefined && missingAsAny) return { kind: 'any' };
    if (value === undefined) throw new MissingAttributeError(token.name);
    if (value === '') throw new InvalidClaimError(token.name, 'it is empty');
    if (value.length > MAX_VALUE_LENGTH) throw new InvalidClaimError(token.name, `it is longer than ${MAX_VALUE_LENGTH} characters`);
    if (CONTROL.test(value)) throw new InvalidClaimError(token.name, 'it contains a control character');
    return { kind: 'value', text: value, claim: token.name };
  });
}

/** The rendered text, wildcards written as `*` and `?` (substituted values as they are). */
export function textOf(tokens: readonly RenderedToken[]): string {
  return tokens.map((t) => (t.kind === 'any' ? '*' : t.kind === 'one' ? '?' : t.text)).join('');
}

/** Compiles rendered tokens: wildcard tokens are wildcards, every character of text and values literal. */
export function globOfTokens(tokens: readonly RenderedToken[], options: { caseInsensitive?: boolean; separator?: string } = {}): Glob {
  const units: GlobUnit[] = [];
  for (const t of tokens) {
    if (t.kind === 'any') units.push(ANY);
    else if (t.kind === 'one') units.push(ONE);
    else units.push(...literalUnits(t.text));
  }
  return globOf(units, options);
}

/** Refuses the first substituted value that does not fit `allowed` (or is `.`/`..` when `noDots`). */
export function checkValues(tokens: readonly RenderedToken[], allowed: RegExp, rule: string, noDots = true): void {
  for (const t of tokens) {
    if (t.kind !== 'value') continue;
    if (!allowed.test(t.text)) throw new InvalidClaimError(t.claim, rule);
    if (noDots && (t.text === '.' || t.text === '..')) throw new InvalidClaimError(t.claim, 'it is "." or "..", which would be a dot segment');
  }
}

/**
 * A rendered result cut into parts by separator characters of the template's own text (values
 * never contain them: the grammar's `checkValues` refuses that first). Each part knows the first
 * claim inside it, so a problem with the part can name the claim.
 */
export interface RenderedPart {
  readonly text: string;
  readonly wildcard: boolean;
  /** Characters that are not wildcards. */
  readonly literalLength: number;
  readonly claim?: string;
}

export function partsOf(tokens: readonly RenderedToken[], separators: string): RenderedPart[] {
  const parts: RenderedPart[] = [];
  let current = { text: '', wildcard: false, literalLength: 0, claim: undefined as string | undefined };
  const close = () => {
    parts.push(current.claim === undefined ? { text: current.text, wildcard: current.wildcard, literalLength: current.literalLength } : { ...current });
    current = { text: '', wildcard: false, literalLength: 0, claim: undefined };
  };
  for (const t of tokens) {
    if (t.kind === 'any' || t.kind === 'one') {
      current.text += t.kind === 'any' ? '*' : '?';
      current.wildcard = true;
      continue;
    }
    if (t.kind === 'value') {
      current.text += t.text;
      current.literalLength += t.text.length;
      current.claim ??= t.claim;
      continue;
    }
    for (const ch of t.text) {
      if (separators.includes(ch)) {
        close();
      } else {
        current.text += ch;
        current.literalLength++;
      }
    }
  }
  close();
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Role ARN patterns

const ROLE_VALUE_RULE = 'in a role ARN a value may only use letters, digits and _ + = , . @ - (no /, :, * or ?)';
const renderedRoles = new CompiledCache<Glob>();

/**
 * Renders a role ARN pattern for a caller and compiles it (case-insensitive: IAM role names are).
 * The template's `*` and `?` are wildcards; values are literal and may not change the ARN's
 * structure: each stays inside the field the template put it in, and a field holding a value must
 * be valid for IAM once rendered (account of 12 digits, path segments neither empty nor dots,
 * name of 1-64 characters, path of at most 512). Cached per template and substituted values.
 */
export function renderRolePattern(template: string, attributes: Attributes, missingAsAny = false): Glob {
  // JSON keeps the values apart whatever they contain; a refused value throws and is not cached.
  const key = JSON.stringify([template, missingAsAny, ...placeholdersIn(template).map((name) => attributes[name] ?? null)]);
  return renderedRoles.get(key, () => globOfTokens(renderRoleTokens(template, attributes, missingAsAny), { caseInsensitive: true }));
}

/** The rendered role pattern as text (for `whoami`), with the same checks. */
export function renderRoleText(template: string, attributes: Attributes, missingAsAny = false): string {
  return textOf(renderRoleTokens(template, attributes, missingAsAny));
}

/**
 * With `missingAsAny` an absent attribute renders as `*` instead of throwing MissingAttributeError:
 * how deny rules are matched, so that a caller without the attribute is denied every role the
 * pattern could name for some value of it (fail closed), and not let through.
 */
function renderRoleTokens(template: string, attributes: Attributes, missingAsAny: boolean): RenderedToken[] {
  const tokens = renderTokens(template, attributes, true, missingAsAny);
  // Values hold no `:` or `/` and are not `.` or `..`, so the template's own text decides every
  // field and segment boundary, and no path segment can be a dot segment (it would have to be a
  // value, or a value plus template text, equal to `.` or `..`).
  checkValues(tokens, ROLE_NAME_CHARS, ROLE_VALUE_RULE);
  // arn : partition : iam : (region) : account : role/path.../name (the schema allows no `/` before `role/`)
  const [, partition, , , account] = partsOf(tokens, ':') as [RenderedPart, RenderedPart, RenderedPart, RenderedPart, RenderedPart];
  const resource = partsOf(tokens, '/');
  const name = resource[resource.length - 1] as RenderedPart;
  const path = resource.slice(1, -1);
  const refuse = (part: RenderedPart, ok: boolean, reason: string) => {
    if (part.claim !== undefined && !ok) throw new InvalidClaimError(part.claim, reason);
  };
  refuse(partition, partition.wildcard || /^[a-z][a-z0-9-]*$/.test(partition.text), 'the rendered partition would not be valid');
  refuse(account, account.wildcard || /^\d{12}$/.test(account.text), 'the rendered account id would not be 12 digits');
  const pathLength = path.reduce((n, s) => n + s.literalLength + 1, 1);
  const holder = path.find((s) => s.claim !== undefined);
  if (holder) refuse(holder, pathLength <= ROLE_LIMITS.maxPathLength, `the rendered role path would be longer than IAM's ${ROLE_LIMITS.maxPathLength} characters`);
  refuse(name, name.literalLength <= ROLE_LIMITS.maxNameLength, `the rendered role name would be longer than IAM's ${ROLE_LIMITS.maxNameLength} characters`);
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// IAM policy strings and session tags

/** In IAM policy text `*`, `?` and `$` from a claim must stay literal: IAM spells them `${*}`, `${?}`, `${$}`. */
export function escapeForIamPolicy(value: string): string {
  return value.replace(/[*?$]/g, (ch) => `\${${ch}}`);
}

/**
 * Renders one IAM policy string: template text as written, values IAM-escaped. In a resource ARN
 * (`inResource`) a value is also one segment of it: no `/` or `:` (which would move it into
 * another field, e.g. from a bucket name into another bucket's keys), not `.` or `..`.
 */
export function renderPolicyString(template: string, attributes: Attributes, inResource = false): string {
  const tokens = renderTokens(template, attributes);
  if (inResource) checkValues(tokens, RESOURCE_VALUE, 'in a policy resource a value may not contain / or :');
  return tokens.map((t) => (t.kind === 'value' ? escapeForIamPolicy(t.text) : textOf([t]))).join('');
}

const RESOURCE_VALUE = /^[^/:]+$/;

/** Renders every string value of a policy document (keys untouched); see renderPolicyString. */
export function renderPolicyJson(value: unknown, attributes: Attributes, inResource = false): unknown {
  if (typeof value === 'string') return renderPolicyString(value, attributes, inResource);
  if (Array.isArray(value)) return value.map((item) => renderPolicyJson(item, attributes, inResource));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderPolicyJson(v, attributes, inResource || k === 'Resource' || k === 'NotResource')]));
  }
  return value;
}

/** STS's session tag value characters (letters, digits, spaces and `_.:/=+-@`) and length. */
export const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_TAG_VALUE_LENGTH = 256;

/** Renders a session tag value; a value STS would refuse is refused here, naming the claim. */
export function renderTagValue(template: string, attributes: Attributes): string {
  const tokens = renderTokens(template, attributes);
  checkValues(tokens, TAG_VALUE, 'a session tag value may only use letters, digits, spaces and _ . : / = + - @', false);
  const text = textOf(tokens);
  const claim = tokens.find((t) => t.kind === 'value');
  if (text.length > MAX_TAG_VALUE_LENGTH && claim?.kind === 'value') {
    throw new InvalidClaimError(claim.claim, `the rendered session tag value would be longer than STS's ${MAX_TAG_VALUE_LENGTH} characters`);
  }
  return text;
}
