// @ts-nocheck
// 
// 
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { UnauthenticatedError } from '../domain/errors';
import { iamIdentityFromArn, type Identity } from '../domain/identity';
import type { TokenVerifier } from '../ports';
import { header, isV2, type HttpEvent } from './event';

/** Verifies a signed sts:GetCallerIdentity proof sent in request headers (see client/). */
export interface CallerProofVerifier {
  /** True when the request carries a proof (so this verifier, not a token, decides). */
  carriesProof(event: HttpEvent): boolean;
  verify(event: HttpEvent): Promise<Identity>;
}

export interface AuthenticatorOptions {
  /** Verifies bearer JWTs; without it, OIDC callers are refused. */
  readonly tokenVerifier?: TokenVerifier;
  readonly proofVerifier?: CallerProofVerifier;
}

interface IamAuthorizerContext {
  userArn?: unknown;
  accountId?: unknown;
}

const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Establishes who is calling, only from what the caller cannot forge:
 * 1. API Gateway's IAM authorizer context (HTTP API v2 `authorizer.iam`, REST v1 `identity`);
 * 2. a bearer JWT verified against a configured issuer (raw or with a `Bearer ` prefix);
 * 3. a signed sts:GetCallerIdentity proof, verified by asking STS.
 * No other header is ever read as identity.
 */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  async authenticate(event: HttpEvent): Promise<Identity> {
    const fromGateway = this.fromGatewayContext(event);
    if (fromGateway) return fromGateway;

    if (this.options.proofVerifier?.carriesProof(event)) return this.options.proofVerifier.verify(event);

    const authorization = header(event, 'authorization')?.trim();
    if (!authorization) {
      throw new UnauthenticatedError('missing_credentials', 'Send an OIDC token in the Authorization header (with or without "Bearer "), or call an IAM-authorized route with SigV4.');
    }
    if (/^AWS4-HMAC-SHA256\s/i.test(authorization)) {
      throw new UnauthenticatedError('sigv4_not_verified_here', 'This route does not verify SigV4 signatures; use the IAM-authorized route or send a GetCallerIdentity proof.');
    }
    const token = authorization.replace(/^Bearer\s+/i, '');
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('invalid_token', 'The bearer token is too long.');
    if (!this.options.tokenVerifier) throw new UnauthenticatedError('oidc_not_configured', 'This broker accepts no OIDC issuers.');
    return this.options.tokenVerifier.verify(token);
  }

  private fromGatewayContext(event: HttpEvent): Identity | undefined {
    if (isV2(event)) {
      const authorizer = (event.requestContext as APIGatewayProxyEventV2['requestContext'] & { authorizer?: { iam?: IamAuthorizerContext } }).authorizer;
      if (authorizer === undefined || authorizer.iam === undefined) return undefined;
      return fromArn(authorizer.iam.userArn, authorizer.iam.accountId);
    }
    const identity = (event as APIGatewayProxyEvent).requestContext?.identity as (APIGatewayProxyEvent['requestContext']['identity'] & IamAuthorizerContext) | undefined;
    if (!identity || (identity.userArn == null && identity.accessKey == null)) return undefined;
    return fromArn(identity.userArn, identity.accountId);
  }
}

function fromArn(userArn: unknown, accountId: unknown): Identity {
  if (typeof userArn !== 'string' || userArn === '' || typeof accountId !== 'string') {
    throw new UnauthenticatedError('malformed_authorizer_context', 'The IAM authorizer context is missing the caller ARN or account.');
  }
  const identity = iamIdentityFromArn(userArn);
  if (identity.kind !== 'iam' || identity.accountId !== accountId) {
    throw new UnauthenticatedError('malformed_authorizer_context', 'The IAM authorizer context names inconsistent accounts.');
  }
  return identity;
}
