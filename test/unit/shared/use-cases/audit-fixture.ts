import type { Identity } from '../../../../shared/domain/identity';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { pendingLease, type Lease } from '../../../../shared/domain/lease';
import { recordedClaims } from '../../../../shared/domain/lease-access';
import { oidcIdentity } from '../../../fakes';

export const NOW = new Date('2030-01-15T12:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;
export const teamA = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
export const ROLE = 'arn:aws:iam::123456789012:role/team-a-app';

let counter = 0;
function id(): string {
  counter += 1;
  return `01AUDIT${String(counter).padStart(19, '0')}`;
}

/** A lease as the broker would have stored it, issued `ageMs` before NOW and living `lifeMs`. */
export function lease(init: { kind?: 'credentials' | 'certificate'; ageMs: number; lifeMs: number; holder?: Identity | null } & Partial<Omit<Lease, 'claims' | 'kind'>>): Lease {
  const { ageMs, lifeMs, holder: identity, kind = 'credentials', ...rest } = init;
  const issued = new Date(NOW.getTime() - ageMs);
  const base = pendingLease({
    leaseId: id(),
    kind,
    caller: (identity ?? teamA).caller,
    ruleId: 'team-apps',
    requestId: 'r',
    now: issued,
    expiresAt: new Date(issued.getTime() + lifeMs),
    ...(identity === null ? {} : { claims: recordedClaims(parseGrantPolicy(auditGrants), identity ?? teamA) }),
    ...(kind === 'credentials' ? { roleArn: ROLE } : { profile: 'mesh', caArn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555' }),
  });
  return { ...base, status: 'active', ...rest } as Lease;
}

/**
 * One lease for each thing the audit reports, plus ordinary ones. Names say what each is.
 */
export function auditLeases() {
  const fine = lease({ ageMs: 10 * 60_000, lifeMs: HOUR });
  const fineCertificate = lease({ kind: 'certificate', ageMs: DAY, lifeMs: 30 * DAY });
  // Active credentials leases are not in the due index: the audit does not read them.
  const roleNoLongerGranted = lease({ ageMs: 5 * 60_000, lifeMs: HOUR, roleArn: 'arn:aws:iam::123456789012:role/team-a-admin' });
  const profileNoLongerGranted = lease({ kind: 'certificate', ageMs: 2 * DAY, lifeMs: 30 * DAY, profile: 'retired' });
  const noIdentity = lease({ kind: 'certificate', ageMs: DAY, lifeMs: 30 * DAY, holder: null });
  const stuckPending = lease({ ageMs: HOUR, lifeMs: HOUR, status: 'pending' });
  const recentPending = lease({ ageMs: 60_000, lifeMs: HOUR, status: 'pending' });
  const failed = lease({ ageMs: 2 * DAY, lifeMs: HOUR, status: 'failed', failureReason: 'DependencyDeniedError: STS refused <script>' });
  const revokedStillValid = lease({ ageMs: 10 * 60_000, lifeMs: HOUR, status: 'revoked', revokedAt: NOW.toISOString(), revocationMethod: 'none' });
  const revokedExpired = lease({ ageMs: 3 * HOUR, lifeMs: HOUR, status: 'revoked', revocationMethod: 'session-deny' });
  const expiringCertificate = lease({ kind: 'certificate', ageMs: 28 * DAY, lifeMs: 30 * DAY });
  const expiringButRenewed = lease({ kind: 'certificate', ageMs: 28 * DAY, lifeMs: 30 * DAY, renewedBy: '01RENEWED00000000000000000' });
  const expiredYesterday = lease({ ageMs: DAY + HOUR, lifeMs: HOUR, status: 'expired' });
  const expiredLongAgo = lease({ ageMs: 40 * DAY, lifeMs: HOUR, status: 'expired' });
  return { fine, fineCertificate, roleNoLongerGranted, profileNoLongerGranted, noIdentity, stuckPending, recentPending, failed, revokedStillValid, revokedExpired, expiringCertificate, expiringButRenewed, expiredYesterday, expiredLongAgo };
}

export const auditGrants = `
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::123456789012:role/\${namespace}-app"]
    certificates:
      profiles:
        - name: mesh
          caArn: arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555
          san: { dns: ["\${serviceaccount}.\${namespace}.svc"] }
`;
