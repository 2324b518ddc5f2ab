// @ts-nocheck
// 
import { createHash } from 'node:crypto';
import { AccessDeniedError } from '../domain/errors';
import { evaluateCertificate, grantedProfileNames, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import type { CertificateAuthority } from '../ports';

export interface TrustBundleDeps {
  readonly grants: GrantPolicy;
  readonly ca: Pick<CertificateAuthority, 'caCertificate'>;
}

export interface TrustBundle {
  /** PEM certificates, one CA after another (each CA's certificate, then its chain), deduplicated. */
  readonly pem: string;
  /** A strong validator of `pem`: the same bundle always has the same tag. */
  readonly etag: string;
  /** The CAs in the bundle, with the profiles of the caller's grants that name each. */
  readonly authorities: ReadonlyArray<{ readonly caArn: string; readonly profiles: readonly string[] }>;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The CA certificates an mTLS peer of this caller must trust: those of the certificate profiles
 * the caller's grants name (and a deny does not withhold), so a workload's trust bundle accepts
 * exactly the certificates its own CA issues, and no CA it has no grant for.
 *
 * A caller with no certificate profile gets an AccessDeniedError (`grant_denied`): an empty bundle
 * would make a TLS server trust nothing, silently.
 */
export async function trustBundle(deps: TrustBundleDeps, identity: Identity): Promise<TrustBundle> {
  const byCa = new Map<string, string[]>();
  for (const name of grantedProfileNames(deps.grants, identity)) {
    const decision = evaluateCertificate(deps.grants, identity, name);
    // A profile this caller cannot be rendered for (a missing attribute) issues it nothing to trust.
    if (!decision.allowed) continue;
    byCa.set(decision.profile.caArn, [...(byCa.get(decision.profile.caArn) ?? []), name]);
  }
  if (byCa.size === 0) {
    throw new AccessDeniedError('grant_denied', `No rule grants caller ${identity.caller} a certificate profile, so there is no trust bundle for it.`);
  }
  const caArns = [...byCa.keys()].sort();
  const fetched = await Promise.all(caArns.map((caArn) => deps.ca.caCertificate(caArn)));
  const blocks: string[] = [];
  for (const { certificate, certificateChain } of fetched) {
    for (const block of `${certificate}\n${certificateChain}`.match(PEM_BLOCK) ?? []) {
      const normalised = block.replace(/\r\n/g, '\n');
      if (!blocks.includes(normalised)) blocks.push(normalised);
    }
  }
  const pem = blocks.map((b) => `${b}\n`).join('');
  const etag = `"${createHash('sha256').update(pem).digest('base64url').slice(0, 32)}"`;
  return { pem, etag, authorities: caArns.map((caArn) => ({ caArn, profiles: byCa.get(caArn) ?? [] })) };
}
