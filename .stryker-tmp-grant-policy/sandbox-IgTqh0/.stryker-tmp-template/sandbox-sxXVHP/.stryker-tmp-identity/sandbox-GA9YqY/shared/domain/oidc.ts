// @ts-nocheck
// 
// 
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

export function oidcIdentityFromClaims(issuer: IssuerConfig, claims: Record<string, unknown>): OidcIdentity {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    const text = scalar(value);
    if (text !== undefined && ATTRIBUTE_NAME.test(name)) attributes[name] = text;
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
  return { kind: 'oidc', issuerId: issuer.id, issuer: issuer.url, subject, caller: `${issuer.id}:${subject}`, attributes };
}
