// @ts-nocheck
// 
import { iamIdentityFromArn, type IamIdentity, type OidcIdentity } from '../../shared/domain/identity';

/**
 * Identities as the authenticator would build them, for tests that start after authentication.
 * IAM identities go through the real normalisation, so they are exactly what production sees.
 */
export function iamIdentity(arn = 'arn:aws:sts::111122223333:assumed-role/app-role/i-0abc'): IamIdentity {
  return iamIdentityFromArn(arn);
}

/**
 * An OIDC identity from issuer `issuerId` with the given string attributes (claims); `sub`
 * defaults to a Kubernetes service-account subject built from `namespace`/`serviceaccount`.
 *
 * @example oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' })
 */
export function oidcIdentity(attributes: Record<string, string> = {}, issuerId = 'k8s', issuerUrl = 'https://oidc.example.com'): OidcIdentity {
  const namespace = attributes.namespace ?? 'default';
  const serviceaccount = attributes.serviceaccount ?? 'app';
  const sub = attributes.sub ?? `system:serviceaccount:${namespace}:${serviceaccount}`;
  return {
    kind: 'oidc',
    issuerId,
    issuer: issuerUrl,
    subject: sub,
    caller: `${issuerId}:${sub}`,
    attributes: { namespace, serviceaccount, ...attributes, sub, issuer: issuerId },
  };
}
