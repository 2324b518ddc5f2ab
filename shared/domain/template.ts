/**
 * `${name}` substitution from an identity's attributes. Names are `[A-Za-z_][A-Za-z0-9_]*`, so
 * IAM policy variables such as `${aws:PrincipalTag/team}` pass through untouched.
 */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type Attributes = Readonly<Record<string, string>>;

export class MissingAttributeError extends Error {
  constructor(readonly attribute: string) {
    super(`attribute "${attribute}" is not present in the caller's identity`);
  }
}

export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** Substitutes every placeholder; `escape` transforms each substituted value. */
export function renderTemplate(template: string, attributes: Attributes, escape: (value: string) => string = (v) => v): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = attributes[name];
    if (value === undefined) throw new MissingAttributeError(name);
    return escape(value);
  });
}

/** Renders every string inside a JSON value. */
export function renderJson(value: unknown, attributes: Attributes, escape?: (value: string) => string): unknown {
  if (typeof value === 'string') return renderTemplate(value, attributes, escape);
  if (Array.isArray(value)) return value.map((item) => renderJson(item, attributes, escape));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, attributes, escape)]));
  }
  return value;
}

/** In IAM policy text `*`, `?` and `$` from a claim must stay literal: IAM spells them `${*}`, `${?}`, `${$}`. */
export function escapeForIamPolicy(value: string): string {
  return value.replace(/[*?$]/g, (ch) => `\${${ch}}`);
}
