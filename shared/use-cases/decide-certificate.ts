import { assertValidityAllowed, decideNames, type CompiledProfile, type IssuanceNames } from '../domain/certificate-profile';
import { parseCertificateSigningRequest, type CertificateSigningRequest } from '../domain/certificate-request';
import { AccessDeniedError, ValidationError } from '../domain/errors';
import { evaluateCertificate, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';

/**
 * The decision half of an issuance (decide.ts does credentials): shared by a real request and a dry
 * run. Apart from decide.ts so the credentials function does not bundle the CSR parser.
 */
export interface CertificateInput {
  readonly csr: string;
  readonly profile?: string;
  readonly validitySeconds?: number;
}

export interface CertificateDecided {
  readonly ruleId: string;
  readonly profile: CompiledProfile;
  readonly csr: CertificateSigningRequest;
  /** The names the certificate will carry (a missing common name becomes the lease id). */
  readonly names: IssuanceNames;
}

/** Everything a caller can get wrong (CSR, profile, names, validity), decided before the CA is asked anything. */
export async function decideCertificate(grants: GrantPolicy, identity: Identity, input: CertificateInput): Promise<CertificateDecided> {
  const csr = await parseCertificateSigningRequest(input.csr);
  const decision = evaluateCertificate(grants, identity, input.profile);
  if (!decision.allowed) {
    const details = { ...(decision.ruleId ? { rule: decision.ruleId } : {}), grantedProfiles: decision.granted };
    if (decision.code === 'grant_denied') {
      throw new AccessDeniedError('grant_denied', `A certificate${input.profile ? ` from profile "${input.profile}"` : ''} is not granted: ${decision.reason}.`, { details });
    }
    throw new ValidationError(decision.code, `${decision.reason[0]?.toUpperCase()}${decision.reason.slice(1)}.`, { details: { field: 'profile', ...details } });
  }
  const { profile } = decision;
  assertValidityAllowed(input.validitySeconds, profile);
  const names = decideNames(profile, csr);
  return { ruleId: decision.ruleId, profile, csr, names };
}
