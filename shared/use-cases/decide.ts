import { assertValidityAllowed, decideNames, type CompiledProfile, type IssuanceNames } from '../domain/certificate-profile';
import { parseCertificateSigningRequest, type CertificateSigningRequest } from '../domain/certificate-request';
import { AccessDeniedError, ValidationError } from '../domain/errors';
import { evaluateCertificate, evaluateCredentials, type CredentialsGrant, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { compileSession, type CompiledSession } from '../domain/session';
import type { PolicyDocument } from '../domain/session-policy';

/**
 * The decision half of a vend or an issuance: everything the broker decides before it writes a
 * lease or calls STS or PCA. A real request and a dry run (dry-run.ts) both go through these
 * functions, so what a dry run reports is, by construction, what the real request would do up to
 * the first call to AWS. Each throws the error the real request answers with.
 */

export interface CredentialsInput {
  readonly roleArn: string;
  readonly durationSeconds?: number;
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
}

export interface CredentialsDecided {
  readonly ruleId: string;
  readonly grant: CredentialsGrant;
  /** What AssumeRole will receive, but for the lease id (session name and lease tag). */
  readonly session: CompiledSession;
}

export function decideCredentials(grants: GrantPolicy, identity: Identity, input: CredentialsInput): CredentialsDecided {
  const decision = evaluateCredentials(grants, identity, input.roleArn);
  if (!decision.allowed) {
    throw new AccessDeniedError('grant_denied', `Credentials for ${input.roleArn} are not granted: ${decision.reason}.`, {
      details: { ...(decision.ruleId ? { rule: decision.ruleId } : {}) },
    });
  }
  if (input.durationSeconds !== undefined && input.durationSeconds > decision.grant.maxDurationSeconds) {
    // Capping silently would surprise a caller who planned around the duration it asked for.
    throw new ValidationError(
      'duration_exceeds_grant',
      `durationSeconds ${input.durationSeconds} exceeds the ${decision.grant.maxDurationSeconds} s your grant (rule "${decision.ruleId}") allows.${decision.grant.via === 'web-identity' ? '' : ' Sessions over one hour need a grant with credentials.via: web-identity.'}`,
    );
  }
  // Anything that cannot be sent is rejected here, with no lease and no STS call.
  const session = compileSession(decision.grant, { durationSeconds: input.durationSeconds, policy: input.policy, policyArns: input.policyArns }, identity);
  return { ruleId: decision.ruleId, grant: decision.grant, session };
}

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
