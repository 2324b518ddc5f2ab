import { KMSClient } from '@aws-sdk/client-kms';
import type { STSClient } from '@aws-sdk/client-sts';
import { sdkClientConfig, type BrokerConfig } from '../config';
import type { IssuerSettings } from '../domain/web-identity';
import type { Clock, RoleAssumer, TokenSigner } from '../ports';
import { KmsTokenSigner } from './kms-token-signer';
import { StsRoleAssumer } from './sts-role-assumer';
import { ModeRoutingRoleAssumer, StsWebIdentityRoleAssumer } from './sts-web-identity-role-assumer';

export interface BrokerRoleAssumer {
  /** AssumeRole, or (grants with `via: web-identity`) a KMS-signed token and AssumeRoleWithWebIdentity. */
  readonly roleAssumer: RoleAssumer;
  /** Set when this broker is an issuer: what the discovery document and JWKS are made of. */
  readonly issuer?: { readonly settings: IssuerSettings; readonly signer: TokenSigner };
}

/**
 * The role assumer every vending function uses (credentials, and leases for renewals), so both
 * send a grant's sessions the same way. The KMS client is built only when an issuer is configured.
 */
export function brokerRoleAssumer(config: BrokerConfig, sts: STSClient, clock: Clock): BrokerRoleAssumer {
  const issuer = config.issuer && {
    settings: { issuer: config.issuer.issuer, audience: config.issuer.audience },
    signer: new KmsTokenSigner(new KMSClient(sdkClientConfig(config)), { signingKeyId: config.issuer.signingKeyId, publishedKeyIds: config.issuer.publishedKeyIds }),
  };
  const webIdentity = issuer && new StsWebIdentityRoleAssumer(sts, issuer.signer, issuer.settings, clock);
  return { roleAssumer: new ModeRoutingRoleAssumer(new StsRoleAssumer(sts), webIdentity), ...(issuer ? { issuer } : {}) };
}
