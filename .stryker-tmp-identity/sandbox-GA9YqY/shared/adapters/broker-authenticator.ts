// @ts-nocheck
import type { GrantPolicy } from '../domain/grant-policy';
import { Authenticator } from '../http/authenticator';
import { JoseTokenVerifier } from './jose-token-verifier';
import { callerProofVerifierFor } from './sts-caller-proof-verifier';

/**
 * The authenticator every HTTP function uses: API Gateway's IAM context, bearer JWTs from the
 * grant policy's issuers, and GetCallerIdentity proofs checked against this broker's own STS
 * endpoint and server id. One place, so the functions cannot drift apart on who they accept.
 */
export function brokerAuthenticator(grants: GrantPolicy, proof: { readonly region: string; readonly awsEndpoint?: string; readonly serverId: string }): Authenticator {
  return new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers), proofVerifier: callerProofVerifierFor(proof) });
}
