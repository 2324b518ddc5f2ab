import type { SessionRequest } from './session';

/**
 * Issuer mode (`credentials.via: web-identity`): the broker is an OIDC issuer. For each session it
 * signs a short token (KMS holds the key) and calls AssumeRoleWithWebIdentity with it, so the
 * session is not chained (up to 12 hours), each role's own trust policy says which callers (`sub`)
 * may reach it, and CloudTrail records the caller as the web identity.
 *
 * The token carries what AssumeRole would have been given as parameters: session tags and
 * SourceIdentity travel as the claims STS reads (`https://aws.amazon.com/tags`,
 * `https://aws.amazon.com/source_identity`); the session policy, managed ARNs, duration and session
 * name are parameters of AssumeRoleWithWebIdentity, exactly as in AssumeRole.
 */

/** A token is only a ticket to one AssumeRoleWithWebIdentity call made right away. */
export const WEB_IDENTITY_TOKEN_LIFETIME_SECONDS = 300;

export const AWS_TAGS_CLAIM = 'https://aws.amazon.com/tags';
export const AWS_SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';
export const RULE_CLAIM = 'nocreds:rule';

export interface IssuerSettings {
  /** The issuer URL (`iss`), where `/.well-known/openid-configuration` is served. */
  readonly issuer: string;
  /** `aud`: what roles' trust policies require (`<issuer host>:aud`). */
  readonly audience: string;
}

export type WebIdentityTokenClaims = {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** The lease id: one token, one lease. */
  readonly jti: string;
  readonly [RULE_CLAIM]: string;
  readonly [AWS_TAGS_CLAIM]: { readonly principal_tags: Readonly<Record<string, readonly [string]>> };
  readonly [AWS_SOURCE_IDENTITY_CLAIM]: string;
};

/** The claims of the token for one session request (which must be an issuer-mode request). */
export function webIdentityTokenClaims(request: SessionRequest, settings: IssuerSettings, now: Date): WebIdentityTokenClaims {
  if (!request.webIdentity) throw new Error('webIdentityTokenClaims: not an issuer-mode session request');
  const iat = Math.floor(now.getTime() / 1000);
  return {
    iss: settings.issuer,
    sub: request.webIdentity.subject,
    aud: settings.audience,
    iat,
    nbf: iat,
    exp: iat + WEB_IDENTITY_TOKEN_LIFETIME_SECONDS,
    jti: request.roleSessionName,
    [RULE_CLAIM]: request.webIdentity.ruleId,
    // STS's format: each principal tag's value is a one-element array.
    [AWS_TAGS_CLAIM]: { principal_tags: Object.fromEntries(request.tags.map((t) => [t.key, [t.value] as const])) },
    [AWS_SOURCE_IDENTITY_CLAIM]: request.sourceIdentity,
  };
}

/** The OIDC discovery document IAM reads for the broker's issuer. */
export function discoveryDocument(settings: IssuerSettings, algorithms: readonly string[]) {
  return {
    issuer: settings.issuer,
    jwks_uri: `${settings.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...algorithms],
    claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', RULE_CLAIM, AWS_TAGS_CLAIM, AWS_SOURCE_IDENTITY_CLAIM],
  };
}
