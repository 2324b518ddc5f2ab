import { UnauthenticatedError } from './errors';
import type { IssuerConfig } from './grant-policy';
import type { OidcIdentity } from './identity';

/**
 * Verified OIDC claims -> identity. Presets know where well-known issuers keep who the workload
 * is, and flatten it into attributes usable in grant patterns and `${...}` templates.
 */
export type Preset = IssuerConfig['preset'];

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function presetDefaults(preset: Preset): { algorithms: string[]; maxTokenAgeSeconds: number; requiredClaims: string[] } {
  switch (preset) {
    case 'kubernetes':
      // Projected service-account tokens live 1 h by default; EKS's webhook asks for 24 h.
      return { algorithms: ['RS256', 'ES256'], maxTokenAgeSeconds: 24 * 3600, requiredClaims: ['namespace', 'serviceaccount'] };
    case 'github':
      // GitHub Actions tokens are valid for minutes.
      return { algorithms: ['RS256'], maxTokenAgeSeconds: 3600, requiredClaims: ['repository', 'repository_owner', 'ref', 'job_workflow_ref'] };
    default:
      return { algorithms: ASYMMETRIC, maxTokenAgeSeconds: 3600, requiredClaims: [] };
  }
}

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** At most this many elements in a list claim the grant policy compares, and this many characters in each. */
export const MAX_CLAIM_LIST_LENGTH = 256;
export const MAX_CLAIM_LIST_ELEMENT_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * An array claim as the values a `claims:` condition compares (each element as text, as a scalar
 * claim is compared), or undefined when the broker cannot read it as values: an element that is an
 * object, an array or null, more than MAX_CLAIM_LIST_LENGTH elements, or an element longer than
 * MAX_CLAIM_LIST_ELEMENT_LENGTH characters or with a control character.
 */
export function readClaimList(value: readonly unknown[]): string[] | undefined {
  if (value.length > MAX_CLAIM_LIST_LENGTH) return undefined;
  const values: string[] = [];
  for (const element of value) {
    const text = scalar(element);
    if (text === undefined || text.length > MAX_CLAIM_LIST_ELEMENT_LENGTH || CONTROL.test(text)) return undefined;
    values.push(text);
  }
  return values;
}

/**
 * Invariant (the grant policy's `claims:` conditions, grant-policy.ts `callerMatches`): a condition
 * holds exactly when some value of the claim matches one of its patterns, where a scalar claim is
 * one value and an array of scalars is its elements. So every verified claim lands in exactly one
 * place: a scalar with a template-able name in `attributes`; an array of scalars in `claimLists`
 * (any name: lists are never template values), as is a scalar whose name cannot be a template
 * name (`cognito:username`, as a one-element list); anything else the broker cannot read as values
 * (an object, null, an array of anything else or over the caps) in `unreadableClaims`, which a
 * deny rule's condition counts as holding and an allow rule's as not.
 */
export function oidcIdentityFromClaims(issuer: IssuerConfig, claims: Record<string, unknown>): OidcIdentity {
  const attributes: Record<string, string> = {};
  // Maps, not objects: a claim named `__proto__` or `constructor` is a name like any other.
  const claimLists = new Map<string, string[]>();
  const unreadable = new Set<string>();
  for (const [name, value] of Object.entries(claims)) {
    const text = scalar(value);
    if (text !== undefined) {
      // A scalar whose name cannot be a template name (`cognito:username`) is still a value that
      // conditions compare: a one-element list.
      if (ATTRIBUTE_NAME.test(name)) attributes[name] = text;
      else claimLists.set(name, [text]);
    } else if (Array.isArray(value)) {
      const list = readClaimList(value);
      if (list === undefined) unreadable.add(name);
      else claimLists.set(name, list);
    } else if (value !== undefined) {
      unreadable.add(name);
    }
  }
  if (issuer.preset === 'kubernetes') {
    const k8s = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown }; pod?: { name?: unknown } } | undefined;
    const fromSub = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(String(claims.sub ?? ''));
    const namespace = scalar(k8s?.namespace) ?? fromSub?.[1];
    const serviceaccount = scalar(k8s?.serviceaccount?.name) ?? fromSub?.[2];
    if (namespace !== undefined) attributes.namespace = namespace;
    if (serviceaccount !== undefined) attributes.serviceaccount = serviceaccount;
    const pod = scalar(k8s?.pod?.name);
    if (pod !== undefined) attributes.pod = pod;
  }
  if (issuer.preset === 'github' && attributes.repository?.includes('/')) {
    attributes.repository_name = attributes.repository.slice(attributes.repository.indexOf('/') + 1);
  }
  const required = [...presetDefaults(issuer.preset).requiredClaims, ...(issuer.requiredClaims ?? [])];
  for (const name of required) {
    if (attributes[name] === undefined || attributes[name] === '') {
      throw new UnauthenticatedError('missing_claim', `The token has no "${name}" claim, which issuer "${issuer.id}" requires.`);
    }
  }
  const subject = attributes.sub ?? '';
  attributes.issuer = issuer.id;
  // An attribute (a preset's `namespace`, the broker's `issuer`) is the claim's one value.
  for (const name of Object.keys(attributes)) {
    claimLists.delete(name);
    unreadable.delete(name);
  }
  return {
    kind: 'oidc',
    issuerId: issuer.id,
    issuer: issuer.url,
    subject,
    caller: `${issuer.id}:${subject}`,
    attributes,
    ...(claimLists.size > 0 ? { claimLists: Object.fromEntries(claimLists) } : {}),
    ...(unreadable.size > 0 ? { unreadableClaims: [...unreadable].sort() } : {}),
  };
}
