import { traceRules } from '../domain/decision-trace';
import { NocredsError } from '../domain/errors';
import { evaluateCertificate, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { decideCertificate, type CertificateInput } from './decide-certificate';
import { attempt, evaluation, identityView, LEASE_ID_PLACEHOLDER, type CertificateDryRun } from './dry-run';

/** The certificate half of dry runs (dry-run.ts): apart so the credentials function does not bundle the CSR parser. */
export async function dryRunCertificate(grants: GrantPolicy, identity: Identity, input: CertificateInput, described = false): Promise<CertificateDryRun> {
  const decision = evaluation(() => evaluateCertificate(grants, identity, input.profile));
  const profileName = input.profile ?? (() => {
    const evaluated = attempt(() => evaluateCertificate(grants, identity, undefined)).value;
    return evaluated?.allowed ? evaluated.profile.name : undefined;
  })();
  const rules = profileName === undefined ? [] : traceRules(grants, identity, { kind: 'certificate', profile: profileName }, decision);
  const base = { kind: 'certificate' as const, identity: identityView(identity, described), ...(decision.ruleId ? { rule: decision.ruleId } : {}), rules };
  let decided;
  try {
    decided = await decideCertificate(grants, identity, input);
  } catch (error) {
    if (error instanceof NocredsError) return { ...base, error };
    throw error;
  }
  const { profile, names } = decided;
  return {
    ...base,
    certificate: {
      profile: profile.name,
      caArn: profile.caArn,
      templateArn: profile.templateArn,
      commonName: names.commonName ?? LEASE_ID_PLACEHOLDER,
      dnsNames: names.dns,
      uris: names.uris,
      ipAddresses: names.ips,
      validitySeconds: Math.min(input.validitySeconds ?? profile.maxValiditySeconds, profile.maxValiditySeconds),
    },
  };
}
